#include "gateway/events/spool.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <stdexcept>

namespace tollgate::gateway {
namespace {

constexpr std::array<uint32_t, 256> makeCrcTable() {
  std::array<uint32_t, 256> table{};
  for (uint32_t i = 0; i < 256; ++i) {
    uint32_t c = i;
    for (int k = 0; k < 8; ++k) c = (c & 1) ? (c >> 1) ^ 0x82F63B78u : c >> 1;
    table[i] = c;
  }
  return table;
}
constexpr auto kCrcTable = makeCrcTable();

constexpr std::string_view kPrefix = "segment-";
constexpr std::string_view kSuffix = ".wal";
constexpr size_t kSeqDigits = 20;
// A preallocated segment is mapped this much at a time. Unmapping costs ~35 us a MiB of written
// pages (the kernel hands each page's dirty bit to the page cache): ~2.4 ms for a whole 64 MiB
// segment, inside an append, with the request path's locks held. Windows start at multiples of
// their size: mapped at any page, they took twice the page faults (the kernel maps a large
// folio of the page cache at once only where the mapping is aligned with the file).
constexpr uint64_t kWindowBytes = 4u << 20;

void put32(uint32_t v, char* p) {
  for (int i = 0; i < 4; ++i) p[i] = static_cast<char>(v >> (8 * i));
}
void put64(uint64_t v, char* p) {
  for (int i = 0; i < 8; ++i) p[i] = static_cast<char>(v >> (8 * i));
}
uint32_t get32(const char* p) {
  uint32_t v = 0;
  for (int i = 3; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(p[i]);
  return v;
}
uint64_t get64(const char* p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(p[i]);
  return v;
}

std::string segmentName(uint64_t first_seq) {
  char digits[kSeqDigits + 1];
  std::snprintf(digits, sizeof digits, "%020llu", static_cast<unsigned long long>(first_seq));
  return std::string(kPrefix) + digits + std::string(kSuffix);
}

// The first sequence number from a segment file name; nullopt for any other file.
std::optional<uint64_t> parseSegmentName(std::string_view name) {
  if (name.size() != kPrefix.size() + kSeqDigits + kSuffix.size() ||
      name.substr(0, kPrefix.size()) != kPrefix ||
      name.substr(kPrefix.size() + kSeqDigits) != kSuffix) {
    return std::nullopt;
  }
  uint64_t v = 0;
  for (char c : name.substr(kPrefix.size(), kSeqDigits)) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + static_cast<uint64_t>(c - '0');
  }
  return v;
}

// True when every byte of [p, p + n) is zero; stops at the first that is not, so a record's
// header (never all zero: its sequence number is not 0) costs a few bytes.
bool allZero(const char* p, size_t n) {
  for (; n > 0 && reinterpret_cast<uintptr_t>(p) % 8 != 0; --n, ++p) {
    if (*p != 0) return false;
  }
  for (; n >= 8; n -= 8, p += 8) {
    uint64_t word;
    std::memcpy(&word, p, sizeof word);
    if (word != 0) return false;
  }
  for (; n > 0; --n, ++p) {
    if (*p != 0) return false;
  }
  return true;
}

bool preadAll(int fd, char* out, size_t n, uint64_t offset) {
  size_t done = 0;
  while (done < n) {
    const ssize_t r = ::pread(fd, out + done, n - done, static_cast<off_t>(offset + done));
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return false;
    done += static_cast<size_t>(r);
  }
  return true;
}

}  // namespace

namespace {

uint32_t crc32cTable(std::string_view data, uint32_t crc) {
  for (unsigned char c : data) crc = kCrcTable[(crc ^ c) & 0xff] ^ (crc >> 8);
  return crc;
}

#if defined(__x86_64__)
// SSE 4.2's crc32 instruction computes CRC-32C: 8 bytes per instruction instead of a table
// lookup per byte (the table version was ~4 % of a loaded gateway's CPU, one record per call).
__attribute__((target("sse4.2"))) uint32_t crc32cSse42(std::string_view data, uint32_t crc) {
  const char* p = data.data();
  size_t n = data.size();
  uint64_t c = crc;
  for (; n >= 8; n -= 8, p += 8) {
    uint64_t word;
    std::memcpy(&word, p, sizeof word);
    c = __builtin_ia32_crc32di(c, word);
  }
  auto c32 = static_cast<uint32_t>(c);
  for (; n > 0; --n, ++p) c32 = __builtin_ia32_crc32qi(c32, static_cast<unsigned char>(*p));
  return c32;
}

const bool kHasSse42 = [] {
  __builtin_cpu_init();  // static initializers may run before libgcc's own
  return __builtin_cpu_supports("sse4.2") != 0;
}();
#endif

}  // namespace

uint32_t crc32c(std::string_view data, uint32_t crc) {
#if defined(__x86_64__)
  if (kHasSse42) return ~crc32cSse42(data, ~crc);
#endif
  return ~crc32cTable(data, ~crc);
}

uint32_t crc32cPortable(std::string_view data, uint32_t crc) { return ~crc32cTable(data, ~crc); }

Spool::Spool(SpoolOptions options) : options_(std::move(options)), mapped_(!options_.force_write) {
  std::error_code ec;
  std::filesystem::create_directories(options_.dir, ec);
  if (ec) {
    throw std::runtime_error("events.spool.dir: cannot create " + options_.dir + ": " +
                             ec.message());
  }
  scan();
  std::lock_guard lock(mu_);
  openNewSegment();
  if (segments_.empty() || segments_.rbegin()->second.fd < 0) {
    throw std::runtime_error("events.spool.dir: cannot create a segment in " + options_.dir + ": " +
                             std::strerror(errno));
  }
}

Spool::~Spool() {
  checkpoint();
  for (auto& [first, segment] : segments_) {
    seal(segment);
    if (segment.fd >= 0) ::close(segment.fd);
  }
}

void Spool::scan() {
  std::vector<uint64_t> firsts;
  if (DIR* dir = ::opendir(options_.dir.c_str())) {
    while (dirent* entry = ::readdir(dir)) {
      if (auto first = parseSegmentName(entry->d_name)) firsts.push_back(*first);
    }
    ::closedir(dir);
  } else {
    throw std::runtime_error("events.spool.dir: cannot read " + options_.dir + ": " +
                             std::strerror(errno));
  }
  std::sort(firsts.begin(), firsts.end());
  std::lock_guard lock(mu_);
  if (std::ifstream in(options_.dir + "/checkpoint"); in) {
    uint64_t mark = 0;
    if (in >> mark) checkpoint_ = mark;
  }
  // New records must never fall below the mark, even if segments were removed by hand.
  next_seq_ = std::max<uint64_t>(1, checkpoint_);
  for (uint64_t first : firsts) {
    Segment segment;
    segment.first_seq = first;
    segment.path = options_.dir + "/" + segmentName(first);
    // Read-write to truncate a preallocated tail; read-only will do if that is all we may.
    segment.fd = ::open(segment.path.c_str(), O_RDWR | O_CLOEXEC);
    if (segment.fd < 0) segment.fd = ::open(segment.path.c_str(), O_RDONLY | O_CLOEXEC);
    if (segment.fd < 0) {
      throw std::runtime_error("events.spool.dir: cannot open " + segment.path + ": " +
                               std::strerror(errno));
    }
    scanSegment(segment);
    segment.sealed = true;
    next_seq_ = std::max(next_seq_, first + segment.offsets.size());
    // A later segment must never be named like an existing one, even an empty one.
    next_seq_ = std::max(next_seq_, first + 1);
    pending_ += segment.unacked;
    replayed_ += segment.unacked;
    total_bytes_ += segment.file_bytes;
    auto [it, inserted] = segments_.emplace(first, std::move(segment));
    dropIfDone(it);
  }
}

void Spool::scanSegment(Segment& segment) {
  struct stat st {};
  if (::fstat(segment.fd, &st) != 0 || st.st_size <= 0) return;
  segment.bytes = segment.file_bytes = static_cast<uint64_t>(st.st_size);
  const size_t size = static_cast<size_t>(st.st_size);
  void* map = ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE, segment.fd, 0);
  if (map == MAP_FAILED) {
    ++torn_records_;  // the whole segment is unreadable; its bytes still count until deleted
    return;
  }
  const char* data = static_cast<const char*>(map);
  size_t offset = 0;
  bool zero_tail = false;
  while (offset < size) {
    const size_t left = size - offset;
    if (allZero(data + offset, left)) {
      zero_tail = true;  // the unused rest of a preallocated segment: the data ends here
      break;
    }
    if (left < kHeaderBytes) {
      ++torn_records_;  // a header cut short: the crash happened inside the last write
      break;
    }
    const uint32_t body = get32(data + offset);
    const uint32_t crc = get32(data + offset + 4);
    if (body < kHeaderBytes - 8 || body > kMaxRecordBytes || body > left - 8) {
      // A length that runs past the end, or a zero one followed by data (a batch whose first
      // header was not copied yet): nothing after it can be framed.
      ++torn_records_;
      break;
    }
    const uint64_t seq = get64(data + offset + 8);
    const uint32_t key_len = get32(data + offset + 24);
    const bool valid = crc32c({data + offset + 8, body}) == crc &&
                       seq == segment.first_seq + segment.offsets.size() &&
                       key_len <= body - (kHeaderBytes - 8);
    const size_t end = offset + 8 + body;
    if (!valid && end == size) {
      ++torn_records_;  // the last record, partly written
      break;
    }
    const bool delivered = valid && seq < checkpoint_;
    segment.offsets.push_back(offset);
    segment.acked.push_back(!valid || delivered);
    if (!valid) {
      ++torn_records_;  // framed but damaged: skip it, keep the records after it
    } else if (!delivered) {
      ++segment.unacked;
    }
    offset = end;
  }
  ::munmap(map, size);
  segment.bytes = offset;
  if (zero_tail && ::ftruncate(segment.fd, static_cast<off_t>(offset)) == 0) {
    segment.file_bytes = offset;
  }
  while (segment.first_unacked < segment.acked.size() && segment.acked[segment.first_unacked]) {
    ++segment.first_unacked;
  }
}

