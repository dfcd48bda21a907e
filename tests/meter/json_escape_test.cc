#include "meter/json_escape.h"

#include <gtest/gtest.h>

namespace tollgate::meter {
namespace {

std::string escaped(std::string_view s) {
  std::string out;
  appendJsonString(s, out);
  return out;
}

TEST(JsonEscape, PlainTextIsQuotedUnchanged) { EXPECT_EQ(escaped("fraud-platform"), "\"fraud-platform\""); }

TEST(JsonEscape, QuotesBackslashesAndControlsAreEscaped) {
  EXPECT_EQ(escaped("a\"b\\c\nd\te\x01"), R"("a\"b\\c\nd\te\u0001")");
}

TEST(JsonEscape, ValidUtf8PassesThrough) { EXPECT_EQ(escaped("caf\xC3\xA9 \xF0\x9F\x92\xB8"), "\"caf\xC3\xA9 \xF0\x9F\x92\xB8\""); }

TEST(JsonEscape, InvalidUtf8BecomesReplacementCharacter) {
  EXPECT_EQ(escaped("a\xFF" "b\xC3"), "\"a\xEF\xBF\xBD" "b\xEF\xBF\xBD\"");
  EXPECT_EQ(escaped("\xED\xA0\x80"), "\"\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\"");  // surrogate
}

}  // namespace
}  // namespace tollgate::meter
