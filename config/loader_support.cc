#include "config/loader_support.h"

#include <algorithm>
#include <cctype>

namespace tollgate::config {

std::string quoteKey(std::string_view text) {
  std::string out = "\"";
  for (char c : text) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  out += '"';
  return out;
}

bool isPlainKey(std::string_view key) {
  return !key.empty() && std::all_of(key.begin(), key.end(), [](unsigned char c) {
    return std::isalnum(c) || c == '_' || c == '-';
  });
}

// Keys that are data (globs, header names, librdkafka properties) may hold dots or spaces, so
// they are quoted whenever a reader could not otherwise tell where the key ends.
std::string keyPath(const std::string& parent, std::string_view key, bool always_quote) {
  std::string out = parent;
  if (!out.empty()) out += '.';
  out += (always_quote || !isPlainKey(key)) ? quoteKey(key) : std::string(key);
  return out;
}

std::string indexPath(const std::string& parent, size_t index) {
  return parent + "[" + std::to_string(index) + "]";
}

std::string lowerAscii(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::optional<uint64_t> parseUnsigned(std::string_view text) {
  if (text.empty() || text.size() > 20) return std::nullopt;
  uint64_t value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    const uint64_t digit = static_cast<uint64_t>(c - '0');
    if (value > (UINT64_MAX - digit) / 10) return std::nullopt;
    value = value * 10 + digit;
  }
  return value;
}

bool isHttpToken(std::string_view name) {
  static constexpr std::string_view kSpecials = "!#$%&'*+-.^_`|~";
  return !name.empty() && std::all_of(name.begin(), name.end(), [](unsigned char c) {
    return std::isalnum(c) || kSpecials.find(static_cast<char>(c)) != std::string_view::npos;
  });
}

// The gateway owns message framing and the connection; an injected value for one of these
// would desynchronise it from the upstream.
bool isManagedHeader(std::string_view lower_name) {
  static constexpr std::string_view kManaged[] = {
      "host", "content-length", "transfer-encoding", "connection", "keep-alive", "upgrade",
      "te",   "trailer",        "proxy-connection"};
  return std::find(std::begin(kManaged), std::end(kManaged), lower_name) != std::end(kManaged);
}

bool isHostChar(unsigned char c) { return std::isalnum(c) || c == '.' || c == '-' || c == '_'; }

bool isIpv6Literal(std::string_view text) {
  return !text.empty() && text.find(':') != std::string_view::npos &&
         std::all_of(text.begin(), text.end(),
                     [](unsigned char c) { return std::isxdigit(c) || c == ':' || c == '.'; });
}

// "host", "host:port", "[v6]" or "[v6]:port". nullopt when the host part is malformed.
std::optional<HostPort> splitHostPort(std::string_view text) {
  HostPort out;
  std::string_view rest;
  if (!text.empty() && text.front() == '[') {
    const size_t close = text.find(']');
    if (close == std::string_view::npos) return std::nullopt;
    const std::string_view host = text.substr(1, close - 1);
    if (!isIpv6Literal(host)) return std::nullopt;
    out.host = std::string(host);
    rest = text.substr(close + 1);
  } else {
    const size_t colon = text.find(':');
    const std::string_view host = text.substr(0, colon);
    if (host.empty() ||
        !std::all_of(host.begin(), host.end(), [](unsigned char c) { return isHostChar(c); })) {
      return std::nullopt;
    }
    out.host = std::string(host);
    rest = colon == std::string_view::npos ? std::string_view{} : text.substr(colon);
  }
  if (rest.empty()) return out;
  if (rest.front() != ':') return std::nullopt;
  const auto port = parseUnsigned(rest.substr(1));
  if (!port || *port > 65535) {
    out.bad_port = true;
  } else {
    out.port = port;
  }
  return out;
}

}  // namespace tollgate::config