void Spool::openNewSegment() {
  Segment segment;
  segment.first_seq = next_seq_;
  segment.path = options_.dir + "/" + segmentName(next_seq_);
  segment.fd = ::open(segment.path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC, 0644);
  if (segment.fd < 0) return;
  segments_.emplace(segment.first_seq, std::move(segment));
}

Spool::MapResult Spool::mapSegment(Segment& segment, uint64_t capacity, uint64_t bytes,
                                   std::string* error) {
  // fallocate(2) itself, not posix_fallocate(3): glibc emulates the latter by writing zeros where
  // the filesystem lacks fallocate, which is slower than the write path it would replace.
  if (::fallocate(segment.fd, 0, 0, static_cast<off_t>(capacity)) != 0) {
    const int err = errno;
    (void)!::ftruncate(segment.fd, 0);  // blocks a failed preallocation may hold
    if (err == EOPNOTSUPP || err == ENOSYS) return MapResult::kUnsupported;
    if (error) *error = "cannot preallocate a segment: " + std::string(std::strerror(err));
    return MapResult::kFailed;
  }
  segment.file_bytes = capacity;
  if (!mapWindow(segment, bytes)) {
    (void)!::ftruncate(segment.fd, 0);
    segment.file_bytes = 0;
    return MapResult::kUnsupported;
  }
  segment.preallocated = true;
  total_bytes_ += capacity;
  return MapResult::kMapped;
}

