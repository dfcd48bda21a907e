#include "gateway/http/request_rules.h"

#include <string>

#include "gateway/http/http_fields.h"

namespace tollgate::gateway {
namespace {

namespace http = boost::beast::http;

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

HeadDecision refuse(int status, const char* code, std::string message) {
  HeadDecision d;
  d.error = GatewayError{status, code, std::move(message)};
  d.close = true;
  return d;
}

}  // namespace

HeadDecision checkRequestHead(const Fields& head, unsigned version) {
  // One pass over the fields: a lookup by name is a search of Beast's tree, and this runs on
  // every call. Every Transfer-Encoding line, in order, is one list of codings (RFC 9110
  // section 5.3).
  int te_lines = 0;
  int codings = 0;
  int chunked_at = -1;
  bool other = false;
  int expect_lines = 0;
  std::string_view expect;
  for (const auto& f : head) {
    if (f.name() == http::field::expect) {
      if (expect_lines++ == 0) expect = f.value();
      continue;
    }
    if (f.name() != http::field::transfer_encoding) continue;
    ++te_lines;
    const std::string_view value = f.value();
    size_t i = 0;
    while (i <= value.size()) {
      size_t j = value.find(',', i);
      if (j == std::string_view::npos) j = value.size();
      const auto coding = trim(value.substr(i, j - i));
      i = j + 1;
      if (coding.empty()) continue;
      if (iequals(coding, "chunked")) {
        if (chunked_at >= 0) {
          return refuse(400, "bad_http_request", "Transfer-Encoding names chunked twice");
        }
        chunked_at = codings;
      } else {
        other = true;
      }
      ++codings;
    }
  }
  // A field whose list is empty (",, ,") names no coding: Beast then reads no body, and what the
  // client meant as its body would be parsed as the next request (RFC 9112 6.3: 400, close).
  if (codings == 0 && te_lines > 0) {
    return refuse(400, "bad_http_request", "Transfer-Encoding names no transfer coding");
  }
  if (codings > 0) {
    if (version < 11) {
      return refuse(400, "bad_http_request", "Transfer-Encoding is not allowed in HTTP/1.0");
    }
    if (chunked_at != codings - 1) {
      return refuse(400, "bad_http_request",
                    "Transfer-Encoding must end with chunked: the body length is unknown");
    }
    if (other) {
      return refuse(501, "unsupported_transfer_coding",
                    "only the chunked transfer coding is accepted");
    }
  }

  HeadDecision d;
  if (!expect.empty()) {
    if (!iequals(trim(expect), "100-continue") || expect_lines > 1) {
      return refuse(417, "expectation_failed", "only Expect: 100-continue is supported");
    }
    // HTTP/1.0 clients cannot take an interim response (RFC 9110 section 10.1.1).
    d.expect_continue = version >= 11;
  }
  return d;
}

size_t dropTrailerFields(Fields& head, size_t count) {
  size_t seen = 0;
  size_t removed = 0;
  for (auto it = head.begin(); it != head.end();) {
    if (seen++ < count) {
      ++it;
      continue;
    }
    it = head.erase(it);
    ++removed;
  }
  return removed;
}

std::optional<GatewayError> checkModelName(std::string_view model) {
  if (model.size() <= kMaxModelNameBytes) return std::nullopt;
  return GatewayError{
      400, "invalid_request",
      "the model name is longer than " + std::to_string(kMaxModelNameBytes) + " bytes"};
}

std::string_view queryParameter(std::string_view target, std::string_view name) {
  const size_t q = target.find('?');
  if (q == std::string_view::npos) return {};
  std::string_view query = target.substr(q + 1);
  while (!query.empty()) {
    size_t amp = query.find('&');
    const auto pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
    const size_t eq = pair.find('=');
    if (pair.substr(0, eq) == name) {
      return eq == std::string_view::npos ? std::string_view{} : pair.substr(eq + 1);
    }
  }
  return {};
}

}  // namespace tollgate::gateway
