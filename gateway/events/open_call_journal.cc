#include "gateway/events/open_call_journal.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <stdexcept>

namespace tollgate::gateway {
namespace {

constexpr std::string_view kPrefix = "open-calls-";
constexpr std::string_view kSuffix = ".jnl";

void setError(std::string* error, std::string_view what, const std::string& path) {
  if (error != nullptr) *error = std::string(what) + " " + path + ": " + std::strerror(errno);
}

void syncDir(const std::string& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return;
  ::fsync(fd);
  ::close(fd);
}

}  // namespace

OpenCallJournal::OpenCallJournal(Options options, uint64_t generation, size_t worker)
    : options_(std::move(options)) {
  std::error_code ec;
  std::filesystem::create_directories(options_.dir, ec);
  path_ = options_.dir + "/" + std::string(kPrefix) + std::to_string(generation) + "-" +
          std::to_string(worker) + std::string(kSuffix);
  fd_ = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0644);
  if (fd_ < 0) {
    throw std::runtime_error("events.open_calls.dir: cannot create " + path_ + ": " +
                             std::strerror(errno));
  }
  if (options_.fsync) syncDir(options_.dir);
}

OpenCallJournal::~OpenCallJournal() {
  if (fd_ >= 0) ::close(fd_);
}

void OpenCallJournal::removeFile() {
  if (fd_ < 0) return;
  ::close(fd_);
  fd_ = -1;
  ::unlink(path_.c_str());
}

bool OpenCallJournal::writeAll(int fd, std::string_view data, std::string* error) {
  size_t done = 0;
  while (done < data.size()) {
    const ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      setError(error, "write", path_);
      return false;
    }
    done += static_cast<size_t>(n);
  }
  return true;
}

bool OpenCallJournal::append(std::string_view records, std::string* error) {
  if (records.empty()) return true;
  if (fd_ < 0) return false;
  if (!writeAll(fd_, records, error)) {
    // Cut back what a short write left, so the next append starts on a record boundary.
    if (::ftruncate(fd_, static_cast<off_t>(bytes_)) != 0) setError(error, "truncate", path_);
    return false;
  }
  bytes_ += records.size();
  if (options_.fsync && ::fdatasync(fd_) != 0) {
    setError(error, "fdatasync", path_);
    return false;
  }
  return true;
}

bool OpenCallJournal::compact(std::string_view live_records, std::string* error) {
  const std::string tmp = path_ + ".tmp";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) {
    setError(error, "create", tmp);
    return false;
  }
  bool ok = writeAll(fd, live_records, error);
  // The new file must be whole on disk before it replaces the old one, else a machine crash
  // could leave neither.
  if (ok && options_.fsync && ::fdatasync(fd) != 0) {
    setError(error, "fdatasync", tmp);
    ok = false;
  }
  if (ok && ::rename(tmp.c_str(), path_.c_str()) != 0) {
    setError(error, "rename", tmp);
    ok = false;
  }
  if (!ok) {
    ::close(fd);
    ::unlink(tmp.c_str());
    return false;
  }
  if (options_.fsync) syncDir(options_.dir);
  ::close(fd_);
  fd_ = fd;
  bytes_ = live_records.size();
  return true;
}

bool OpenCallJournal::isJournalFile(std::string_view name) {
  return name.size() > kPrefix.size() + kSuffix.size() && name.starts_with(kPrefix) &&
         name.ends_with(kSuffix);
}

}  // namespace tollgate::gateway
