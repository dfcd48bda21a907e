#pragma once

#include <chrono>
#include <string>

#include "gateway/core/call_record.h"

namespace tollgate::gateway::testing {

// A finished, metered, streamed chat call through upstream "openai-main" (127.0.0.1:9100) and
// its cost event: 1000 input (200 cached), 50 output (10 reasoning), 12 ms in the gateway.
struct CallFixture {
  config::UpstreamConfig upstream;
  CallRecord call;
  meter::CostEvent event;

  CallFixture() {
    upstream.name = "openai-main";
    upstream.dialect = "openai";
    upstream.host = "127.0.0.1";
    upstream.port = 9100;

    using namespace std::chrono_literals;
    call.start = CallRecord::Clock::time_point(1000s);
    call.start_wall = std::chrono::system_clock::time_point(1'800'000'000s);
    call.upstream_start = call.start + 2ms;
    call.first_byte = call.start + 52ms;
    call.has_first_byte = true;
    call.upstream_end = call.start + 302ms;
    call.upstream = &upstream;
    call.info.model = "gpt-4o-mini";
    call.info.operation = "chat";
    call.info.stream = true;
    call.endpoint = "/v1/chat/completions";
    call.request_id = "req-1";
    call.trace_id = "4bf92f3577b34da6a3ce929d0e0e4736";
    call.parent_span_id = "00f067aa0ba902b7";
    call.tracestate = "vendor=1";
    call.span_id = "1111111111111111";
    call.upstream_span_id = "2222222222222222";
    call.status = 200;
    call.metered = true;
    call.result.response_model = "gpt-4o-mini-2024-07-18";
    call.result.response_id = "chatcmpl-abc";
    call.result.finish_reasons = {"stop"};
    call.result.usage_source = meter::UsageSource::kProvider;

    event.request_id = "req-1";
    event.trace_id = call.trace_id;
    event.endpoint = std::string(call.endpoint);
    event.attribution.team = "fraud-platform";
    event.attribution.project = "fraud-detector-v2";
    event.attribution.cost_center = "cc-42";
    event.attribution.workload_type = "batch";
    event.upstream = "openai-main";
    event.provider = "openai";
    event.operation = "chat";
    event.model = "gpt-4o-mini-2024-07-18";
    event.model_requested = "gpt-4o-mini";
    event.stream = true;
    event.status = 200;
    event.usage.input_tokens = 1000;
    event.usage.cache_read_tokens = 200;
    event.usage.output_tokens = 50;
    event.usage.reasoning_tokens = 10;
    event.usage_source = meter::UsageSource::kProvider;
    event.priced = true;
    event.cost.total = meter::Money::fromPico(165'000'000);  // 0.000165 USD
    event.start_unix_ns = 1'800'000'000'000'000'000;
    event.end_unix_ns = event.start_unix_ns + 314'000'000;
    event.ttft_ms = 52.0;
    event.overhead_us = 12'000;
  }
};

}  // namespace tollgate::gateway::testing
