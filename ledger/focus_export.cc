#include "ledger/focus_export.h"

#include <map>

#include "ledger/report_text.h"
#include "meter/json_escape.h"

namespace tollgate::ledger {
namespace {

const std::vector<std::string> kColumns = {
    // The 21 mandatory columns of FOCUS 1.2.
    "BilledCost", "BillingAccountId", "BillingAccountName", "BillingCurrency", "BillingPeriodEnd",
    "BillingPeriodStart", "ChargeCategory", "ChargeClass", "ChargeDescription", "ChargePeriodEnd",
    "ChargePeriodStart", "ContractedCost", "EffectiveCost", "InvoiceIssuerName", "ListCost",
    "PricingQuantity", "PricingUnit", "ProviderName", "PublisherName", "ServiceCategory",
    "ServiceName",
    // Recommended and conditional columns the ledger knows.
    "ChargeFrequency", "ConsumedQuantity", "ConsumedUnit", "ResourceId", "ResourceName",
    "ResourceType", "SkuId", "SkuMeter", "Tags",
    // FOCUS 1.3's columns for split shared costs: the GPU pools' shares.
    "AllocatedMethodId", "AllocatedMethodDetails", "AllocatedResourceId", "AllocatedResourceName",
    // Custom columns (FOCUS: they start with x_).
    "x_team", "x_project", "x_cost_center", "x_workload_type", "x_environment", "x_model",
    "x_source", "x_allocation_rule", "x_unpriced_events", "x_gpu_pool", "x_gpu_pool_idle"};

// One row: a value per column of kColumns; an empty value is written as an empty field
// (FOCUS null in CSV). Indexed through the column's position, looked up once per name.
class Row {
 public:
  Row() : values_(kColumns.size()) {}
  std::string& operator[](std::string_view column) { return values_[indexOf(column)]; }
  const std::vector<std::string>& values() const { return values_; }

