// Defects 6 and 8 of issue 13. One 200 MiB SSE line took the gateway from 9 to 390 MiB (the SSE
// framer and the hiding meter buffered without limit; a line that never ends reached 3.1 GB in
// 15 s), and JSON answers over 32 MiB were booked usage_source none at zero cost. The meter's
// memory is measured as the capacity of its buffers (ResponseMeter::retainedBytes), never by
// time.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <string_view>
#include <vector>

#include "dialect_test_support.h"
#include "meter/anthropic_dialect.h"
#include "meter/body_window.h"
#include "meter/gemini_dialect.h"
#include "meter/ollama_dialect.h"
#include "meter/openai_dialect.h"
#include "meter/sse_framer.h"

namespace tollgate::meter {
namespace {

constexpr size_t kPiece = 64 * 1024;  // what a socket read delivers
constexpr size_t kMiB = 1024 * 1024;
// What a meter may hold while an event is pending: the framer's copy and the hiding meter's
// held-back bytes, each at most the cap plus a piece, and the relay buffer.
constexpr size_t kPendingBound = 3 * (SseFramer::kMaxEventBytes + kPiece);
// What it may hold once the oversized event is over.
constexpr size_t kSettledBound = 2 * kMiB;

const char kChunkHead[] =
    R"({"id":"c1","object":"chat.completion.chunk","model":"gpt-4o-mini","choices":[)";

RequestInfo openAiStream(bool gateway_asked) {
  RequestInfo info;
  info.model = "gpt-4o-mini";
  info.operation = "chat";
  info.stream = true;
  info.client_asked_usage = !gateway_asked;
  info.gateway_asked_usage = gateway_asked;
  info.estimated_input_tokens = 11;
  return info;
}

// Feeds `bytes` in pieces, checking the meter's memory after each; returns the bytes relayed.
size_t feedBounded(ResponseMeter& meter, std::string_view bytes, size_t bound, size_t& peak) {
  size_t out = 0;
  for (size_t at = 0; at < bytes.size(); at += kPiece) {
    out += meter.onBody(bytes.substr(at, kPiece)).size();
    peak = std::max(peak, meter.retainedBytes());
    if (meter.retainedBytes() > bound) {
      ADD_FAILURE() << "meter holds " << meter.retainedBytes() << " bytes";
      break;
    }
  }
  return out;
}

const std::string kHugeOpen =
    std::string("data: ") + kChunkHead + R"({"index":0,"delta":{"content":")";
const std::string kHugeClose = R"("},"finish_reason":null}],"usage":null})"
                               "\n\n";

// A content chunk whose data line is `mib` MiB long, fed without ever being built whole.
// Returns the bytes relayed; `in` is set to the bytes fed.
size_t feedHugeLine(ResponseMeter& meter, size_t mib, bool end_event, size_t& peak, size_t& in) {
  size_t out = feedBounded(meter, kHugeOpen, kPendingBound, peak);
  const std::string text(kPiece, 'a');
  for (size_t i = 0; i < mib * kMiB / kPiece; ++i)
    out += feedBounded(meter, text, kPendingBound, peak);
  in = kHugeOpen.size() + mib * kMiB;
  if (end_event) {
    out += feedBounded(meter, kHugeClose, kPendingBound, peak);
    in += kHugeClose.size();
  }
  return out;
}

