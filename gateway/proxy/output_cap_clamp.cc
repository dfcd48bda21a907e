#include "gateway/proxy/output_cap_clamp.h"

#include "meter/output_cap_rewrite.h"

namespace tollgate::gateway {

bool clampOutputCap(const PolicyCall& policy, CallRecord& call, std::string& body) {
  if (!policy.max_output_tokens || call.dialect == nullptr) return false;
  auto rewritten = meter::rewriteOutputCap(call.dialect->name(), call.info.operation, body,
                                           *policy.max_output_tokens);
  if (!rewritten) return false;
  body = std::move(*rewritten);
  call.info.max_output_tokens = policy.max_output_tokens;
  call.max_tokens_clamped = policy.max_output_tokens;
  call.limit = policy.clamped_by;
  return true;
}

}  // namespace tollgate::gateway
