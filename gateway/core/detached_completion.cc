#include "gateway/core/detached_completion.h"

#include <spdlog/spdlog.h>

namespace tollgate::gateway {

std::atomic<uint64_t> DetachedCompletion::failures_{0};

void DetachedCompletion::operator()(std::exception_ptr failure) const {
  if (!failure) return;
  failures_.fetch_add(1, std::memory_order_relaxed);
  std::string reason = "unknown exception";
  try {
    std::rethrow_exception(failure);
  } catch (const std::exception& e) {
    reason = e.what();
  } catch (...) {
  }
  if (auto log = spdlog::get("gateway")) {
    log->error("coroutine {} ended by an exception: {}", what_, reason);
  }
}

}  // namespace tollgate::gateway