// Maps the window of the preallocation holding the end of the data (more if an append of
// `bytes` needs it).
bool Spool::mapWindow(Segment& segment, uint64_t bytes) {
  const uint64_t offset = segment.bytes / kWindowBytes * kWindowBytes;
  const uint64_t length =
      std::min(std::max(kWindowBytes, segment.bytes + bytes - offset), segment.file_bytes - offset);
  void* map = ::mmap(nullptr, length, PROT_READ | PROT_WRITE, MAP_SHARED, segment.fd,
                     static_cast<off_t>(offset));
  if (map == MAP_FAILED) return false;
  // No read-ahead on faults: a store into a page not yet in the page cache would otherwise make
  // the kernel zero-fill the whole read-ahead window (8 MiB on this VM's disk) at once, a 1-18 ms
  // stall of the request path every few thousand events (or of prefault() under the lock).
  // Pages come one by one, mostly from prefault() on the sink thread.
  ::madvise(map, length, MADV_RANDOM);
  segment.map = static_cast<char*>(map);
  segment.map_offset = offset;
  segment.map_bytes = length;
  return true;
}

void Spool::prefault(uint64_t max_bytes) {
  std::lock_guard lock(mu_);
  if (segments_.empty()) return;
  Segment& segment = std::prev(segments_.end())->second;
  if (segment.map == nullptr || segment.sealed) return;
  constexpr uint64_t kPage = 4096;
  const uint64_t window_end = segment.map_offset + segment.map_bytes;
  const uint64_t begin =
      std::max({segment.prefaulted, segment.bytes / kPage * kPage, segment.map_offset});
  const uint64_t end = std::min(window_end, begin + max_bytes);
  if (begin >= end) return;
  // Populating never changes the bytes: pages past the data stay zero, pages with data keep it.
  if (::madvise(segment.map + (begin - segment.map_offset), end - begin, MADV_POPULATE_WRITE) ==
      0) {
    segment.prefaulted = end;
    prefaulted_bytes_ += end - begin;
  }
}

