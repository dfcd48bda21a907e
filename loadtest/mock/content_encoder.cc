#include "loadtest/mock/content_encoder.h"

#include <brotli/encode.h>
#include <zlib.h>
#include <zstd.h>

#include <array>
#include <charconv>
#include <cstdint>
#include <stdexcept>

namespace tollgate::loadtest {
namespace {

// Fast levels: providers favour latency on event streams, and the mock is a benchmark upstream.
constexpr int kGzipLevel = 5;
constexpr int kBrotliQuality = 4;
constexpr int kBrotliWindow = 22;
constexpr int kZstdLevel = 3;
constexpr size_t kOutStep = 16 * 1024;

std::string_view trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

bool equalsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (x != b[i]) return false;
  }
  return true;
}

// q-value in thousandths ("q=0.5" -> 500); a malformed one counts as 0 (not acceptable).
int qValue(std::string_view params) {
  size_t start = 0;
  while (start < params.size()) {
    const size_t end = std::min(params.find(';', start), params.size());
    const std::string_view param = trim(params.substr(start, end - start));
    start = end + 1;
    if (param.size() < 2 || (param[0] != 'q' && param[0] != 'Q') || param[1] != '=') continue;
    const std::string_view value = param.substr(2);
    if (value.empty() || (value[0] != '0' && value[0] != '1')) return 0;
    int thousandths = (value[0] - '0') * 1000;
    if (value.size() > 1) {
      if (value[1] != '.') return 0;
      int scale = 100;
      for (char c : value.substr(2)) {
        if (c < '0' || c > '9' || scale == 0) return 0;
        thousandths += (c - '0') * scale;
        scale /= 10;
      }
    }
    return std::min(thousandths, 1000);
  }
  return 1000;
}

}  // namespace

std::string_view encodingName(Encoding encoding) {
  switch (encoding) {
    case Encoding::kGzip:
      return "gzip";
    case Encoding::kBrotli:
      return "br";
    case Encoding::kZstd:
      return "zstd";
    case Encoding::kIdentity:
      break;
  }
  return "identity";
}

std::optional<Encoding> parseEncoding(std::string_view name) {
  if (name == "identity") return Encoding::kIdentity;
  if (name == "gzip") return Encoding::kGzip;
  if (name == "br") return Encoding::kBrotli;
  if (name == "zstd") return Encoding::kZstd;
  return std::nullopt;
}

Encoding negotiateEncoding(std::string_view accept_encoding) {
  // Server preference, best first.
  constexpr std::array<Encoding, 3> kPreference = {Encoding::kBrotli, Encoding::kZstd,
                                                   Encoding::kGzip};
  std::array<int, 3> q = {-1, -1, -1};  // -1: not named
  int wildcard = -1;
  size_t start = 0;
  while (start < accept_encoding.size()) {
    const size_t end = std::min(accept_encoding.find(',', start), accept_encoding.size());
    const std::string_view item = trim(accept_encoding.substr(start, end - start));
    start = end + 1;
    const size_t semicolon = item.find(';');
    const std::string_view token = trim(item.substr(0, semicolon));
    const std::string_view params =
        semicolon == std::string_view::npos ? std::string_view() : item.substr(semicolon + 1);
    const int value = qValue(params);
    if (token == "*") {
      wildcard = value;
      continue;
    }
    for (size_t i = 0; i < kPreference.size(); ++i) {
      const bool match = equalsIgnoreCase(token, encodingName(kPreference[i])) ||
                         (kPreference[i] == Encoding::kGzip && equalsIgnoreCase(token, "x-gzip"));
      if (match) q[i] = value;
    }
  }
  Encoding best = Encoding::kIdentity;
  int best_q = 0;
  for (size_t i = 0; i < kPreference.size(); ++i) {
    const int value = q[i] >= 0 ? q[i] : wildcard;
    if (value > best_q) {
      best = kPreference[i];
      best_q = value;
    }
  }
  return best;
}

struct ContentEncoder::State {
  z_stream zlib{};
  bool zlib_ready = false;
  BrotliEncoderState* brotli = nullptr;
  ZSTD_CStream* zstd = nullptr;
};

