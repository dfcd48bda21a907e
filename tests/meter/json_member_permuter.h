#pragma once

// Rewrites JSON text with the members of every object (at every nesting level) in another
// order, for the member-order property test and fuzz target: RFC 8259 gives member order no
// meaning, so a meter must read a permuted answer exactly as the original. Scalars keep their
// raw text (escapes, number spelling); whitespace between tokens is dropped, so compare a
// permutation with the identity permutation (seed 0), not with the original text.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace tollgate::meter::testing {

class JsonMemberPermuter {
 public:
  // Seed 0 keeps every object's order; any other seed draws a permutation per object.
  explicit JsonMemberPermuter(uint64_t seed) : seed_(seed), state_(seed * 0x9E3779B97F4A7C15ull + 1) {}

  // The permuted text of one JSON value, or nullopt when `json` is not exactly one JSON value
  // (surrounding whitespace allowed) or nests deeper than kMaxDepth.
  std::optional<std::string> permute(std::string_view json) {
    in_ = json;
    at_ = 0;
    duplicate_keys_ = false;
    std::string out;
    if (!value(out, 0)) return std::nullopt;
    skipSpace();
    if (at_ != in_.size()) return std::nullopt;
    return out;
  }

  // Whether the last permute() met an object naming a member twice (its meaning then depends on
  // which one a reader keeps, so permuting it may change the meaning).
  bool sawDuplicateKeys() const { return duplicate_keys_; }
  // Whether any object permuted so far had two members or more (else no seed can reorder it).
  bool sawReorderable() const { return reorderable_; }

  // Permutes the JSON of a body made of lines (SSE, NDJSON) or of one JSON document: the whole
  // body when it is one value, else each line that is a value or an SSE "data:" field holding
  // one; other lines are kept.
  std::string permuteBody(std::string_view body) {
    if (auto whole = permute(body)) return *whole;
    std::string out;
    size_t from = 0;
    while (from < body.size()) {
      size_t end = body.find('\n', from);
      const bool last = end == std::string_view::npos;
      if (last) end = body.size();
      std::string_view line = body.substr(from, end - from);
      std::string_view cr;
      if (!line.empty() && line.back() == '\r') {
        cr = "\r";
        line.remove_suffix(1);
      }
      std::string_view prefix;
      std::string_view json = line;
      if (line.starts_with("data:")) {
        prefix = line.substr(0, line.starts_with("data: ") ? 6 : 5);
        json = line.substr(prefix.size());
      }
      // A streamed JSON array cut short is no document: its lines are "[{...}," and ",{...}".
      size_t lead = 0;
      while (lead < json.size() && (json[lead] == '[' || json[lead] == ',')) ++lead;
      size_t trail = json.size();
      while (trail > lead && (json[trail - 1] == ']' || json[trail - 1] == ',')) --trail;
      std::optional<std::string> permuted = permute(json);
      if (!permuted && trail > lead) {
        if (auto core = permute(json.substr(lead, trail - lead))) {
          permuted = std::string(json.substr(0, lead)) + *core + std::string(json.substr(trail));
        }
      }
      out.append(prefix);
      out.append(permuted ? std::string_view(*permuted) : json);
      out.append(cr);
      if (!last) out.push_back('\n');
      from = end + 1;
    }
    return out;
  }

  static constexpr int kMaxDepth = 128;

 private:
  uint64_t next() {
    // splitmix64: the same sequence on every platform, unlike std::shuffle.
    uint64_t z = (state_ += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }

  void skipSpace() {
    while (at_ < in_.size() &&
           (in_[at_] == ' ' || in_[at_] == '\t' || in_[at_] == '\n' || in_[at_] == '\r')) {
      ++at_;
    }
  }

  bool string(std::string& out) {
    if (at_ >= in_.size() || in_[at_] != '"') return false;
    const size_t begin = at_++;
    while (at_ < in_.size()) {
      const char c = in_[at_];
      if (c == '\\') {
        at_ += 2;
      } else if (c == '"') {
        ++at_;
        out.append(in_.substr(begin, at_ - begin));
        return true;
      } else if (static_cast<unsigned char>(c) < 0x20) {
        return false;
      } else {
        ++at_;
      }
    }
    return false;
  }

  bool scalar(std::string& out) {
    const size_t begin = at_;
    while (at_ < in_.size()) {
      const char c = in_[at_];
      const bool part = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || c == '-' ||
                        c == '+' || c == '.' || c == 'E';
      if (!part) break;
      ++at_;
    }
    const std::string_view token = in_.substr(begin, at_ - begin);
    if (token.empty()) return false;
    if (token != "true" && token != "false" && token != "null" &&
        !(token[0] == '-' || (token[0] >= '0' && token[0] <= '9'))) {
      return false;
    }
    out.append(token);
    return true;
  }

  bool value(std::string& out, int depth) {
    if (depth > kMaxDepth) return false;
    skipSpace();
    if (at_ >= in_.size()) return false;
    const char c = in_[at_];
    if (c == '"') return string(out);
    if (c == '[') {
      ++at_;
      out.push_back('[');
      skipSpace();
      if (at_ < in_.size() && in_[at_] == ']') {
        ++at_;
        out.push_back(']');
        return true;
      }
      for (bool first = true;; first = false) {
        if (!first) out.push_back(',');
        if (!value(out, depth + 1)) return false;
        skipSpace();
        if (at_ >= in_.size()) return false;
        if (in_[at_] == ']') break;
        if (in_[at_] != ',') return false;
        ++at_;
      }
      ++at_;
      out.push_back(']');
      return true;
    }
    if (c == '{') return object(out, depth);
    return scalar(out);
  }

  bool object(std::string& out, int depth) {
    ++at_;
    std::vector<std::pair<std::string, std::string>> members;  // raw key, permuted value
    skipSpace();
    if (at_ < in_.size() && in_[at_] == '}') {
      ++at_;
      out.append("{}");
      return true;
    }
    for (;;) {
      skipSpace();
      std::string key;
      if (!string(key)) return false;
      skipSpace();
      if (at_ >= in_.size() || in_[at_] != ':') return false;
      ++at_;
      std::string member_value;
      if (!value(member_value, depth + 1)) return false;
      for (const auto& m : members) {
        if (m.first == key) duplicate_keys_ = true;
      }
      members.emplace_back(std::move(key), std::move(member_value));
      skipSpace();
      if (at_ >= in_.size()) return false;
      if (in_[at_] == '}') break;
      if (in_[at_] != ',') return false;
      ++at_;
    }
    ++at_;
    if (members.size() > 1) reorderable_ = true;
    if (seed_ != 0) {
      for (size_t i = members.size(); i > 1; --i) std::swap(members[i - 1], members[next() % i]);
    }
    out.push_back('{');
    for (size_t i = 0; i < members.size(); ++i) {
      if (i > 0) out.push_back(',');
      out.append(members[i].first);
      out.push_back(':');
      out.append(members[i].second);
    }
    out.push_back('}');
    return true;
  }

  uint64_t seed_;
  uint64_t state_;
  std::string_view in_;
  size_t at_ = 0;
  bool duplicate_keys_ = false;
  bool reorderable_ = false;
};

}  // namespace tollgate::meter::testing