void Spool::seal(Segment& segment) {
  segment.sealed = true;
  if (segment.map != nullptr) ::munmap(segment.map, segment.map_bytes);
  segment.map = nullptr;
  if (!segment.preallocated) return;
  segment.preallocated = false;
  // If the truncation fails the file keeps its zero tail, which readers take for the end.
  if (::ftruncate(segment.fd, static_cast<off_t>(segment.bytes)) == 0) {
    total_bytes_ -= segment.file_bytes - segment.bytes;
    segment.file_bytes = segment.bytes;
  }
}

void Spool::dropIfDone(std::map<uint64_t, Segment>::iterator it) {
  Segment& segment = it->second;
  if (!segment.sealed || segment.unacked != 0) return;
  dropped_.emplace_back(segment.fd, std::move(segment.path));
  total_bytes_ -= segment.file_bytes;
  segments_.erase(it);
}

void Spool::removeDropped() {
  std::vector<std::pair<int, std::string>> files;
  {
    std::lock_guard lock(mu_);
    files.swap(dropped_);
  }
  for (const auto& [fd, path] : files) {
    ::unlink(path.c_str());
    if (fd >= 0) ::close(fd);  // the last reference: the blocks are freed here
  }
}

Spool::AppendResult Spool::append(std::span<const Entry> entries, uint64_t now_unix_ms,
                                  uint64_t& first_seq, std::string* error) {
  std::lock_guard lock(mu_);
  uint64_t bytes = 0;
  for (const auto& e : entries) {
    const uint64_t body = kHeaderBytes - 8 + e.key.size() + e.value.size();
    if (body > kMaxRecordBytes) {
      if (error) *error = "record of " + std::to_string(body) + " bytes exceeds the maximum";
      return AppendResult::kIoError;
    }
    bytes += 8 + body;
  }
  if (bytes == 0) {
    first_seq = next_seq_;
    return AppendResult::kOk;
  }
  auto active = segments_.empty() ? segments_.end() : std::prev(segments_.end());
  // A segment that holds records takes more only within its limit: its preallocation when
  // mapped, else segment_bytes.
  const auto fits = [&](const Segment& s) {
    return s.bytes + bytes <= (s.preallocated ? s.file_bytes : options_.segment_bytes);
  };
  // Whether the append takes more disk: not when it fits in a segment's preallocation.
  const auto grows = [&](const Segment& s) { return !s.preallocated || !fits(s); };
  // An active segment whose records are all acknowledged is rotated out (and deleted) when its
  // bytes are what stands between this append and the bound.
  const bool done_and_in_the_way = active != segments_.end() && active->second.unacked == 0 &&
                                   active->second.bytes > 0 && grows(active->second) &&
                                   total_bytes_ + bytes > options_.max_bytes;
  if (active == segments_.end() || active->second.sealed ||
      (active->second.bytes > 0 && !fits(active->second)) || done_and_in_the_way) {
    if (active != segments_.end()) {
      seal(active->second);
      dropIfDone(active);
    }
    openNewSegment();
    active = segments_.empty() ? segments_.end() : std::prev(segments_.end());
    if (active == segments_.end() || active->second.sealed) {
      if (error) *error = "cannot create a segment: " + std::string(std::strerror(errno));
      return AppendResult::kIoError;
    }
  }
  Segment& segment = active->second;
  if (grows(segment) && total_bytes_ + bytes > options_.max_bytes) return AppendResult::kFull;
  if (mapped_ && !segment.preallocated && segment.bytes == 0) {
    // The room left under the bound, at most segment_bytes, at least this append.
    const uint64_t capacity =
        std::max(bytes, std::min(options_.segment_bytes, options_.max_bytes - total_bytes_));
    switch (mapSegment(segment, capacity, bytes, error)) {
      case MapResult::kMapped:
        break;
      case MapResult::kUnsupported:
        mapped_ = false;  // this filesystem cannot: write(2) from now on
        break;
      case MapResult::kFailed:
        return AppendResult::kIoError;
    }
  } else if (segment.preallocated &&
             segment.bytes + bytes > segment.map_offset + segment.map_bytes) {
    ::munmap(segment.map, segment.map_bytes);
    segment.map = nullptr;
    if (!mapWindow(segment, bytes)) {
      if (error) *error = "cannot map a segment: " + std::string(std::strerror(errno));
      seal(segment);  // cut to its records; the next append starts a new segment
      return AppendResult::kIoError;
    }
  }

  buffer_.clear();
  buffer_.reserve(bytes);
  uint64_t seq = next_seq_;
  for (const auto& e : entries) {
    const size_t start = buffer_.size();
    buffer_.resize(start + kHeaderBytes);
    char* h = buffer_.data() + start;
    put32(static_cast<uint32_t>(kHeaderBytes - 8 + e.key.size() + e.value.size()), h);
    put64(seq++, h + 8);
    put64(now_unix_ms, h + 16);
    put32(static_cast<uint32_t>(e.key.size()), h + 24);
    buffer_.append(e.key);
    buffer_.append(e.value);
    const std::string_view body(buffer_.data() + start + 8, buffer_.size() - start - 8);
    put32(crc32c(body), buffer_.data() + start + 4);
  }

  if (segment.preallocated) {
    // The first record's length and CRC go last: a process killed inside the first copy leaves
    // a zero length, which ends the data (see the class comment). The fence keeps the compiler
    // from merging or reordering the two copies; the CPU retires stores in order, and a killed
    // process's retired stores reach the page cache.
    char* to = segment.map + (segment.bytes - segment.map_offset);
    std::memcpy(to + 8, buffer_.data() + 8, buffer_.size() - 8);
    std::atomic_signal_fence(std::memory_order_seq_cst);
    std::memcpy(to, buffer_.data(), 8);
  } else {
    size_t written = 0;
    while (written < buffer_.size()) {
      const ssize_t n = ::write(segment.fd, buffer_.data() + written, buffer_.size() - written);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        const int err = n < 0 ? errno : ENOSPC;
        if (error) *error = std::strerror(err);
        // Roll the partial write back so the segment stays a clean sequence of records; if even
        // that fails, seal it: a reader stops at the damaged tail and new records go elsewhere.
        if (::ftruncate(segment.fd, static_cast<off_t>(segment.bytes)) != 0) segment.sealed = true;
        return AppendResult::kIoError;
      }
      written += static_cast<size_t>(n);
    }
    segment.file_bytes += bytes;
    total_bytes_ += bytes;
  }

  uint64_t offset = segment.bytes;
  for (const auto& e : entries) {
    segment.offsets.push_back(offset);
    segment.acked.push_back(false);
    offset += kHeaderBytes + e.key.size() + e.value.size();
  }
  segment.unacked += entries.size();
  segment.dirty = true;
  segment.bytes += bytes;
  pending_ += entries.size();
  first_seq = next_seq_;
  next_seq_ += entries.size();
  return AppendResult::kOk;
}

