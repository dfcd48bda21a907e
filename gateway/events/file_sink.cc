#include "gateway/events/file_sink.h"

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <stdexcept>
#include <vector>

#include "gateway/core/thread_name.h"

namespace tollgate::gateway {

FileSink::FileSink(const config::FileSinkConfig& config)
    : path_(config.path), capacity_(config.queue_capacity) {
  const auto parent = std::filesystem::path(path_).parent_path();
  std::error_code ec;
  if (!parent.empty()) std::filesystem::create_directories(parent, ec);
  fd_ = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd_ < 0) {
    throw std::runtime_error("events.file.path: cannot open " + path_ + ": " +
                             std::strerror(errno));
  }
  thread_ = std::thread([this] {
    nameThisThread("tg-file-sink");
    run();
  });
}

FileSink::~FileSink() {
  stop(std::chrono::milliseconds(0));
  if (fd_ >= 0) ::close(fd_);
}

bool FileSink::tryEmit(meter::CostEvent&& event) {
  bool wake = false;
  {
    std::lock_guard lock(mu_);
    if (stopping_ || queue_.size() >= capacity_) {
      dropped_.fetch_add(1, std::memory_order_relaxed);
      return false;
    }
    queue_.push_back(std::move(event));
    if (sleeping_ || queue_.size() == kBatch) {
      sleeping_ = false;
      wake = true;
    }
  }
  accepted_.fetch_add(1, std::memory_order_relaxed);
  if (wake) cv_.notify_one();
  return true;
}

bool FileSink::ready() const {
  std::lock_guard lock(mu_);
  return !stopping_ && healthy_.load() && queue_.size() < capacity_;
}

void FileSink::run() {
  std::vector<meter::CostEvent> batch;
  std::string buffer;
  for (;;) {
    {
      std::unique_lock lock(mu_);
      if (queue_.empty() && !stopping_) {
        sleeping_ = true;
        cv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
        sleeping_ = false;
      }
      if (!stopping_ && queue_.size() < kBatch) {
        cv_.wait_for(lock, kLinger, [&] { return stopping_ || queue_.size() >= kBatch; });
      }
      if (queue_.empty()) return;  // stopping and drained
      // O(1) under the lock that workers take to emit; the vector handed back keeps the capacity
      // of the previous batch.
      batch.swap(queue_);
      writing_ = true;
      in_flight_ = batch.size();
    }
    buffer.clear();
    for (const auto& event : batch) {
      meter::appendCloudEventJson(event, buffer);
      buffer.push_back('\n');
    }
    size_t written = 0;
    bool ok = true;
    while (written < buffer.size()) {
      const ssize_t n = ::write(fd_, buffer.data() + written, buffer.size() - written);
      if (n < 0) {
        if (errno == EINTR) continue;
        spdlog::get("events")->error("file sink write failed path={} error=\"{}\" events={}", path_,
                                     std::strerror(errno), batch.size());
        ok = false;
        break;
      }
      written += static_cast<size_t>(n);
    }
    healthy_.store(ok);
    (ok ? delivered_ : failed_).fetch_add(batch.size(), std::memory_order_relaxed);
    batch.clear();
    {
      std::lock_guard lock(mu_);
      writing_ = false;
      in_flight_ = 0;
    }
    drained_cv_.notify_all();
  }
}

uint64_t FileSink::stop(std::chrono::milliseconds timeout) {
  {
    std::unique_lock lock(mu_);
    if (!thread_.joinable()) return queue_.size();
    drained_cv_.wait_for(lock, timeout, [&] { return queue_.empty() && !writing_; });
    stopping_ = true;
  }
  cv_.notify_all();
  thread_.join();
  std::lock_guard lock(mu_);
  return queue_.size();
}

SinkStats FileSink::stats() const {
  SinkStats s;
  s.accepted = accepted_.load(std::memory_order_relaxed);
  s.dropped = dropped_.load(std::memory_order_relaxed);
  s.delivered = delivered_.load(std::memory_order_relaxed);
  s.failed = failed_.load(std::memory_order_relaxed);
  std::lock_guard lock(mu_);
  s.queue_depth = queue_.size() + in_flight_;
  return s;
}

}  // namespace tollgate::gateway
