#pragma once

#include <string_view>

#include <boost/beast/http/fields.hpp>

namespace tollgate::gateway {

// Tells the fields of one head that describe one hop, never forwarded (RFC 9110 section 7.6.1):
// Connection, the fields it names, and Proxy-Connection, Keep-Alive, TE, Transfer-Encoding,
// Upgrade, Proxy-Authorization, Proxy-Authenticate. Content-Length is recomputed by whoever
// frames the next hop, so it is treated as hop-local too. Fields are told by Beast's field code
// (the fixed list is a switch), and the Connection header is scanned once per head, not per
// field (its usual values, keep-alive and close, name no other field).
class HopByHop {
 public:
  explicit HopByHop(std::string_view connection_header);
  bool operator()(boost::beast::http::field code, std::string_view name) const;

 private:
  std::string_view connection_;
  bool names_other_fields_ = false;
};

// Case-insensitive ASCII equality.
bool iequals(std::string_view a, std::string_view b);

}  // namespace tollgate::gateway
