// Usage extraction speed of every dialect on realistic streams, in bytes per second of upstream
// body. Each stream is what the provider sends for a ~2,000-token answer: a preamble, one event
// per 2-3 tokens of text, the usage. It is fed as a socket would deliver it (16 KiB reads) into a
// fresh meter, as the gateway does for each call.
// BM_Call* is the whole meter-side work of one non-streamed call, in the order the gateway does
// it (request inspection to the serialized cost event), with the heap allocations it makes.
//   bench_meter --benchmark_min_time=1
#include <benchmark/benchmark.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <new>
#include <string>

#include "meter/anthropic_dialect.h"
#include "meter/azure_openai_dialect.h"
#include "meter/bedrock_dialect.h"
#include "meter/cost_event.h"
#include "meter/crc32.h"
#include "meter/gemini_dialect.h"
#include "meter/ollama_dialect.h"
#include "meter/openai_dialect.h"
#include "meter/price_book.h"
#include "meter/sse_framer.h"

// Every heap allocation of the process is counted: BM_Call* report theirs per call.
namespace {
std::atomic<int64_t> g_allocations{0};
}  // namespace

// GCC pairs the inlined free() below with the operator new it cannot see through.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif
void* operator new(size_t size) {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, size_t) noexcept { std::free(p); }

namespace {

using namespace tollgate::meter;

constexpr int kEvents = 800;
constexpr size_t kRead = 16 * 1024;
const std::string kText = "the quick fox ";  // one content event: about 3 tokens

std::string openAiChat(bool with_usage) {
  const std::string head =
      R"({"id":"chatcmpl-B9MBs8CjcvOU2jLn4n570S5qMJKcT","object":"chat.completion.chunk","created":1741569952,"model":"gpt-4o-mini-2024-07-18","service_tier":"default","system_fingerprint":"fp_06737a9306","choices":[)";
  const std::string tail = with_usage ? R"(],"usage":null})" : "]}";
  std::string s =
      "data: " + head +
      R"({"index":0,"delta":{"role":"assistant","content":"","refusal":null},"logprobs":null,"finish_reason":null})" +
      tail + "\n\n";
  for (int i = 0; i < kEvents; ++i) {
    s += "data: " + head + R"({"index":0,"delta":{"content":")" + kText +
         R"("},"logprobs":null,"finish_reason":null})" + tail + "\n\n";
  }
  s += "data: " + head + R"({"index":0,"delta":{},"logprobs":null,"finish_reason":"stop"})" + tail +
       "\n\n";
  if (with_usage) {
    s +=
        "data: " + head +
        R"(],"usage":{"prompt_tokens":1200,"completion_tokens":2400,"total_tokens":3600,"prompt_tokens_details":{"cached_tokens":1024,"audio_tokens":0},"completion_tokens_details":{"reasoning_tokens":0,"audio_tokens":0,"accepted_prediction_tokens":0,"rejected_prediction_tokens":0}}})" +
        "\n\n";
  }
  return s + "data: [DONE]\n\n";
}