ContentEncoder::ContentEncoder(Encoding encoding) : encoding_(encoding) {
  // Plain answers (the benchmarks' path) allocate nothing.
  if (encoding_ != Encoding::kIdentity) state_ = std::make_unique<State>();
  switch (encoding_) {
    case Encoding::kGzip:
      // windowBits 15 + 16: a gzip wrapper rather than zlib's.
      if (deflateInit2(&state_->zlib, kGzipLevel, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) !=
          Z_OK) {
        throw std::runtime_error("mock: deflateInit2 failed");
      }
      state_->zlib_ready = true;
      break;
    case Encoding::kBrotli:
      state_->brotli = BrotliEncoderCreateInstance(nullptr, nullptr, nullptr);
      if (state_->brotli == nullptr) throw std::runtime_error("mock: brotli encoder failed");
      BrotliEncoderSetParameter(state_->brotli, BROTLI_PARAM_QUALITY, kBrotliQuality);
      BrotliEncoderSetParameter(state_->brotli, BROTLI_PARAM_LGWIN, kBrotliWindow);
      break;
    case Encoding::kZstd:
      state_->zstd = ZSTD_createCStream();
      if (state_->zstd == nullptr) throw std::runtime_error("mock: zstd encoder failed");
      ZSTD_CCtx_setParameter(state_->zstd, ZSTD_c_compressionLevel, kZstdLevel);
      break;
    case Encoding::kIdentity:
      break;
  }
}

ContentEncoder::~ContentEncoder() {
  if (!state_) return;
  if (state_->zlib_ready) deflateEnd(&state_->zlib);
  if (state_->brotli != nullptr) BrotliEncoderDestroyInstance(state_->brotli);
  if (state_->zstd != nullptr) ZSTD_freeCStream(state_->zstd);
}

namespace {

void deflateInto(z_stream& zlib, std::string_view data, int flush, std::string& out) {
  zlib.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  zlib.avail_in = static_cast<uInt>(data.size());
  for (;;) {
    const size_t before = out.size();
    out.resize(before + kOutStep);
    zlib.next_out = reinterpret_cast<Bytef*>(out.data() + before);
    zlib.avail_out = static_cast<uInt>(kOutStep);
    const int result = deflate(&zlib, flush);
    out.resize(before + kOutStep - zlib.avail_out);
    if (result == Z_STREAM_END) return;
    if (result != Z_OK && result != Z_BUF_ERROR) throw std::runtime_error("mock: deflate failed");
    // Done once the input is used up and deflate had output space left over.
    if (zlib.avail_in == 0 && zlib.avail_out != 0) return;
  }
}

void brotliInto(BrotliEncoderState* brotli, std::string_view data, BrotliEncoderOperation op,
                std::string& out) {
  size_t available_in = data.size();
  const auto* next_in = reinterpret_cast<const uint8_t*>(data.data());
  for (;;) {
    const size_t before = out.size();
    out.resize(before + kOutStep);
    size_t available_out = kOutStep;
    auto* next_out = reinterpret_cast<uint8_t*>(out.data() + before);
    if (!BrotliEncoderCompressStream(brotli, op, &available_in, &next_in, &available_out, &next_out,
                                     nullptr)) {
      throw std::runtime_error("mock: brotli compression failed");
    }
    out.resize(before + kOutStep - available_out);
    if (available_in == 0 && !BrotliEncoderHasMoreOutput(brotli)) {
      if (op != BROTLI_OPERATION_FINISH || BrotliEncoderIsFinished(brotli)) return;
    }
  }
}

void zstdInto(ZSTD_CStream* zstd, std::string_view data, ZSTD_EndDirective directive,
              std::string& out) {
  ZSTD_inBuffer in{data.data(), data.size(), 0};
  for (;;) {
    const size_t before = out.size();
    out.resize(before + kOutStep);
    ZSTD_outBuffer buffer{out.data() + before, kOutStep, 0};
    const size_t remaining = ZSTD_compressStream2(zstd, &buffer, &in, directive);
    out.resize(before + buffer.pos);
    if (ZSTD_isError(remaining)) throw std::runtime_error("mock: zstd compression failed");
    if (remaining == 0 && in.pos == in.size) return;
  }
}

}  // namespace

void ContentEncoder::write(std::string_view data, std::string& out) {
  switch (encoding_) {
    case Encoding::kIdentity:
      out += data;
      return;
    case Encoding::kGzip:
      if (!data.empty()) deflateInto(state_->zlib, data, Z_SYNC_FLUSH, out);
      return;
    case Encoding::kBrotli:
      if (!data.empty()) brotliInto(state_->brotli, data, BROTLI_OPERATION_FLUSH, out);
      return;
    case Encoding::kZstd:
      if (!data.empty()) zstdInto(state_->zstd, data, ZSTD_e_flush, out);
      return;
  }
}

void ContentEncoder::finish(std::string& out) {
  switch (encoding_) {
    case Encoding::kIdentity:
      return;
    case Encoding::kGzip:
      deflateInto(state_->zlib, {}, Z_FINISH, out);
      return;
    case Encoding::kBrotli:
      brotliInto(state_->brotli, {}, BROTLI_OPERATION_FINISH, out);
      return;
    case Encoding::kZstd:
      zstdInto(state_->zstd, {}, ZSTD_e_end, out);
      return;
  }
}

}  // namespace tollgate::loadtest
