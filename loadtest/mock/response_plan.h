#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "loadtest/mock/behaviour.h"
#include "loadtest/mock/call_log.h"
#include "loadtest/mock/request.h"

namespace tollgate::loadtest {

enum class EventKind {
  kPreamble,  // before the first content event (role chunk, message_start, ...)
  kContent,   // one content delta: what x-mock-cut-after / x-mock-error-mid-stream count
  kTail,      // after the content: finish, usage, terminator
};

// One stream event, fully framed for its wire format (SSE, NDJSON or JSON-array element), but
// without HTTP chunked framing. Each is sent with its own write.
struct StreamEvent {
  std::string bytes;
  EventKind kind = EventKind::kContent;
  bool carries_usage = false;  // the complete (final) usage is in this event
};

// Everything the mock will say for one request, decided before the first byte is written so
// that the network code only has to pace and cut it.
struct ResponsePlan {
  int status = 200;
  std::string content_type = "application/json";
  bool streaming = false;
  std::string body;                 // when !streaming
  bool body_carries_usage = false;  // when !streaming
  std::vector<StreamEvent> events;  // when streaming
  std::string error_event;          // replaces the events after the error point
  CanonicalUsage usage;             // what a correct meter books for the whole answer
  std::string response_model;
  std::string extra_fields;  // header lines ("Name: value\r\n") of a non-streamed answer
};

// The answer to `request` (status 200) under `behaviour`, which must have passed validate().
ResponsePlan planResponse(const MockRequest& request, const Behaviour& behaviour);

// An error answer in the API's own error shape (x-mock-status, bad requests).
ResponsePlan planError(Api api, int status, std::string_view message);

// 404 for paths the mock does not serve, in OpenAI's error shape.
ResponsePlan planNotFound(std::string_view method, std::string_view target);

// The text of completion tokens [from, to): 4 bytes per token ("xxx "), deterministic.
std::string completionWords(int64_t from, int64_t to);

}  // namespace tollgate::loadtest