// Azure OpenAI's chat stream: OpenAI's chunks in Azure's member order, with its content-filter
// additions (the prompt-filter chunk first, a verdict on every content chunk, a late verdict
// chunk), which make each event about three times OpenAI's size.
std::string azureChat() {
  const std::string filters =
      R"({"hate":{"filtered":false,"severity":"safe"},"self_harm":{"filtered":false,"severity":"safe"},"sexual":{"filtered":false,"severity":"safe"},"violence":{"filtered":false,"severity":"safe"}})";
  const std::string tail =
      R"(],"created":1764931200,"id":"chatcmpl-AzUr3f0bXk2","model":"gpt-4o-2024-11-20","object":"chat.completion.chunk","system_fingerprint":"fp_ee1d74bde0","usage":null})";
  std::string s =
      R"(data: {"choices":[],"created":0,"id":"","model":"","object":"","prompt_filter_results":[{"prompt_index":0,"content_filter_results":)" +
      filters + "}]}\n\n";
  s +=
      R"(data: {"choices":[{"content_filter_results":{},"delta":{"content":"","refusal":null,"role":"assistant"},"finish_reason":null,"index":0,"logprobs":null})" +
      tail + "\n\n";
  for (int i = 0; i < kEvents; ++i) {
    s += R"(data: {"choices":[{"content_filter_results":)" + filters + R"(,"delta":{"content":")" +
         kText + R"("},"finish_reason":null,"index":0,"logprobs":null})" + tail + "\n\n";
  }
  s +=
      R"(data: {"choices":[{"content_filter_results":{},"delta":{},"finish_reason":"stop","index":0,"logprobs":null})" +
      tail + "\n\n";
  s +=
      R"(data: {"choices":[{"content_filter_offsets":{"check_offset":0,"start_offset":0,"end_offset":11200},"content_filter_results":)" +
      filters +
      R"(,"finish_reason":null,"index":0}],"created":0,"id":"","model":"","object":"","usage":null})" +
      "\n\n";
  s +=
      R"(data: {"choices":[],"created":1764931200,"id":"chatcmpl-AzUr3f0bXk2","model":"gpt-4o-2024-11-20","object":"chat.completion.chunk","system_fingerprint":"fp_ee1d74bde0","usage":{"completion_tokens":2400,"completion_tokens_details":{"accepted_prediction_tokens":0,"audio_tokens":0,"reasoning_tokens":0,"rejected_prediction_tokens":0},"prompt_tokens":1200,"prompt_tokens_details":{"audio_tokens":0,"cached_tokens":1024},"total_tokens":3600}})"
      "\n\n";
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
    s +=
        R"({"model":"llama3.2","created_at":"2024-07-22T20:33:28.123648Z","message":{"role":"assistant","content":")" +
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
    s +=
        "event: response.output_text.delta\ndata: "
        R"({"type":"response.output_text.delta","sequence_number":)" +
        std::to_string(i + 1) +
        R"(,"item_id":"msg_67ccd3acc8d48190a77525dc6de64b4104becb25c45c1d41","output_index":0,"content_index":0,"delta":")" +
        kText + "\"}\n\n";
  }
  return s +
         "event: response.completed\ndata: "
         R"({"type":"response.completed","sequence_number":900,"response":{"id":"resp_1","object":"response","created_at":1741476777,"status":"completed","model":"gpt-4.1-2025-04-14","output":[],"usage":{"input_tokens":1200,"input_tokens_details":{"cached_tokens":1024},"output_tokens":2400,"output_tokens_details":{"reasoning_tokens":0},"total_tokens":3600}}})"
         "\n\n";
}

// One AWS event-stream message with Bedrock's three string headers (aws_event_stream_framer.h).
std::string awsEvent(std::string_view event_type, std::string_view payload) {
  auto be32 = [](uint32_t v) {
    return std::string{static_cast<char>(v >> 24), static_cast<char>(v >> 16),
                       static_cast<char>(v >> 8), static_cast<char>(v)};
  };
  std::string headers;
  for (auto [name, value] :
       {std::pair<std::string_view, std::string_view>{":event-type", event_type},
        {":content-type", "application/json"},
        {":message-type", "event"}}) {
    headers.push_back(static_cast<char>(name.size()));
    headers.append(name);
    headers.push_back(7);
    headers.push_back(static_cast<char>(value.size() >> 8));
    headers.push_back(static_cast<char>(value.size() & 0xFF));
    headers.append(value);
  }
  std::string m = be32(static_cast<uint32_t>(16 + headers.size() + payload.size())) +
                  be32(static_cast<uint32_t>(headers.size()));
  m += be32(crc32(0, m));
  m += headers;
  m += payload;
  return m + be32(crc32(0, m));
}

// ConverseStream as Bedrock sends it: messageStart, one contentBlockDelta per 2-3 tokens (with
// Bedrock's "p" padding member), contentBlockStop, messageStop, metadata with the usage.
std::string bedrockConverseStream() {
  std::string s = awsEvent(
      "messageStart",
      R"({"p":"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0","role":"assistant"})");
  for (int i = 0; i < kEvents; ++i) {
    s += awsEvent("contentBlockDelta", R"({"contentBlockIndex":0,"delta":{"text":")" + kText +
                                           R"("},"p":"abcdefghijklm"})");
  }
  s += awsEvent("contentBlockStop", R"({"contentBlockIndex":0,"p":"abcdefghijklmnopqrstu"})");
  s += awsEvent("messageStop", R"({"p":"abcdefghijk","stopReason":"end_turn"})");
  return s +
         awsEvent(
             "metadata",
             R"({"metrics":{"latencyMs":4120},"p":"abcdefghijklmnopqrstuvwxy","usage":{"cacheReadInputTokens":1024,"cacheWriteInputTokens":0,"inputTokens":176,"outputTokens":2400,"totalTokens":3600}})");
}

