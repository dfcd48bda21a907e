#include "meter/json_scanner.h"

#include <gtest/gtest.h>
#include <simdjson.h>

#include <string>

namespace tollgate::meter {
namespace {

using Step = JsonScanner::Step;

// The unescaped length the scanner gives for the JSON string literal `literal`, or -1 when it
// refuses it.
int64_t scannedLength(std::string_view literal) {
  JsonScanner in(literal);
  int64_t bytes = 0;
  if (!in.string(bytes) || !in.atEnd() || !in.validUtf8()) return -1;
  return bytes;
}

// What simdjson's get_string gives for it, or -1.
int64_t simdjsonLength(std::string_view literal) {
  simdjson::ondemand::parser parser;
  const simdjson::padded_string padded(literal);
  simdjson::ondemand::document doc;
  std::string_view s;
  if (parser.iterate(padded).get(doc) || doc.get_string().get(s)) return -1;
  return static_cast<int64_t>(s.size());
}

TEST(JsonScanner, StringLengthIsTheUnescapedUtf8Length) {
  EXPECT_EQ(scannedLength(R"("")"), 0);
  EXPECT_EQ(scannedLength(R"("plain text, longer than sixteen bytes")"), 37);
  EXPECT_EQ(scannedLength(R"("a\"b\\c\/d\be\ff\ng\rh\ti")"), 17);
  EXPECT_EQ(scannedLength(R"("\u0041")"), 1);        // A
  EXPECT_EQ(scannedLength(R"("\u00e9")"), 2);        // é
  EXPECT_EQ(scannedLength(R"("\u20AC")"), 3);        // €
  EXPECT_EQ(scannedLength(R"("\ud83d\ude00")"), 4);  // 😀, a surrogate pair
  EXPECT_EQ(scannedLength("\"caf\xc3\xa9 \xf0\x9f\x98\x80\""), 10);
  EXPECT_EQ(scannedLength(R"("\u0000")"), 1);
}

TEST(JsonScanner, StringLengthMatchesSimdjsonWheneverTheScannerAcceptsIt) {
  const char* literals[] = {R"("")",
                            R"("x")",
                            R"("the quick fox \"jumps\" over\n")",
                            R"("\u00e9\u20ac\ud83d\ude00")",
                            R"("\\\\\\\"")",
                            R"("0123456789abcdef0123456789abcdef\u00e9")",
                            "\"\xc3\xa9\xe2\x82\xac\"",
                            R"("usage\":{\"output_tokens\":9}")"};
  for (const char* literal : literals) {
    SCOPED_TRACE(literal);
    EXPECT_NE(scannedLength(literal), -1);
    EXPECT_EQ(scannedLength(literal), simdjsonLength(literal));
  }
}

TEST(JsonScanner, RefusesWhatItCannotReadLikeSimdjson) {
  EXPECT_EQ(scannedLength(R"("\ud83d")"), -1);        // a high surrogate alone
  EXPECT_EQ(scannedLength(R"("\ude00")"), -1);        // a low surrogate alone
  EXPECT_EQ(scannedLength(R"("\ud83d\u0041")"), -1);  // a high surrogate, then no low one
  EXPECT_EQ(scannedLength(R"("\x")"), -1);            // no such escape
  EXPECT_EQ(scannedLength(R"("\u12g4")"), -1);
  EXPECT_EQ(scannedLength("\"tab\there\""), -1);  // a raw control byte
  EXPECT_EQ(scannedLength("\"\xc3\""), -1);       // invalid UTF-8
  EXPECT_EQ(scannedLength("\"\xc3\xa9 unterminated"), -1);
  EXPECT_EQ(scannedLength(R"("abc" x)"), -1);  // content after the value
}

// The whole text as one value.
bool accepts(std::string_view json) {
  JsonScanner in(json);
  return in.skipValue() && in.atEnd() && in.validUtf8();
}

TEST(JsonScanner, SkipsOnlyValidJson) {
  EXPECT_TRUE(accepts(R"({"a":[1,-2.5e+3,0.1,true,false,null,{"b":{}}],"c":[]})"));
  EXPECT_TRUE(accepts(" { \"a\" : [ 1 , 2 ] } \r\n"));
  EXPECT_FALSE(accepts(R"({"a":1,})"));
  EXPECT_FALSE(accepts(R"({"a":[1,]})"));
  EXPECT_FALSE(accepts(R"({,"a":1})"));
  EXPECT_FALSE(accepts(R"({"a" 1})"));
  EXPECT_FALSE(accepts(R"({"a":01})"));
  EXPECT_FALSE(accepts(R"({"a":1.})"));
  EXPECT_FALSE(accepts(R"({"a":-})"));
  EXPECT_FALSE(accepts(R"({"a":tru})"));
  EXPECT_FALSE(accepts(R"({"a":1)"));
  EXPECT_FALSE(accepts(R"({"a":1}})"));
  EXPECT_FALSE(accepts(R"({"a\u0062":1})"));  // keys with escapes are left to simdjson
  std::string deep(JsonScanner::kMaxDepth, '[');
  deep += std::string(JsonScanner::kMaxDepth, ']');
  EXPECT_TRUE(accepts(deep));
  EXPECT_FALSE(accepts("[" + deep + "]"));
}

TEST(JsonScanner, WalksMembersAndElementsInOrder) {
  JsonScanner in(R"({"id":"x","n":[3,4],"s":"caf\u00e9"})");
  ASSERT_TRUE(in.consume('{'));
  bool first = true;
  std::string_view key;
  ASSERT_EQ(in.member(first, key), Step::kItem);
  EXPECT_EQ(key, "id");
  std::string_view id;
  ASSERT_TRUE(in.plainString(id));
  EXPECT_EQ(id, "x");
  ASSERT_EQ(in.member(first, key), Step::kItem);
  EXPECT_EQ(key, "n");
  ASSERT_TRUE(in.consume('['));
  bool first_element = true;
  int64_t sum = 0;
  while (in.element(first_element) == Step::kItem) {
    int64_t n = 0;
    ASSERT_TRUE(in.integer(n));
    sum += n;
  }
  EXPECT_EQ(sum, 7);
  ASSERT_EQ(in.member(first, key), Step::kItem);
  EXPECT_EQ(key, "s");
  std::string_view escaped;
  EXPECT_FALSE(JsonScanner(R"("caf\u00e9")").plainString(escaped));  // escapes: not as is
  int64_t bytes = 0;
  ASSERT_TRUE(in.string(bytes));
  EXPECT_EQ(bytes, 5);
  EXPECT_EQ(in.member(first, key), Step::kEnd);
  EXPECT_TRUE(in.atEnd());
}

TEST(JsonScanner, IntegersAreCountsThatFitInt64) {
  int64_t n = 0;
  EXPECT_TRUE(JsonScanner("1200").integer(n));
  EXPECT_EQ(n, 1200);
  EXPECT_TRUE(JsonScanner("-7").integer(n));
  EXPECT_EQ(n, -7);
  EXPECT_FALSE(JsonScanner("1.5").integer(n));
  EXPECT_FALSE(JsonScanner("1e3").integer(n));
  EXPECT_FALSE(JsonScanner("0123").integer(n));
  EXPECT_FALSE(JsonScanner("1234567890123456789").integer(n));  // 19 digits: left to simdjson
  EXPECT_FALSE(JsonScanner("null").integer(n));
}

TEST(JsonScanner, SkipMatchesExactBytesOnly) {
  JsonScanner in(R"({"type":"content_block_delta","index":0})");
  EXPECT_FALSE(in.skip(R"({"type":"message_delta")"));
  EXPECT_TRUE(in.skip(R"({"type":"content_block_delta",)"));
  EXPECT_EQ(in.offset(), 30u);
  EXPECT_FALSE(JsonScanner("{").skip("{}"));
}

// The keys forEachMember passed, joined by ',', or "refused" when it returned false.
std::string memberKeys(std::string_view json) {
  JsonScanner in(json);
  std::string keys;
  const bool read = in.forEachMember([&](std::string_view key) {
    if (!keys.empty()) keys += ',';
    keys += key;
    return key != "stop" && in.skipValue();
  });
  return read ? keys : "refused";
}

TEST(JsonScanner, ForEachMemberVisitsEveryKeyInOrderAndStopsOnRejection) {
  EXPECT_EQ(memberKeys(R"({"a":1, "b":[true,{"c":null}] ,"d":"x"})"), "a,b,d");
  EXPECT_EQ(memberKeys("{ }"), "");
  EXPECT_EQ(memberKeys(R"({"a":1,"stop":2,"z":3})"), "refused");
  EXPECT_EQ(memberKeys(R"([1])"), "refused");
  EXPECT_EQ(memberKeys(R"({"a":1,})"), "refused");
  EXPECT_EQ(memberKeys(R"({"a":1 "b":2})"), "refused");
  EXPECT_EQ(memberKeys(R"({"a":1)"), "refused");
  EXPECT_EQ(memberKeys(R"({"a\n":1})"), "refused");

  JsonScanner in(R"({"a":1} tail)");
  EXPECT_TRUE(in.forEachMember([&](std::string_view) { return in.skipValue(); }));
  EXPECT_EQ(in.offset(), 7u);
  EXPECT_FALSE(in.complete());
}

TEST(JsonScanner, ForEachMemberAfterContinuesAnOpenedObject) {
  JsonScanner in(R"({"a":1,"b":2,"c":3})");
  ASSERT_TRUE(in.skip(R"({"a":1)"));
  std::string keys;
  EXPECT_TRUE(in.forEachMemberAfter(false, [&](std::string_view key) {
    keys += key;
    return in.skipValue();
  }));
  EXPECT_EQ(keys, "bc");
  EXPECT_TRUE(in.complete());

  JsonScanner missing_comma(R"({"a":1"b":2})");
  ASSERT_TRUE(missing_comma.skip(R"({"a":1)"));
  EXPECT_FALSE(missing_comma.forEachMemberAfter(
      false, [&](std::string_view) { return missing_comma.skipValue(); }));
}

TEST(JsonScanner, ForEachElementReadsEachElementUntilTheClosingBracket) {
  JsonScanner in(R"([1, 2 ,3] )");
  int64_t sum = 0;
  EXPECT_TRUE(in.forEachElement([&] {
    int64_t n = 0;
    if (!in.integer(n)) return false;
    sum += n;
    return true;
  }));
  EXPECT_EQ(sum, 6);
  EXPECT_TRUE(in.complete());

  int calls = 0;
  JsonScanner empty("[]");
  EXPECT_TRUE(empty.forEachElement([&] {
    ++calls;
    return empty.skipValue();
  }));
  EXPECT_EQ(calls, 0);

  JsonScanner rejected("[1,\"x\",3]");
  EXPECT_FALSE(rejected.forEachElement([&] {
    int64_t n = 0;
    return rejected.integer(n);
  }));
  for (std::string_view bad : {"[1,]", "[1 2]", "[1", "{}"}) {
    JsonScanner b(bad);
    EXPECT_FALSE(b.forEachElement([&] { return b.skipValue(); })) << bad;
  }
}

TEST(JsonScanner, CompleteNeedsOnlyWhitespaceLeftAndValidUtf8) {
  JsonScanner ok("\"caf\xc3\xa9\" \n");
  ASSERT_TRUE(ok.skipValue());
  EXPECT_TRUE(ok.complete());
  JsonScanner invalid("\"caf\xc3\"");
  ASSERT_TRUE(invalid.skipValue());
  EXPECT_FALSE(invalid.complete());
}

TEST(JsonScanner, HexDigitValues) {
  EXPECT_EQ(hexDigit('0'), 0);
  EXPECT_EQ(hexDigit('9'), 9);
  EXPECT_EQ(hexDigit('a'), 10);
  EXPECT_EQ(hexDigit('F'), 15);
  EXPECT_EQ(hexDigit('g'), -1);
  EXPECT_EQ(hexDigit('/'), -1);
  EXPECT_EQ(hexDigit(':'), -1);
}

}  // namespace
}  // namespace tollgate::meter
