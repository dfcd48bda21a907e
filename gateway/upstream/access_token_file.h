#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace tollgate::gateway {

// A bearer access token kept in a file (an upstream's credentials_file): a mounted Kubernetes
// secret, or what `gcloud auth print-access-token` wrote. Whoever refreshes the token rewrites
// the file; the file's identity (inode, size, modification time) is checked on every use and
// the token re-read when it changed, so the next call after a rotation carries the new token.
// One per worker and upstream: not thread-safe.
class AccessTokenFile {
 public:
  explicit AccessTokenFile(std::string path) : path_(std::move(path)) {}

  // The token (the file's first line, surrounding whitespace removed); "" when no file is
  // configured. A file that cannot be read or holds no token keeps the last token read: a
  // rotation in progress must not fail calls with a token that is still valid.
  std::string_view current();

  // Times the file was read (counted for tests and the reason a rotation took effect).
  uint64_t reads() const { return reads_; }

 private:
  struct Identity {
    uint64_t device = 0;
    uint64_t inode = 0;
    int64_t size = -1;
    int64_t modified_ns = 0;
    bool operator==(const Identity&) const = default;
  };

  std::string path_;
  std::string token_;
  Identity seen_;
  uint64_t reads_ = 0;
};

}  // namespace tollgate::gateway