// A whole Converse answer of ~2,400 tokens.
std::string bedrockConverse() {
  std::string text;
  for (int i = 0; i < kEvents; ++i) text += kText;
  return R"({"metrics":{"latencyMs":4120},"output":{"message":{"content":[{"text":")" + text +
         R"("}],"role":"assistant"}},"stopReason":"end_turn","usage":{"cacheReadInputTokens":1024,"cacheWriteInputTokens":0,"inputTokens":176,"outputTokens":2400,"totalTokens":3600}})";
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
const BedrockDialect kBedrock;
const AzureOpenAiDialect kAzureOpenAi;

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
void BM_BedrockConverseStream(benchmark::State& state) {
  static const std::string s = bedrockConverseStream();
  meterStream(state, kBedrock, streamInfo("chat"), s, "application/vnd.amazon.eventstream");
}

void BM_AzureOpenAiChatSse(benchmark::State& state) {
  static const std::string s = azureChat();
  meterStream(state, kAzureOpenAi, streamInfo("chat"), s, "text/event-stream");
}
void BM_AzureOpenAiChatSseHidingUsage(benchmark::State& state) {
  static const std::string s = azureChat();
  meterStream(state, kAzureOpenAi, streamInfo("chat", true), s, "text/event-stream");
}

void BM_BedrockConverseBody(benchmark::State& state) {
  static const std::string s = bedrockConverse();
  RequestInfo info = streamInfo("chat");
  info.stream = false;
  meterStream(state, kBedrock, info, s, "application/json");
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

// ---- One non-streamed call, end to end ---------------------------------------------------------

// The words of loadtest/mock: 4 bytes per completion token.
std::string mockWords(int tokens) {
  static constexpr const char* kWords[] = {"the ", "fox ", "ran ", "far ", "and ", "sky ",
                                           "was ", "red ", "sun ", "set ", "low ", "now "};
  std::string s;
  for (int i = 0; i < tokens; ++i) s += kWords[i % 12];
  return s;
}

// Byte for byte what loadtest/mock_upstream answers to loadtest/wrk/chat.lua (1,500 prompt and
// 400 completion tokens), and the Anthropic counterpart.
const std::string kOpenAiRequest =
    R"({"model":"gpt-4o-mini","messages":[{"role":"system","content":"You are a helpful assistant."},{"role":"user","content":"Summarise the quarterly report in three bullet points."}]})";
const std::string kOpenAiAnswer =
    R"({"id":"chatcmpl-mock-0","object":"chat.completion","created":1700000000,"model":"gpt-4o-mini","choices":[{"index":0,"message":{"role":"assistant","content":")" +
    mockWords(400) +
    R"(","refusal":null,"annotations":[]},"logprobs":null,"finish_reason":"stop"}],"usage":{"prompt_tokens":1500,"completion_tokens":400,"total_tokens":1900,"prompt_tokens_details":{"cached_tokens":0,"audio_tokens":0},"completion_tokens_details":{"reasoning_tokens":0,"audio_tokens":0,"accepted_prediction_tokens":0,"rejected_prediction_tokens":0}},"service_tier":"default","system_fingerprint":"fp_mock"})";
const std::string kAnthropicRequest =
    R"({"model":"claude-sonnet-4-20250514","max_tokens":1024,"system":"You are a helpful assistant.","messages":[{"role":"user","content":"Summarise the quarterly report in three bullet points."}]})";
const std::string kAnthropicAnswer =
    R"({"id":"msg_mock_0","type":"message","role":"assistant","model":"claude-sonnet-4-20250514","content":[{"type":"text","text":")" +
    mockWords(400) +
    R"("}],"stop_reason":"end_turn","stop_sequence":null,"usage":{"input_tokens":1500,"cache_creation_input_tokens":0,"cache_read_input_tokens":0,"cache_creation":{"ephemeral_5m_input_tokens":0,"ephemeral_1h_input_tokens":0},"output_tokens":400,"service_tier":"standard"}})";

