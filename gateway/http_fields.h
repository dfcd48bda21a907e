#pragma once

#include <string_view>

#include <boost/beast/http/fields.hpp>

namespace tollgate::gateway {

// True for fields that describe one hop, never forwarded (RFC 9110 section 7.6.1): Connection,
// the fields it names, and Proxy-Connection, Keep-Alive, TE, Transfer-Encoding, Upgrade,
// Proxy-Authorization, Proxy-Authenticate. Content-Length is recomputed by whoever frames the
// next hop, so it is treated as hop-local too.
bool isHopByHop(std::string_view name, std::string_view connection_header);

// Copies every end-to-end field of `from` into `to` for which `keep(name)` is true.
template <class Keep>
void copyEndToEnd(const boost::beast::http::fields& from, boost::beast::http::fields& to,
                  Keep&& keep) {
  const auto connection = from[boost::beast::http::field::connection];
  for (const auto& f : from) {
    const auto name = f.name_string();
    if (isHopByHop(name, connection) || !keep(name)) continue;
    to.insert(f.name(), name, f.value());
  }
}

// Case-insensitive ASCII equality.
bool iequals(std::string_view a, std::string_view b);

}  // namespace tollgate::gateway
