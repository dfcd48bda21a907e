#include "meter/visible_text.h"

#include <array>
#include <vector>

#include "meter/json_scanner.h"

namespace tollgate::meter {
namespace {

// Reads a JSON text that may end anywhere. kCut: the text ended before the value did (not an
// error: what was read counts); kBad: the bytes cannot begin a JSON document.
class Walker {
 public:
  enum class R { kOk, kCut, kBad };

  Walker(std::string_view body, std::span<const TextPath> paths) : s_(body) {
    for (const TextPath& path : paths) {
      Path split;
      split.raw_json = path.raw_json;
      std::string_view rest = path.path;
      while (!rest.empty()) {
        const size_t slash = rest.find('/');
        split.segments.push_back(rest.substr(0, slash));
        rest = slash == std::string_view::npos ? std::string_view() : rest.substr(slash + 1);
      }
      paths_.push_back(std::move(split));
    }
  }

  std::optional<int64_t> run() {
    space();
    if (i_ == s_.size()) return bytes_;
    R r = value();
    if (r == R::kOk) {
      space();
      if (i_ != s_.size()) r = R::kBad;
    }
    if (r == R::kBad) return std::nullopt;
    return bytes_;
  }

 private:
  enum class Match { kNone, kText, kRaw };

  struct Path {
    std::vector<std::string_view> segments;
    bool raw_json = false;
  };

  void space() {
    while (i_ < s_.size() &&
           (s_[i_] == ' ' || s_[i_] == '\n' || s_[i_] == '\r' || s_[i_] == '\t')) {
      ++i_;
    }
  }

  Match match() const {
    for (const Path& path : paths_) {
      if (path.segments.size() != static_cast<size_t>(depth_)) continue;
      bool same = true;
      for (int d = 0; d < depth_ && same; ++d)
        same = path.segments[static_cast<size_t>(d)] == stack_[static_cast<size_t>(d)];
      if (same) return path.raw_json ? Match::kRaw : Match::kText;
    }
    return Match::kNone;
  }

  R value() {
    space();
    if (i_ == s_.size()) return R::kCut;
    const Match m = match();
    const size_t start = i_;
    R r = R::kBad;
    switch (s_[i_]) {
      case '"':
        r = string(m == Match::kText);
        break;
      case '{':
      case '[':
        r = container(s_[i_] == '{');
        break;
      case 't':
        r = literal("true");
        break;
      case 'f':
        r = literal("false");
        break;
      case 'n':
        r = literal("null");
        break;
      default:
        r = number();
    }
    if (m == Match::kRaw && r != R::kBad) bytes_ += static_cast<int64_t>(i_ - start);
    return r;
  }

  R container(bool object) {
    if (depth_ >= kMaxVisibleTextDepth) return R::kCut;
    const char close = object ? '}' : ']';
    ++i_;
    for (bool first = true;; first = false) {
      space();
      if (i_ == s_.size()) return R::kCut;
      if (s_[i_] == close) {
        ++i_;
        return R::kOk;
      }
      if (!first) {
        if (s_[i_] != ',') return R::kBad;
        ++i_;
        space();
        if (i_ == s_.size()) return R::kCut;
      }
      std::string_view key = "*";
      if (object) {
        if (s_[i_] != '"') return R::kBad;
        const size_t from = ++i_;
        while (i_ < s_.size() && s_[i_] != '"') i_ += s_[i_] == '\\' ? 2 : 1;
        if (i_ >= s_.size()) return R::kCut;
        key = s_.substr(from, i_ - from);
        ++i_;
        space();
        if (i_ == s_.size()) return R::kCut;
        if (s_[i_] != ':') return R::kBad;
        ++i_;
      }
      stack_[static_cast<size_t>(depth_++)] = key;
      const R r = value();
      --depth_;
      if (r != R::kOk) return r;
    }
  }

  R string(bool count) {
    ++i_;
    int64_t text = 0;
    R r = R::kCut;
    while (i_ < s_.size()) {
      const auto c = static_cast<unsigned char>(s_[i_]);
      if (c == '"') {
        ++i_;
        r = R::kOk;
        break;
      }
      if (c < 0x20) return R::kBad;
      if (c != '\\') {
        ++text;
        ++i_;
        continue;
      }
      if (i_ + 1 == s_.size()) break;
      const char e = s_[i_ + 1];
      if (e != 'u') {
        if (e != '"' && e != '\\' && e != '/' && e != 'b' && e != 'f' && e != 'n' && e != 'r' &&
            e != 't') {
          return R::kBad;
        }
        ++text;
        i_ += 2;
        continue;
      }
      uint32_t cp = 0;
      if (!hex4(i_ + 2, cp)) {
        if (bad4(i_ + 2) == R::kBad) return R::kBad;
        break;  // the text ends inside the escape
      }
      if (cp >= 0xD800 && cp <= 0xDBFF) {
        if (endsInsideAnEscape(i_ + 6)) break;  // the low surrogate may be what was cut
        uint32_t low = 0;
        if (s_[i_ + 6] == '\\' && s_[i_ + 7] == 'u' && hex4(i_ + 8, low) && low >= 0xDC00 &&
            low <= 0xDFFF) {
          text += 4;
          i_ += 12;
          continue;
        }
      }
      text += cp < 0x80 ? 1 : cp < 0x800 ? 2 : 3;
      i_ += 6;
    }
    if (r == R::kCut) i_ = s_.size();
    if (count) bytes_ += text;
    return r;
  }

  bool hex4(size_t at, uint32_t& out) const {
    if (at + 4 > s_.size()) return false;
    out = 0;
    for (size_t k = at; k < at + 4; ++k) {
      const int d = hexDigit(s_[k]);
      if (d < 0) return false;
      out = (out << 4) | static_cast<uint32_t>(d);
    }
    return true;
  }

  // The text ends within six bytes from `at`, and what is there begins a \uXXXX escape.
  bool endsInsideAnEscape(size_t at) const {
    if (at + 6 <= s_.size()) return false;
    for (size_t k = at; k < s_.size(); ++k) {
      const bool ok = k == at ? s_[k] == '\\' : k == at + 1 ? s_[k] == 'u' : hexDigit(s_[k]) >= 0;
      if (!ok) return false;
    }
    return true;
  }

  // Four hex digits that did not parse: cut when the text ends among valid digits.
  R bad4(size_t at) const {
    for (size_t k = at; k < at + 4; ++k) {
      if (k == s_.size()) return R::kCut;
      if (hexDigit(s_[k]) < 0) return R::kBad;
    }
    return R::kBad;
  }

  R literal(std::string_view word) {
    for (char c : word) {
      if (i_ == s_.size()) return R::kCut;
      if (s_[i_] != c) return R::kBad;
      ++i_;
    }
    return R::kOk;
  }

  R number() {
    const size_t from = i_;
    while (i_ < s_.size()) {
      const char c = s_[i_];
      if (!((c >= '0' && c <= '9') || c == '-' || c == '+' || c == '.' || c == 'e' || c == 'E')) {
        break;
      }
      ++i_;
    }
    if (i_ == from) return R::kBad;
    return i_ == s_.size() ? R::kCut : R::kOk;
  }

  std::string_view s_;
  size_t i_ = 0;
  std::vector<Path> paths_;
  std::array<std::string_view, kMaxVisibleTextDepth> stack_{};
  int depth_ = 0;
  int64_t bytes_ = 0;
};

}  // namespace

std::optional<int64_t> visibleTextBytes(std::string_view body, std::span<const TextPath> paths) {
  return Walker(body, paths).run();
}

}  // namespace tollgate::meter
