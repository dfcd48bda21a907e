#pragma once

#include <string>

#include "gateway/core/call_record.h"
#include "gateway/policy/call_policy.h"

namespace tollgate::gateway {

// Spend control's clamp (docs/budgets.md, clamp_max_tokens): writes the cap the policy chain set
// into the request body that goes upstream (its Content-Length follows the body) and records it
// on the call, for the hold's arithmetic and the cost event ("limit", "max_tokens_clamped").
// False, with nothing changed, when the body's cap cannot be rewritten (it holds an object or an
// array): the call must not go upstream with an output its hold does not cover. Pure.
bool clampOutputCap(const PolicyCall& policy, CallRecord& call, std::string& body);

}  // namespace tollgate::gateway
