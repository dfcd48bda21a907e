#include "gateway/telemetry/otlp_exporter.h"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <thread>

namespace tollgate::gateway {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

SpanData span(const std::string& span_id) {
  SpanData s;
  s.trace_id = "4bf92f3577b34da6a3ce929d0e0e4736";
  s.span_id = span_id;
  s.name = "chat gpt-4o";
  s.kind = SpanData::kKindClient;
  s.start_unix_ns = 1'800'000'000'000'000'001;
  s.end_unix_ns = 1'800'000'000'000'000'002;
  return s;
}

TEST(EncodeOtlpTraces, UsesOtlpJsonEncoding) {
  SpanData s = span("00f067aa0ba902b7");
  s.parent_span_id = "1111111111111111";
  s.trace_state = "k=v";
  s.status_code = SpanData::kStatusError;
  s.status_message = "boom";
  s.attributes = {{"s", std::string("a\"b")},
                  {"i", int64_t{9007199254740993}},
                  {"d", 1.5},
                  {"b", true},
                  {"a", std::vector<std::string>{"stop", "length"}}};
  const std::string json =
      encodeOtlpTraces(OtlpResource{"tollgate", "0.1.0", "host-1"}, "0.1.0", {s});
  EXPECT_EQ(
      json,
      R"({"resourceSpans":[{"resource":{"attributes":[)"
      R"({"key":"service.name","value":{"stringValue":"tollgate"}},)"
      R"({"key":"service.version","value":{"stringValue":"0.1.0"}},)"
      R"({"key":"service.instance.id","value":{"stringValue":"host-1"}}]},)"
      R"("scopeSpans":[{"scope":{"name":"tollgate","version":"0.1.0"},"spans":[)"
      R"({"traceId":"4bf92f3577b34da6a3ce929d0e0e4736","spanId":"00f067aa0ba902b7",)"
      R"("parentSpanId":"1111111111111111","traceState":"k=v","name":"chat gpt-4o","kind":3,)"
      R"("startTimeUnixNano":"1800000000000000001","endTimeUnixNano":"1800000000000000002",)"
      R"("attributes":[{"key":"s","value":{"stringValue":"a\"b"}},)"
      R"({"key":"i","value":{"intValue":"9007199254740993"}},)"
      R"({"key":"d","value":{"doubleValue":1.5}},{"key":"b","value":{"boolValue":true}},)"
      R"({"key":"a","value":{"arrayValue":{"values":[{"stringValue":"stop"},{"stringValue":"length"}]}}}],)"
      R"("status":{"code":2,"message":"boom"}}]}]}]})");
}

TEST(ParseRetryAfter, ReadsDeltaSecondsOnly) {
  EXPECT_EQ(parseRetryAfter("3"), std::chrono::milliseconds(3000));
  EXPECT_EQ(parseRetryAfter(" 0 "), std::chrono::milliseconds(0));
  EXPECT_EQ(parseRetryAfter("Wed, 21 Oct 2015 07:28:00 GMT"), std::nullopt);
  EXPECT_EQ(parseRetryAfter(""), std::nullopt);
}

TEST(SpanRing, WrapsAroundAndRefusesWhatDoesNotFit) {
  SpanRing ring(3);
  std::vector<SpanData> out;
  for (int round = 0; round < 4; ++round) {
    std::vector<SpanData> two = {span("a"), span("b")};
    ASSERT_TRUE(ring.tryPush(two));
    std::vector<SpanData> more = {span("c"), span("d")};
    EXPECT_FALSE(ring.tryPush(more));
    EXPECT_EQ(ring.size(), 2u);
    out.clear();
    EXPECT_EQ(ring.popInto(out, 10), 2u);
    ASSERT_EQ(out.size(), 2u);
    EXPECT_EQ(out[0].span_id, "a");
    EXPECT_EQ(out[1].span_id, "b");
  }
  EXPECT_EQ(ring.size(), 0u);
}

// A collector on loopback that answers each request with the next scripted response.
class FakeCollector {
 public:
  struct Answer {
    int status;
    std::string retry_after;
  };

