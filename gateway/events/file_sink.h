#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "config/config.h"
#include "gateway/events/event_sink.h"

namespace tollgate::gateway {

// JSON Lines file sink: one CloudEvents JSON object per line, appended by its own thread from a
// bounded queue. Events are serialized on the sink thread, off the request path. Under load the
// writer collects events for up to kLinger before one write, so a worker pays a short uncontended
// lock per event and no wake-up system call; an idle writer is woken by the first event.
class FileSink final : public EventSink {
 public:
  // Opens (creating parent directories) the file for appending; throws std::runtime_error with a
  // clear message at startup when it cannot.
  explicit FileSink(const config::FileSinkConfig& config);
  ~FileSink() override;

  bool tryEmit(meter::CostEvent&& event) override;
  bool ready() const override;
  uint64_t stop(std::chrono::milliseconds timeout) override;
  SinkStats stats() const override;

 private:
  void run();

  static constexpr size_t kBatch = 512;
  static constexpr std::chrono::milliseconds kLinger{2};

  const std::string path_;
  const size_t capacity_;
  int fd_ = -1;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::condition_variable drained_cv_;
  std::vector<meter::CostEvent> queue_;  // taken whole by the writer thread (swapped)
  bool stopping_ = false;
  bool sleeping_ = false;  // the writer waits for the first event: tryEmit must wake it
  bool writing_ = false;
  size_t in_flight_ = 0;  // events taken from the queue, being written

  std::atomic<uint64_t> accepted_{0};
  std::atomic<uint64_t> dropped_{0};
  std::atomic<uint64_t> delivered_{0};
  std::atomic<uint64_t> failed_{0};
  std::atomic<bool> healthy_{true};

  std::thread thread_;
};

}  // namespace tollgate::gateway
