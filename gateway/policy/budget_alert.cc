#include "gateway/policy/budget_alert.h"

#include <array>
#include <cstdio>
#include <utility>

#include "config/civil_date.h"
#include "meter/json_escape.h"

namespace tollgate::gateway {

namespace {

std::string rfc3339(int64_t unix_ms) {
  const int64_t seconds = config::floorDiv(unix_ms, 1000);
  const int64_t day = config::floorDiv(seconds, 86400);
  const int64_t in_day = seconds - day * 86400;
  const config::CivilDate c = config::civilFromDays(day);
  char text[96];
  std::snprintf(text, sizeof text, "%04lld-%02u-%02uT%02lld:%02lld:%02lld.%03lldZ",
                static_cast<long long>(c.year), c.month, c.day,
                static_cast<long long>(in_day / 3600), static_cast<long long>(in_day / 60 % 60),
                static_cast<long long>(in_day % 60),
                static_cast<long long>(unix_ms - seconds * 1000));
  return text;
}

std::array<std::pair<const char*, const std::string*>, 6> scopeFields(
    const config::SpendScope& scope) {
  return {{{"team", &scope.team},
           {"project", &scope.project},
           {"cost_center", &scope.cost_center},
           {"environment", &scope.environment},
           {"workload_type", &scope.workload_type},
           {"key_id", &scope.key_id}}};
}

// "team=fraud-platform key_id=k" or "everything".
std::string scopeText(const config::SpendScope& scope) {
  std::string out;
  for (const auto& [key, value] : scopeFields(scope)) {
    if (value->empty()) continue;
    if (!out.empty()) out += ' ';
    out += key;
    out += '=';
    out += *value;
  }
  return out.empty() ? "everything" : out;
}

}  // namespace

std::string BudgetAlert::id() const {
  return budget + "/" + period.label + "/" + std::to_string(threshold_percent);
}

std::string BudgetAlert::toSlackJson() const {
  const std::string text = "Budget " + budget + " (" + scopeText(scope) + ") reached " +
                           std::to_string(threshold_percent) + "% of $" + limit.toDecimalString() +
                           " for " + period.label + ": spend $" + spend.toDecimalString() +
                           ", forecast $" + forecast.toDecimalString() + " by the end of the " +
                           period_kind + ".";
  std::string out = "{\"text\":";
  meter::appendJsonString(text, out);
  out += '}';
  return out;
}

std::string BudgetAlert::toCloudEvent(const std::string& source) const {
  std::string out = "{\"specversion\":\"1.0\",\"type\":\"dev.tollgate.budget.threshold.v1\",";
  out += "\"source\":";
  meter::appendJsonString(source, out);
  out += ",\"id\":";
  meter::appendJsonString(id(), out);
  out += ",\"time\":\"" + rfc3339(time_ms) + "\",\"datacontenttype\":\"application/json\",";
  out += "\"data\":{\"budget\":";
  meter::appendJsonString(budget, out);
  out += ",\"scope\":{";
  bool first = true;
  for (const auto& [key, value] : scopeFields(scope)) {
    if (value->empty()) continue;
    if (!first) out += ',';
    first = false;
    out += '"';
    out += key;
    out += "\":";
    meter::appendJsonString(*value, out);
  }
  out += "},\"period\":{\"kind\":\"" + period_kind + "\",\"label\":\"" + period.label +
         "\",\"start\":\"" + rfc3339(period.start * 1000) + "\",\"end\":\"" +
         rfc3339(period.end * 1000) + "\"},";
  out += "\"threshold_percent\":" + std::to_string(threshold_percent);
  out += ",\"spend_usd\":\"" + spend.toDecimalString() + "\",\"limit_usd\":\"" +
         limit.toDecimalString() + "\",\"forecast_usd\":\"" + forecast.toDecimalString() + "\"}}";
  return out;
}

}  // namespace tollgate::gateway
