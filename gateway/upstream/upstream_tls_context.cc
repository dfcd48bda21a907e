#include "gateway/upstream/upstream_tls_context.h"

#include <stdexcept>

namespace tollgate::gateway {

namespace ssl = boost::asio::ssl;

std::unique_ptr<ssl::context> makeUpstreamTlsContext(const config::UpstreamTls& tls,
                                                     std::string& error) {
  auto ctx = std::make_unique<ssl::context>(ssl::context::tls_client);
  ctx->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                   ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1);
  boost::system::error_code ec;
  ctx->set_default_verify_paths(ec);
  if (!tls.ca_file.empty()) {
    ctx->load_verify_file(tls.ca_file, ec);
    if (ec) {
      error = "cannot load \"" + tls.ca_file + "\" as PEM certificates: " + ec.message();
      return nullptr;
    }
  }
  ctx->set_verify_mode(tls.verify ? ssl::verify_peer : ssl::verify_none);
  return ctx;
}

void checkUpstreamTls(const config::Config& config) {
  for (size_t i = 0; i < config.upstreams.size(); ++i) {
    const auto& upstream = config.upstreams[i];
    if (upstream.scheme != "https") continue;
    std::string error;
    if (!makeUpstreamTlsContext(upstream.tls, error)) {
      throw std::runtime_error("upstreams[" + std::to_string(i) + "].tls.ca_file: " + error);
    }
  }
}

}  // namespace tollgate::gateway
