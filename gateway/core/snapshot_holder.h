#pragma once

#include <atomic>
#include <memory>

namespace tollgate::gateway {

// Holds the current immutable snapshot of T (the configuration and what is derived from it):
// swapped whole on reload, read once per call. A call keeps the snapshot it started with.
template <class T>
class SnapshotHolder {
 public:
  explicit SnapshotHolder(std::shared_ptr<const T> snapshot) : current_(std::move(snapshot)) {}
  std::shared_ptr<const T> load() const { return current_.load(std::memory_order_acquire); }
  void store(std::shared_ptr<const T> snapshot) {
    current_.store(std::move(snapshot), std::memory_order_release);
  }

 private:
  std::atomic<std::shared_ptr<const T>> current_;
};

}  // namespace tollgate::gateway
