#include "gateway/http_fields.h"

#include <array>

namespace tollgate::gateway {
namespace {

char lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

constexpr std::array<std::string_view, 10> kHopByHop = {
    "connection", "proxy-connection", "keep-alive",          "te",
    "transfer-encoding", "upgrade",   "proxy-authorization", "proxy-authenticate",
    "content-length", "trailer"};

bool connectionNames(std::string_view connection, std::string_view name) {
  size_t i = 0;
  while (i < connection.size()) {
    size_t j = connection.find(',', i);
    if (j == std::string_view::npos) j = connection.size();
    auto token = connection.substr(i, j - i);
    while (!token.empty() && (token.front() == ' ' || token.front() == '\t')) token.remove_prefix(1);
    while (!token.empty() && (token.back() == ' ' || token.back() == '\t')) token.remove_suffix(1);
    if (iequals(token, name)) return true;
    i = j + 1;
  }
  return false;
}

}  // namespace

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

bool isHopByHop(std::string_view name, std::string_view connection_header) {
  for (const auto h : kHopByHop) {
    if (iequals(name, h)) return true;
  }
  return !connection_header.empty() && connectionNames(connection_header, name);
}

}  // namespace tollgate::gateway
