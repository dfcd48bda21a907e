#pragma once

#include <boost/asio/ssl/context.hpp>
#include <memory>
#include <string>

#include "config/config.h"

namespace tollgate::gateway {

// The client TLS context of one upstream endpoint: TLS 1.2 or later, the system's CA paths plus
// tls.ca_file, peer verification when tls.verify. Null, with `error` set, when tls.ca_file cannot
// be loaded as PEM certificates.
std::unique_ptr<boost::asio::ssl::context> makeUpstreamTlsContext(const config::UpstreamTls& tls,
                                                                  std::string& error);

// Builds the TLS context of every https upstream once, so that a CA file that is not a PEM
// bundle stops the start (or refuses a reload) instead of failing each call. Throws
// std::runtime_error naming the key ("upstreams[2].tls.ca_file: ...").
void checkUpstreamTls(const config::Config& config);

}  // namespace tollgate::gateway
