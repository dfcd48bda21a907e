#include "gateway/telemetry/tracer.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "tests/gateway/telemetry/call_fixture.h"

namespace tollgate::gateway {
namespace {

const AttributeValue* find(const SpanData& span, const std::string& key) {
  for (const auto& a : span.attributes) {
    if (a.key == key) return &a.value;
  }
  return nullptr;
}

template <typename T>
T attr(const SpanData& span, const std::string& key) {
  const auto* v = find(span, key);
  if (v == nullptr || !std::holds_alternative<T>(*v)) {
    ADD_FAILURE() << "attribute " << key << " missing or of another type";
    return T{};
  }
  return std::get<T>(*v);
}

TEST(SampleTraceId, RatioOneKeepsAllAndZeroKeepsNone) {
  EXPECT_TRUE(sampleTraceId("4bf92f3577b34da6ffffffffffffffff", 1.0));
  EXPECT_FALSE(sampleTraceId("4bf92f3577b34da60000000000000000", 0.0));
}

TEST(SampleTraceId, KeepsExactlyTheRatioOfEvenlySpreadIds) {
  size_t kept = 0;
  for (uint64_t k = 0; k < 65536; ++k) {
    kept += sampleTraceId(fmt::format("{:016x}{:016x}", 0xabcdu, k << 48), 0.1) ? 1 : 0;
  }
  // k << 37 < 0.1 * 2^53  <=>  k < 6553.6
  EXPECT_EQ(kept, 6554u);
}

TEST(SampleTraceId, SameIdSameDecision) {
  const std::string id = "0af7651916cd43dd8448eb211c80319c";
  EXPECT_EQ(sampleTraceId(id, 0.5), sampleTraceId(id, 0.5));
  EXPECT_FALSE(sampleTraceId("not-hex-not-hex-not-hex-not-hex!", 0.5));
}

TEST(BuildCallSpans, ServerSpanIsTheClientsChildAndClientSpanItsChild) {
  testing::CallFixture f;
  std::vector<SpanData> spans;
  buildCallSpans(f.call, f.event, spans);
  ASSERT_EQ(spans.size(), 2u);
  const SpanData& server = spans[0];
  const SpanData& client = spans[1];
  EXPECT_EQ(server.name, "chat gpt-4o-mini");
  EXPECT_EQ(server.kind, 2);
  EXPECT_EQ(server.trace_id, "4bf92f3577b34da6a3ce929d0e0e4736");
  EXPECT_EQ(server.span_id, "1111111111111111");
  EXPECT_EQ(server.parent_span_id, "00f067aa0ba902b7");
  EXPECT_EQ(server.trace_state, "vendor=1");
  EXPECT_EQ(server.start_unix_ns, 1'800'000'000'000'000'000);
  EXPECT_EQ(server.end_unix_ns, 1'800'000'000'314'000'000);
  EXPECT_EQ(server.status_code, 0);
  EXPECT_EQ(attr<int64_t>(server, "http.response.status_code"), 200);
  EXPECT_EQ(attr<std::string>(server, "tollgate.team"), "fraud-platform");
  EXPECT_EQ(attr<std::string>(server, "tollgate.cost_usd"), "0.000165");

  EXPECT_EQ(client.name, "chat gpt-4o-mini");
  EXPECT_EQ(client.kind, 3);
  EXPECT_EQ(client.trace_id, server.trace_id);
  EXPECT_EQ(client.span_id, "2222222222222222");
  EXPECT_EQ(client.parent_span_id, "1111111111111111");
  EXPECT_EQ(client.start_unix_ns, 1'800'000'000'002'000'000);
  EXPECT_EQ(client.end_unix_ns, 1'800'000'000'302'000'000);
}

TEST(BuildCallSpans, ClientSpanCarriesGenAiAttributesFromTheMeter) {
  testing::CallFixture f;
  std::vector<SpanData> spans;
  buildCallSpans(f.call, f.event, spans);
  ASSERT_EQ(spans.size(), 2u);
  const SpanData& c = spans[1];
  EXPECT_EQ(attr<std::string>(c, "gen_ai.operation.name"), "chat");
  EXPECT_EQ(attr<std::string>(c, "gen_ai.provider.name"), "openai");
  EXPECT_EQ(attr<std::string>(c, "gen_ai.request.model"), "gpt-4o-mini");
  EXPECT_EQ(attr<std::string>(c, "gen_ai.response.model"), "gpt-4o-mini-2024-07-18");
  EXPECT_EQ(attr<std::string>(c, "gen_ai.response.id"), "chatcmpl-abc");
  EXPECT_EQ(attr<std::vector<std::string>>(c, "gen_ai.response.finish_reasons"),
            std::vector<std::string>{"stop"});
  EXPECT_EQ(attr<int64_t>(c, "gen_ai.usage.input_tokens"), 1000);
  EXPECT_EQ(attr<int64_t>(c, "gen_ai.usage.output_tokens"), 50);
  EXPECT_EQ(attr<int64_t>(c, "gen_ai.usage.cache_read.input_tokens"), 200);
  EXPECT_EQ(attr<int64_t>(c, "gen_ai.usage.cache_creation.input_tokens"), 0);
  EXPECT_EQ(attr<int64_t>(c, "gen_ai.usage.reasoning.output_tokens"), 10);
  EXPECT_EQ(attr<bool>(c, "gen_ai.request.stream"), true);
  EXPECT_EQ(attr<std::string>(c, "server.address"), "127.0.0.1");
  EXPECT_EQ(attr<int64_t>(c, "server.port"), 9100);
  EXPECT_EQ(attr<double>(c, "tollgate.ttft_ms"), 52.0);
  EXPECT_EQ(attr<std::string>(c, "tollgate.project"), "fraud-detector-v2");
  EXPECT_EQ(attr<std::string>(c, "tollgate.cost_center"), "cc-42");
  EXPECT_EQ(attr<std::string>(c, "tollgate.workload_type"), "batch");
  EXPECT_EQ(attr<std::string>(c, "tollgate.cost_usd"), "0.000165");
  EXPECT_EQ(find(c, "error.type"), nullptr);
}

TEST(BuildCallSpans, UpstreamErrorMarksTheClientSpanButNotAServer4xx) {
  testing::CallFixture f;
  f.call.status = 429;
  f.call.error_type = "rate_limit_exceeded";
  std::vector<SpanData> spans;
  buildCallSpans(f.call, f.event, spans);
  ASSERT_EQ(spans.size(), 2u);
  EXPECT_EQ(spans[0].status_code, 0);
  EXPECT_EQ(attr<std::string>(spans[0], "error.type"), "rate_limit_exceeded");
  EXPECT_EQ(spans[1].status_code, 2);
  EXPECT_EQ(spans[1].status_message, "rate_limit_exceeded");
  EXPECT_EQ(attr<std::string>(spans[1], "error.type"), "rate_limit_exceeded");
}

TEST(BuildCallSpans, CallRejectedBeforeAnyUpstreamHasOnlyAServerSpan) {
  testing::CallFixture f;
  f.call.upstream = nullptr;
  f.call.upstream_start = {};
  f.call.parent_span_id.clear();
  f.call.status = 404;
  f.call.error_type = "model_not_found";
  std::vector<SpanData> spans;
  buildCallSpans(f.call, f.event, spans);
  ASSERT_EQ(spans.size(), 1u);
  EXPECT_EQ(spans[0].kind, 2);
  EXPECT_EQ(spans[0].parent_span_id, "");
}

TEST(Tracer, UnsampledCallsAreNotRecordedAndAFullQueueDropsWholeCalls) {
  config::TelemetryConfig cfg;
  cfg.otlp_host = "127.0.0.1";
  cfg.queue_size = 3;  // room for one call (2 spans), not two
  Tracer tracer(cfg, OtlpResource{"tollgate", "1", "i"}, 1);
  testing::CallFixture f;
  tracer.observer(0)->onCallFinished(f.call, f.event);
  tracer.observer(0)->onCallFinished(f.call, f.event);
  f.call.sampled = false;
  tracer.observer(0)->onCallFinished(f.call, f.event);
  const TracerStats s = tracer.stats();
  EXPECT_EQ(s.sampled_calls, 2u);
  EXPECT_EQ(s.dropped_spans, 2u);
  EXPECT_EQ(s.exporter.queued_spans, 2u);
}

TEST(BuildCallSpans, EachAttemptIsAChildOfTheClientSpanWithItsEndpointAndOutcome) {
  testing::CallFixture f;
  config::UpstreamConfig second = f.upstream;
  second.host = "127.0.0.2";
  second.port = 9200;
  using namespace std::chrono_literals;
  AttemptRecord& first = f.call.attempts.emplace_back();
  first.span_id = "3333333333333333";
  first.upstream = &f.upstream;
  first.endpoint = 0;
  first.number = 1;
  first.start = f.call.upstream_start;
  first.end = f.call.upstream_start + 5ms;
  first.ended = true;
  first.failure = "connect_error";
  first.next = "retry";
  AttemptRecord& last = f.call.attempts.emplace_back();
  last.span_id = "4444444444444444";
  last.upstream = &second;
  last.endpoint = 1;
  last.number = 2;
  last.start = first.end;
  last.end = f.call.upstream_end;
  last.ended = true;
  last.status = 200;
  std::vector<SpanData> spans;
  buildCallSpans(f.call, f.event, spans);
  ASSERT_EQ(spans.size(), 4u);
  const SpanData& a1 = spans[2];
  const SpanData& a2 = spans[3];
  EXPECT_EQ(a1.parent_span_id, "2222222222222222");
  EXPECT_EQ(a1.span_id, "3333333333333333");
  EXPECT_EQ(a1.kind, SpanData::kKindInternal);
  EXPECT_EQ(a1.end_unix_ns - a1.start_unix_ns, 5'000'000);
  EXPECT_EQ(attr<int64_t>(a1, "tollgate.attempt"), 1);
  EXPECT_EQ(attr<int64_t>(a1, "tollgate.endpoint"), 0);
  EXPECT_EQ(attr<std::string>(a1, "error.type"), "connect_error");
  EXPECT_EQ(attr<std::string>(a1, "tollgate.attempt.next"), "retry");
  EXPECT_EQ(find(a1, "http.response.status_code"), nullptr);
  EXPECT_EQ(a1.status_code, SpanData::kStatusError);
  EXPECT_EQ(attr<int64_t>(a2, "tollgate.attempt"), 2);
  EXPECT_EQ(attr<std::string>(a2, "server.address"), "127.0.0.2");
  EXPECT_EQ(attr<int64_t>(a2, "server.port"), 9200);
  EXPECT_EQ(attr<int64_t>(a2, "http.response.status_code"), 200);
  EXPECT_EQ(find(a2, "error.type"), nullptr);
  EXPECT_EQ(find(a2, "tollgate.attempt.next"), nullptr);
  EXPECT_EQ(a2.status_code, SpanData::kStatusUnset);
}

}  // namespace
}  // namespace tollgate::gateway
