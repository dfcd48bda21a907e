#include "meter/json_escape.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <string>
#include <vector>

namespace tollgate::meter {
namespace {

std::string escaped(std::string_view s) {
  std::string out;
  appendJsonString(s, out);
  return out;
}

TEST(JsonEscape, PlainTextIsQuotedUnchanged) {
  EXPECT_EQ(escaped("fraud-platform"), "\"fraud-platform\"");
}

TEST(JsonEscape, QuotesBackslashesAndControlsAreEscaped) {
  EXPECT_EQ(escaped("a\"b\\c\nd\te\x01"), R"("a\"b\\c\nd\te\u0001")");
}

TEST(JsonEscape, ValidUtf8PassesThrough) {
  EXPECT_EQ(escaped("caf\xC3\xA9 \xF0\x9F\x92\xB8"), "\"caf\xC3\xA9 \xF0\x9F\x92\xB8\"");
}

TEST(JsonEscape, InvalidUtf8BecomesReplacementCharacter) {
  EXPECT_EQ(escaped("a\xFF"
                    "b\xC3"),
            "\"a\xEF\xBF\xBD"
            "b\xEF\xBF\xBD\"");
  EXPECT_EQ(escaped("\xED\xA0\x80"), "\"\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\"");  // surrogate
}

// The escaping as first written (one byte at a time): every faster path must give its bytes.
std::string referenceEscaped(std::string_view s) {
  auto sequenceLength = [&](size_t i) -> size_t {
    const auto b0 = static_cast<uint8_t>(s[i]);
    size_t len = 0;
    uint32_t min = 0;
    uint32_t cp = 0;
    if (b0 < 0x80) return 1;
    if ((b0 & 0xE0) == 0xC0) {
      len = 2, min = 0x80, cp = b0 & 0x1F;
    } else if ((b0 & 0xF0) == 0xE0) {
      len = 3, min = 0x800, cp = b0 & 0x0F;
    } else if ((b0 & 0xF8) == 0xF0) {
      len = 4, min = 0x10000, cp = b0 & 0x07;
    } else {
      return 0;
    }
    if (i + len > s.size()) return 0;
    for (size_t k = 1; k < len; ++k) {
      const auto b = static_cast<uint8_t>(s[i + k]);
      if ((b & 0xC0) != 0x80) return 0;
      cp = (cp << 6) | (b & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
    return len;
  };
  constexpr char kHex[] = "0123456789abcdef";
  std::string out = "\"";
  for (size_t i = 0; i < s.size();) {
    const auto c = static_cast<uint8_t>(s[i]);
    if (c >= 0x80) {
      if (const size_t len = sequenceLength(i); len != 0) {
        out.append(s.substr(i, len));
        i += len;
      } else {
        out.append("\xEF\xBF\xBD");
        ++i;
      }
      continue;
    }
    switch (c) {
      case '"':
        out.append("\\\"");
        break;
      case '\\':
        out.append("\\\\");
        break;
      case '\n':
        out.append("\\n");
        break;
      case '\r':
        out.append("\\r");
        break;
      case '\t':
        out.append("\\t");
        break;
      case '\b':
        out.append("\\b");
        break;
      case '\f':
        out.append("\\f");
        break;
      default:
        if (c < 0x20) {
          out.append("\\u00");
          out.push_back(kHex[c >> 4]);
          out.push_back(kHex[c & 0xF]);
        } else {
          out.push_back(static_cast<char>(c));
        }
    }
    ++i;
  }
  out.push_back('"');
  return out;
}

// Written in place through a buffer of exactly jsonStringBound bytes.
std::string written(std::string_view s) {
  std::string out(jsonStringBound(s), '\0');
  const char* end = writeJsonString(s, out.data());
  EXPECT_LE(static_cast<size_t>(end - out.data()), out.size()) << "bound exceeded";
  out.resize(static_cast<size_t>(end - out.data()));
  return out;
}

// Strings of every length around the 8-byte steps, from pieces that each take another path:
// plain ASCII, characters to escape, valid multi-byte UTF-8 and invalid bytes.
std::vector<std::string> randomStrings() {
  const std::vector<std::string> pieces = {"a",
                                           "Z",
                                           "0",
                                           " ",
                                           "~",
                                           "\"",
                                           "\\",
                                           "\n",
                                           "\t",
                                           "\x01",
                                           "\x1F",
                                           std::string(1, '\0'),
                                           "\x7F",
                                           "\xC3\xA9",
                                           "\xE2\x82\xAC",
                                           "\xF0\x9F\x92\xB8",
                                           "\xFF",
                                           "\xC3",
                                           "\xED\xA0\x80",
                                           "\xF4\x90\x80\x80",
                                           "\xC0\xAF",
                                           "\x80"};
  std::mt19937_64 rng(20261122);
  std::vector<std::string> out;
  for (int n = 0; n < 4000; ++n) {
    std::string s;
    const size_t len = rng() % 40;
    // Mostly plain text, as attribution values and model names are.
    while (s.size() < len)
      s += rng() % 4 == 0 ? pieces[rng() % pieces.size()] : std::string(1, 'a' + rng() % 26);
    out.push_back(std::move(s));
  }
  return out;
}

TEST(JsonEscape, EveryPathEscapesAsTheBytewiseReference) {
  for (const std::string& s : randomStrings()) {
    const std::string expected = referenceEscaped(s);
    ASSERT_EQ(escaped(s), expected) << s;
    ASSERT_EQ(written(s), expected) << s;
  }
}

TEST(JsonEscape, BoundIsExactForPlainTextAndCoversTheWorstCase) {
  EXPECT_EQ(jsonStringBound("fraud-platform"), 16U);
  EXPECT_EQ(jsonStringBound(""), 2U);
  const std::string controls(33, '\x01');  // every byte becomes \u0001
  EXPECT_EQ(written(controls).size(), 2 + 6 * controls.size());
  EXPECT_EQ(jsonStringBound(controls), 2 + 6 * controls.size());
  EXPECT_EQ(written("plain text, then a quote at the very end\""),
            R"("plain text, then a quote at the very end\"")");
}

}  // namespace
}  // namespace tollgate::meter