TEST(OversizedStream, SseLineOf200MiBIsRelayedUnchangedWhileTheUsageIsStillHidden) {
  const OpenAiDialect dialect;
  auto meter = dialect.newResponseMeter(openAiStream(true), 200, "text/event-stream");
  const std::string before =
      std::string("data: ") + kChunkHead +
      R"({"index":0,"delta":{"content":"hi"},"finish_reason":null}],"usage":null})" + "\n\n";
  const std::string usage =
      std::string("data: ") +
      R"({"id":"c1","object":"chat.completion.chunk","model":"gpt-4o-mini","choices":[],"usage":{"prompt_tokens":12,"completion_tokens":7}})" +
      "\n\n";
  size_t peak = 0;
  // The small chunk loses its hidden "usage":null member (13 bytes) as before.
  EXPECT_EQ(feedBounded(*meter, before, kPendingBound, peak), before.size() - 13);
  size_t huge_in = 0;
  const size_t huge_out = feedHugeLine(*meter, 200, true, peak, huge_in);
  // Past the cap the event is relayed unchanged (its "usage":null too): nothing is dropped.
  EXPECT_EQ(huge_out, huge_in);
  EXPECT_LE(meter->retainedBytes(), kSettledBound);
  // The usage chunk the gateway asked for is still hidden, and read.
  EXPECT_EQ(feedBounded(*meter, usage + "data: [DONE]\n\n", kPendingBound, peak),
            std::string_view("data: [DONE]\n\n").size());
  EXPECT_EQ(meter->onEnd(true), "");
  const MeterResult r = meter->result();
  EXPECT_EQ(r.usage_source, UsageSource::kProvider);
  EXPECT_EQ(r.usage.input_tokens, 12);
  EXPECT_EQ(r.usage.output_tokens, 7);
  EXPECT_EQ(r.usage_flags, kUsageEventOversized);
  EXPECT_LE(peak, kPendingBound);
  RecordProperty("peak_retained_bytes", std::to_string(peak));
}

TEST(OversizedStream, EndlessSseLineKeepsEveryMeterBoundedAndIsEstimated) {
  const OpenAiDialect openai;
  const AnthropicDialect anthropic;
  RequestInfo anthropic_info = openAiStream(false);
  anthropic_info.model = "claude-sonnet-4";
  const std::pair<const Dialect*, RequestInfo> cases[] = {
      {&openai, openAiStream(true)}, {&openai, openAiStream(false)}, {&anthropic, anthropic_info}};
  for (const auto& [dialect, info] : cases) {
    auto meter = dialect->newResponseMeter(info, 200, "text/event-stream");
    size_t peak = 0;
    // 512 MiB of one line that never ends, then the upstream gives up.
    size_t in = 0;
    const size_t out = feedHugeLine(*meter, 512, false, peak, in);
    EXPECT_EQ(out, in);
    EXPECT_LE(meter->retainedBytes(), kSettledBound);
    meter->onEnd(false);
    const MeterResult r = meter->result();
    EXPECT_EQ(r.usage_source, UsageSource::kEstimated) << dialect->name();
    EXPECT_EQ(r.usage_flags, kUsageEventOversized) << dialect->name();
    EXPECT_EQ(r.usage.input_tokens, 11) << dialect->name();
    EXPECT_LE(peak, kPendingBound) << dialect->name();
    RecordProperty(std::string(dialect->name()) + (info.gateway_asked_usage ? "_hiding" : "") +
                       "_peak_retained_bytes",
                   std::to_string(peak));
  }
}

