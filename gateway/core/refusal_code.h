#pragma once

#include <cstddef>
#include <string_view>

namespace tollgate::gateway {

// Why the admission controller refused a call. Each has a stable code, sent to the client in
// its dialect's error shape and counted in tollgate_admission_refusals_total{code}.
enum class RefusalCode {
  kMissingApiKey,    // 401: keys are configured and the call carries none
  kInvalidApiKey,    // 401: the key presented is not a gateway key
  kLabelConflict,    // 403: a header contradicts what the key fixes (team, cost center, ...)
  kLabelNotAllowed,  // 403: a project outside the key's projects
  kModelNotAllowed,  // 403: a model outside the key's allow-list
  kMissingLabel,     // 400 (enforce): a required label is missing
  kInvalidLabel,     // 400 (enforce): a label value is malformed or not in its fixed set
  kTooManyTags,      // 400 (enforce): more x-tags pairs than attribution.tags.max_count
  kTagTooLong,       // 400 (enforce): a tag key or value over its byte limit
  kInvalidTag,       // 400 (enforce): a pair that is not k=v, bad characters, a repeated key
};
inline constexpr size_t kRefusalCodes = 10;
std::string_view toString(RefusalCode code);

}  // namespace tollgate::gateway