void Spool::sync() {
  // The data is flushed outside the lock (on duplicated descriptors, which stay valid if the
  // segment is dropped meanwhile): appends, on the request path, never wait for the disk. A
  // mapped segment's stores dirty its pages in the page cache (the write fault marks them), so
  // fdatasync writes them as msync(MS_SYNC) would, without touching a mapping that an append
  // may unmap meanwhile.
  std::vector<int> fds;
  {
    std::lock_guard lock(mu_);
    for (auto& [first, segment] : segments_) {
      if (!segment.dirty || segment.fd < 0) continue;
      segment.dirty = false;
      if (const int fd = ::dup(segment.fd); fd >= 0) fds.push_back(fd);
    }
  }
  for (const int fd : fds) {
    ::fdatasync(fd);
    ::close(fd);
  }
}

std::map<uint64_t, Spool::Segment>::iterator Spool::segmentOf(uint64_t seq) {
  auto it = segments_.upper_bound(seq);
  if (it == segments_.begin()) return segments_.end();
  --it;
  if (seq - it->first >= it->second.offsets.size()) return segments_.end();
  return it;
}

void Spool::ack(uint64_t seq) {
  RemoveDroppedOnExit remove{*this};
  std::lock_guard lock(mu_);
  ackLocked(seq);
}