// The bench configuration's price (loadtest/lib.sh) ahead of a catalog of the usual models.
PriceBook benchPrices() {
  auto entry = [](std::string pattern, const char* input, const char* cache_read,
                  const char* cache_write, const char* output) {
    PriceEntry e;
    e.pattern = std::move(pattern);
    e.price.input = *parsePerMillionPrice(input);
    e.price.cache_read = *parsePerMillionPrice(cache_read);
    e.price.cache_write = e.price.cache_write_1h = *parsePerMillionPrice(cache_write);
    e.price.output = e.price.reasoning = *parsePerMillionPrice(output);
    e.catalog = "tollgate-default-2026-12-05";
    return e;
  };
  std::vector<PriceEntry> config = {entry("gpt-4o-mini*", "0.15", "0.075", "0.15", "0.60")};
  config[0].catalog.clear();
  std::vector<PriceEntry> catalog = {entry("gpt-4o-mini", "0.15", "0.075", "0.15", "0.60"),
                                     entry("gpt-4o", "2.50", "1.25", "2.50", "10.00"),
                                     entry("gpt-4.1-mini*", "0.40", "0.10", "0.40", "1.60"),
                                     entry("gpt-4.1", "2.00", "0.50", "2.00", "8.00"),
                                     entry("o3", "2.00", "0.50", "2.00", "8.00"),
                                     entry("o4-mini*", "1.10", "0.275", "1.10", "4.40"),
                                     entry("gpt-5", "1.25", "0.125", "1.25", "10.00"),
                                     entry("claude-sonnet-4*", "3.00", "0.30", "3.75", "15.00"),
                                     entry("claude-haiku-4-5*", "1.00", "0.10", "1.25", "5.00")};
  return PriceBook("config", std::move(config), std::move(catalog));
}

Attribution benchAttribution() {
  Attribution who;
  who.team = "bench";
  who.project = "loadtest";
  return who;
}

// The gateway's per-call facts (gateway/downstream_session.cc, finishCall).
struct CallFacts {
  std::string source = "tollgate://bench";
  std::string request_id = "5f0c3a9e1b7d42c68e0f9a1b2c3d4e5f";
  std::string trace_id = "4bf92f3577b34da6a3ce929d0e0e4736";
  Attribution who = benchAttribution();
  static constexpr int64_t kStart = 1'795'000'000'123'456'789;
};

// The cost event as finishCall builds it for a complete 200 answer.
CostEvent finishEvent(const CallFacts& call, const RequestInfo& info, const MeterResult& result,
                      const PriceBook& prices, std::string_view path, const char* upstream,
                      const char* provider) {
  CostEvent event;
  event.id = call.request_id;
  event.source = call.source;
  event.request_id = call.request_id;
  event.trace_id = call.trace_id;
  event.attribution = call.who;
  event.operation = info.operation;
  event.endpoint = path;
  event.model_requested = info.model;
  event.stream = info.stream;
  event.status = 200;
  event.outcome = Outcome::kOk;
  event.upstream = upstream;
  event.provider = provider;
  event.model = result.response_model.empty() ? info.model : result.response_model;
  event.usage = result.usage;
  event.usage_source = result.usage_source;
  const std::string& variant =
      result.service_tier.empty() ? info.service_tier : result.service_tier;
  const PriceEntry* entry = prices.find(event.model, variant, CallFacts::kStart);
  if (entry == nullptr) entry = prices.find(event.model_requested, variant, CallFacts::kStart);
  if (entry != nullptr) {
    event.priced = true;
    event.price_ref = prices.priceRef(*entry);
    event.cost = computeCost(*entry, event.usage);
  }
  event.start_unix_ns = CallFacts::kStart;
  event.end_unix_ns = CallFacts::kStart + 2'345'678;
  event.ttft_ms = 1.875;
  event.overhead_us = 31;
  return event;
}

// What the gateway does for one call with metering on (gateway/downstream_session.cc: inspect,
// rewrite, meter the answer, finishCall; the sink's appendCloudEventJson), into a reused buffer
// as the file sink does.
void meterCall(benchmark::State& state, const Dialect& dialect, std::string_view path,
               const std::string& request, const std::string& answer, const char* upstream,
               const char* provider) {
  const PriceBook prices = benchPrices();
  const CallFacts call;
  std::string out;
  int64_t checksum = 0;
  const int64_t allocations_before = g_allocations.load(std::memory_order_relaxed);
  for (auto _ : state) {
    RequestInfo info;
    if (dialect.inspectRequest(path, request, info)) {
      state.SkipWithError("the request was refused");
      break;
    }
    benchmark::DoNotOptimize(dialect.rewriteRequest(request, info));
    auto meter = dialect.newResponseMeter(info, 200, "application/json");
    benchmark::DoNotOptimize(meter->onBody(answer));
    benchmark::DoNotOptimize(meter->onEnd(true));
    const MeterResult result = meter->result();
    const CostEvent event = finishEvent(call, info, result, prices, path, upstream, provider);
    out.clear();
    appendCloudEventJson(event, out);
    out.push_back('\n');
    checksum += event.usage.output_tokens + (event.priced ? 1 : 0);
  }
  const int64_t allocations = g_allocations.load(std::memory_order_relaxed) - allocations_before;
  if (checksum != static_cast<int64_t>(state.iterations()) * 401) {
    state.SkipWithError("the call was not metered and priced");
  }
  state.counters["allocs_per_call"] =
      benchmark::Counter(static_cast<double>(allocations), benchmark::Counter::kAvgIterations);
  state.counters["event_bytes"] = static_cast<double>(out.size());
}