// Where the cap falls must not depend on how the stream is cut: with a small cap, every split
// passes over the same event and dispatches the same others.
TEST(OversizedStream, FramerSkipsTheSameEventsAtEverySplit) {
  const std::string stream = "data: a\n\n: comment\ndata: " + std::string(100, 'x') +
                             "\r\ndata: y\r\n\r\ndata: b\r\rdata: " + std::string(70, 'z') +
                             "\ndata: c\n\n";
  auto run = [&](const std::vector<size_t>& cuts, size_t& oversized) {
    SseFramer framer(64);
    std::vector<std::string> events;
    size_t from = 0;
    auto on = [&](const SseEvent& ev) { events.emplace_back(ev.data); };
    for (size_t cut : cuts) {
      framer.feed(std::string_view(stream).substr(from, cut - from), on);
      from = cut;
    }
    framer.feed(std::string_view(stream).substr(from), on);
    framer.finish(on);
    oversized = framer.oversizedEvents();
    EXPECT_EQ(framer.partialBegin(), stream.size());
    return events;
  };
  size_t oversized = 0;
  const auto whole = run({}, oversized);
  EXPECT_EQ(whole, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(oversized, 2u);
  for (size_t cut = 0; cut <= stream.size(); ++cut) {
    size_t n = 0;
    EXPECT_EQ(run({cut}, n), whole) << cut;
    EXPECT_EQ(n, 2u) << cut;
  }
  std::vector<size_t> every;
  for (size_t i = 1; i < stream.size(); ++i) every.push_back(i);
  size_t n = 0;
  EXPECT_EQ(run(every, n), whole);
  EXPECT_EQ(n, 2u);
}

// ---- JSON answers past the copy limit -------------------------------------------------------

std::string embeddings(size_t bytes, bool usage_first) {
  const std::string usage = R"("usage":{"prompt_tokens":12,"total_tokens":12})";
  std::string body = "{";
  if (usage_first) body += usage + ",";
  body += R"("object":"list","data":[{"object":"embedding","index":0,"embedding":[)";
  while (body.size() < bytes) body += "0.0123456789,";
  body += R"(0.5]}],"model":"text-embedding-3-small")";
  if (!usage_first) body += "," + usage;
  return body + "}";
}

RequestInfo bodyRequest(std::string model) {
  RequestInfo info;
  info.model = std::move(model);
  info.operation = "embeddings";
  info.estimated_input_tokens = 11;
  return info;
}

// Feeds a whole body in pieces; the meter may hold the copy limit and its windows, no more.
MeterResult meterLargeBody(const Dialect& dialect, const RequestInfo& info, std::string_view body) {
  auto meter = dialect.newResponseMeter(info, 200, "application/json");
  size_t peak = 0;
  EXPECT_EQ(feedBounded(*meter, body, BodyWindow::kMaxWhole + 4 * BodyWindow::kWindow, peak),
            body.size());
  // Past the limit only the windows are left.
  EXPECT_LE(meter->retainedBytes(), 6 * BodyWindow::kWindow);
  ::testing::Test::RecordProperty("retained_after_limit_bytes",
                                  std::to_string(meter->retainedBytes()));
  meter->onEnd(true);
  return meter->result();
}

TEST(OversizedJson, JsonAnswerOf40MiBIsBookedFromTheUsageAtItsEnd) {
  const OpenAiDialect dialect;
  const MeterResult r =
      meterLargeBody(dialect, bodyRequest("text-embedding-3-small"), embeddings(40 * kMiB, false));
  EXPECT_EQ(r.usage_source, UsageSource::kProvider);
  EXPECT_EQ(r.usage.input_tokens, 12);
  EXPECT_EQ(r.usage_flags, kUsageBodyWindowed);
}

TEST(OversizedJson, JsonAnswerOf40MiBWithTheUsageFirstIsReadFromItsHead) {
  const OpenAiDialect dialect;
  const MeterResult r =
      meterLargeBody(dialect, bodyRequest("text-embedding-3-small"), embeddings(40 * kMiB, true));
  EXPECT_EQ(r.usage_source, UsageSource::kProvider);
  EXPECT_EQ(r.usage.input_tokens, 12);
  EXPECT_EQ(r.usage_flags, kUsageBodyWindowed);
}

TEST(OversizedJson, OtherDialectsRead40MiBAnswersFromTheirTail) {
  const std::string text(40 * kMiB, 'a');
  const AnthropicDialect anthropic;
  const GeminiDialect gemini;
  const OllamaDialect ollama;
  const std::pair<const Dialect*, std::string> cases[] = {
      {&anthropic,
       R"({"id":"msg_1","type":"message","role":"assistant","model":"claude-sonnet-4","content":[{"type":"text","text":")" +
           text + R"("}],"stop_reason":"end_turn","usage":{"input_tokens":12,"output_tokens":7}})"},
      {&gemini,
       R"({"candidates":[{"content":{"parts":[{"text":")" + text +
           R"("}],"role":"model"},"finishReason":"STOP"}],"usageMetadata":{"promptTokenCount":12,"candidatesTokenCount":7}})"},
      {&ollama, R"({"model":"llama3","message":{"role":"assistant","content":")" + text +
                    R"("},"done":true,"prompt_eval_count":12,"eval_count":7})"},
  };
  for (const auto& [dialect, body] : cases) {
    const MeterResult r = meterLargeBody(*dialect, bodyRequest("m"), body);
    EXPECT_EQ(r.usage_source, UsageSource::kProvider) << dialect->name();
    EXPECT_EQ(r.usage.input_tokens, 12) << dialect->name();
    EXPECT_EQ(r.usage.output_tokens, 7) << dialect->name();
    EXPECT_EQ(r.usage_flags, kUsageBodyWindowed) << dialect->name();
  }
}

