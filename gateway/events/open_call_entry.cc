#include "gateway/events/open_call_entry.h"

#include <cstring>

#include "gateway/events/spool.h"

namespace tollgate::gateway {
namespace {

// A record bigger than this is not one the gateway wrote (attribution labels are at most 64
// bytes, tags bounded): its length is damage, not data.
constexpr uint32_t kMaxRecordBytes = 1u << 20;
constexpr size_t kFrameBytes = 8;

void putU32(uint32_t v, std::string& out) {
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}
void putU64(uint64_t v, std::string& out) {
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}
void putI64(int64_t v, std::string& out) { putU64(static_cast<uint64_t>(v), out); }
void putString(std::string_view s, std::string& out) {
  putU32(static_cast<uint32_t>(s.size()), out);
  out.append(s);
}
void putDouble(double v, std::string& out) {
  uint64_t bits = 0;
  std::memcpy(&bits, &v, sizeof bits);
  putU64(bits, out);
}

uint32_t getU32At(std::string_view in, size_t at) {
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i)
    v |= static_cast<uint32_t>(static_cast<uint8_t>(in[at + i])) << (8 * i);
  return v;
}

// Reads fields from one record's body; any read past its end fails the whole record.
class Reader {
 public:
  explicit Reader(std::string_view body) : in_(body) {}
  bool ok() const { return ok_; }
  bool atEnd() const { return pos_ == in_.size(); }

  uint8_t u8() {
    if (!need(1)) return 0;
    return static_cast<uint8_t>(in_[pos_++]);
  }
  uint32_t u32() {
    if (!need(4)) return 0;
    const uint32_t v = getU32At(in_, pos_);
    pos_ += 4;
    return v;
  }
  uint64_t u64() {
    if (!need(8)) return 0;
    uint64_t v = 0;
    for (int i = 0; i < 8; ++i) {
      v |= static_cast<uint64_t>(static_cast<uint8_t>(in_[pos_ + i])) << (8 * i);
    }
    pos_ += 8;
    return v;
  }
  int64_t i64() { return static_cast<int64_t>(u64()); }
  double f64() {
    const uint64_t bits = u64();
    double v = 0;
    std::memcpy(&v, &bits, sizeof v);
    return v;
  }
  std::string str() {
    const uint32_t n = u32();
    if (!need(n)) return {};
    std::string s(in_.substr(pos_, n));
    pos_ += n;
    return s;
  }

