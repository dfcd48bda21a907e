#include "ledger/gpu_pool_report.h"

#include <algorithm>
#include <map>

#include "ledger/decimal.h"
#include "ledger/gpu_pool_allocation.h"

namespace tollgate::ledger {
namespace {

constexpr int64_t kMicrosPerHour = 3'600'000'000;

const Decimal kThousandth = *Decimal::parse("0.001");

std::vector<GpuPoolGroup> groups(
    const std::map<std::pair<std::string, std::string>, std::pair<int64_t, Amount>>& sums) {
  std::vector<GpuPoolGroup> out;
  for (const auto& [key, value] : sums) {
    GpuPoolGroup g{key.first, key.second, value.first, value.second, ""};
    g.per_call_usd = amountPer(g.cost, Decimal::fromInteger(g.calls));
    out.push_back(std::move(g));
  }
  return out;
}

}  // namespace

GpuPoolReport computeGpuPools(const Period& period, const std::vector<PoolCall>& calls,
                              const std::vector<config::GpuPoolConfig>& pools,
                              const meter::PriceBook* prices) {
  GpuPoolReport report;
  const int64_t start_us = period.start_hour * kMicrosPerHour;
  const int64_t end_us = period.end_hour * kMicrosPerHour;
  std::map<std::string, std::vector<const PoolCall*>> by_pool;
  for (const PoolCall& call : calls) by_pool[call.pool].push_back(&call);

  using Sums = std::map<std::pair<std::string, std::string>, std::pair<int64_t, Amount>>;
  Sums team, model, workload;
  std::map<std::pair<std::string, LabelValues>, GpuPoolShare> shares;
  Amount all_cost, all_idle;
  for (const auto& pool : pools) {
    GpuPoolSummary s;
    s.name = pool.name;
    s.gpus = pool.gpus;
    s.gpu_hour_usd = pool.gpu_hour.toDecimalString();
    s.share = pool.share;
    s.idle_mode = pool.idle;
    s.compare_with = pool.compare_with;
    const auto found = by_pool.find(pool.name);
    const std::vector<const PoolCall*> none;
    const auto& mine = found == by_pool.end() ? none : found->second;
    std::vector<GpuPoolCall> input;
    input.reserve(mine.size());
    for (const PoolCall* c : mine) {
      input.push_back({c->start_us, c->end_us, c->usage.input_tokens - c->usage.cache_read_tokens,
                       c->usage.output_tokens, gpuCallTieKey(c->id)});
    }
    const GpuPoolAllocation a = allocateGpuPool(pool, start_us, end_us, input);
    if (!a.error.empty()) {
      s.error = a.error;
      report.notes.push_back(a.error);
      report.pools.push_back(std::move(s));
      continue;
    }
    s.cost = Amount::fromPico(a.pool_pico);
    s.busy = Amount::fromPico(a.busy_pico);
    s.idle = Amount::fromPico(a.idle_pico);
    s.idle_line = Amount::fromPico(a.idle_line_pico);
    s.idle_pct = percentOf(s.idle, s.cost);
    all_cost += s.cost;
    all_idle += s.idle;
    const meter::PriceEntry* managed = prices != nullptr && !pool.compare_with.empty()
                                           ? prices->find(pool.compare_with, "", start_us * 1000)
                                           : nullptr;
    for (size_t i = 0; i < mine.size(); ++i) {
      const PoolCall& c = *mine[i];
      if (c.end_us >= start_us && c.end_us < end_us) {
        ++s.calls;
        s.tokens += c.usage.input_tokens + c.usage.output_tokens;
        if (managed != nullptr) {
          s.managed_cost += Amount::fromMoney(meter::computeCost(*managed, c.usage).total);
        }
      }
      if (c.end_us <= start_us || c.start_us >= end_us) continue;
      const Amount cost = Amount::fromPico(a.call_pico[i]);
      for (auto [sums, label] : {std::pair{&team, Label::kTeam}, std::pair{&model, Label::kModel},
                                 std::pair{&workload, Label::kWorkloadType}}) {
        auto& entry = (*sums)[{pool.name, labelOf(c.labels, label)}];
        ++entry.first;
        entry.second += cost;
      }
      LabelValues key{};
      for (size_t l = 0; l < kAttributionLabelCount; ++l) key[l] = c.labels[l];
      labelOf(key, Label::kModel) = labelOf(c.labels, Label::kModel);
      auto& share = shares[{pool.name, key}];
      share.pool = pool.name;
      share.labels = key;
      ++share.calls;
      share.cost += cost;
    }
    const Decimal k_tokens = Decimal::fromInteger(s.tokens) * kThousandth;
    s.per_1k_tokens_usd = amountPer(s.cost, k_tokens);
    if (managed != nullptr) {
      s.managed_per_1k_tokens_usd = amountPer(s.managed_cost, k_tokens);
    } else if (!pool.compare_with.empty()) {
      report.notes.push_back("pool " + pool.name + ": no price for compare_with model " +
                             pool.compare_with);
    }
    report.pools.push_back(std::move(s));
  }
  for (const auto& [name, list] : by_pool) {
    const bool known =
        std::any_of(pools.begin(), pools.end(), [&](const auto& p) { return p.name == name; });
    if (!known) {
      report.notes.push_back(std::to_string(list.size()) + " calls on pool " + name +
                             ", which gateway_config's gpu_pools does not define: not allocated");
    }
  }
  report.by_team = groups(team);
  report.by_model = groups(model);
  report.by_workload_type = groups(workload);
  for (auto& [key, share] : shares) report.shares.push_back(std::move(share));
  if (!all_cost.isZero()) report.idle_pct = percentOf(all_idle, all_cost);
  return report;
}

}  // namespace tollgate::ledger
