// Usage extraction speed of every dialect on realistic streams, in bytes per second of upstream
// body. Each stream is what the provider sends for a ~2,000-token answer: a preamble, one event
// per 2-3 tokens of text, the usage. It is fed as a socket would deliver it (16 KiB reads) into a
// fresh meter, as the gateway does for each call.
//   bench_meter --benchmark_min_time=1
#include <benchmark/benchmark.h>

#include <algorithm>
#include <string>

#include "meter/anthropic_dialect.h"
#include "meter/gemini_dialect.h"
#include "meter/ollama_dialect.h"
#include "meter/openai_dialect.h"
#include "meter/sse_framer.h"

namespace {

using namespace tollgate::meter;

constexpr int kEvents = 800;
constexpr size_t kRead = 16 * 1024;
const std::string kText = "the quick fox ";  // one content event: about 3 tokens

std::string openAiChat(bool with_usage) {
  const std::string head =
      R"({"id":"chatcmpl-B9MBs8CjcvOU2jLn4n570S5qMJKcT","object":"chat.completion.chunk","created":1741569952,"model":"gpt-4o-mini-2024-07-18","service_tier":"default","system_fingerprint":"fp_06737a9306","choices":[)";
  const std::string tail = with_usage ? R"(],"usage":null})" : "]}";
  std::string s = "data: " + head +
                  R"({"index":0,"delta":{"role":"assistant","content":"","refusal":null},"logprobs":null,"finish_reason":null})" +
                  tail + "\n\n";
  for (int i = 0; i < kEvents; ++i) {
    s += "data: " + head + R"({"index":0,"delta":{"content":")" + kText +
         R"("},"logprobs":null,"finish_reason":null})" + tail + "\n\n";
  }
  s += "data: " + head + R"({"index":0,"delta":{},"logprobs":null,"finish_reason":"stop"})" + tail + "\n\n";
  if (with_usage) {
    s += "data: " + head +
         R"(],"usage":{"prompt_tokens":1200,"completion_tokens":2400,"total_tokens":3600,"prompt_tokens_details":{"cached_tokens":1024,"audio_tokens":0},"completion_tokens_details":{"reasoning_tokens":0,"audio_tokens":0,"accepted_prediction_tokens":0,"rejected_prediction_tokens":0}}})" +
         "\n\n";
  }
  return s + "data: [DONE]\n\n";
}

std::string anthropic() {
  std::string s =
      "event: message_start\ndata: "
      R"({"type":"message_start","message":{"id":"msg_01XFDUDYJgAACzvnptvVoYEL","type":"message","role":"assistant","model":"claude-sonnet-4-20250514","content":[],"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":1200,"cache_creation_input_tokens":0,"cache_read_input_tokens":1024,"output_tokens":1}}})"
      "\n\nevent: content_block_start\ndata: "
      R"({"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}})"
      "\n\nevent: ping\ndata: {\"type\": \"ping\"}\n\n";
  for (int i = 0; i < kEvents; ++i) {
    s += "event: content_block_delta\ndata: "
         R"({"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":")" +
         kText + "\"}}\n\n";
  }
  return s +
         "event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":0}\n\n"
         "event: message_delta\ndata: "
         R"({"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},"usage":{"output_tokens":2400}})"
         "\n\nevent: message_stop\ndata: {\"type\":\"message_stop\"}\n\n";
}

std::string geminiChunk(int i, bool last) {
  return R"({"candidates":[{"content":{"parts":[{"text":")" + (last ? std::string() : kText) +
         R"("}],"role":"model"})" + (last ? R"(,"finishReason":"STOP")" : "") +
         R"(,"index":0}],"usageMetadata":{"promptTokenCount":1200,"candidatesTokenCount":)" +
         std::to_string(std::min(3 * (i + 1), 2400)) + R"(,"totalTokenCount":)" +
         std::to_string(1200 + std::min(3 * (i + 1), 2400)) +
         R"(,"promptTokensDetails":[{"modality":"TEXT","tokenCount":1200}]},"modelVersion":"gemini-2.5-flash","responseId":"mEyZaKfXFqSG7dcPhOr8wQg"})";
}

std::string geminiSse() {
  std::string s;
  for (int i = 0; i <= kEvents; ++i) s += "data: " + geminiChunk(i, i == kEvents) + "\r\n\r\n";
  return s;
}

std::string geminiArray() {
  std::string s = "[";
  for (int i = 0; i <= kEvents; ++i) s += (i ? ",\r\n" : "") + geminiChunk(i, i == kEvents);
  return s + "]";
}

std::string ollama() {
  std::string s;
  for (int i = 0; i < kEvents; ++i) {
    s += R"({"model":"llama3.2","created_at":"2024-07-22T20:33:28.123648Z","message":{"role":"assistant","content":")" +
         kText + "\"},\"done\":false}\n";
  }
  return s +
         R"({"model":"llama3.2","created_at":"2024-07-22T20:33:28.123648Z","message":{"role":"assistant","content":""},"done_reason":"stop","done":true,"total_duration":4883583458,"load_duration":1334875,"prompt_eval_count":1200,"prompt_eval_duration":342546000,"eval_count":2400,"eval_duration":4535599000})"
         "\n";
}

