#pragma once

#include <string>

#include "gateway/core/call_record.h"
#include "gateway/events/open_call_tracker.h"
#include "meter/dialect.h"

namespace tollgate::gateway {

// A session's call as the open-call tracker reads it: the CallRecord for who pays and what was
// asked, the response meter (while the answer is relayed) for what was relayed so far. Lives
// beside the CallRecord in the session, for the call's whole life.
class CallRecordOpenCall final : public OpenCallTracker::Call {
 public:
  CallRecordOpenCall(const CallRecord& call, const std::string& event_source)
      : call_(call), source_(event_source) {}

  // The meter relaying the answer. forgetMeter() before it dies: what it said last is kept
  // when `journaled` (a call between its relay and its event is described as it ended); a call
  // not journaled yet skips that copy, which every short call would pay for nothing.
  void setMeter(const meter::ResponseMeter* meter) { meter_ = meter; }
  void forgetMeter(bool journaled) {
    if (meter_ != nullptr && journaled) remember();
    meter_ = nullptr;
  }

  void describe(OpenCallEntry& entry) const override;

 private:
  const CallRecord& call_;
  const std::string& source_;
  void remember() const;

  const meter::ResponseMeter* meter_ = nullptr;
  // The meter's last word, read at each describe() while it exists.
  mutable meter::MeterProgress progress_;
  mutable std::string model_;
  mutable std::string service_tier_;
};

}  // namespace tollgate::gateway
