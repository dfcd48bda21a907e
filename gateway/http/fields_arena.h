#pragma once

#include <boost/beast/http/fields.hpp>
#include <cstddef>
#include <memory>
#include <new>
#include <type_traits>
#include <vector>

namespace tollgate::gateway {

// The fields of the two message heads a call parses (the client's request, the upstream's
// response) are allocated from one block per call instead of one heap allocation per field
// (Beast's basic_fields allocates every field on its own; the profile counted 10 of the ~35
// allocations of a call). The pattern is Beast's own http_server_fast example (fields_alloc):
// a monotonic arena behind a stateful allocator.
//
// Blocks belong to a worker (FieldBlockPool, worker thread only) and are lent to a session's
// arena from its first field to the moment its last field is freed, so an idle keep-alive
// connection holds no block. A field that does not fit the block comes from the heap.
class FieldBlockPool {
 public:
  static constexpr size_t kBlockSize = 4096;

  FieldBlockPool() = default;
  FieldBlockPool(const FieldBlockPool&) = delete;
  FieldBlockPool& operator=(const FieldBlockPool&) = delete;
  ~FieldBlockPool() {
    for (char* block : free_) delete[] block;
  }

  char* take() {
    if (free_.empty()) return new char[kBlockSize];
    char* block = free_.back();
    free_.pop_back();
    return block;
  }

  // Keeps up to kMaxKept blocks for reuse (a worker's burst of concurrent calls), frees the rest.
  void give(char* block) {
    if (free_.size() < kMaxKept) {
      free_.push_back(block);
    } else {
      delete[] block;
    }
  }

  size_t kept() const { return free_.size(); }

 private:
  static constexpr size_t kMaxKept = 256;
  std::vector<char*> free_;
};

// A bump allocator over one borrowed block; memory is reclaimed when every allocation from the
// block has been freed (the block then goes back to the pool). Single-threaded.
class FieldArena {
 public:
  explicit FieldArena(FieldBlockPool& pool) : pool_(pool) {}
  FieldArena(const FieldArena&) = delete;
  FieldArena& operator=(const FieldArena&) = delete;
  ~FieldArena() {
    if (block_ != nullptr) pool_.give(block_);
  }

  void* allocate(size_t bytes, size_t align) {
    if (block_ == nullptr) {
      block_ = pool_.take();
      used_ = 0;
    }
    const size_t start = (used_ + align - 1) & ~(align - 1);
    if (start + bytes <= FieldBlockPool::kBlockSize) {
      used_ = start + bytes;
      ++live_;
      return block_ + start;
    }
    ++heap_allocations_;
    return ::operator new(bytes, std::align_val_t(align));
  }

  void deallocate(void* p, size_t align) {
    char* c = static_cast<char*>(p);
    if (block_ != nullptr && c >= block_ && c < block_ + FieldBlockPool::kBlockSize) {
      if (--live_ == 0) {
        pool_.give(block_);
        block_ = nullptr;
      }
      return;
    }
    ::operator delete(p, std::align_val_t(align));
  }

  bool holdsBlock() const { return block_ != nullptr; }
  size_t live() const { return live_; }
  // Allocations that did not fit the block (for tests and tuning).
  size_t heapAllocations() const { return heap_allocations_; }

 private:
  FieldBlockPool& pool_;
  char* block_ = nullptr;
  size_t used_ = 0;
  size_t live_ = 0;
  size_t heap_allocations_ = 0;
};

// The allocator Beast's basic_fields is given. Default-constructed (no arena) it is the heap,
// so fields built outside a session (tests, tools) need nothing special.
template <class T>
class ArenaAllocator {
 public:
  using value_type = T;
  using propagate_on_container_copy_assignment = std::true_type;
  using propagate_on_container_move_assignment = std::true_type;
  using propagate_on_container_swap = std::true_type;
  using is_always_equal = std::false_type;

  ArenaAllocator() noexcept = default;
  explicit ArenaAllocator(FieldArena* arena) noexcept : arena_(arena) {}
  template <class U>
  ArenaAllocator(const ArenaAllocator<U>& other) noexcept : arena_(other.arena()) {}

  T* allocate(size_t n) {
    if (arena_ != nullptr) return static_cast<T*>(arena_->allocate(n * sizeof(T), alignof(T)));
    return std::allocator<T>().allocate(n);
  }
  void deallocate(T* p, size_t n) noexcept {
    if (arena_ != nullptr) {
      arena_->deallocate(p, alignof(T));
    } else {
      std::allocator<T>().deallocate(p, n);
    }
  }

  FieldArena* arena() const noexcept { return arena_; }

  template <class U>
  bool operator==(const ArenaAllocator<U>& other) const noexcept {
    return arena_ == other.arena();
  }

 private:
  FieldArena* arena_ = nullptr;
};

// The fields type of every head the gateway parses.
using Fields = boost::beast::http::basic_fields<ArenaAllocator<char>>;

}  // namespace tollgate::gateway
