#include "gateway/upstream/endpoint_set.h"

#include <algorithm>

namespace tollgate::gateway {

EndpointSet::EndpointSet(const config::UpstreamConfig& upstream, Clock::time_point now)
    : max_outstanding_(upstream.max_outstanding) {
  endpoints_.reserve(upstream.endpoints.size());
  for (const auto& endpoint : upstream.endpoints) {
    endpoints_.emplace_back(upstream, endpoint.weight, kInitialLatency, kLatencyDecay, now);
  }
  const size_t n = endpoints_.size();
  const size_t share = n * upstream.outlier_detection.max_ejected_percent / 100;
  max_ejected_ = std::min(share, n == 0 ? 0 : n - 1);
  candidates_.reserve(n);
  stats_.assign(n, nullptr);
}

void EndpointSet::attachStats(size_t i, EndpointStats& stats, Clock::time_point now) {
  stats_[i] = &stats;
  stats.published.store(true, std::memory_order_relaxed);
  publish(i, now);
}

void EndpointSet::publish(size_t i, Clock::time_point now) {
  EndpointStats* s = stats_[i];
  if (s == nullptr) return;
  const EndpointState& e = endpoints_[i];
  s->latency_ns.store(e.latency.estimate(now), std::memory_order_relaxed);
  s->latency_stamp_ns.store(EndpointStats::nanos(now), std::memory_order_relaxed);
  s->healthy.store(e.health.healthy(), std::memory_order_relaxed);
  s->ejected_until_ns.store(EndpointStats::nanos(e.outlier.ejectedUntil()),
                            std::memory_order_relaxed);
}

void EndpointSet::carryOver(size_t i, const EndpointState& old, Clock::time_point now) {
  endpoints_[i].carryOver(old);
  publish(i, now);
}

bool EndpointSet::onHealthCheck(size_t i, bool passed) {
  if (!endpoints_[i].health.onCheck(passed)) return false;
  if (auto* s = stats_[i])
    s->healthy.store(endpoints_[i].health.healthy(), std::memory_order_relaxed);
  return true;
}

EndpointPick EndpointSet::pick(Balancer& balancer, RandomSource& random, Clock::time_point now,
                               std::span<const size_t> tried) {
  const auto untried = [&](size_t i) {
    return std::find(tried.begin(), tried.end(), i) == tried.end();
  };
  std::optional<Clock::time_point> cooling_ends;
  candidates_.clear();
  for (size_t i = 0; i < endpoints_.size(); ++i) {
    if (!untried(i)) continue;
    const EndpointState& e = endpoints_[i];
    if (now < e.cooling_until) {
      cooling_ends = std::min(cooling_ends.value_or(e.cooling_until), e.cooling_until);
      continue;
    }
    if (e.health.healthy() && !e.outlier.ejected(now)) candidates_.push_back(i);
  }
  if (candidates_.empty()) {
    for (size_t i = 0; i < endpoints_.size(); ++i) {
      if (untried(i) && now >= endpoints_[i].cooling_until) candidates_.push_back(i);
    }
  }
  if (candidates_.empty()) {
    if (!cooling_ends) return {EndpointPick::Kind::kExhausted};
    const auto wait = std::chrono::ceil<std::chrono::seconds>(*cooling_ends - now);
    return {EndpointPick::Kind::kCoolingDown, 0, std::max(wait, std::chrono::seconds(1))};
  }
  if (max_outstanding_ > 0) {
    std::erase_if(candidates_,
                  [&](size_t i) { return endpoints_[i].outstanding >= max_outstanding_; });
    if (candidates_.empty()) return {EndpointPick::Kind::kOverloaded, 0, kOverloadRetryAfter};
  }
  return {EndpointPick::Kind::kPicked, balancer.pick(endpoints_, candidates_, now, random)};
}

bool EndpointSet::onFinish(size_t i, AttemptResult result,
                           std::optional<PeakEwma::Nanos> first_byte, Clock::time_point now) {
  EndpointState& e = endpoints_[i];
  release(i);
  if (first_byte) {
    e.latency.observe(*first_byte, now);
    publish(i, now);
  }
  if (!e.outlier.onOutcome(result, now)) return false;
  if (e.outlier.ejected(now) || ejectedCount(now) >= max_ejected_) return false;
  e.outlier.eject(now);
  if (auto* s = stats_[i]) EndpointStats::bump(s->ejections);
  publish(i, now);
  return true;
}

void EndpointSet::coolDown(size_t i, Clock::time_point until) {
  endpoints_[i].cooling_until = std::max(endpoints_[i].cooling_until, until);
}

size_t EndpointSet::ejectedCount(Clock::time_point now) const {
  return static_cast<size_t>(std::count_if(endpoints_.begin(), endpoints_.end(),
                                           [&](const auto& e) { return e.outlier.ejected(now); }));
}

}  // namespace tollgate::gateway
