#pragma once

#include <cstddef>

#include "config/config.h"

namespace tollgate::gateway {

// Where one attempt of a call goes: the upstream (its name, dialect, credentials, pool key).
struct UpstreamPick {
  const config::UpstreamConfig* endpoint = nullptr;  // nullptr: nothing left to try
};

// The endpoints one configured upstream may be reached at, and which one each attempt of a
// call goes to. Today an upstream is one endpoint (its base_url): every attempt picks it. This
// is where balancing, health and fallbacks plug in (docs/architecture.md).
class UpstreamSet {
 public:
  explicit UpstreamSet(const config::UpstreamConfig& upstream) : upstream_(&upstream) {}

  const config::UpstreamConfig& config() const { return *upstream_; }

  // The endpoint for attempt `attempt` (0 for the first) of a call.
  UpstreamPick pick(unsigned attempt) const;

 private:
  const config::UpstreamConfig* upstream_;
};

}  // namespace tollgate::gateway
