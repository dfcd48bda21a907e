#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <utility>
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
  // Appends with write(2) instead of copies into a mapped segment (the fallback a filesystem
  // without fallocate or mmap gets anyway; tests run both paths).
  bool force_write = false;
};

// One record read back from the spool.
struct SpoolRecord {
  uint64_t seq = 0;
  uint64_t append_unix_ms = 0;
  std::string key;
  std::string value;
};

struct SpoolStats {
  uint64_t bytes = 0;    // size of every live segment file, the active one's preallocation included
  uint64_t pending = 0;  // records appended and not acknowledged
  uint64_t segments = 0;
  uint64_t replayed = 0;      // valid unacknowledged records found when the spool was opened
  uint64_t torn_records = 0;  // truncated or corrupt records detected and skipped
  uint64_t oldest_pending_unix_ms = 0;  // 0 when nothing is pending
  bool mapped = false;                  // appends are copies into a mapped segment; false: write(2)
  uint64_t prefaulted_bytes = 0;        // mapped bytes made writable by prefault() ahead of appends
};

// A write-ahead log of cost events in segment files `<dir>/segment-<first seq>.wal`.
//
// Record layout (little-endian): u32 body length, u32 CRC-32C of everything after it, u64 seq,
// u64 append time (unix ms), u32 key length, then key and value bytes. Records of one segment
// carry consecutive sequence numbers starting at the one in its file name.
//
// Appends copy records into the active segment, preallocated with fallocate(2) (on ext4 or xfs
// a full disk is then an error when a segment is created, never a SIGBUS on a store) and mapped
// MAP_SHARED, 4 MiB at a time: the copy lands in the page cache, which outlives the process as
// a write(2) would. A segment holds min(segment_bytes, room left under max_bytes) bytes, or one
// append if that is larger; an append that does not fit starts a new segment. Sealing a segment
// (rolling over, or closing the spool) unmaps it and truncates it to its records, so a cleanly
// closed spool holds no preallocated bytes. Where the filesystem has no fallocate or mmap (or
// with SpoolOptions::force_write) appends use write(2), with segment_bytes as the limit.
//
// Torn records. An append copies the records' bytes except the first 8 (the first record's
// length and CRC), then those 8: until the last store, the data ends where the append starts (a
// zero length). A process killed inside the copy leaves a zero length followed by non-zero
// bytes of the append (a sequence number is never 0), or nothing at all: reading finds the data
// ending there and, in the first case, the rest of the file not zero, and counts one torn
// record. Any other damage (a machine crash writing back some pages of a record and not others,
// a file cut short) fails the length checks or the CRC. The zero-filled rest of a preallocated
// segment ends the data without being a torn record; opening a spool truncates it away.
//
// A spool never appends to a segment it did not create: opening one scans the existing
// segments, keeps their unacknowledged records for replay, and starts a new segment. A record
// cut short by a crash (the tail of the last segment) or failing its checksum is counted and
// skipped; the records before and after it are kept. A sealed segment is deleted as soon as
// every record in it is acknowledged. `<dir>/checkpoint` holds the acknowledgement mark.
//
// Disk bound: bytes() is what the segment files take, the active segment's whole preallocation
// included; max_bytes bounds that sum, so no append needs more disk than the bound allows.
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

  // Appends the entries with one copy (or one write); on kOk `first_seq` is the sequence number
  // of the first (the others follow), and the records survive a crash of the process. kFull: the
  // entries would take the spool past max_bytes; nothing is written. kIoError: the write (or
  // the preallocation of a new segment) failed and was rolled back; `error` says why.
  AppendResult append(std::span<const Entry> entries, uint64_t now_unix_ms, uint64_t& first_seq,
                      std::string* error = nullptr);

  // Makes up to `max_bytes` of the active mapping after the appended data writable (page cache
  // pages allocated, page tables filled: MADV_POPULATE_WRITE), so that appends on the request path
  // copy into memory that is already there instead of taking the page faults. For the sink's own
  // thread; holds the lock while it runs (~0.5 us per 4 KiB page). A no-op on the write path.
  void prefault(uint64_t max_bytes);

  // fdatasync()s the segments appended to since the last call (for a mapped segment that is what
  // msync(MS_SYNC) does on Linux). A process crash loses nothing appended (the kernel holds it);
  // this bounds what a machine crash can.
  void sync();

  // Marks a record delivered. Idempotent; unknown sequence numbers are ignored.
  void ack(uint64_t seq);
  // The same for many records, under one lock.
  void ack(std::span<const uint64_t> seqs);

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
    uint64_t bytes = 0;         // the records' bytes: the data ends there
    uint64_t file_bytes = 0;    // the file's size: `bytes`, or the preallocation
    bool preallocated = false;  // appended to by copies into `map`, cut to `bytes` when sealed
    char* map = nullptr;        // the file from map_offset, map_bytes long
    uint64_t map_offset = 0;
    uint64_t map_bytes = 0;
    uint64_t prefaulted = 0;        // file offset below which prefault() populated the mapping
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
  enum class MapResult { kMapped, kUnsupported, kFailed };
  MapResult mapSegment(Segment& segment, uint64_t capacity, uint64_t bytes, std::string* error);
  bool mapWindow(Segment& segment, uint64_t bytes);
  void seal(Segment& segment);
  void dropIfDone(std::map<uint64_t, Segment>::iterator it);
  // Closes and unlinks the files of dropped segments, without the lock: freeing a 64 MiB
  // file's blocks took ~4.8 ms, during which appends (the request path) would wait.
  void removeDropped();
  // Declared before a method's lock_guard: removes dropped files once the lock is released.
  struct RemoveDroppedOnExit {
    Spool& spool;
    ~RemoveDroppedOnExit() { spool.removeDropped(); }
  };
  void ackLocked(uint64_t seq);
  bool readLocked(const Segment& segment, size_t index, SpoolRecord& out);
  void markSkippedLocked(Segment& segment, size_t index);
  std::map<uint64_t, Segment>::iterator segmentOf(uint64_t seq);

  const SpoolOptions options_;
  mutable std::mutex mu_;
  std::map<uint64_t, Segment> segments_;  // by first_seq; the last one is the active segment
  uint64_t next_seq_ = 1;
  uint64_t checkpoint_ = 0;  // records below it were acknowledged (read at open, then written)
  bool mapped_;              // new segments are mapped; cleared for good when the filesystem cannot
  uint64_t total_bytes_ = 0;  // the segments' file_bytes
  uint64_t pending_ = 0;
  uint64_t replayed_ = 0;
  uint64_t torn_records_ = 0;
  uint64_t prefaulted_bytes_ = 0;
  std::vector<uint64_t> failed_;
  std::string buffer_;
  // Segments dropped (every record acknowledged) whose files are not removed yet: fd and path.
  // An append leaves them to the next ack, read or checkpoint (the sink's threads).
  std::vector<std::pair<int, std::string>> dropped_;
};

}  // namespace tollgate::gateway
