#include "gateway/upstream/access_token_file.h"

#include <sys/stat.h>

#include <fstream>
#include <iterator>

namespace tollgate::gateway {
namespace {

constexpr size_t kMaxTokenBytes = 16 * 1024;  // Google access tokens are about 200 bytes

bool isSpace(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

// The first line of `text` without surrounding whitespace; "" when it holds a control character
// (a token that cannot be a header value).
std::string_view tokenOf(std::string_view text) {
  while (!text.empty() && isSpace(text.front())) text.remove_prefix(1);
  text = text.substr(0, text.find('\n'));
  while (!text.empty() && isSpace(text.back())) text.remove_suffix(1);
  for (const char c : text) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) return {};
  }
  return text;
}

}  // namespace

std::string_view AccessTokenFile::current() {
  if (path_.empty()) return {};
  struct stat st {};
  if (::stat(path_.c_str(), &st) != 0) return token_;
  const Identity now{static_cast<uint64_t>(st.st_dev), static_cast<uint64_t>(st.st_ino),
                     static_cast<int64_t>(st.st_size),
                     static_cast<int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec};
  if (now == seen_) return token_;
  ++reads_;
  std::ifstream in(path_, std::ios::binary);
  std::string text;
  text.resize(kMaxTokenBytes);
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  text.resize(static_cast<size_t>(in.gcount()));
  const std::string_view token = tokenOf(text);
  if (token.empty()) return token_;  // read again next time: the writer may not be done
  seen_ = now;
  token_.assign(token);
  return token_;
}

}  // namespace tollgate::gateway
