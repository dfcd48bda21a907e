#pragma once

#include <sys/types.h>

#include <cstdint>
#include <ctime>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

namespace tollgate::gateway {

// The spend clock of `tollgate --test-clock-file PATH` (docs/budgets.md, "A clock for tests"):
// "now" is the unix time written in the file, in seconds with up to three decimals
// ("1765540800" or "1765540800.250"), read again whenever the file changes (another inode,
// size or modification time). Time stands still between writes. Process-level tests move a
// gateway's periods, windows and hold expiry with it; a production gateway never has one.
// Thread-safe.
class FileClock {
 public:
  // Throws std::runtime_error when the file cannot be read or does not hold a time: a test
  // clock that silently fell back to the real one would make a test pass for the wrong reason.
  explicit FileClock(std::string path);

  // Unix milliseconds. A file that became unreadable or malformed keeps the last good time.
  int64_t nowMs();

  // "1765540800.25" -> 1765540800250; nullopt when the text is not such a time.
  static std::optional<int64_t> parse(std::string_view text);

 private:
  struct Stamp {
    ino_t inode = 0;
    off_t size = -1;
    timespec modified{};
    bool operator==(const Stamp& o) const {
      return inode == o.inode && size == o.size && modified.tv_sec == o.modified.tv_sec &&
             modified.tv_nsec == o.modified.tv_nsec;
    }
  };
  std::optional<int64_t> read(Stamp& stamp) const;

  std::string path_;
  std::mutex mutex_;
  Stamp stamp_;
  int64_t now_ms_ = 0;
};

}  // namespace tollgate::gateway
