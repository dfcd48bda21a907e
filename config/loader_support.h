#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/config_loader.h"

// Shared by the configuration's section readers (config/*_section.cc): bounds, key paths and
// small text helpers. Internal to config/.
namespace tollgate::config {

using Errors = std::vector<ConfigError>;

inline constexpr uint64_t kMaxWorkers = 1024;
// Deadlines are computed as now() + timeout; a day keeps that far from any clock overflow.
inline constexpr uint64_t kMaxTimeoutMs = 86'400'000;
// Beast takes the header limit as a 32-bit value; a megabyte of headers is already absurd.
inline constexpr uint64_t kMaxHeaderBytes = 1'048'576;
// Bounds the memory that queued events may hold when the sink falls behind.
inline constexpr uint64_t kMaxQueueCapacity = 16'777'216;
// Spool bounds: a segment must hold a few events; a terabyte of backlog is far past any outage.
inline constexpr uint64_t kMinSegmentBytes = 4'096;
inline constexpr uint64_t kMaxSegmentBytes = 1ull << 30;
inline constexpr uint64_t kMaxSpoolBytes = 1ull << 40;
inline constexpr uint64_t kMaxIdleConnections = 65'536;
inline constexpr uint64_t kMaxConnections = 1'048'576;
inline constexpr uint64_t kMaxSpanBatch = 65'536;
// Every label value is a time series in every scraper: ten thousand is already a lot.
inline constexpr uint64_t kMaxLabelValues = 10'000;

inline constexpr std::string_view kPriceMessage =
    "must be a decimal string of USD per 1M tokens with at most 6 decimal places";

struct HostPort {
  std::string host;  // IPv6 literals without brackets
  std::optional<uint64_t> port;
  bool bad_port = false;
};

std::string quoteKey(std::string_view text);

bool isPlainKey(std::string_view key);

// Keys that are data (globs, header names, librdkafka properties) may hold dots or spaces, so
// they are quoted whenever a reader could not otherwise tell where the key ends.
std::string keyPath(const std::string& parent, std::string_view key, bool always_quote = false);

std::string indexPath(const std::string& parent, size_t index);

std::string lowerAscii(std::string_view text);

std::optional<uint64_t> parseUnsigned(std::string_view text);

bool isHttpToken(std::string_view name);

// The gateway owns message framing and the connection; an injected value for one of these
// would desynchronise it from the upstream.
bool isManagedHeader(std::string_view lower_name);

bool isHostChar(unsigned char c);

bool isIpv6Literal(std::string_view text);

// "host", "host:port", "[v6]" or "[v6]:port". nullopt when the host part is malformed.
std::optional<HostPort> splitHostPort(std::string_view text);

}  // namespace tollgate::config