 private:
  static size_t indexOf(std::string_view column) {
    static const std::map<std::string, size_t, std::less<>> index = [] {
      std::map<std::string, size_t, std::less<>> m;
      for (size_t i = 0; i < kColumns.size(); ++i) m.emplace(kColumns[i], i);
      return m;
    }();
    return index.find(column)->second;
  }
  std::vector<std::string> values_;
};

std::string tagsJson(const LabelValues& labels) {
  std::string out = "{";
  for (size_t l = 0; l < kAttributionLabelCount; ++l) {
    if (labels[l].empty()) continue;
    if (out.size() > 1) out += ',';
    meter::appendJsonString(labelName(static_cast<Label>(l)), out);
    out += ':';
    meter::appendJsonString(labels[l], out);
  }
  return out + "}";
}

void setLabels(Row& row, const LabelValues& labels) {
  for (size_t l = 0; l < kAttributionLabelCount; ++l) {
    row["x_" + std::string(labelName(static_cast<Label>(l)))] = labels[l];
  }
  row["Tags"] = tagsJson(labels);
}

void setCost(Row& row, Amount cost) {
  const std::string text = cost.toDecimalString();
  // Our price is the list price and what is billed: no negotiated discount is known here.
  row["BilledCost"] = row["EffectiveCost"] = row["ListCost"] = row["ContractedCost"] = text;
}

std::string orUnknown(const std::string& s) { return s.empty() ? "unknown" : s; }

struct MeteredKey {
  int64_t hour;
  LabelValues labels;  // outcome cleared: FOCUS rows do not split by how calls ended
  friend auto operator<=>(const MeteredKey&, const MeteredKey&) = default;
};

}  // namespace

const std::vector<std::string>& focusColumns() { return kColumns; }

std::string formatFocus(const LedgerData& data, const Report& report, const FocusSettings& focus) {
  // Rows are written as they are made: a month of hourly buckets is hundreds of thousands.
  std::string out;
  for (size_t c = 0; c < kColumns.size(); ++c) out += (c ? "," : "") + kColumns[c];
  out += "\n";
  auto write = [&out](const Row& row) {
    const auto& values = row.values();
    for (size_t c = 0; c < values.size(); ++c) {
      if (c) out += ',';
      out += csvField(values[c]);
    }
    out += "\n";
  };
  const std::string billing_start = formatHour(data.period.start_hour);
  const std::string billing_end = formatHour(data.period.end_hour);
  auto base = [&](int64_t start_hour, int64_t end_hour) {
    Row row;
    row["BillingAccountId"] = focus.billing_account_id;
    row["BillingAccountName"] = focus.billing_account_name;
    row["BillingCurrency"] = "USD";
    row["BillingPeriodStart"] = billing_start;
    row["BillingPeriodEnd"] = billing_end;
    row["ChargePeriodStart"] = formatHour(start_hour);
    row["ChargePeriodEnd"] = formatHour(end_hour);
    return row;
  };

  std::map<MeteredKey, RollupTotals> metered;
  for (const auto& [key, totals] : data.rollups) {
    MeteredKey k{key.hour, key.labels};
    labelOf(k.labels, Label::kOutcome).clear();
    metered[k].merge(totals);
  }
  const Decimal kPerMillion = *Decimal::parse("0.000001");
  for (const auto& [key, t] : metered) {
    const std::string& provider = labelOf(key.labels, Label::kProvider);
    const std::string& model = labelOf(key.labels, Label::kModel);
    const std::string& upstream = labelOf(key.labels, Label::kUpstream);
    struct Kind {
      const char* name;
      int64_t tokens;
      Amount cost;
    };
    const Kind kinds[] = {
        {"input", t.input_tokens - t.cache_read_tokens - t.cache_write_tokens, t.cost_input},
        {"cache_read", t.cache_read_tokens, t.cost_cache_read},
        {"cache_write", t.cache_write_tokens, t.cost_cache_write},
        {"output", t.output_tokens, t.cost_output},
    };
    // What every token kind of this bucket shares, built once.
    Row common = base(key.hour, key.hour + 1);
    common["ChargeCategory"] = "Usage";
    common["ChargeFrequency"] = "Usage-Based";
    common["PricingUnit"] = "1M Tokens";
    common["ConsumedUnit"] = "Tokens";
    common["ProviderName"] = common["PublisherName"] = common["InvoiceIssuerName"] =
        orUnknown(provider);
    common["ServiceCategory"] = "AI and Machine Learning";
    common["ServiceName"] = orUnknown(provider) + " LLM API";
    common["ResourceId"] = common["ResourceName"] = upstream;
    common["ResourceType"] = "LLM upstream";
    common["x_model"] = model;
    common["x_source"] = "metered";
    common["x_unpriced_events"] = std::to_string(t.unpriced_events);
    setLabels(common, key.labels);
    const std::string sku = orUnknown(provider) + "/" + orUnknown(model) + "/";
    for (const auto& kind : kinds) {
      if (kind.tokens == 0 && kind.cost.isZero()) continue;
      Row row = common;
      setCost(row, kind.cost);
      row["ChargeDescription"] =
          orUnknown(model) + " " + kind.name + " tokens via " + orUnknown(upstream);
      row["PricingQuantity"] = (Decimal::fromInteger(kind.tokens) * kPerMillion).toString();
      row["ConsumedQuantity"] = std::to_string(kind.tokens);
      row["SkuId"] = sku + kind.name;
      row["SkuMeter"] = std::string(kind.name) + " tokens";
      write(row);
    }
  }

  for (const auto& line : report.allocated) {
    const ImportLine& src = *line.source;
    Row row = base(src.period_start_hour, src.period_end_hour);
    setCost(row, line.amount);
    const bool purchase = src.category == "commitment";
    row["ChargeCategory"] = purchase ? "Purchase" : "Usage";
    row["ChargeFrequency"] = purchase ? "Recurring" : "Usage-Based";
    row["ChargeDescription"] = src.description.empty() ? src.category : src.description;
    // The part of the line's quantity this row carries: quantity x share %, exactly.
    const Decimal quantity =
        src.quantity.value_or(Decimal::fromInteger(1)) * line.share_pct * *Decimal::parse("0.01");
    row["PricingQuantity"] = quantity.toString();
    row["PricingUnit"] = src.unit.empty() ? "Units" : src.unit;
    row["ConsumedQuantity"] = quantity.toString();
    row["ConsumedUnit"] = row["PricingUnit"];
    row["ProviderName"] = row["PublisherName"] = row["InvoiceIssuerName"] = "external";
    row["ServiceCategory"] = src.category == "egress"  ? "Networking"
                             : src.category == "other" ? "Other"
                                                       : "AI and Machine Learning";
    row["ServiceName"] = "imported " + src.category;
    row["SkuId"] = "imported/" + src.category;
    row["SkuMeter"] = src.category;
    row["x_source"] = "imported";
    row["x_allocation_rule"] = line.rule;
    setLabels(row, line.labels);
    write(row);
  }

  // GPU pools: each label set's share of a pool over the period, and the idle line.
  for (const auto& pool : report.gpu.pools) {
    if (!pool.error.empty()) continue;
    Row common = base(data.period.start_hour, data.period.end_hour);
    common["ChargeCategory"] = "Usage";
    common["ChargeFrequency"] = "Usage-Based";
    common["ProviderName"] = common["PublisherName"] = common["InvoiceIssuerName"] = "self-hosted";
    common["ServiceCategory"] = "AI and Machine Learning";
    common["ServiceName"] = "self-hosted GPU pool";
    common["ResourceId"] = common["ResourceName"] = pool.name;
    common["ResourceType"] = "GPU pool";
    common["SkuId"] = "gpu-pool/" + pool.name;
    common["SkuMeter"] = "GPU time";
    common["PricingUnit"] = common["ConsumedUnit"] = "Requests";
    common["AllocatedMethodId"] = "gpu-pool-" + pool.share;
    common["AllocatedMethodDetails"] = R"({"share":")" + pool.share + R"(","idle":")" +
                                       pool.idle_mode + R"(","gpus":)" + std::to_string(pool.gpus) +
                                       R"(,"gpu_hour_usd":")" + pool.gpu_hour_usd + R"("})";
    common["AllocatedResourceId"] = common["AllocatedResourceName"] = pool.name;
    common["x_source"] = "gpu_pool";
    common["x_gpu_pool"] = pool.name;
    for (const auto& share : report.gpu.shares) {
      if (share.pool != pool.name) continue;
      Row row = common;
      setCost(row, share.cost);
      row["ChargeDescription"] = pool.name + " GPU pool share (" + pool.share + ")";
      row["PricingQuantity"] = row["ConsumedQuantity"] = std::to_string(share.calls);
      row["x_model"] = labelOf(share.labels, Label::kModel);
      row["x_gpu_pool_idle"] = "false";
      setLabels(row, share.labels);
      write(row);
    }
    if (!pool.idle_line.isZero()) {
      Row row = common;
      setCost(row, pool.idle_line);
      row["ChargeDescription"] = pool.name + " GPU pool idle";
      row["PricingQuantity"] = row["ConsumedQuantity"] = "0";
      row["x_gpu_pool_idle"] = "true";
      setLabels(row, LabelValues{});
      write(row);
    }
  }
  return out;
}

}  // namespace tollgate::ledger
