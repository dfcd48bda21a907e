#include "meter/glob.h"

#include <cstddef>

namespace tollgate::meter {
namespace {

enum class ParseError {
  kNone,
  kUnterminatedClass,
  kEmptyClass,
  kTrailingBackslash,
  kReversedRange
};

// One pattern element that consumes exactly one character of text ('*' is handled apart).
struct Element {
  size_t end = 0;  // pattern index just past the element
  ParseError error = ParseError::kNone;
};

// Reads the character class starting at pattern[begin] == '[' and says whether `c` is in it.
// Inside a class '\x' is a literal x, a leading '!' negates, 'a-z' is an inclusive byte range,
// and '-' first or last is literal. ']' always closes the class (write '\]' for a literal one),
// so "[]" is an empty class rather than an unterminated one.
Element readClass(std::string_view pattern, size_t begin, unsigned char c, bool& matched) {
  size_t i = begin + 1;
  bool negated = false;
  if (i < pattern.size() && pattern[i] == '!') {
    negated = true;
    ++i;
  }
  bool in_class = false;
  bool any_item = false;
  // Reads one class character (possibly escaped) at i; false at the end of the pattern.
  auto readChar = [&](unsigned char& out) {
    if (i < pattern.size() && pattern[i] == '\\') {
      if (i + 1 >= pattern.size()) return false;
      out = static_cast<unsigned char>(pattern[i + 1]);
      i += 2;
      return true;
    }
    if (i >= pattern.size()) return false;
    out = static_cast<unsigned char>(pattern[i]);
    ++i;
    return true;
  };
  while (true) {
    if (i >= pattern.size()) return {i, ParseError::kUnterminatedClass};
    if (pattern[i] == ']') {
      if (!any_item) return {i + 1, ParseError::kEmptyClass};
      matched = in_class != negated;
      return {i + 1, ParseError::kNone};
    }
    unsigned char lo = 0;
    if (!readChar(lo)) return {i, ParseError::kUnterminatedClass};
    unsigned char hi = lo;
    if (i + 1 < pattern.size() && pattern[i] == '-' && pattern[i + 1] != ']') {
      ++i;
      if (!readChar(hi)) return {i, ParseError::kUnterminatedClass};
      if (hi < lo) return {i, ParseError::kReversedRange};
    }
    any_item = true;
    if (c >= lo && c <= hi) in_class = true;
  }
}

// Reads the element at pattern[p] and says whether it matches `c`.
Element readElement(std::string_view pattern, size_t p, unsigned char c, bool& matched) {
  switch (pattern[p]) {
    case '?':
      matched = true;
      return {p + 1, ParseError::kNone};
    case '[':
      return readClass(pattern, p, c, matched);
    case '\\':
      if (p + 1 >= pattern.size()) return {p + 1, ParseError::kTrailingBackslash};
      matched = static_cast<unsigned char>(pattern[p + 1]) == c;
      return {p + 2, ParseError::kNone};
    default:
      matched = static_cast<unsigned char>(pattern[p]) == c;
      return {p + 1, ParseError::kNone};
  }
}

}  // namespace

// Iterative matching with a single backtrack point: on a mismatch, the most recent '*' takes
// one more character and matching resumes after it. Earlier stars never need to be revisited
// because every other element consumes exactly one character, so the work is bounded by
// pattern length times text length, whatever the pattern. An invalid pattern matches nothing.
bool globMatch(std::string_view pattern, std::string_view text) {
  if (globError(pattern)) return false;
  size_t p = 0;
  size_t t = 0;
  size_t star_p = std::string_view::npos;  // pattern index just past the last '*'
  size_t star_t = 0;                       // text index that '*' is matched up to
  while (t < text.size()) {
    if (p < pattern.size() && pattern[p] == '*') {
      star_p = ++p;
      star_t = t;
      continue;
    }
    if (p < pattern.size()) {
      bool matched = false;
      const Element element = readElement(pattern, p, static_cast<unsigned char>(text[t]), matched);
      if (matched) {
        p = element.end;
        ++t;
        continue;
      }
    }
    if (star_p == std::string_view::npos) return false;
    p = star_p;
    t = ++star_t;
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

std::optional<std::string> globError(std::string_view pattern) {
  if (pattern.empty()) return "empty pattern";
  for (size_t p = 0; p < pattern.size();) {
    if (pattern[p] == '*') {
      ++p;
      continue;
    }
    bool matched = false;
    const Element element = readElement(pattern, p, 0, matched);
    const auto at = [p] { return " at offset " + std::to_string(p); };
    switch (element.error) {
      case ParseError::kNone:
        break;
      case ParseError::kUnterminatedClass:
        return "unterminated '['" + at();
      case ParseError::kEmptyClass:
        return "empty character class" + at();
      case ParseError::kTrailingBackslash:
        return "trailing '\\'" + at();
      case ParseError::kReversedRange:
        return "reversed range in character class" + at();
    }
    p = element.end;
  }
  return std::nullopt;
}

}  // namespace tollgate::meter