void Spool::ack(std::span<const uint64_t> seqs) {
  RemoveDroppedOnExit remove{*this};
  std::lock_guard lock(mu_);
  for (const uint64_t seq : seqs) ackLocked(seq);
}

void Spool::ackLocked(uint64_t seq) {
  auto it = segmentOf(seq);
  if (it == segments_.end()) return;
  Segment& segment = it->second;
  const size_t index = seq - segment.first_seq;
  if (segment.acked[index]) return;
  segment.acked[index] = true;
  --segment.unacked;
  --pending_;
  while (segment.first_unacked < segment.acked.size() && segment.acked[segment.first_unacked]) {
    ++segment.first_unacked;
  }
  dropIfDone(it);
}

void Spool::markFailed(uint64_t seq) {
  std::lock_guard lock(mu_);
  failed_.push_back(seq);
}

std::vector<uint64_t> Spool::takeFailed() {
  std::lock_guard lock(mu_);
  std::vector<uint64_t> out;
  out.swap(failed_);
  return out;
}

void Spool::markSkippedLocked(Segment& segment, size_t index) {
  ++torn_records_;
  segment.acked[index] = true;
  --segment.unacked;
  --pending_;
  while (segment.first_unacked < segment.acked.size() && segment.acked[segment.first_unacked]) {
    ++segment.first_unacked;
  }
}

