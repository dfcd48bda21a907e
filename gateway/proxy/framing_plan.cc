#include "gateway/proxy/framing_plan.h"

#include "gateway/http/http_head.h"

namespace tollgate::gateway {

FramingPlan planResponseFraming(const ResponseShape& shape) {
  FramingPlan plan;
  bool keep_alive = shape.client_keep_alive;
  if (shape.has_body) {
    if (!shape.body_may_change && shape.content_length) {
      plan.body = BodyFraming::kContentLength;
    } else if (shape.client_version >= 11) {
      plan.body = BodyFraming::kChunked;
    } else {
      plan.body = BodyFraming::kUntilClose;
      keep_alive = false;  // HTTP/1.0: the end of the body is the end of the connection
    }
  } else {
    plan.content_length_zero = shape.status >= 200 && shape.status != 204 && shape.status != 304;
  }
  plan.keep_alive = keep_alive && !shape.draining;
  if (shape.client_version >= 11 && !plan.keep_alive) {
    plan.connection = FramingPlan::ConnectionField::kClose;
  } else if (shape.client_version == 10 && plan.keep_alive) {
    plan.connection = FramingPlan::ConnectionField::kKeepAlive;
  }
  return plan;
}

void appendFramingFields(const FramingPlan& plan, const ResponseShape& shape, std::string& head) {
  switch (plan.body) {
    case BodyFraming::kContentLength:
      appendContentLength(*shape.content_length, head);
      break;
    case BodyFraming::kChunked:
      appendField("Transfer-Encoding", "chunked", head);
      break;
    case BodyFraming::kNone:
      if (plan.content_length_zero) appendField("Content-Length", "0", head);
      break;
    case BodyFraming::kUntilClose:
      break;
  }
  switch (plan.connection) {
    case FramingPlan::ConnectionField::kClose:
      appendField("Connection", "close", head);
      break;
    case FramingPlan::ConnectionField::kKeepAlive:
      appendField("Connection", "keep-alive", head);
      break;
    case FramingPlan::ConnectionField::kNone:
      break;
  }
}

}  // namespace tollgate::gateway
