#pragma once

#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace tollgate::testing {

// A child process started for a test (the gateway, the mock upstream, ...). Its stdout is read
// line by line through a pipe; stderr goes to a log file so a failing test can show it.
class Process {
 public:
  Process(std::string name, std::vector<std::string> argv,
          std::vector<std::pair<std::string, std::string>> env = {});
  ~Process();
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;

  // Next stdout line (the last one may lack its newline), or nullopt at EOF or when `timeout`
  // passes first.
  std::optional<std::string> readLine(std::chrono::milliseconds timeout);

  // Waits for a stdout line starting with `prefix`; returns the rest of the line.
  std::optional<std::string> waitForLine(const std::string& prefix,
                                         std::chrono::milliseconds timeout);

  void signal(int sig);
  // Waits for the exit; returns the exit status (128+signal when killed), nullopt on timeout.
  std::optional<int> wait(std::chrono::milliseconds timeout);
  bool running();
  pid_t pid() const { return pid_; }
  std::string stderrText() const;

 private:
  std::string name_;
  pid_t pid_ = -1;
  int stdout_fd_ = -1;
  std::string stderr_path_;
  std::string pending_;
  std::optional<int> status_;
};

// "127.0.0.1:1234" from a line like "tollgate listening on 127.0.0.1:1234 admin 127.0.0.1:99".
struct HostPort {
  std::string host;
  unsigned short port = 0;
};
HostPort parseHostPort(const std::string& text);

// A fresh temporary directory, removed with its contents on destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  const std::string& path() const { return path_; }
  std::string file(const std::string& name) const { return path_ + "/" + name; }
  void write(const std::string& name, const std::string& content) const;

 private:
  std::string path_;
};

// How many file descriptors a process has open (/proc/PID/fd).
size_t openDescriptors(pid_t pid);

// Directory holding the built binaries (tollgate, mock_upstream).
std::string binDir();

}  // namespace tollgate::testing