bool Spool::readLocked(const Segment& segment, size_t index, SpoolRecord& out) {
  char header[kHeaderBytes];
  const uint64_t offset = segment.offsets[index];
  if (!preadAll(segment.fd, header, kHeaderBytes, offset)) return false;
  const uint32_t body = get32(header);
  const uint32_t key_len = get32(header + 24);
  if (body < kHeaderBytes - 8 || body > kMaxRecordBytes || key_len > body - (kHeaderBytes - 8)) {
    return false;
  }
  std::string rest(body - (kHeaderBytes - 8), '\0');
  if (!preadAll(segment.fd, rest.data(), rest.size(), offset + kHeaderBytes)) return false;
  uint32_t crc = crc32c({header + 8, kHeaderBytes - 8});
  crc = crc32c(rest, crc);
  if (crc != get32(header + 4) || get64(header + 8) != segment.first_seq + index) return false;
  out.seq = segment.first_seq + index;
  out.append_unix_ms = get64(header + 16);
  out.key.assign(rest, 0, key_len);
  out.value.assign(rest, key_len);
  return true;
}

uint64_t Spool::readFrom(uint64_t from, size_t max_records, std::vector<SpoolRecord>& out) {
  RemoveDroppedOnExit remove{*this};
  std::lock_guard lock(mu_);
  uint64_t next = next_seq_;
  size_t count = 0;
  auto it = segments_.upper_bound(from);
  if (it != segments_.begin()) --it;
  bool done = false;
  for (; it != segments_.end() && !done; ++it) {
    Segment& segment = it->second;
    size_t index = from > segment.first_seq ? from - segment.first_seq : 0;
    for (index = std::max(index, segment.first_unacked); index < segment.offsets.size(); ++index) {
      if (segment.acked[index]) continue;
      if (count == max_records) {
        next = segment.first_seq + index;
        done = true;
        break;
      }
      SpoolRecord record;
      if (!readLocked(segment, index, record)) {
        markSkippedLocked(segment, index);
        continue;
      }
      out.push_back(std::move(record));
      ++count;
    }
  }
  for (auto s = segments_.begin(); s != segments_.end();) dropIfDone(s++);
  return next;
}

bool Spool::read(uint64_t seq, SpoolRecord& out) {
  RemoveDroppedOnExit remove{*this};
  std::lock_guard lock(mu_);
  auto it = segmentOf(seq);
  if (it == segments_.end()) return false;
  const size_t index = seq - it->first;
  if (it->second.acked[index]) return false;
  if (readLocked(it->second, index, out)) return true;
  markSkippedLocked(it->second, index);
  dropIfDone(it);
  return false;
}

uint64_t Spool::endSeq() const {
  std::lock_guard lock(mu_);
  return next_seq_;
}

void Spool::checkpoint() {
  RemoveDroppedOnExit remove{*this};
  std::lock_guard lock(mu_);
  const uint64_t mark = beginSeqLocked();
  if (mark == checkpoint_) return;
  const std::string path = options_.dir + "/checkpoint";
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << mark << '\n';
    if (!out.flush()) return;
  }
  // rename() replaces the mark atomically: a crash leaves the old mark or the new one.
  if (std::rename(tmp.c_str(), path.c_str()) == 0) checkpoint_ = mark;
}

uint64_t Spool::beginSeq() const {
  std::lock_guard lock(mu_);
  return beginSeqLocked();
}

uint64_t Spool::beginSeqLocked() const {
  for (const auto& [first, segment] : segments_) {
    if (segment.unacked != 0) return first + segment.first_unacked;
  }
  return next_seq_;
}

uint64_t Spool::bytes() const {
  std::lock_guard lock(mu_);
  return total_bytes_;
}

SpoolStats Spool::stats() const {
  std::lock_guard lock(mu_);
  SpoolStats s;
  s.bytes = total_bytes_;
  s.pending = pending_;
  s.segments = segments_.size();
  s.replayed = replayed_;
  s.torn_records = torn_records_;
  s.mapped = mapped_;
  s.prefaulted_bytes = prefaulted_bytes_;
  for (const auto& [first, segment] : segments_) {
    if (segment.unacked == 0) continue;
    char time[8];
    if (preadAll(segment.fd, time, sizeof time, segment.offsets[segment.first_unacked] + 16)) {
      s.oldest_pending_unix_ms = get64(time);
    }
    break;
  }
  return s;
}

}  // namespace tollgate::gateway
