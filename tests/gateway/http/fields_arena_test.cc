#include "gateway/http/fields_arena.h"

#include <gtest/gtest.h>

#include <boost/beast/http/message.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <optional>
#include <string>

namespace tollgate::gateway {
namespace {

namespace http = boost::beast::http;

using Parser = http::request_parser<http::string_body, ArenaAllocator<char>>;

Parser makeParser(FieldArena& arena) {
  return Parser(std::piecewise_construct, std::make_tuple(),
                std::make_tuple(ArenaAllocator<char>(&arena)));
}

void parse(Parser& parser, std::string_view bytes) {
  boost::system::error_code ec;
  parser.eager(true);
  const size_t used = parser.put(boost::asio::buffer(bytes.data(), bytes.size()), ec);
  ASSERT_FALSE(ec) << ec.message();
  ASSERT_EQ(used, bytes.size());
  ASSERT_TRUE(parser.is_done());
}

constexpr std::string_view kRequest =
    "POST /v1/chat/completions HTTP/1.1\r\n"
    "Host: gateway\r\n"
    "Content-Type: application/json\r\n"
    "Authorization: Bearer tg-key\r\n"
    "x-team: search\r\n"
    "x-project: ranking\r\n"
    "Content-Length: 2\r\n"
    "\r\n"
    "{}";

TEST(FieldsArena, AParsedHeadsFieldsComeFromOneBorrowedBlock) {
  FieldBlockPool pool;
  FieldArena arena(pool);
  {
    auto parser = makeParser(arena);
    EXPECT_FALSE(arena.holdsBlock());  // nothing borrowed before the first field
    parse(parser, kRequest);
    auto req = parser.release();
    EXPECT_TRUE(arena.holdsBlock());
    // One allocation per field and one for the request line's method and target, all in the
    // block.
    EXPECT_EQ(arena.live(), 7u);
    EXPECT_EQ(arena.heapAllocations(), 0u);
    EXPECT_EQ(req["x-team"], "search");
    EXPECT_EQ(req[http::field::authorization], "Bearer tg-key");
    req.erase("authorization");
    EXPECT_EQ(arena.live(), 6u);
    EXPECT_EQ(req.count(http::field::authorization), 0u);
  }
  // Every field freed: the block went back to the worker's pool, for the next call.
  EXPECT_FALSE(arena.holdsBlock());
  EXPECT_EQ(pool.kept(), 1u);
  {
    auto parser = makeParser(arena);
    parse(parser, kRequest);
    EXPECT_EQ(pool.kept(), 0u);  // the same block, taken again
  }
  EXPECT_EQ(pool.kept(), 1u);
}

TEST(FieldsArena, FieldsThatDoNotFitTheBlockComeFromTheHeapAndStayIntact) {
  FieldBlockPool pool;
  FieldArena arena(pool);
  std::string request = "GET / HTTP/1.1\r\n";
  for (int i = 0; i < 40; ++i) {
    request += "x-field-" + std::to_string(i) + ": " +
               std::string(100, static_cast<char>('a' + i % 26)) + "\r\n";
  }
  request += "\r\n";
  {
    auto parser = makeParser(arena);
    parse(parser, request);
    const auto& req = parser.get();
    EXPECT_GT(arena.heapAllocations(), 0u);
    for (int i = 0; i < 40; ++i) {
      EXPECT_EQ(req["x-field-" + std::to_string(i)],
                std::string(100, static_cast<char>('a' + i % 26)));
    }
  }
  EXPECT_FALSE(arena.holdsBlock());
  EXPECT_EQ(arena.live(), 0u);
}

TEST(FieldsArena, TwoHeadsShareTheBlockUntilBothAreGone) {
  FieldBlockPool pool;
  FieldArena arena(pool);
  std::optional<http::request<http::string_body, Fields>> first;
  {
    auto parser = makeParser(arena);
    parse(parser, kRequest);
    first.emplace(parser.release());
  }
  {
    auto parser = makeParser(arena);
    parse(parser, kRequest);
    EXPECT_EQ(arena.live(), 14u);
  }
  EXPECT_TRUE(arena.holdsBlock());  // the first head still lives
  EXPECT_EQ((*first)["x-project"], "ranking");
  first.reset();
  EXPECT_FALSE(arena.holdsBlock());
}

TEST(FieldsArena, WithoutAnArenaTheAllocatorIsTheHeap) {
  Fields fields;
  fields.set("x-team", "search");
  fields.set(http::field::content_type, "application/json");
  Fields copy = fields;
  EXPECT_EQ(copy["x-team"], "search");
  EXPECT_EQ(copy[http::field::content_type], "application/json");
}

}  // namespace
}  // namespace tollgate::gateway
