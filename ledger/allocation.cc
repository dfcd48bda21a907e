#include "ledger/allocation.h"

#include <algorithm>
#include <numeric>

namespace tollgate::ledger {
namespace {

bool matches(const AllocationRule& rule, const ImportLine& line) {
  for (const auto& [key, value] : rule.match) {
    const std::string* actual = nullptr;
    if (key == "category") {
      actual = &line.category;
    } else if (key == "description") {
      actual = &line.description;
    } else if (auto label = labelFromName(key)) {
      actual = &labelOf(line.labels, *label);
    }
    if (actual == nullptr || *actual != value) return false;
  }
  return true;
}

}  // namespace

std::vector<Amount> splitExactly(Amount amount, const std::vector<Decimal>& shares) {
  int scale = 0;
  for (const auto& s : shares) scale = std::max(scale, s.scale());
  const bool negative = amount.pico() < 0;
  const __int128 magnitude = negative ? -amount.pico() : amount.pico();
  const __int128 denominator = 100 * powerOfTen(scale);
  std::vector<__int128> parts(shares.size()), remainders(shares.size());
  __int128 given = 0;
  for (size_t i = 0; i < shares.size(); ++i) {
    const __int128 weight = shares[i].units() * powerOfTen(scale - shares[i].scale());
    parts[i] = magnitude / denominator * weight + magnitude % denominator * weight / denominator;
    remainders[i] = magnitude % denominator * weight % denominator;
    given += parts[i];
  }
  std::vector<size_t> order(shares.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return remainders[a] > remainders[b]; });
  for (size_t k = 0; given < magnitude; ++k) {
    ++parts[order[k % order.size()]];
    ++given;
  }
  std::vector<Amount> out;
  out.reserve(parts.size());
  for (const auto p : parts) out.push_back(Amount::fromPico(negative ? -p : p));
  return out;
}

std::vector<AllocatedLine> allocate(const std::vector<ImportLine>& lines,
                                    const std::vector<AllocationRule>& rules) {
  std::vector<AllocatedLine> out;
  for (const auto& line : lines) {
    const AllocationRule* rule = nullptr;
    for (const auto& r : rules) {
      if (matches(r, line)) {
        rule = &r;
        break;
      }
    }
    if (rule == nullptr) {
      out.push_back({&line, line.labels, line.amount, ""});
      continue;
    }
    std::vector<Decimal> shares;
    for (const auto& s : rule->shares) shares.push_back(s.second);
    const auto amounts = splitExactly(line.amount, shares);
    for (size_t i = 0; i < shares.size(); ++i) {
      AllocatedLine part{&line, line.labels, amounts[i], rule->name, shares[i]};
      labelOf(part.labels, rule->split_by) = rule->shares[i].first;
      out.push_back(std::move(part));
    }
  }
  return out;
}

}  // namespace tollgate::ledger