  explicit FakeCollector(std::vector<Answer> script)
      : acceptor_(ioc_, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)),
        script_(std::move(script)) {
    thread_ = std::thread([this] { serve(); });
  }
  ~FakeCollector() { thread_.join(); }

  unsigned short port() const { return acceptor_.local_endpoint().port(); }
  const std::vector<http::request<http::string_body>>& requests() const { return requests_; }

 private:
  void serve() {
    size_t next = 0;
    while (next < script_.size()) {
      tcp::socket socket(ioc_);
      acceptor_.accept(socket);
      beast::flat_buffer buffer;
      beast::error_code ec;
      while (next < script_.size()) {
        http::request<http::string_body> req;
        http::read(socket, buffer, req, ec);
        if (ec) break;
        requests_.push_back(req);
        http::response<http::string_body> res{static_cast<http::status>(script_[next].status), 11};
        if (!script_[next].retry_after.empty()) res.set("retry-after", script_[next].retry_after);
        res.body() = "{}";
        res.prepare_payload();
        http::write(socket, res, ec);
        ++next;
      }
    }
  }

  asio::io_context ioc_;
  tcp::acceptor acceptor_;
  std::vector<Answer> script_;
  std::vector<http::request<http::string_body>> requests_;
  std::thread thread_;
};

config::TelemetryConfig telemetryFor(unsigned short port) {
  config::TelemetryConfig cfg;
  cfg.otlp_endpoint = "http://127.0.0.1:" + std::to_string(port);
  cfg.otlp_host = "127.0.0.1";
  cfg.otlp_port = port;
  cfg.batch_size = 2;
  cfg.export_interval = std::chrono::milliseconds(5);
  return cfg;
}

TEST(OtlpExporter, RetriesAfterUnavailableHonouringRetryAfterThenExports) {
  ExporterStats stats;
  {
    FakeCollector collector({{503, "0"}, {429, "0"}, {200, ""}, {200, ""}});
    SpanRing ring(8);
    std::vector<SpanData> spans = {span("1"), span("2"), span("3")};
    ASSERT_TRUE(ring.tryPush(spans));
    OtlpExporter exporter(telemetryFor(collector.port()), {"tollgate", "0.1.0", "i"}, {&ring});
    exporter.start();
    EXPECT_EQ(exporter.stop(std::chrono::seconds(10)), 0u);
    stats = exporter.stats();
    ASSERT_EQ(collector.requests().size(), 4u);
    const auto& first = collector.requests()[0];
    EXPECT_EQ(first.target(), "/v1/traces");
    EXPECT_EQ(first[http::field::content_type], "application/json");
    EXPECT_EQ(first.body(), collector.requests()[2].body());  // the same batch, resent
    EXPECT_NE(first.body().find(R"("spanId":"1")"), std::string::npos);
    EXPECT_NE(first.body().find(R"("spanId":"2")"), std::string::npos);
    EXPECT_NE(collector.requests()[3].body().find(R"("spanId":"3")"), std::string::npos);
  }
  EXPECT_EQ(stats.exported_spans, 3u);
  EXPECT_EQ(stats.failed_spans, 0u);
  EXPECT_EQ(stats.requests, 4u);
  EXPECT_EQ(stats.retries, 2u);
}

TEST(OtlpExporter, BadRequestIsNotRetriedAndCountsTheSpansAsFailed) {
  ExporterStats stats;
  {
    FakeCollector collector({{400, ""}});
    SpanRing ring(8);
    std::vector<SpanData> spans = {span("1"), span("2")};
    ASSERT_TRUE(ring.tryPush(spans));
    OtlpExporter exporter(telemetryFor(collector.port()), {"tollgate", "0.1.0", "i"}, {&ring});
    exporter.start();
    exporter.stop(std::chrono::seconds(10));
    stats = exporter.stats();
  }
  EXPECT_EQ(stats.exported_spans, 0u);
  EXPECT_EQ(stats.failed_spans, 2u);
  EXPECT_EQ(stats.requests, 1u);
  EXPECT_EQ(stats.retries, 0u);
}

}  // namespace
}  // namespace tollgate::gateway
