#include "meter/ndjson_framer.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace tollgate::meter {
namespace {

std::vector<std::string> linesOf(std::string_view input, size_t cut) {
  NdjsonFramer framer;
  std::vector<std::string> lines;
  auto collect = [&](std::string_view line) { lines.emplace_back(line); };
  framer.feed(input.substr(0, cut), collect);
  framer.feed(input.substr(cut), collect);
  framer.finish(collect);
  return lines;
}

TEST(NdjsonFramer, EveryLineOnceWhateverTheSplitCrlfAndBlankLinesIncluded) {
  const std::string input = "{\"a\":1}\n\r\n{\"b\":2}\r\n  \n{\"c\":3}";
  const std::vector<std::string> expected = {R"({"a":1})", R"({"b":2})", R"({"c":3})"};
  for (size_t cut = 0; cut <= input.size(); ++cut) {
    EXPECT_EQ(linesOf(input, cut), expected) << "cut at " << cut;
  }
}

TEST(NdjsonFramer, AnOverlongLineIsDroppedAndTheNextOneRead) {
  NdjsonFramer framer;
  std::vector<std::string> lines;
  auto collect = [&](std::string_view line) { lines.emplace_back(line); };
  const std::string big(NdjsonFramer::kMaxLine / 2 + 1, 'x');
  framer.feed(big, collect);
  framer.feed(big, collect);
  framer.feed("\n{\"ok\":true}\n", collect);
  framer.finish(collect);
  EXPECT_EQ(lines, std::vector<std::string>{R"({"ok":true})"});
  EXPECT_EQ(framer.droppedLines(), 1u);
}

}  // namespace
}  // namespace tollgate::meter