TEST(OversizedJson, AbsurdUsageInAWindowIsStillRefused) {
  const OpenAiDialect dialect;
  std::string body = embeddings(40 * kMiB, false);
  body.replace(body.rfind("12,"), 2, "9223372036854775807");
  const MeterResult r = meterLargeBody(dialect, bodyRequest("text-embedding-3-small"), body);
  EXPECT_EQ(r.usage_source, UsageSource::kEstimated);
  EXPECT_EQ(r.usage_flags, kUsageBodyWindowed | kUsageCountRefused);
  EXPECT_EQ(r.usage.input_tokens, 11);
}

TEST(BodyWindow, KeepsTheSameHeadAndTailAtEverySplit) {
  std::string body;
  for (int i = 0; body.size() < 3 * BodyWindow::kWindow; ++i) body += std::to_string(i) + ",";
  auto run = [&](size_t cut) {
    BodyWindow window(1000);
    window.append(std::string_view(body).substr(0, cut));
    window.append(std::string_view(body).substr(cut));
    EXPECT_FALSE(window.whole());
    return std::make_pair(std::string(window.head()), std::string(window.tail()));
  };
  const auto expected = std::make_pair(body.substr(0, BodyWindow::kWindow),
                                       body.substr(body.size() - BodyWindow::kWindow));
  for (size_t cut : {size_t{0}, size_t{1}, size_t{999}, size_t{1000}, size_t{1001},
                     BodyWindow::kWindow, 2 * BodyWindow::kWindow + 7, body.size()}) {
    const auto got = run(cut);
    EXPECT_TRUE(got.first == expected.first) << cut << " head of " << got.first.size();
    EXPECT_TRUE(got.second == expected.second) << cut << " tail of " << got.second.size();
  }
  BodyWindow bytewise(1000);
  for (char c : body) bytewise.append(std::string_view(&c, 1));
  EXPECT_TRUE(bytewise.head() == expected.first);
  EXPECT_TRUE(bytewise.tail() == expected.second);
}

TEST(BodyWindow, TakesOnlyWholeMembersOutsideStrings) {
  constexpr UsageMember kUsage[] = {{"usage"}};
  // Quoted inside a string, a member's quotes are escaped: never taken.
  EXPECT_EQ(BodyWindow::usageDocument("", R"({"t":"\"usage\":{\"a\":1}"})", kUsage), "");
  // A value cut by the window's end is not taken; an earlier whole one is.
  EXPECT_EQ(BodyWindow::usageDocument("", R"("usage":{"a":1},"usage":{"a":)", kUsage),
            R"({"usage":{"a":1}})");
  // Whitespace around the colon, as pretty printers write it.
  EXPECT_EQ(BodyWindow::usageDocument("", "\"usage\" :\n {\"a\":1}}", kUsage), R"({"usage" :)"
                                                                               "\n"
                                                                               R"( {"a":1}})");
  // Not in the tail: the first whole one in the head.
  EXPECT_EQ(BodyWindow::usageDocument(R"({"usage":{"a":2},"x":[)", "1,2]}", kUsage),
            R"({"usage":{"a":2}})");
  // After a key that ends in an escaped backslash, the member is still found.
  EXPECT_EQ(BodyWindow::usageDocument("", R"({"a\\":1,"usage":3})", kUsage), R"({"usage":3})");
}

}  // namespace
}  // namespace tollgate::meter
