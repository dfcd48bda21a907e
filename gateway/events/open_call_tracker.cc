#include "gateway/events/open_call_tracker.h"

#include <spdlog/spdlog.h>

#include <chrono>

#include "gateway/core/deadline.h"

namespace tollgate::gateway {

OpenCallTracker::Handle::~Handle() {
  // Not end(): a call abandoned without its event keeps its record open for the next start.
  if (tracker_ == nullptr) return;
  if (journaled_) {
    ++tracker_->abandoned_;
    ++tracker_->stats_.abandoned;
  }
  tracker_->unlink(*this);
}

void OpenCallTracker::Handle::begin(OpenCallTracker* tracker, const Call& call) {
  if (tracker == nullptr || tracker->journal_ == nullptr || tracker_ != nullptr) return;
  call_ = &call;
  begun_ms_ = DeadlineSweeper::nowMillis();
  journaled_ = false;
  last_output_bytes_ = 0;
  last_provider_output_ = 0;
  last_status_ = 0;
  tracker->link(*this);
}

void OpenCallTracker::Handle::end() {
  if (tracker_ == nullptr) return;
  OpenCallTracker* tracker = tracker_;
  if (journaled_) tracker->close(*this);
  tracker->unlink(*this);
}

OpenCallTracker::OpenCallTracker(const boost::asio::any_io_executor& executor,
                                 std::unique_ptr<OpenCallJournal> journal, Options options)
    : journal_(std::move(journal)), options_(options) {
  if (journal_ != nullptr) timer_.emplace(executor);
}

OpenCallTracker::~OpenCallTracker() {
  stop();
  // Handles outliving the tracker must not touch it.
  for (Handle* h = head_; h != nullptr; h = h->next_) h->tracker_ = nullptr;
}

void OpenCallTracker::stop() {
  timer_.reset();
  stopped_ = true;
  if (journal_ != nullptr && open_in_journal_ == 0) journal_->removeFile();
}

void OpenCallTracker::link(Handle& h) {
  h.tracker_ = this;
  h.prev_ = nullptr;
  h.next_ = head_;
  if (head_ != nullptr) head_->prev_ = &h;
  head_ = &h;
  ++stats_.linked;
  if (!ticking_ && !stopped_) scheduleTick();
}

void OpenCallTracker::unlink(Handle& h) {
  if (h.prev_ != nullptr) {
    h.prev_->next_ = h.next_;
  } else {
    head_ = h.next_;
  }
  if (h.next_ != nullptr) h.next_->prev_ = h.prev_;
  h.prev_ = h.next_ = nullptr;
  h.tracker_ = nullptr;
  --stats_.linked;
  if (h.journaled_) --stats_.journaled;
}

void OpenCallTracker::close(Handle& h) {
  scratch_ = OpenCallEntry{};
  scratch_.kind = OpenCallEntry::Kind::kClose;
  h.call_->describe(scratch_);
  buffer_.clear();
  scratch_.kind = OpenCallEntry::Kind::kClose;
  appendOpenCallRecord(scratch_, buffer_);
  write(buffer_);
  ++stats_.closed_total;
  --open_in_journal_;
}

void OpenCallTracker::write(const std::string& records) {
  std::string error;
  if (!journal_->append(records, &error)) {
    ++stats_.write_errors;
    spdlog::get("events")->error("open-call journal: {}", error);
  }
}

void OpenCallTracker::scheduleTick() {
  ticking_ = true;
  timer_->expires_after(options_.refresh);
  timer_->async_wait([this](const boost::system::error_code& ec) {
    if (ec) return;  // cancelled: the tracker is going away, touch nothing
    const auto wall = std::chrono::system_clock::now().time_since_epoch();
    tick(DeadlineSweeper::nowMillis(),
         std::chrono::duration_cast<std::chrono::nanoseconds>(wall).count());
    if (head_ != nullptr && timer_) {
      scheduleTick();
    } else {
      ticking_ = false;
    }
  });
}

void OpenCallTracker::appendOpen(const Handle& h, int64_t now_unix_ns) {
  scratch_ = OpenCallEntry{};
  h.call_->describe(scratch_);
  scratch_.kind = OpenCallEntry::Kind::kOpen;
  scratch_.at_unix_ns = now_unix_ns;
  appendOpenCallRecord(scratch_, buffer_);
}

void OpenCallTracker::tick(int64_t now_ms, int64_t now_unix_ns) {
  if (journal_ == nullptr) return;
  buffer_.clear();
  const int64_t after = options_.after.count();
  for (Handle* h = head_; h != nullptr; h = h->next_) {
    if (!h->journaled_) {
      if (now_ms - h->begun_ms_ < after) continue;
      appendOpen(*h, now_unix_ns);
      h->journaled_ = true;
      ++stats_.journaled;
      ++stats_.opened_total;
      ++open_in_journal_;
    } else {
      scratch_ = OpenCallEntry{};
      h->call_->describe(scratch_);
      if (scratch_.output_bytes == h->last_output_bytes_ &&
          scratch_.provider_so_far.output_tokens == h->last_provider_output_ &&
          scratch_.status == h->last_status_) {
        continue;
      }
      scratch_.kind = OpenCallEntry::Kind::kProgress;
      scratch_.at_unix_ns = now_unix_ns;
      appendOpenCallRecord(scratch_, buffer_);
      ++stats_.progress_total;
    }
    h->last_output_bytes_ = scratch_.output_bytes;
    h->last_provider_output_ = scratch_.provider_so_far.output_tokens;
    h->last_status_ = scratch_.status;
  }
  if (!buffer_.empty()) write(buffer_);
  if (abandoned_ == 0 && journal_->wantsCompaction()) {
    // The live calls' state alone: an open with the latest progress each.
    buffer_.clear();
    for (Handle* h = head_; h != nullptr; h = h->next_) {
      if (!h->journaled_) continue;
      appendOpen(*h, now_unix_ns);
    }
    std::string error;
    if (journal_->compact(buffer_, &error)) {
      ++stats_.compactions;
    } else {
      ++stats_.write_errors;
      spdlog::get("events")->error("open-call journal compaction: {}", error);
    }
  }
}

}  // namespace tollgate::gateway
