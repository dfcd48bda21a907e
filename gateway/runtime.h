#pragma once

#include <memory>

#include "config/config.h"
#include "gateway/admission.h"
#include "gateway/router.h"
#include "gateway/upstream_tls_context.h"
#include "meter/price_book.h"

namespace tollgate::gateway {

// Everything derived from one configuration, immutable: shared by all workers as
// shared_ptr<const Runtime>. A reload builds a new one and swaps the pointer; calls in flight
// keep the snapshot they started with. Throws std::runtime_error naming the key when the
// configuration cannot be used (a CA file that is not PEM): the start fails, a reload is refused.
struct Runtime {
  explicit Runtime(std::shared_ptr<const config::Config> cfg)
      : config(std::move(cfg)),
        prices(config->price_catalog_version, config->prices, config->default_prices),
        router(*config),
        admission(*config) {
    checkUpstreamTls(*config);
  }

  std::shared_ptr<const config::Config> config;
  meter::PriceBook prices;
  Router router;
  AdmissionController admission;  // holds the key table: a reload swaps keys with prices
};

}  // namespace tollgate::gateway
