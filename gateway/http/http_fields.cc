#include "gateway/http/http_fields.h"

namespace tollgate::gateway {
namespace {

char lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

bool connectionNames(std::string_view connection, std::string_view name) {
  size_t i = 0;
  while (i < connection.size()) {
    size_t j = connection.find(',', i);
    if (j == std::string_view::npos) j = connection.size();
    auto token = connection.substr(i, j - i);
    while (!token.empty() && (token.front() == ' ' || token.front() == '\t'))
      token.remove_prefix(1);
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

HopByHop::HopByHop(std::string_view connection_header) : connection_(connection_header) { scan(); }

HopByHop::HopByHop(std::string joined) : owned_(std::move(joined)), connection_(owned_) { scan(); }

void HopByHop::scan() {
  size_t i = 0;
  while (i < connection_.size() && !names_other_fields_) {
    size_t j = connection_.find(',', i);
    if (j == std::string_view::npos) j = connection_.size();
    auto token = connection_.substr(i, j - i);
    while (!token.empty() && (token.front() == ' ' || token.front() == '\t'))
      token.remove_prefix(1);
    while (!token.empty() && (token.back() == ' ' || token.back() == '\t')) token.remove_suffix(1);
    names_other_fields_ =
        !token.empty() && !iequals(token, "keep-alive") && !iequals(token, "close");
    i = j + 1;
  }
}

bool HopByHop::operator()(boost::beast::http::field code, std::string_view name) const {
  using boost::beast::http::field;
  switch (code) {
    case field::connection:
    case field::proxy_connection:
    case field::keep_alive:
    case field::te:
    case field::transfer_encoding:
    case field::upgrade:
    case field::proxy_authorization:
    case field::proxy_authenticate:
    case field::content_length:
    case field::trailer:
      return true;
    default:
      return names_other_fields_ && connectionNames(connection_, name);
  }
}

}  // namespace tollgate::gateway
