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
  explicit JsonMemberPermuter(uint64_t seed)
      : seed_(seed), state_(seed * 0x9E3779B97F4A7C15ull + 1) {}

  // The permuted text of one JSON value, or nullopt when `json` is not exactly one JSON value
  // (surrounding whitespace allowed) or nests deeper than kMaxDepth.
  // Text that is not UTF-8 is not JSON (RFC 8259 section 8.1): nullopt too.
  std::optional<std::string> permute(std::string_view json) {
    if (!validUtf8(json)) return std::nullopt;
    in_ = json;
    at_ = 0;
    std::string out;
    if (!value(out, 0)) return std::nullopt;
    skipSpace();
    if (at_ != in_.size()) return std::nullopt;
    return out;
  }

  // Whether any permute() so far met an object naming a member twice (its meaning then depends
  // on which one a reader keeps, so permuting it may change the meaning).
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

  static bool validUtf8(std::string_view s) {
    for (size_t i = 0; i < s.size();) {
      const auto c = static_cast<unsigned char>(s[i]);
      size_t n = 0;
      uint32_t cp = 0;
      if (c < 0x80) {
        ++i;
        continue;
      } else if ((c & 0xE0) == 0xC0) {
        n = 1, cp = c & 0x1F;
      } else if ((c & 0xF0) == 0xE0) {
        n = 2, cp = c & 0x0F;
      } else if ((c & 0xF8) == 0xF0) {
        n = 3, cp = c & 0x07;
      } else {
        return false;
      }
      if (s.size() - i <= n) return false;
      for (size_t k = 1; k <= n; ++k) {
        const auto b = static_cast<unsigned char>(s[i + k]);
        if ((b & 0xC0) != 0x80) return false;
        cp = (cp << 6) | (b & 0x3F);
      }
      // Overlong forms, surrogates and code points past U+10FFFF are not UTF-8.
      if ((n == 1 && cp < 0x80) || (n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) ||
          (cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF) {
        return false;
      }
      i += n + 1;
    }
    return true;
  }

  void skipSpace() {
    while (at_ < in_.size() &&
           (in_[at_] == ' ' || in_[at_] == '\t' || in_[at_] == '\n' || in_[at_] == '\r')) {
      ++at_;
    }
  }

  // Four hex digits at `at`: their value, or -1.
  int hex4(size_t at) const {
    if (in_.size() - at < 4) return -1;
    int v = 0;
    for (size_t k = 0; k < 4; ++k) {
      const char c = in_[at + k];
      int d = -1;
      if (c >= '0' && c <= '9') d = c - '0';
      if (c >= 'a' && c <= 'f') d = c - 'a' + 10;
      if (c >= 'A' && c <= 'F') d = c - 'A' + 10;
      if (d < 0) return -1;
      v = v * 16 + d;
    }
    return v;
  }

  // A string with valid escapes only (RFC 8259 section 7; no lone surrogates, which simdjson
  // rejects too), copied raw.
  bool string(std::string& out) {
    if (at_ >= in_.size() || in_[at_] != '"') return false;
    const size_t begin = at_++;
    while (at_ < in_.size()) {
      const char c = in_[at_];
      if (c == '"') {
        ++at_;
        out.append(in_.substr(begin, at_ - begin));
        return true;
      }
      if (static_cast<unsigned char>(c) < 0x20) return false;
      if (c != '\\') {
        ++at_;
        continue;
      }
      if (in_.size() - at_ < 2) return false;
      const char e = in_[at_ + 1];
      if (e != 'u') {
        if (std::string_view(R"("\/bfnrt)").find(e) == std::string_view::npos) return false;
        at_ += 2;
        continue;
      }
      const int unit = hex4(at_ + 2);
      if (unit < 0 || (unit >= 0xDC00 && unit <= 0xDFFF)) return false;
      at_ += 6;
      if (unit >= 0xD800 && unit <= 0xDBFF) {
        if (in_.size() - at_ < 6 || in_[at_] != '\\' || in_[at_ + 1] != 'u') return false;
        const int low = hex4(at_ + 2);
        if (low < 0xDC00 || low > 0xDFFF) return false;
        at_ += 6;
      }
    }
    return false;
  }

  bool digits() {
    const size_t from = at_;
    while (at_ < in_.size() && in_[at_] >= '0' && in_[at_] <= '9') ++at_;
    return at_ > from;
  }

  // true, false, null or a number as RFC 8259 writes it, copied raw.
  bool scalar(std::string& out) {
    const size_t begin = at_;
    for (std::string_view literal : {"true", "false", "null"}) {
      if (in_.substr(at_, literal.size()) == literal) {
        at_ += literal.size();
        out.append(literal);
        return true;
      }
    }
    if (at_ < in_.size() && in_[at_] == '-') ++at_;
    if (at_ < in_.size() && in_[at_] == '0') {
      ++at_;
    } else if (!digits()) {
      return false;
    }
    if (at_ < in_.size() && in_[at_] == '.') {
      ++at_;
      if (!digits()) return false;
    }
    if (at_ < in_.size() && (in_[at_] == 'e' || in_[at_] == 'E')) {
      ++at_;
      if (at_ < in_.size() && (in_[at_] == '+' || in_[at_] == '-')) ++at_;
      if (!digits()) return false;
    }
    out.append(in_.substr(begin, at_ - begin));
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
