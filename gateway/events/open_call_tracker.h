#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "gateway/events/open_call_entry.h"
#include "gateway/events/open_call_journal.h"

namespace tollgate::gateway {

// One worker's open calls. Every metered call links a Handle at its start (two pointer stores,
// nothing written: a short call costs nothing else); one timer per worker, running only while
// calls are linked, ticks every `refresh`: a call linked for `after` or longer is journaled
// (kOpen), and a journaled call whose progress moved gets a kProgress, all of one tick in one
// write(2). A call's own event, once handed to the sink, ends its Handle, which journals kClose
// at once (one write) if the call was journaled. A Handle destroyed without end() (the call
// abandoned without an event) leaves its record open: the next start books it as interrupted.
// Worker thread only.
class OpenCallTracker {
 public:
  struct Options {
    std::chrono::milliseconds after{3000};
    std::chrono::milliseconds refresh{1000};
  };

  // What the tracker reads of a call, on the worker thread, at most once per tick.
  class Call {
   public:
    // The kOpen fields (id included) and the progress so far; `at_unix_ns` and `kind` are the
    // tracker's.
    virtual void describe(OpenCallEntry& entry) const = 0;

   protected:
    ~Call() = default;
  };

  class Handle {
   public:
    Handle() = default;
    ~Handle();
    Handle(const Handle&) = delete;
    Handle& operator=(const Handle&) = delete;

    // Links `call` (which must outlive the link); a null tracker leaves the handle unlinked.
    void begin(OpenCallTracker* tracker, const Call& call);
    // The call's own event is with the sink: unlinks, journaling kClose if it was journaled.
    void end();
    bool journaled() const { return journaled_; }

   private:
    friend class OpenCallTracker;
    OpenCallTracker* tracker_ = nullptr;
    const Call* call_ = nullptr;
    Handle* prev_ = nullptr;
    Handle* next_ = nullptr;
    int64_t begun_ms_ = 0;
    bool journaled_ = false;
    // What was last journaled, to skip a progress that did not move.
    int64_t last_output_bytes_ = 0;
    int64_t last_provider_output_ = 0;
    int last_status_ = 0;
  };

  struct Stats {
    uint64_t linked = 0;     // calls in progress on this worker
    uint64_t journaled = 0;  // of those, journaled
    uint64_t opened_total = 0;
    uint64_t progress_total = 0;
    uint64_t closed_total = 0;
    uint64_t write_errors = 0;
    uint64_t compactions = 0;
    uint64_t abandoned = 0;  // journaled calls left without their event: booked at next start
  };

  // `executor` is the worker's; `journal` null disables journaling (everything is a no-op).
  OpenCallTracker(const boost::asio::any_io_executor& executor,
                  std::unique_ptr<OpenCallJournal> journal, Options options);
  ~OpenCallTracker();
  OpenCallTracker(const OpenCallTracker&) = delete;
  OpenCallTracker& operator=(const OpenCallTracker&) = delete;

  // One round of the timer (public for tests): `now_ms` on DeadlineSweeper's clock,
  // `now_unix_ns` the wall clock that becomes an interrupted event's end.
  void tick(int64_t now_ms, int64_t now_unix_ns);

  // Releases the timer while its io_context exists. With no journaled call left open the
  // journal file is removed (nothing of this process for the next start to read).
  void stop();

  Stats stats() const { return stats_; }

 private:
  void link(Handle& h);
  void unlink(Handle& h);
  void close(Handle& h);
  // Encodes `h`'s call as an open record (its latest progress) into buffer_.
  void appendOpen(const Handle& h, int64_t now_unix_ns);
  void scheduleTick();
  void write(const std::string& records);

  std::unique_ptr<OpenCallJournal> journal_;
  const Options options_;
  std::optional<boost::asio::steady_timer> timer_;
  bool ticking_ = false;
  bool stopped_ = false;
  Handle* head_ = nullptr;
  uint64_t open_in_journal_ = 0;  // journaled and not closed, abandoned handles included
  // Journaled calls whose handle went away without end(): their records must stay, and a
  // compaction (which rewrites the linked calls only) would drop them, so none runs after.
  uint64_t abandoned_ = 0;
  Stats stats_;
  std::string buffer_;
  OpenCallEntry scratch_;
};

}  // namespace tollgate::gateway
