#pragma once

#include <string_view>

#include "gateway/core/call_record.h"
#include "meter/cost_event.h"
#include "meter/coster.h"

namespace tollgate::gateway {

// Turns a finished call into its cost event: ids, attribution, what was asked and answered,
// usage as metered, money from the coster, times. Pure (the end time is handed in), so each
// outcome's event has a unit test. Moves the call's attribution into the event and fills the
// call's error_type when the answer or the status says what failed.
meter::CostEvent accountCall(CallRecord& call, std::string_view event_source,
                             CallRecord::Clock::time_point end, const meter::Coster& coster);

}  // namespace tollgate::gateway
