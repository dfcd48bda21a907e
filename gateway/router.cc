#include "gateway/router.h"

#include "meter/glob.h"
#include "meter/openai_dialect.h"

namespace tollgate::gateway {
namespace {

const meter::OpenAiDialect kOpenAi;

}  // namespace

Router::Router(const config::Config& config) : config_(config) {}

Endpoint Router::endpointFor(std::string_view path) const {
  if (path == "/v1/chat/completions" || path == "/v1/completions" || path == "/v1/embeddings") {
    return {&kOpenAi};
  }
  return {};
}

const config::UpstreamConfig* Router::route(std::string_view dialect,
                                            std::string_view model) const {
  for (const auto& upstream : config_.upstreams) {
    if (upstream.dialect != dialect) continue;
    for (const auto& pattern : upstream.models) {
      if (meter::globMatch(pattern, model)) return &upstream;
    }
  }
  return nullptr;
}

size_t Router::indexOf(const config::UpstreamConfig* upstream) const {
  return static_cast<size_t>(upstream - config_.upstreams.data());
}

}  // namespace tollgate::gateway
