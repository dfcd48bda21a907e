#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace tollgate::loadtest {

// The HTTP content codings the mock can answer with (RFC 9110 8.4.1).
enum class Encoding { kIdentity, kGzip, kBrotli, kZstd };

// "identity", "gzip", "br", "zstd": the Content-Encoding token.
std::string_view encodingName(Encoding encoding);
std::optional<Encoding> parseEncoding(std::string_view name);

// What a real provider picks for a request's Accept-Encoding: the acceptable coding with the
// highest q-value, ties broken as Cloudflare does (br, zstd, gzip); identity when the header is
// absent or allows none of them.
Encoding negotiateEncoding(std::string_view accept_encoding);

// A streaming compressor that flushes after every write, so that a client can decode each SSE
// event as soon as it arrives (what real servers do for event streams).
class ContentEncoder {
 public:
  explicit ContentEncoder(Encoding encoding);
  ~ContentEncoder();
  ContentEncoder(const ContentEncoder&) = delete;
  ContentEncoder& operator=(const ContentEncoder&) = delete;

  Encoding encoding() const { return encoding_; }

  // Appends the compressed, flushed form of `data` to `out` (identity: `data` itself).
  void write(std::string_view data, std::string& out);

  // Appends the end of the compressed stream (gzip trailer, last brotli block, zstd epilogue).
  void finish(std::string& out);

 private:
  struct State;
  Encoding encoding_;
  std::unique_ptr<State> state_;
};

}  // namespace tollgate::loadtest
