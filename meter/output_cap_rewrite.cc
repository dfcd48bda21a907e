#include "meter/output_cap_rewrite.h"

#include <simdjson.h>

#include <algorithm>
#include <array>
#include <vector>

namespace tollgate::meter {
namespace {

namespace od = simdjson::ondemand;

// Where a dialect sets its output cap: top-level members, or members of a top-level object.
struct CapField {
  std::array<std::string_view, 2> objects{};  // spellings of the holding object ("" unused)
  std::array<std::string_view, 2> names{};    // spellings of the field, one per object spelling
};

std::optional<CapField> capFieldOf(std::string_view dialect, std::string_view operation) {
  // Azure OpenAI's bodies are OpenAI's (its deployment is in the path or "model").
  if (dialect == "openai" || dialect == "azure_openai") {
    if (operation == "responses") return CapField{{}, {"max_output_tokens", ""}};
    if (operation == "chat" || operation == "text_completion") {
      return CapField{{}, {"max_tokens", "max_completion_tokens"}};
    }
    return std::nullopt;  // embeddings, images...: no output cap to clamp
  }
  if (dialect == "anthropic") return CapField{{}, {"max_tokens", ""}};
  if (dialect == "gemini") {
    return CapField{{"generationConfig", "generation_config"},
                    {"maxOutputTokens", "max_output_tokens"}};
  }
  return std::nullopt;
}

bool isJsonSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

bool oneOf(std::string_view key, const std::array<std::string_view, 2>& names) {
  return !key.empty() && (key == names[0] || key == names[1]);
}

// body[at, at + erase) becomes `insert`.
struct Edit {
  size_t at = 0;
  size_t erase = 0;
  std::string insert;
};

class Rewriter {
 public:
  Rewriter(std::string_view body, int64_t tokens) : padded_(body), count_(std::to_string(tokens)) {}

  // Rewrites every member of `object` named one of `names`; returns how many there were, or
  // nullopt when one holds an object or an array, or the JSON is malformed.
  std::optional<int> replaceMembers(od::object& object,
                                    const std::array<std::string_view, 2>& names, bool& any_member,
                                    const CapField* nested) {
    int found = 0;
    for (auto member_result : object) {
      od::field member;
      if (std::move(member_result).get(member)) return std::nullopt;
      any_member = true;
      std::string_view key;
      if (member.unescaped_key().get(key)) return std::nullopt;
      od::value value = member.value();
      od::json_type type;
      if (value.type().get(type)) return std::nullopt;
      if (oneOf(key, names)) {
        if (type == od::json_type::object || type == od::json_type::array) return std::nullopt;
        std::string_view token = value.raw_json_token();
        while (!token.empty() && isJsonSpace(token.back())) token.remove_suffix(1);
        edits_.push_back({offsetOf(token.data()), token.size(), count_});
        ++found;
      } else if (nested != nullptr && oneOf(key, nested->objects)) {
        // A null object is the default; anything but an object is the upstream's to refuse.
        const std::string_view name =
            key == nested->objects[0] ? nested->names[0] : nested->names[1];
        const size_t at = offsetOf(value.raw_json_token().data());
        if (type == od::json_type::null) {
          edits_.push_back({at, 4, "{\"" + std::string(name) + "\":" + count_ + "}"});
        } else if (type == od::json_type::object) {
          od::object inner;
          if (value.get_object().get(inner)) return std::nullopt;
          bool inner_any = false;
          const auto inner_found = replaceMembers(inner, nested->names, inner_any, nullptr);
          if (!inner_found) return std::nullopt;
          if (*inner_found == 0) {
            edits_.push_back(
                {at + 1, 0, "\"" + std::string(name) + "\":" + count_ + (inner_any ? "," : "")});
          }
        } else {
          return std::nullopt;
        }
        ++found;
      }
    }
    return found;
  }

  std::optional<std::string> run(std::string_view body, const CapField& field) {
    od::document doc;
    if (parser_.iterate(padded_).get(doc)) return std::nullopt;
    od::object object;
    if (doc.get_object().get(object)) return std::nullopt;
    const bool nested = !field.objects[0].empty();
    bool any_member = false;
    const auto found = nested ? replaceMembers(object, {}, any_member, &field)
                              : replaceMembers(object, field.names, any_member, nullptr);
    if (!found) return std::nullopt;
    const char* trailing = nullptr;
    if (doc.current_location().get(trailing) == simdjson::SUCCESS) return std::nullopt;
    if (*found == 0) {
      const size_t brace = body.find('{');
      std::string member = nested ? "\"" + std::string(field.objects[0]) + "\":{\"" +
                                        std::string(field.names[0]) + "\":" + count_ + "}"
                                  : "\"" + std::string(field.names[0]) + "\":" + count_;
      if (any_member) member += ",";
      edits_.push_back({brace + 1, 0, std::move(member)});
    }
    std::stable_sort(edits_.begin(), edits_.end(),
                     [](const Edit& a, const Edit& b) { return a.at < b.at; });
    std::string out;
    out.reserve(body.size() + 64);
    size_t from = 0;
    for (const Edit& edit : edits_) {
      out.append(body.substr(from, edit.at - from));
      out.append(edit.insert);
      from = edit.at + edit.erase;
    }
    out.append(body.substr(from));
    return out;
  }

 private:
  size_t offsetOf(const char* p) const { return static_cast<size_t>(p - padded_.data()); }

  simdjson::padded_string padded_;
  od::parser parser_;
  std::string count_;
  std::vector<Edit> edits_;
};

}  // namespace

bool hasOutputCapField(std::string_view dialect, std::string_view operation) {
  return capFieldOf(dialect, operation).has_value();
}

std::optional<std::string> rewriteOutputCap(std::string_view dialect, std::string_view operation,
                                            std::string_view body, int64_t tokens) {
  const auto field = capFieldOf(dialect, operation);
  if (!field || tokens < 1) return std::nullopt;
  // Clamps are rare (a budget nearly spent): a parser and a padded copy per call are cheap here.
  return Rewriter(body, tokens).run(body, *field);
}

}  // namespace tollgate::meter
