#include "meter/glob.h"

#include <gtest/gtest.h>

#include <string>

namespace tollgate::meter {
namespace {

TEST(GlobMatch, LiteralPatternMatchesOnlyItself) {
  EXPECT_TRUE(globMatch("gpt-4o", "gpt-4o"));
  EXPECT_FALSE(globMatch("gpt-4o", "gpt-4o-mini"));
  EXPECT_FALSE(globMatch("gpt-4o", "gpt-4"));
  EXPECT_FALSE(globMatch("gpt-4o", "GPT-4o"));  // case-sensitive
}

TEST(GlobMatch, StarMatchesAnyRunIncludingEmpty) {
  EXPECT_TRUE(globMatch("gpt-4o*", "gpt-4o"));
  EXPECT_TRUE(globMatch("gpt-4o*", "gpt-4o-mini-2024-07-18"));
  EXPECT_FALSE(globMatch("gpt-4o*", "gpt-4"));
  EXPECT_TRUE(globMatch("*", ""));
  EXPECT_TRUE(globMatch("*", "anything/at:all"));
  EXPECT_TRUE(globMatch("claude-*-4*", "claude-sonnet-4-20250514"));
  EXPECT_FALSE(globMatch("claude-*-4*", "claude-3-5-sonnet"));
  EXPECT_TRUE(globMatch("*mini", "gpt-4o-mini"));
  EXPECT_FALSE(globMatch("*mini", "gpt-4o-mini-2024"));
  EXPECT_TRUE(globMatch("a**b", "ab"));
}

TEST(GlobMatch, StarBacktracksPastEarlyPartialMatches) {
  EXPECT_TRUE(globMatch("*ab", "aab"));
  EXPECT_TRUE(globMatch("*a*b", "xaxxab"));
  EXPECT_TRUE(globMatch("a*b*c", "abbbcbc"));
  EXPECT_FALSE(globMatch("a*b*c", "abbbcb"));
}

TEST(GlobMatch, QuestionMarkMatchesExactlyOneCharacter) {
  EXPECT_TRUE(globMatch("o?", "o3"));
  EXPECT_FALSE(globMatch("o?", "o"));
  EXPECT_FALSE(globMatch("o?", "o3-mini"));
  EXPECT_TRUE(globMatch("???", "abc"));
}

TEST(GlobMatch, CharacterClassesMatchSetsRangesAndNegations) {
  EXPECT_TRUE(globMatch("o[13]", "o1"));
  EXPECT_TRUE(globMatch("o[13]", "o3"));
  EXPECT_FALSE(globMatch("o[13]", "o2"));
  EXPECT_TRUE(globMatch("v[0-9]", "v7"));
  EXPECT_FALSE(globMatch("v[0-9]", "vx"));
  EXPECT_TRUE(globMatch("v[!0-9]", "vx"));
  EXPECT_FALSE(globMatch("v[!0-9]", "v7"));
  EXPECT_TRUE(globMatch("[a-cx-z]", "y"));
  EXPECT_FALSE(globMatch("[a-cx-z]", "m"));
}

TEST(GlobMatch, DashFirstOrLastInClassIsLiteral) {
  EXPECT_TRUE(globMatch("a[-_]b", "a-b"));
  EXPECT_TRUE(globMatch("a[_-]b", "a-b"));
  EXPECT_FALSE(globMatch("a[_-]b", "a.b"));
}

TEST(GlobMatch, BackslashEscapesMetacharacters) {
  EXPECT_TRUE(globMatch("a\\*", "a*"));
  EXPECT_FALSE(globMatch("a\\*", "ab"));
  EXPECT_TRUE(globMatch("a\\?", "a?"));
  EXPECT_FALSE(globMatch("a\\?", "ab"));
  EXPECT_TRUE(globMatch("\\[x]", "[x]"));
  EXPECT_TRUE(globMatch("[\\]]", "]"));
  EXPECT_TRUE(globMatch("[\\!a]", "!"));
}

TEST(GlobMatch, NonAsciiBytesAreComparedAsBytes) {
  EXPECT_TRUE(globMatch("caf\xC3\xA9*", "caf\xC3\xA9-model"));
  EXPECT_TRUE(globMatch("caf??", "caf\xC3\xA9"));  // '?' is one byte, not one code point
  EXPECT_TRUE(globMatch("[\x80-\xFF]", "\xC3"));
}

TEST(GlobMatch, InvalidPatternMatchesNothing) {
  EXPECT_FALSE(globMatch("", ""));
  EXPECT_FALSE(globMatch("a[", "a["));
  EXPECT_FALSE(globMatch("*[]", "x"));
  EXPECT_FALSE(globMatch("a\\", "a\\"));
  EXPECT_FALSE(globMatch("[z-a]", "m"));
}

TEST(GlobMatch, PathologicalPatternFinishesInPolynomialTime) {
  const std::string text(20'000, 'a');
  EXPECT_FALSE(globMatch("*a*a*a*a*a*a*a*a*a*a*b", text));
  EXPECT_TRUE(globMatch("*a*a*a*a*a*a*a*a*a*a*", text));
  EXPECT_TRUE(globMatch("*a*a*a*a*a*b", text + "b"));
}

TEST(GlobError, ValidPatternsHaveNoError) {
  for (const char* ok : {"*", "gpt-4o*", "o[13]*", "[!a-z]", "a\\*", "[-]", "[a-]", "?"}) {
    EXPECT_EQ(globError(ok), std::nullopt) << ok;
  }
}

TEST(GlobError, NamesWhatIsWrong) {
  EXPECT_EQ(globError(""), "empty pattern");
  EXPECT_EQ(globError("gpt-[4"), "unterminated '[' at offset 4");
  EXPECT_EQ(globError("o[]"), "empty character class at offset 1");
  EXPECT_EQ(globError("o[!]"), "empty character class at offset 1");
  EXPECT_EQ(globError("model\\"), "trailing '\\' at offset 5");
  EXPECT_EQ(globError("[z-a]"), "reversed range in character class at offset 0");
  EXPECT_EQ(globError("[a\\"), "unterminated '[' at offset 0");
}

}  // namespace
}  // namespace tollgate::meter
