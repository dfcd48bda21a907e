#pragma once

#include <boost/beast/http/fields.hpp>
#include <iterator>
#include <string>
#include <string_view>

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
  // Every Connection line of `head` counts (a field named in a second line is hop-by-hop too).
  template <class Fields>
  static HopByHop of(const Fields& head) {
    auto [first, last] = head.equal_range(boost::beast::http::field::connection);
    if (first == last) return HopByHop(std::string_view{});
    if (std::next(first) == last) return HopByHop(std::string_view(first->value()));
    std::string joined;
    for (auto it = first; it != last; ++it) {
      if (!joined.empty()) joined.push_back(',');
      joined.append(it->value());
    }
    return HopByHop(std::move(joined));
  }
  HopByHop(const HopByHop&) = delete;
  HopByHop& operator=(const HopByHop&) = delete;

  bool operator()(boost::beast::http::field code, std::string_view name) const;

 private:
  explicit HopByHop(std::string joined);
  void scan();

  std::string owned_;  // the joined Connection lines when there are several
  std::string_view connection_;
  bool names_other_fields_ = false;
};

// Case-insensitive ASCII equality.
bool iequals(std::string_view a, std::string_view b);

}  // namespace tollgate::gateway
