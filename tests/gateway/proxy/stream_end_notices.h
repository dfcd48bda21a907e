#pragma once

#include <string_view>

#include "gateway/proxy/stream_ending.h"

namespace tollgate::gateway::testing {

// The two reasons the gateway ends a stream itself, as the stream-ending tests use them.
inline StreamEndNotice budgetCut() {
  StreamEndNotice notice;
  notice.code = "budget_exceeded";
  notice.message = "The gateway ended this stream: the budget team ran out.";
  notice.limit = "team";
  notice.response_id = "resp_1";
  notice.model = "m-1";
  notice.created_unix_s = 1700000000;
  notice.input_tokens = 12;
  notice.output_tokens = 30;
  return notice;
}

inline StreamEndNotice upstreamFailure(std::string_view code = "upstream_stream_error") {
  StreamEndNotice notice;
  notice.code = code;
  notice.message = "The upstream 'u' failed during the answer; the answer is incomplete.";
  return notice;
}

}  // namespace tollgate::gateway::testing