// The answer's share alone: a fresh meter reads the whole body.
void meterBody(benchmark::State& state, const Dialect& dialect, std::string_view path,
               const std::string& request, const std::string& answer) {
  RequestInfo info;
  if (dialect.inspectRequest(path, request, info)) state.SkipWithError("the request was refused");
  int64_t checksum = 0;
  const int64_t allocations_before = g_allocations.load(std::memory_order_relaxed);
  for (auto _ : state) {
    auto meter = dialect.newResponseMeter(info, 200, "application/json");
    benchmark::DoNotOptimize(meter->onBody(answer));
    benchmark::DoNotOptimize(meter->onEnd(true));
    checksum += meter->result().usage.output_tokens;
  }
  const int64_t allocations = g_allocations.load(std::memory_order_relaxed) - allocations_before;
  if (checksum != static_cast<int64_t>(state.iterations()) * 400) {
    state.SkipWithError("the usage was not extracted");
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * answer.size()));
  state.counters["allocs_per_call"] =
      benchmark::Counter(static_cast<double>(allocations), benchmark::Counter::kAvgIterations);
}

void BM_BodyOpenAiChatJson(benchmark::State& state) {
  meterBody(state, kOpenAi, "/v1/chat/completions", kOpenAiRequest, kOpenAiAnswer);
}
void BM_BodyAnthropicJson(benchmark::State& state) {
  meterBody(state, kAnthropic, "/v1/messages", kAnthropicRequest, kAnthropicAnswer);
}

// The sink's share alone: one event serialized into a reused buffer.
void BM_CostEventJson(benchmark::State& state) {
  const PriceBook prices = benchPrices();
  RequestInfo info;
  info.model = "gpt-4o-mini";
  info.operation = "chat";
  MeterResult result;
  result.usage = Usage{.input_tokens = 1500, .output_tokens = 400};
  result.usage_source = UsageSource::kProvider;
  result.response_model = "gpt-4o-mini";
  const CostEvent event =
      finishEvent(CallFacts{}, info, result, prices, "/v1/chat/completions", "mock", "openai");
  std::string out;
  const int64_t allocations_before = g_allocations.load(std::memory_order_relaxed);
  for (auto _ : state) {
    out.clear();
    appendCloudEventJson(event, out);
    benchmark::DoNotOptimize(out.data());
  }
  const int64_t allocations = g_allocations.load(std::memory_order_relaxed) - allocations_before;
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * out.size()));
  state.counters["allocs_per_call"] =
      benchmark::Counter(static_cast<double>(allocations), benchmark::Counter::kAvgIterations);
}

void BM_CallOpenAiChatJson(benchmark::State& state) {
  meterCall(state, kOpenAi, "/v1/chat/completions", kOpenAiRequest, kOpenAiAnswer, "mock",
            "openai");
}
void BM_CallAnthropicJson(benchmark::State& state) {
  meterCall(state, kAnthropic, "/v1/messages", kAnthropicRequest, kAnthropicAnswer, "mock",
            "anthropic");
}

BENCHMARK(BM_CallOpenAiChatJson);
BENCHMARK(BM_CallAnthropicJson);
BENCHMARK(BM_BodyOpenAiChatJson);
BENCHMARK(BM_BodyAnthropicJson);
BENCHMARK(BM_CostEventJson);
BENCHMARK(BM_OpenAiChatSse);
BENCHMARK(BM_OpenAiChatSseHidingUsage);
BENCHMARK(BM_OpenAiResponsesSse);
BENCHMARK(BM_AnthropicSse);
BENCHMARK(BM_GeminiSse);
BENCHMARK(BM_GeminiJsonArray);
BENCHMARK(BM_OllamaNdjson);
BENCHMARK(BM_AzureOpenAiChatSse);
BENCHMARK(BM_AzureOpenAiChatSseHidingUsage);
BENCHMARK(BM_BedrockConverseStream);
BENCHMARK(BM_BedrockConverseBody);
BENCHMARK(BM_SseFramingOnly);

}  // namespace

BENCHMARK_MAIN();
