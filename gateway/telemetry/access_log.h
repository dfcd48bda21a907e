#pragma once

#include <memory>
#include <string>

#include "config/config.h"
#include "gateway/core/call_record.h"

namespace spdlog {
class logger;
namespace details {
class thread_pool;
}
}  // namespace spdlog

namespace tollgate::gateway {

// One line per finished call (JSON object or key=value pairs), written by spdlog's own thread:
// a worker only formats the line and queues it. When the queue is full the oldest line is
// discarded and counted, so a slow disk never slows a call.
class AccessLog : public CallObserver {
 public:
  static constexpr size_t kQueueLines = 8192;

  // Throws std::runtime_error naming the path when the file cannot be opened.
  explicit AccessLog(const config::AccessLogConfig& config);
  ~AccessLog() override;

  void onCallFinished(const CallRecord& call, const meter::CostEvent& event) override;
  void flush();
  uint64_t dropped() const;

  static void formatJson(const CallRecord& call, const meter::CostEvent& event, std::string& out);
  static void formatKeyValue(const CallRecord& call, const meter::CostEvent& event,
                             std::string& out);

 private:
  bool json_;
  std::shared_ptr<spdlog::details::thread_pool> pool_;
  std::shared_ptr<spdlog::logger> logger_;
};

}  // namespace tollgate::gateway
