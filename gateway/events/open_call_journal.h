#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace tollgate::gateway {

// One worker's open-call journal: `<dir>/open-calls-<generation>-<worker>.jnl`, append-only
// records (gateway/events/open_call_entry.h) written by that worker alone, so no lock. Each
// append is one write(2): the kernel holds it, so a SIGKILL loses nothing appended; with
// `fsync` each append is followed by fdatasync (a machine crash or power loss then loses
// nothing appended either). The journal grows with progress records and is compacted (rewritten
// as a new file holding only the live calls, renamed over the old one) once it passes
// compact_bytes. A new generation (a new process start) never appends to an older file: those
// belong to the recovery at start.
class OpenCallJournal {
 public:
  struct Options {
    std::string dir;
    bool fsync = false;
    uint64_t compact_bytes = 4u << 20;
  };

  // Creates the directory if needed and an empty journal; throws std::runtime_error when it
  // cannot (at start: the operator must know, as for the spool).
  OpenCallJournal(Options options, uint64_t generation, size_t worker);
  ~OpenCallJournal();
  OpenCallJournal(const OpenCallJournal&) = delete;
  OpenCallJournal& operator=(const OpenCallJournal&) = delete;

  // Appends encoded records. False on an I/O error (`error` says which); the file is then cut
  // back to where it was so a half-written record never precedes later ones.
  bool append(std::string_view records, std::string* error = nullptr);

  // Whether the file has grown enough that compact() is worth it.
  bool wantsCompaction() const { return bytes_ >= options_.compact_bytes; }

  // Replaces the file by one holding `live_records` only (the open calls' state). False on an
  // I/O error, the old file then kept as it was.
  bool compact(std::string_view live_records, std::string* error = nullptr);

  // Closes and deletes the file: for a stop that leaves no call open (the next start then has
  // nothing of this process to read). Appends fail afterwards.
  void removeFile();

  uint64_t bytes() const { return bytes_; }
  const std::string& path() const { return path_; }

  // Files of this kind in `dir`, whatever their generation (for the recovery at start).
  static bool isJournalFile(std::string_view file_name);

 private:
  bool writeAll(int fd, std::string_view data, std::string* error);

  const Options options_;
  std::string path_;
  int fd_ = -1;
  uint64_t bytes_ = 0;
};

}  // namespace tollgate::gateway
