#include "meter/token_estimator.h"

#include <algorithm>

namespace tollgate::meter {

Usage estimateUnfinishedUsage(const Usage& provider_so_far, bool input_known,
                              int64_t request_estimate, int64_t relayed_output_bytes) {
  Usage usage;
  if (input_known) {
    usage.input_tokens = provider_so_far.input_tokens;
    usage.cache_read_tokens = provider_so_far.cache_read_tokens;
    usage.cache_write_tokens = provider_so_far.cache_write_tokens;
    usage.cache_write_1h_tokens = provider_so_far.cache_write_1h_tokens;
  } else {
    usage.input_tokens = std::max<int64_t>(request_estimate, 0);
  }
  usage.reasoning_tokens = std::max<int64_t>(provider_so_far.reasoning_tokens, 0);
  usage.output_tokens = std::max({TokenEstimator::tokensForBytes(relayed_output_bytes),
                                  provider_so_far.output_tokens, usage.reasoning_tokens});
  return usage;
}

}  // namespace tollgate::meter
