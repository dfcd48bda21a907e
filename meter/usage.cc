#include "meter/usage.h"

namespace tollgate::meter {

std::string_view toString(UsageSource source) {
  switch (source) {
    case UsageSource::kProvider: return "provider";
    case UsageSource::kEstimated: return "estimated";
    case UsageSource::kNone: break;
  }
  return "none";
}

}  // namespace tollgate::meter