 private:
  bool need(size_t n) {
    if (!ok_ || in_.size() - pos_ < n) {
      ok_ = false;
      return false;
    }
    return true;
  }
  std::string_view in_;
  size_t pos_ = 0;
  bool ok_ = true;
};

void putUsage(const meter::Usage& u, std::string& out) {
  putI64(u.input_tokens, out);
  putI64(u.cache_read_tokens, out);
  putI64(u.cache_write_tokens, out);
  putI64(u.cache_write_1h_tokens, out);
  putI64(u.output_tokens, out);
  putI64(u.reasoning_tokens, out);
}
meter::Usage getUsage(Reader& r) {
  meter::Usage u;
  u.input_tokens = r.i64();
  u.cache_read_tokens = r.i64();
  u.cache_write_tokens = r.i64();
  u.cache_write_1h_tokens = r.i64();
  u.output_tokens = r.i64();
  u.reasoning_tokens = r.i64();
  return u;
}

void putProgress(const OpenCallEntry& e, std::string& out) {
  putI64(e.at_unix_ns, out);
  putI64(e.status, out);
  putString(e.model, out);
  putString(e.answer_service_tier, out);
  putDouble(e.ttft_ms, out);
  putUsage(e.provider_so_far, out);
  out.push_back(e.input_known ? 1 : 0);
  putI64(e.output_bytes, out);
}
void getProgress(Reader& r, OpenCallEntry& e) {
  e.at_unix_ns = r.i64();
  const int64_t status = r.i64();
  e.status = status >= 0 && status < 1000 ? static_cast<int>(status) : 0;
  e.model = r.str();
  e.answer_service_tier = r.str();
  e.ttft_ms = r.f64();
  e.provider_so_far = getUsage(r);
  e.input_known = r.u8() != 0;
  e.output_bytes = r.i64();
}

void putStart(const OpenCallEntry& e, std::string& out) {
  putString(e.source, out);
  putString(e.request_id, out);
  putString(e.trace_id, out);
  const auto& a = e.attribution;
  putString(a.team, out);
  putString(a.project, out);
  putString(a.cost_center, out);
  putString(a.workload_type, out);
  putString(a.environment, out);
  putU32(static_cast<uint32_t>(a.tags.size()), out);
  for (const auto& [k, v] : a.tags) {
    putString(k, out);
    putString(v, out);
  }
  putString(a.key_id, out);
  out.push_back(a.allocated ? 1 : 0);
  putString(e.upstream, out);
  putString(e.provider, out);
  putString(e.operation, out);
  putString(e.endpoint, out);
  putString(e.model_requested, out);
  putString(e.request_service_tier, out);
  out.push_back(e.stream ? 1 : 0);
  putI64(e.start_unix_ns, out);
  putI64(e.input_estimate, out);
}
void getStart(Reader& r, OpenCallEntry& e) {
  e.source = r.str();
  e.request_id = r.str();
  e.trace_id = r.str();
  auto& a = e.attribution;
  a.team = r.str();
  a.project = r.str();
  a.cost_center = r.str();
  a.workload_type = r.str();
  a.environment = r.str();
  const uint32_t tags = r.u32();
  for (uint32_t i = 0; i < tags && r.ok(); ++i) {
    std::string k = r.str();
    std::string v = r.str();
    if (r.ok()) a.tags.emplace_back(std::move(k), std::move(v));
  }
  a.key_id = r.str();
  a.allocated = r.u8() != 0;
  e.upstream = r.str();
  e.provider = r.str();
  e.operation = r.str();
  e.endpoint = r.str();
  e.model_requested = r.str();
  e.request_service_tier = r.str();
  e.stream = r.u8() != 0;
  e.start_unix_ns = r.i64();
  e.input_estimate = r.i64();
}

bool decodeBody(std::string_view body, OpenCallEntry& e) {
  Reader r(body);
  const uint8_t kind = r.u8();
  if (kind < 1 || kind > 3) return false;
  e.kind = static_cast<OpenCallEntry::Kind>(kind);
  e.id = r.str();
  if (e.kind == OpenCallEntry::Kind::kOpen) getStart(r, e);
  if (e.kind != OpenCallEntry::Kind::kClose) getProgress(r, e);
  return r.ok() && r.atEnd() && !e.id.empty();
}

}  // namespace

void appendOpenCallRecord(const OpenCallEntry& entry, std::string& out) {
  const size_t frame = out.size();
  out.append(kFrameBytes, '\0');
  out.push_back(static_cast<char>(entry.kind));
  putString(entry.id, out);
  if (entry.kind == OpenCallEntry::Kind::kOpen) putStart(entry, out);
  if (entry.kind != OpenCallEntry::Kind::kClose) putProgress(entry, out);
  const std::string_view body(out.data() + frame + kFrameBytes, out.size() - frame - kFrameBytes);
  std::string header;
  putU32(static_cast<uint32_t>(body.size()), header);
  putU32(crc32c(body), header);
  out.replace(frame, kFrameBytes, header);
}

OpenCallScan readOpenCallRecords(std::string_view bytes) {
  OpenCallScan scan;
  size_t pos = 0;
  while (pos < bytes.size()) {
    if (bytes.size() - pos < kFrameBytes) {
      ++scan.torn;
      break;
    }
    const uint32_t length = getU32At(bytes, pos);
    const uint32_t crc = getU32At(bytes, pos + 4);
    if (length == 0 || length > kMaxRecordBytes) {
      // Nothing frames what follows: the rest of the file cannot be read.
      ++scan.corrupt;
      break;
    }
    if (bytes.size() - pos - kFrameBytes < length) {
      ++scan.torn;
      break;
    }
    const std::string_view body = bytes.substr(pos + kFrameBytes, length);
    pos += kFrameBytes + length;
    OpenCallEntry entry;
    if (crc32c(body) != crc || !decodeBody(body, entry)) {
      ++scan.corrupt;
      continue;
    }
    scan.entries.push_back(std::move(entry));
  }
  return scan;
}

}  // namespace tollgate::gateway
