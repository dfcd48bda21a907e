#include "gateway/proxy/stream_guard.h"

#include "meter/token_estimator.h"

namespace tollgate::gateway {

std::string_view StreamGuard::onChunk(std::string_view out, const meter::ResponseMeter& meter) {
  if (!call_.watches_output && !ending_.active()) return out;
  if (call_.watches_output && !cut_) {
    const meter::MeterProgress seen = meter.progress();
    cut_ = policies_.onOutput(call_,
                              meter::outputTokensSoFar(seen.provider_so_far, seen.output_bytes));
  }
  if (cut_ && !due_) {
    if (!ending_.active()) {
      due_ = true;  // no event to end with: the body stops here
    } else if (const auto boundary = ending_.boundaryIn(out)) {
      out = out.substr(0, *boundary);
      due_ = true;
    } else if (ending_.atBoundary()) {
      out = {};
      due_ = true;
    }
    // Otherwise this chunk carries the middle of an event: relay it and end after the next
    // boundary.
  }
  ending_.relayed(out);
  return out;
}

std::string StreamGuard::cutEnd(const meter::Dialect& dialect, const meter::MeterResult& answer,
                                int64_t created_unix_s) const {
  if (!cut_) return {};
  StreamEndNotice notice;
  notice.code = cut_->code;
  notice.message = cut_->message;
  notice.limit = cut_->limit_name;
  notice.response_id = answer.response_id;
  notice.model = answer.response_model;
  notice.created_unix_s = created_unix_s;
  return ending_.cutEnd(dialect, notice);
}

std::string StreamGuard::failureEnd(const meter::Dialect& dialect, const meter::MeterResult& answer,
                                    std::string_view upstream, bool timed_out) const {
  const std::string message =
      "The upstream '" + std::string(upstream) +
      (timed_out ? "' stopped answering in time" : "' failed during the answer") +
      "; the answer is incomplete.";
  StreamEndNotice notice;
  notice.code = timed_out ? "upstream_timeout" : "upstream_stream_error";
  notice.message = message;
  notice.response_id = answer.response_id;
  notice.model = answer.response_model;
  return ending_.failureEnd(dialect, notice);
}

}  // namespace tollgate::gateway
