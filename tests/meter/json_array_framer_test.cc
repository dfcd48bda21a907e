#include "meter/json_array_framer.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace tollgate::meter {
namespace {

std::vector<std::string> objectsOf(std::string_view input, size_t cut) {
  JsonArrayFramer framer;
  std::vector<std::string> objects;
  auto collect = [&](std::string_view obj) { objects.emplace_back(obj); };
  framer.feed(input.substr(0, cut), collect);
  framer.feed(input.substr(cut), collect);
  return objects;
}

TEST(JsonArrayFramer, HandsOverEachElementObjectWhateverTheSplit) {
  // Braces and brackets inside strings, escaped quotes, nested arrays and objects.
  const std::string input =
      "[{\"t\":\"a}]\\\"{\",\"n\":{\"x\":[1,{\"y\":2}]}},\r\n{\"u\":{\"v\":3}}\r\n]";
  const std::vector<std::string> expected = {R"({"t":"a}]\"{","n":{"x":[1,{"y":2}]}})",
                                             R"({"u":{"v":3}})"};
  for (size_t cut = 0; cut <= input.size(); ++cut) {
    EXPECT_EQ(objectsOf(input, cut), expected) << "cut at " << cut;
  }
}

TEST(JsonArrayFramer, BackslashRunsAndStringsAcrossBlocksOf64BytesWhateverTheSplit) {
  // Escaped and unescaped quotes after runs of one to four backslashes, braces in strings, at
  // every alignment to the 64-byte blocks the framer classifies at once.
  std::string first = "{\"pad\":\"";
  for (int run = 1; run <= 4; ++run) {
    first += std::string(static_cast<size_t>(run), '\\');
    first += run % 2 == 1 ? "\"}{[" : "";  // an odd run escapes the quote: still in the string
    first += std::string(static_cast<size_t>(20 + run), 'x');
  }
  first += "\",\"n\":{\"deep\":[{\"a\":\"}\"}]}}";
  const std::string second = R"({"b":"\\","c":"\\\""})";
  for (size_t pad = 0; pad < 64; pad += 7) {
    const std::string input = "[" + std::string(pad, ' ') + first + ",\r\n" + second + "]";
    for (size_t cut = 0; cut <= input.size(); ++cut) {
      EXPECT_EQ(objectsOf(input, cut), (std::vector<std::string>{first, second}))
          << "pad " << pad << " cut at " << cut;
      if (::testing::Test::HasFailure()) return;
    }
  }
}

TEST(JsonArrayFramer, ATopLevelObjectIsHandedOverToo) {
  EXPECT_EQ(objectsOf(R"({"error":{"code":429}})", 5),
            std::vector<std::string>{R"({"error":{"code":429}})"});
}

TEST(JsonArrayFramer, AnUnfinishedElementIsNotHandedOver) {
  JsonArrayFramer framer;
  int count = 0;
  framer.feed(R"([{"a":1},{"b":)", [&](std::string_view) { ++count; });
  EXPECT_EQ(count, 1);
  EXPECT_TRUE(framer.hasPartial());
}

}  // namespace
}  // namespace tollgate::meter
