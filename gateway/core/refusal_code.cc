#include "gateway/core/refusal_code.h"

namespace tollgate::gateway {

std::string_view toString(RefusalCode code) {
  switch (code) {
    case RefusalCode::kMissingApiKey:
      return "missing_api_key";
    case RefusalCode::kInvalidApiKey:
      return "invalid_api_key";
    case RefusalCode::kLabelConflict:
      return "label_conflict";
    case RefusalCode::kLabelNotAllowed:
      return "label_not_allowed";
    case RefusalCode::kModelNotAllowed:
      return "model_not_allowed";
    case RefusalCode::kMissingLabel:
      return "missing_label";
    case RefusalCode::kInvalidLabel:
      return "invalid_label";
    case RefusalCode::kTooManyTags:
      return "too_many_tags";
    case RefusalCode::kTagTooLong:
      return "tag_too_long";
    case RefusalCode::kInvalidTag:
      return "invalid_tag";
  }
  return "unknown";
}

}  // namespace tollgate::gateway
