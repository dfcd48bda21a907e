#pragma once

#include <memory>
#include <optional>
#include <string_view>

#include "meter/dialect.h"

namespace tollgate::meter {

// The OpenAI Responses API (POST /v1/responses), served by OpenAiDialect. Usage:
// input_tokens INCLUDES input_tokens_details.cached_tokens, output_tokens INCLUDES
// output_tokens_details.reasoning_tokens. A stream is named SSE events
// (event: response.output_text.delta ...) without [DONE]; the usage arrives only in the terminal
// event: response.completed, response.incomplete or response.failed (it is null in
// response.created). Usage is always reported, so answers are relayed unchanged.
std::optional<RequestError> inspectResponsesRequest(std::string_view body, RequestInfo& info);
std::unique_ptr<ResponseMeter> newResponsesMeter(const RequestInfo& info, int status,
                                                 std::string_view content_type);

}  // namespace tollgate::meter
