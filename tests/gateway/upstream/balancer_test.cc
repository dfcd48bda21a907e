// The four balancers, each on a pool whose state the test sets, and a simulated pool with one
// slow endpoint to show what p2c_ewma buys over round robin.
#include "gateway/upstream/balancer.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include "gateway/upstream/endpoint_set.h"
#include "gateway/upstream/split_mix64.h"
#include "pool_fixture.h"

namespace tollgate::gateway {
namespace {

using testing::Clock;
using ::testing::ElementsAre;
using testing::kT0;
using Ids = std::vector<size_t>;
using testing::milliseconds;
using testing::poolOf;
using testing::ScriptedRandom;
using testing::seconds;

std::vector<EndpointState> statesOf(const config::UpstreamConfig& upstream) {
  std::vector<EndpointState> states;
  for (const auto& e : upstream.endpoints) {
    states.emplace_back(upstream, e.weight, milliseconds(100), seconds(10), kT0);
  }
  return states;
}

std::vector<size_t> picks(Balancer& balancer, const std::vector<EndpointState>& states,
                          const std::vector<size_t>& candidates, int n, RandomSource& random) {
  std::vector<size_t> out;
  for (int k = 0; k < n; ++k) out.push_back(balancer.pick(states, candidates, kT0, random));
  return out;
}

TEST(P2cEwmaBalancer, OfTheTwoDrawnTheLowerLatencyTimesOutstandingWins) {
  const auto upstream = poolOf("p", {1, 1, 1});
  auto states = statesOf(upstream);
  states[0].latency.observe(milliseconds(500), kT0);  // 500 x 1
  states[1].outstanding = 3;                          // 100 x 4
  states[2].outstanding = 5;                          // 100 x 6
  auto balancer = makeBalancer("p2c_ewma", 3);
  const std::vector<size_t> all = {0, 1, 2};
  // Draws: first = candidates[a]; second = candidates[b or b + 1 when b >= a].
  ScriptedRandom random({ScriptedRandom::choosing(0, 3), ScriptedRandom::choosing(0, 2),
                         ScriptedRandom::choosing(0, 3), ScriptedRandom::choosing(1, 2),
                         ScriptedRandom::choosing(2, 3), ScriptedRandom::choosing(0, 2)});
  EXPECT_EQ(balancer->pick(states, all, kT0, random), 1u);  // 0 vs 1: 500 > 400
  EXPECT_EQ(balancer->pick(states, all, kT0, random), 0u);  // 0 vs 2: 500 < 600
  EXPECT_EQ(balancer->pick(states, all, kT0, random), 0u);  // 2 vs 0: 600 > 500
}

TEST(P2cEwmaBalancer, DrawsTwoDistinctCandidates) {
  const auto upstream = poolOf("p", {1, 1});
  auto states = statesOf(upstream);
  states[1].outstanding = 1;
  auto balancer = makeBalancer("p2c_ewma", 2);
  // Both draws return index 0: the second is moved past the first, so 0 and 1 are compared.
  ScriptedRandom random({ScriptedRandom::choosing(1, 2), ScriptedRandom::choosing(0, 1)});
  EXPECT_EQ(balancer->pick(states, Ids{0, 1}, kT0, random), 0u);
}

TEST(P2cEwmaBalancer, AFreshLoadSignalCountsTheServersQueueAndCache) {
  const auto upstream = poolOf("p", {1, 1});
  auto states = statesOf(upstream);
  states[0].load = {6, 0.0, kT0 + seconds(1)};  // 100 x (1 + 6)
  states[1].outstanding = 2;                    // 100 x 3
  auto balancer = makeBalancer("p2c_ewma", 2);
  ScriptedRandom random({ScriptedRandom::choosing(0, 2), ScriptedRandom::choosing(0, 1),
                         ScriptedRandom::choosing(0, 2), ScriptedRandom::choosing(0, 1)});
  EXPECT_EQ(balancer->pick(states, Ids{0, 1}, kT0, random), 1u);
  // A stale sample says nothing.
  EXPECT_EQ(balancer->pick(states, Ids{0, 1}, kT0 + seconds(2), random), 0u);
  states[0].load = {0, 0.9, kT0 + seconds(1)};  // 100 x 1 x 1.9 < 100 x 3
  EXPECT_EQ(states[0].cost(kT0), 100e6 * 1.9);
}

TEST(P2cEwmaBalancer, OneCandidateIsPickedWithoutDrawing) {
  const auto upstream = poolOf("p", {1, 1, 1});
  const auto states = statesOf(upstream);
  auto balancer = makeBalancer("p2c_ewma", 3);
  ScriptedRandom random;
  EXPECT_EQ(balancer->pick(states, Ids{2}, kT0, random), 2u);
}

TEST(LeastOutstandingBalancer, PicksTheFewestInFlightAndSharesTies) {
  const auto upstream = poolOf("p", {1, 1, 1});
  auto states = statesOf(upstream);
  states[0].outstanding = 2;
  auto balancer = makeBalancer("least_outstanding", 3);
  ScriptedRandom random;
  EXPECT_THAT(picks(*balancer, states, {0, 1, 2}, 4, random), ElementsAre(1u, 1u, 2u, 1u));
  states[2].load = {5, 0, kT0 + seconds(1)};
  states[1].outstanding = 3;
  EXPECT_EQ(balancer->pick(states, Ids{0, 1, 2}, kT0, random), 0u);
}

TEST(RoundRobinBalancer, TakesEachCandidateInTurn) {
  const auto upstream = poolOf("p", {1, 1, 1});
  auto states = statesOf(upstream);
  states[0].outstanding = 100;
  auto balancer = makeBalancer("round_robin", 3);
  ScriptedRandom random;
  EXPECT_THAT(picks(*balancer, states, {0, 1, 2}, 6, random), ElementsAre(0u, 1u, 2u, 0u, 1u, 2u));
}

TEST(WeightedBalancer, GivesEachItsWeightsShareInterleaved) {
  const auto upstream = poolOf("p", {5, 1, 1});
  const auto states = statesOf(upstream);
  auto balancer = makeBalancer("weighted", 3);
  ScriptedRandom random;
  // nginx's smooth weighted round robin sequence for 5, 1, 1.
  EXPECT_THAT(picks(*balancer, states, {0, 1, 2}, 7, random),
              ElementsAre(0u, 0u, 1u, 0u, 2u, 0u, 0u));
}

TEST(WeightedBalancer, SharesAmongTheCandidatesLeft) {
  const auto upstream = poolOf("p", {3, 1, 1});
  const auto states = statesOf(upstream);
  auto balancer = makeBalancer("weighted", 3);
  ScriptedRandom random;
  const auto got = picks(*balancer, states, {1, 2}, 4, random);
  EXPECT_EQ(std::count(got.begin(), got.end(), 1u), 2);
  EXPECT_EQ(std::count(got.begin(), got.end(), 2u), 2);
}

// A pool of three endpoints whose answers take 100, 100 and 500 ms, sent one call every 10 ms
// for 60 simulated seconds. Returns each endpoint's share of calls and the mean latency.
struct Simulated {
  std::vector<double> shares;
  double mean_ms = 0;
};

Simulated simulate(const std::string& balancer_name) {
  auto upstream = poolOf("p", {1, 1, 1});
  EndpointSet set(upstream, kT0);
  auto balancer = makeBalancer(balancer_name, 3);
  SplitMix64 random(42);
  const std::vector<milliseconds> latency = {milliseconds(100), milliseconds(100),
                                             milliseconds(500)};
  std::multimap<Clock::time_point, size_t> finishing;
  std::vector<int> counts(3, 0);
  double total_ms = 0;
  const int calls = 6'000;
  for (int k = 0; k < calls; ++k) {
    const auto now = kT0 + milliseconds(10 * k);
    while (!finishing.empty() && finishing.begin()->first <= now) {
      const size_t i = finishing.begin()->second;
      set.onFinish(i, AttemptResult::kSuccess, latency[i], finishing.begin()->first);
      finishing.erase(finishing.begin());
    }
    const EndpointPick pick = set.pick(*balancer, random, now);
    set.onStart(pick.index);
    ++counts[pick.index];
    total_ms += static_cast<double>(latency[pick.index].count());
    finishing.emplace(now + latency[pick.index], pick.index);
  }
  Simulated out;
  for (int c : counts) out.shares.push_back(static_cast<double>(c) / calls);
  out.mean_ms = total_ms / calls;
  return out;
}

TEST(P2cEwmaBalancer, SendsAFiveTimesSlowerEndpointASmallShare) {
  const Simulated p2c = simulate("p2c_ewma");
  const Simulated rr = simulate("round_robin");
  EXPECT_NEAR(rr.shares[2], 1.0 / 3, 0.01);
  EXPECT_LT(p2c.shares[2], 0.10) << "slow endpoint's share under p2c_ewma";
  EXPECT_LT(p2c.mean_ms, rr.mean_ms);
}

}  // namespace
}  // namespace tollgate::gateway
