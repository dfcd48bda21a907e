#include "gateway/upstream/aws_sigv4.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <array>

namespace tollgate::gateway {
namespace {

using Digest = std::array<unsigned char, 32>;

constexpr std::string_view kAlgorithm = "AWS4-HMAC-SHA256";

Digest sha256(std::string_view bytes) {
  Digest out{};
  unsigned int len = 0;
  EVP_Digest(bytes.data(), bytes.size(), out.data(), &len, EVP_sha256(), nullptr);
  return out;
}

Digest hmac(std::string_view key, std::string_view data) {
  Digest out{};
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), out.data(), &len);
  return out;
}

std::string_view view(const Digest& d) {
  return {reinterpret_cast<const char*>(d.data()), d.size()};
}

std::string hex(const Digest& d) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(d.size() * 2);
  for (unsigned char c : d) {
    out.push_back(kDigits[c >> 4]);
    out.push_back(kDigits[c & 0xF]);
  }
  return out;
}

bool unreserved(unsigned char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '.' || c == '_' || c == '~';
}

void encode(std::string_view in, std::string& out) {
  static constexpr char kDigits[] = "0123456789ABCDEF";
  for (unsigned char c : in) {
    if (unreserved(c)) {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kDigits[c >> 4]);
      out.push_back(kDigits[c & 0xF]);
    }
  }
}

int hexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// A malformed escape is kept as it is (then encoded: '%' becomes %25).
std::string decode(std::string_view in) {
  std::string out;
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] == '%' && i + 2 < in.size()) {
      const int hi = hexValue(in[i + 1]);
      const int lo = hexValue(in[i + 2]);
      if (hi >= 0 && lo >= 0) {
        out.push_back(static_cast<char>(hi * 16 + lo));
        i += 2;
        continue;
      }
    }
    out.push_back(in[i]);
  }
  return out;
}

std::string canonicalUri(std::string_view path) {
  if (path.empty()) return "/";
  std::string out;
  size_t from = 0;
  while (from <= path.size()) {
    size_t slash = path.find('/', from);
    if (slash == std::string_view::npos) slash = path.size();
    encode(path.substr(from, slash - from), out);
    if (slash < path.size()) out.push_back('/');
    from = slash + 1;
  }
  return out;
}

std::string canonicalQuery(std::string_view query) {
  std::vector<std::pair<std::string, std::string>> params;
  size_t from = 0;
  while (from < query.size()) {
    size_t amp = query.find('&', from);
    if (amp == std::string_view::npos) amp = query.size();
    const std::string_view param = query.substr(from, amp - from);
    from = amp + 1;
    if (param.empty()) continue;
    const size_t eq = param.find('=');
    std::string name;
    std::string value;
    encode(decode(param.substr(0, eq)), name);
    if (eq != std::string_view::npos) encode(decode(param.substr(eq + 1)), value);
    params.emplace_back(std::move(name), std::move(value));
  }
  std::sort(params.begin(), params.end());
  std::string out;
  for (const auto& [name, value] : params) {
    if (!out.empty()) out.push_back('&');
    out += name;
    out.push_back('=');
    out += value;
  }
  return out;
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

std::string trimmed(std::string_view v) {
  std::string out;
  bool space = false;
  for (char c : v) {
    if (c == ' ' || c == '\t') {
      space = !out.empty();
      continue;
    }
    if (space) out.push_back(' ');
    space = false;
    out.push_back(c);
  }
  return out;
}

}  // namespace

std::string sha256Hex(std::string_view bytes) { return hex(sha256(bytes)); }

AwsSigV4Signature signAwsSigV4(const AwsSigV4Request& request, const AwsCredentials& credentials,
                               const AwsSigV4Options& options) {
  AwsSigV4Signature sig;
  sig.content_sha256 = sha256Hex(request.body);

  std::vector<std::pair<std::string, std::string>> added{
      {"X-Amz-Date", std::string(options.amz_date)}};
  if (options.sign_content_sha256) added.emplace_back("X-Amz-Content-Sha256", sig.content_sha256);
  if (!credentials.session_token.empty()) {
    added.emplace_back("X-Amz-Security-Token", credentials.session_token);
  }

  // Stable sort by lowercased name keeps repeated headers in their order.
  std::vector<std::pair<std::string, std::string>> headers;
  for (const auto& [name, value] : request.headers)
    headers.emplace_back(lower(name), trimmed(value));
  for (const auto& [name, value] : added) headers.emplace_back(lower(name), value);
  std::stable_sort(headers.begin(), headers.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  std::string canonical_headers;
  std::string signed_headers;
  for (size_t i = 0; i < headers.size(); ++i) {
    if (i > 0 && headers[i].first == headers[i - 1].first) {
      canonical_headers.back() = ',';
    } else {
      if (!signed_headers.empty()) signed_headers.push_back(';');
      signed_headers += headers[i].first;
      canonical_headers += headers[i].first;
      canonical_headers.push_back(':');
    }
    canonical_headers += headers[i].second;
    canonical_headers.push_back('\n');
  }

  sig.canonical_request.append(request.method).push_back('\n');
  sig.canonical_request.append(canonicalUri(request.path)).push_back('\n');
  sig.canonical_request.append(canonicalQuery(request.query)).push_back('\n');
  sig.canonical_request.append(canonical_headers).push_back('\n');
  sig.canonical_request.append(signed_headers).push_back('\n');
  sig.canonical_request.append(sig.content_sha256);

  const std::string_view date = options.amz_date.substr(0, 8);
  std::string scope(date);
  scope.append("/")
      .append(options.region)
      .append("/")
      .append(options.service)
      .append("/aws4_request");
  sig.string_to_sign.append(kAlgorithm).push_back('\n');
  sig.string_to_sign.append(options.amz_date).push_back('\n');
  sig.string_to_sign.append(scope).push_back('\n');
  sig.string_to_sign.append(sha256Hex(sig.canonical_request));

  const Digest k_date = hmac("AWS4" + credentials.secret_access_key, date);
  const Digest k_region = hmac(view(k_date), options.region);
  const Digest k_service = hmac(view(k_region), options.service);
  const Digest k_signing = hmac(view(k_service), "aws4_request");
  sig.signature = hex(hmac(view(k_signing), sig.string_to_sign));

  sig.headers = std::move(added);
  sig.headers.emplace_back("Authorization", std::string(kAlgorithm) +
                                                " Credential=" + credentials.access_key_id + "/" +
                                                scope + ", SignedHeaders=" + signed_headers +
                                                ", Signature=" + sig.signature);
  return sig;
}

}  // namespace tollgate::gateway
