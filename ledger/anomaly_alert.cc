#include "ledger/anomaly_alert.h"

#include "meter/json_escape.h"

namespace tollgate::ledger {

std::string anomalyKey(const Anomaly& a) {
  std::string key = "anomaly/" + a.rule + "/";
  for (size_t i = 0; i < a.by.size(); ++i) {
    key += std::string(i ? "," : "") + std::string(labelName(a.by[i])) + "=" + a.scope[i];
  }
  return key + "/" + formatHour(a.window_start_hour) + "/" + std::to_string(a.window_hours) + "h";
}

std::string anomalyAlertContentType(const WebhookConfig& webhook) {
  return webhook.format == "cloudevents" ? "application/cloudevents+json; charset=UTF-8"
                                         : "application/json";
}

std::string anomalyAlertBody(const Anomaly& a, const WebhookConfig& webhook,
                             const std::string& now_rfc3339) {
  std::string scope;
  for (size_t i = 0; i < a.by.size(); ++i) {
    scope += std::string(i ? ", " : "") + std::string(labelName(a.by[i])) + "=" +
             (a.scope[i].empty() ? "(none)" : a.scope[i]);
  }
  std::string out;
  if (webhook.format != "cloudevents") {
    out = "{\"text\":";
    meter::appendJsonString("Spend anomaly (" + a.rule + "): " + scope + " spent $" +
                                a.spend.toDecimalString() + " in the " +
                                std::to_string(a.window_hours) + " h from " +
                                formatHour(a.window_start_hour) + ", " + a.ratio +
                                " x its mean of $" + a.baseline_mean_usd + " over " +
                                std::to_string(a.baseline_samples) + " earlier windows",
                            out);
    return out + "}";
  }
  out = "{\"specversion\":\"1.0\",\"id\":";
  meter::appendJsonString(anomalyKey(a), out);
  out += ",\"source\":\"tollgate-ledger\",\"type\":\"dev.tollgate.spend.anomaly.v1\",\"subject\":";
  meter::appendJsonString(scope, out);
  out += ",\"time\":";
  meter::appendJsonString(now_rfc3339, out);
  out += ",\"datacontenttype\":\"application/json\",\"data\":{\"rule\":";
  meter::appendJsonString(a.rule, out);
  out += ",\"scope\":{";
  for (size_t i = 0; i < a.by.size(); ++i) {
    if (i) out += ',';
    meter::appendJsonString(labelName(a.by[i]), out);
    out += ':';
    meter::appendJsonString(a.scope[i], out);
  }
  out += "},\"window_start\":\"" + formatHour(a.window_start_hour) +
         "\",\"window_hours\":" + std::to_string(a.window_hours) + ",\"spend_usd\":\"" +
         a.spend.toDecimalString() + "\",\"baseline_mean_usd\":\"" + a.baseline_mean_usd +
         "\",\"baseline_samples\":" + std::to_string(a.baseline_samples) + ",\"ratio\":\"" +
         a.ratio + "\"}}";
  return out;
}

}  // namespace tollgate::ledger
