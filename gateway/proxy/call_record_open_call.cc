#include "gateway/proxy/call_record_open_call.h"

#include <chrono>

namespace tollgate::gateway {

void CallRecordOpenCall::describe(OpenCallEntry& entry) const {
  const CallRecord& c = call_;
  entry.id = c.request_id.view();
  entry.source = source_;
  entry.request_id = c.request_id.view();
  entry.trace_id = c.trace_id.view();
  entry.attribution = c.attribution;
  if (c.upstream != nullptr) {
    entry.upstream = c.upstream->name;
    entry.provider = c.upstream->dialect;
  }
  entry.operation = c.info.operation;
  entry.endpoint = std::string(c.endpoint);
  entry.model_requested = c.info.model;
  entry.request_service_tier = c.info.service_tier;
  entry.stream = c.info.stream;
  entry.start_unix_ns =
      std::chrono::duration_cast<std::chrono::nanoseconds>(c.start_wall.time_since_epoch()).count();
  entry.input_estimate = c.info.estimated_input_tokens;
  entry.status = c.status;
  if (c.has_first_byte) {
    entry.ttft_ms = std::chrono::duration<double, std::milli>(c.first_byte - c.start).count();
  }
  if (meter_ != nullptr) remember();
  entry.provider_so_far = progress_.provider_so_far;
  entry.input_known = progress_.input_known;
  entry.output_bytes = progress_.output_bytes;
  entry.model = model_;
  entry.answer_service_tier = service_tier_;
}

void CallRecordOpenCall::remember() const {
  progress_ = meter_->progress();
  // The answer's model and tier, when it named them already: a copy of the result once per
  // refresh of a long call.
  const auto result = meter_->result();
  model_ = result.response_model;
  service_tier_ = result.service_tier;
}

}  // namespace tollgate::gateway
