#include "gateway/http/http_head.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <string>

namespace tollgate::gateway {
namespace {

namespace http = boost::beast::http;

TEST(HttpHead, RequestLineAndFieldsAreOneContiguousHead) {
  std::string out;
  appendRequestLine("POST", "", "/v1/chat/completions", "", out);
  appendField("Host", "api.openai.com", out);
  appendContentLength(12, out);
  out.append(kCrlf);
  EXPECT_EQ(out,
            "POST /v1/chat/completions HTTP/1.1\r\nHost: api.openai.com\r\n"
            "Content-Length: 12\r\n\r\n");
}

TEST(HttpHead, RequestLineTakesThePrefixAndDropsOnlyTheNamedQueryParameter) {
  struct Case {
    std::string_view target, drop, want;
  };
  const Case cases[] = {
      {"/v1beta/models/g:generateContent?key=SECRET", "key",
       "POST /base/v1beta/models/g:generateContent HTTP/1.1\r\n"},
      {"/v1/x?alt=sse&key=SECRET&b=2", "key", "POST /base/v1/x?alt=sse&b=2 HTTP/1.1\r\n"},
      {"/v1/x?key=A&key=B", "key", "POST /base/v1/x HTTP/1.1\r\n"},
      {"/v1/x?keys=1&key=&akey=2", "key", "POST /base/v1/x?keys=1&akey=2 HTTP/1.1\r\n"},
      {"/v1/x?&&alt=sse&", "key", "POST /base/v1/x?alt=sse HTTP/1.1\r\n"},
      {"/v1/x?key=SECRET", "", "POST /base/v1/x?key=SECRET HTTP/1.1\r\n"},
      {"/v1/x", "key", "POST /base/v1/x HTTP/1.1\r\n"},
  };
  for (const auto& c : cases) {
    std::string out;
    appendRequestLine("POST", "/base", c.target, c.drop, out);
    EXPECT_EQ(out, c.want) << c.target;
  }
}

TEST(HttpHead, StatusLineKeepsTheClientsVersion) {
  std::string out;
  appendStatusLine(11, 200, "OK", out);
  appendStatusLine(10, 429, "Too Many Requests", out);
  EXPECT_EQ(out, "HTTP/1.1 200 OK\r\nHTTP/1.0 429 Too Many Requests\r\n");
}

TEST(HttpHead, EndToEndFieldsSkipHopByHopAndConnectionNamedOnes) {
  http::fields from;
  from.set(http::field::content_type, "application/json");
  from.set(http::field::connection, "keep-alive, x-hop");
  from.set("x-hop", "1");
  from.set(http::field::transfer_encoding, "chunked");
  from.set(http::field::content_length, "5");
  from.set("keep-alive", "timeout=5");
  from.set("x-request-id", "upstream-id");
  from.set("openai-processing-ms", "12");
  std::string out;
  appendEndToEnd(from, out,
                 [](http::field, std::string_view name) { return !iequals(name, "x-request-id"); });
  EXPECT_EQ(out, "Content-Type: application/json\r\nopenai-processing-ms: 12\r\n");
}

TEST(HttpHead, ChunkPrefixIsHexSizeAndCrlf) {
  EXPECT_EQ(ChunkPrefix(0).view(), "0\r\n");
  EXPECT_EQ(ChunkPrefix(255).view(), "ff\r\n");
  EXPECT_EQ(ChunkPrefix(65536).view(), "10000\r\n");
}

TEST(HttpHead, ContentLengthWritesEveryDigitOfAnyLength) {
  for (const uint64_t length : {uint64_t{0}, uint64_t{7}, uint64_t{10}, uint64_t{1234567},
                                std::numeric_limits<uint64_t>::max()}) {
    std::string out = "x";
    appendContentLength(length, out);
    EXPECT_EQ(out, "xContent-Length: " + std::to_string(length) + "\r\n");
  }
}

TEST(HttpHead, FieldsAppendToWhatIsThereWhateverItsCapacity) {
  std::string out(1000, 'a');
  out.shrink_to_fit();
  appendField("x-empty", "", out);
  appendField(std::string(300, 'n'), std::string(5000, 'v'), out);
  EXPECT_EQ(out, std::string(1000, 'a') + "x-empty: \r\n" + std::string(300, 'n') + ": " +
                     std::string(5000, 'v') + "\r\n");
}

TEST(HttpHead, BearerAndTraceParentAreWholeFields) {
  std::string out = "x";
  appendBearer("sk-1", out);
  appendTraceParent("0af7651916cd43dd8448eb211c80319c", "b7ad6b7169203331", true, out);
  appendTraceParent("0af7651916cd43dd8448eb211c80319c", "b7ad6b7169203331", false, out);
  EXPECT_EQ(out,
            "xAuthorization: Bearer sk-1\r\n"
            "traceparent: 00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01\r\n"
            "traceparent: 00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00\r\n");
}

}  // namespace
}  // namespace tollgate::gateway
