#include "ledger/file_ingest.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <vector>

#include "ledger/cost_event_parser.h"

namespace tollgate::ledger {
namespace {

constexpr int64_t kReadBytes = 4 << 20;

class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

}  // namespace

std::optional<IngestStats> FileIngest::run(std::string& error, const BatchCallback& on_batch,
                                           const MalformedCallback& on_malformed) {
  const std::string source = "file:" + config_.source_file;
  auto start = store_.sourcePosition(source, error);
  if (!start) return std::nullopt;
  IngestStats stats;
  stats.position = *start;

  Fd fd(::open(config_.source_file.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) {
    error = "cannot open " + config_.source_file + ": " + std::strerror(errno);
    return std::nullopt;
  }
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) {
    error = "cannot stat " + config_.source_file + ": " + std::strerror(errno);
    return std::nullopt;
  }
  if (st.st_size < stats.position) {
    error = config_.source_file + " is shorter (" + std::to_string(st.st_size) +
            " bytes) than the position already booked (" + std::to_string(stats.position) +
            "): was it truncated or replaced?";
    return std::nullopt;
  }

  CostEventParser parser;
  std::vector<CostRecord> records;
  std::vector<std::string> raw_lines;
  records.reserve(config_.batch_events);
  std::string buffer;
  size_t consumed = 0;                    // bytes of buffer already handled
  int64_t buffer_start = stats.position;  // file offset of buffer[0]
  int64_t batch_end = stats.position;     // file offset after the last line handled

  auto commit = [&]() -> bool {
    std::vector<std::string_view> raw(raw_lines.begin(), raw_lines.end());
    auto result = store_.commitBatch({{source, batch_end}}, records, raw, error);
    if (!result) return false;
    stats.booked += result->booked;
    stats.duplicates += result->duplicates;
    stats.position = batch_end;
    ++stats.batches;
    records.clear();
    raw_lines.clear();
    if (on_batch) on_batch(stats);
    return true;
  };

  size_t batch_lines = 0;
  bool eof = false;
  while (!eof) {
    // Keep the unfinished tail, then read more after it.
    buffer.erase(0, consumed);
    buffer_start += static_cast<int64_t>(consumed);
    consumed = 0;
    const size_t old_size = buffer.size();
    // Only up to the size seen at the start: a file the gateway keeps appending to is read
    // again by the next run, not chased forever.
    const int64_t read_at = buffer_start + static_cast<int64_t>(old_size);
    const auto want = static_cast<size_t>(std::min<int64_t>(kReadBytes, st.st_size - read_at));
    buffer.resize(old_size + want);
    const ssize_t n = want == 0 ? 0 : ::pread(fd.get(), buffer.data() + old_size, want, read_at);
    if (n < 0) {
      error = "cannot read " + config_.source_file + ": " + std::strerror(errno);
      return std::nullopt;
    }
    buffer.resize(old_size + static_cast<size_t>(n));
    eof = n == 0;
    while (true) {
      const size_t newline = buffer.find('\n', consumed);
      if (newline == std::string::npos) break;
      const std::string_view line(buffer.data() + consumed, newline - consumed);
      const int64_t line_offset = buffer_start + static_cast<int64_t>(consumed);
      consumed = newline + 1;
      batch_end = buffer_start + static_cast<int64_t>(consumed);
      if (line.find_first_not_of(" \t\r") == std::string_view::npos) continue;
      ++stats.lines;
      ++batch_lines;
      auto parsed = parser.parse(line);
      if (parsed.status == ParseStatus::kRecord) {
        records.push_back(std::move(parsed.record));
        if (config_.keep_raw) raw_lines.emplace_back(line);
      } else if (parsed.status == ParseStatus::kOtherType) {
        ++stats.other_types;
      } else {
        ++stats.malformed;
        if (on_malformed) on_malformed(line_offset, parsed.error);
      }
      if (batch_lines >= config_.batch_events) {
        if (!commit()) return std::nullopt;
        batch_lines = 0;
      }
    }
  }
  stats.partial_line_left = consumed < buffer.size();
  if (batch_end != stats.position || !records.empty()) {
    if (!commit()) return std::nullopt;
  }
  return stats;
}

}  // namespace tollgate::ledger