std::string responses() {
  std::string s =
      "event: response.created\ndata: "
      R"({"type":"response.created","sequence_number":0,"response":{"id":"resp_1","object":"response","created_at":1741476777,"status":"in_progress","model":"gpt-4.1-2025-04-14","output":[],"usage":null}})"
      "\n\n";
  for (int i = 0; i < kEvents; ++i) {
    s += "event: response.output_text.delta\ndata: "
         R"({"type":"response.output_text.delta","sequence_number":)" + std::to_string(i + 1) +
         R"(,"item_id":"msg_67ccd3acc8d48190a77525dc6de64b4104becb25c45c1d41","output_index":0,"content_index":0,"delta":")" +
         kText + "\"}\n\n";
  }
  return s +
         "event: response.completed\ndata: "
         R"({"type":"response.completed","sequence_number":900,"response":{"id":"resp_1","object":"response","created_at":1741476777,"status":"completed","model":"gpt-4.1-2025-04-14","output":[],"usage":{"input_tokens":1200,"input_tokens_details":{"cached_tokens":1024},"output_tokens":2400,"output_tokens_details":{"reasoning_tokens":0},"total_tokens":3600}}})"
         "\n\n";
}

void meterStream(benchmark::State& state, const Dialect& dialect, RequestInfo info,
                 const std::string& stream, const char* content_type) {
  int64_t checksum = 0;
  for (auto _ : state) {
    auto meter = dialect.newResponseMeter(info, 200, content_type);
    for (size_t at = 0; at < stream.size(); at += kRead) {
      benchmark::DoNotOptimize(meter->onBody(std::string_view(stream).substr(at, kRead)));
    }
    meter->onEnd(true);
    checksum += meter->result().usage.output_tokens;
  }
  if (checksum != static_cast<int64_t>(state.iterations()) * 2400) {
    state.SkipWithError("the usage was not extracted");
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * stream.size()));
}

RequestInfo streamInfo(std::string operation, bool gateway_asked = false) {
  RequestInfo info;
  info.operation = std::move(operation);
  info.stream = true;
  info.client_asked_usage = !gateway_asked;
  info.gateway_asked_usage = gateway_asked;
  return info;
}

const OpenAiDialect kOpenAi;
const AnthropicDialect kAnthropic;
const GeminiDialect kGemini;
const OllamaDialect kOllama;

void BM_OpenAiChatSse(benchmark::State& state) {
  static const std::string s = openAiChat(true);
  meterStream(state, kOpenAi, streamInfo("chat"), s, "text/event-stream");
}
void BM_OpenAiChatSseHidingUsage(benchmark::State& state) {
  static const std::string s = openAiChat(true);
  meterStream(state, kOpenAi, streamInfo("chat", true), s, "text/event-stream");
}
void BM_OpenAiResponsesSse(benchmark::State& state) {
  static const std::string s = responses();
  meterStream(state, kOpenAi, streamInfo("responses"), s, "text/event-stream");
}
void BM_AnthropicSse(benchmark::State& state) {
  static const std::string s = anthropic();
  meterStream(state, kAnthropic, streamInfo("chat"), s, "text/event-stream");
}
void BM_GeminiSse(benchmark::State& state) {
  static const std::string s = geminiSse();
  meterStream(state, kGemini, streamInfo("generate_content"), s, "text/event-stream");
}
void BM_GeminiJsonArray(benchmark::State& state) {
  static const std::string s = geminiArray();
  meterStream(state, kGemini, streamInfo("generate_content"), s, "application/json");
}
void BM_OllamaNdjson(benchmark::State& state) {
  static const std::string s = ollama();
  meterStream(state, kOllama, streamInfo("chat"), s, "application/x-ndjson");
}
void BM_SseFramingOnly(benchmark::State& state) {
  static const std::string s = anthropic();
  size_t events = 0;
  for (auto _ : state) {
    SseFramer framer;
    for (size_t at = 0; at < s.size(); at += kRead) {
      framer.feed(std::string_view(s).substr(at, kRead), [&](const SseEvent&) { ++events; });
    }
  }
  benchmark::DoNotOptimize(events);
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * s.size()));
}

BENCHMARK(BM_OpenAiChatSse);
BENCHMARK(BM_OpenAiChatSseHidingUsage);
BENCHMARK(BM_OpenAiResponsesSse);
BENCHMARK(BM_AnthropicSse);
BENCHMARK(BM_GeminiSse);
BENCHMARK(BM_GeminiJsonArray);
BENCHMARK(BM_OllamaNdjson);
BENCHMARK(BM_SseFramingOnly);

}  // namespace

BENCHMARK_MAIN();
