#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace tollgate::gateway {

// CRC-32C (Castagnoli), the checksum of every spool record: SSE 4.2's instruction where the CPU
// has it, else a table. crc32cPortable is always the table (tests compare the two).
uint32_t crc32c(std::string_view data, uint32_t crc = 0);
uint32_t crc32cPortable(std::string_view data, uint32_t crc = 0);

struct SpoolOptions {
  std::string dir;
  uint64_t max_bytes = 1ull << 30;
  uint64_t segment_bytes = 64ull << 20;
};

// One record read back from the spool.
struct SpoolRecord {
  uint64_t seq = 0;
  uint64_t append_unix_ms = 0;
  std::string key;
  std::string value;
};

struct SpoolStats {
  uint64_t bytes = 0;    // size of every live segment file
  uint64_t pending = 0;  // records appended and not acknowledged
  uint64_t segments = 0;
  uint64_t replayed = 0;      // valid unacknowledged records found when the spool was opened
  uint64_t torn_records = 0;  // truncated or corrupt records detected and skipped
  uint64_t oldest_pending_unix_ms = 0;  // 0 when nothing is pending
};

// A write-ahead log of cost events in segment files `<dir>/segment-<first seq>.wal`.
//
// Record layout (little-endian): u32 body length, u32 CRC-32C of everything after it, u64 seq,
// u64 append time (unix ms), u32 key length, then key and value bytes. Records of one segment
// carry consecutive sequence numbers starting at the one in its file name.
//
// A spool never appends to a segment it did not create: opening one scans the existing
// segments, keeps their unacknowledged records for replay, and starts a new segment. A record
// cut short by a crash (the tail of the last segment) or failing its checksum is counted and
// skipped; the records before and after it are kept. A sealed segment is deleted as soon as
// every record in it is acknowledged. `<dir>/checkpoint` holds the acknowledgement mark.
//
// Thread-safe: the sink thread appends and reads, the delivery-report thread acknowledges.
class Spool {
 public:
  struct Entry {
    std::string_view key;
    std::string_view value;
  };
  enum class AppendResult { kOk, kFull, kIoError };

  // Creates the directory if needed and scans it; throws std::runtime_error when the directory
  // cannot be used.
  explicit Spool(SpoolOptions options);
  ~Spool();
  Spool(const Spool&) = delete;
  Spool& operator=(const Spool&) = delete;

  // Appends the entries with one write; on kOk `first_seq` is the sequence number of the first
  // (the others follow). kFull: the entries would take the spool past max_bytes; nothing is
  // written. kIoError: the write failed and was rolled back; `error` says why.
  AppendResult append(std::span<const Entry> entries, uint64_t now_unix_ms, uint64_t& first_seq,
                      std::string* error = nullptr);

  // fdatasync()s the active segment if records were appended since the last call. A process
  // crash loses nothing appended (the kernel holds it); this bounds what a machine crash can.
  void sync();

  // Marks a record delivered. Idempotent; unknown sequence numbers are ignored.
  void ack(uint64_t seq);

  // Records a delivery that failed and should be retried; takeFailed returns and clears them.
  void markFailed(uint64_t seq);
  std::vector<uint64_t> takeFailed();

  // Appends to `out` up to `max_records` unacknowledged records with seq >= `from`, in order.
  // Returns the sequence number to continue from (endSeq() once everything is read).
  uint64_t readFrom(uint64_t from, size_t max_records, std::vector<SpoolRecord>& out);

  // Reads one unacknowledged record; false when it is acknowledged, unknown or unreadable.
  bool read(uint64_t seq, SpoolRecord& out);

  // Persists the acknowledgement mark: at the next open, records below beginSeq() count as
  // delivered. Acknowledgements above the mark (out of order) are not persisted: those records
  // are sent again after a restart. Cheap when nothing changed.
  void checkpoint();

  // The sequence number the next appended record gets.
  uint64_t endSeq() const;
  // The smallest sequence number still held (endSeq() when the spool is empty).
  uint64_t beginSeq() const;

  SpoolStats stats() const;
  uint64_t bytes() const;
  uint64_t maxBytes() const { return options_.max_bytes; }

  static constexpr size_t kHeaderBytes = 28;
  static constexpr uint32_t kMaxRecordBytes = 16u << 20;

 private:
  struct Segment {
    uint64_t first_seq = 0;
    std::string path;
    int fd = -1;
    uint64_t bytes = 0;
    std::vector<uint64_t> offsets;  // of record first_seq + i
    std::vector<bool> acked;
    size_t unacked = 0;
    size_t first_unacked = 0;  // no record before this index is pending
    bool sealed = false;
    bool dirty = false;  // appended to since the last sync()
  };

  void scan();
  uint64_t beginSeqLocked() const;
  void scanSegment(Segment& segment);
  void openNewSegment();
  void dropIfDone(std::map<uint64_t, Segment>::iterator it);
  bool readLocked(const Segment& segment, size_t index, SpoolRecord& out);
  void markSkippedLocked(Segment& segment, size_t index);
  std::map<uint64_t, Segment>::iterator segmentOf(uint64_t seq);

  const SpoolOptions options_;
  mutable std::mutex mu_;
  std::map<uint64_t, Segment> segments_;  // by first_seq; the last one is the active segment
  uint64_t next_seq_ = 1;
  uint64_t checkpoint_ = 0;  // records below it were acknowledged (read at open, then written)
  uint64_t total_bytes_ = 0;
  uint64_t pending_ = 0;
  uint64_t replayed_ = 0;
  uint64_t torn_records_ = 0;
  std::vector<uint64_t> failed_;
  std::string buffer_;
};

}  // namespace tollgate::gateway
