#include "ledger/cost_event_parser.h"

#include <simdjson.h>

#include "ledger/calendar.h"
#include "meter/money.h"

namespace tollgate::ledger {
namespace {

namespace od = simdjson::ondemand;

constexpr std::string_view kUsageType = "dev.tollgate.llm.usage.v1";
constexpr int64_t kMicrosPerHour = 3'600'000'000;

int64_t floorDiv(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }

ParsedEvent malformed(std::string message) {
  ParsedEvent out;
  out.status = ParseStatus::kMalformed;
  out.error = std::move(message);
  return out;
}

// A string field that may be absent or null (labels the gateway could not fill).
bool optionalString(od::object& object, std::string_view key, std::string& out) {
  auto field = object.find_field_unordered(key);
  if (field.error() == simdjson::NO_SUCH_FIELD) return true;
  if (field.error()) return false;
  bool null = false;
  if (field.is_null().get(null)) return false;
  if (null) return true;
  std::string_view text;
  if (field.get_string().get(text)) return false;
  out.assign(text);
  return true;
}

bool tokenCount(od::object& usage, std::string_view key, int64_t& out) {
  auto field = usage.find_field_unordered(key);
  if (field.error() == simdjson::NO_SUCH_FIELD) return true;
  if (field.error()) return false;
  int64_t value = 0;
  if (field.get_int64().get(value) || value < 0) return false;
  out = value;
  return true;
}

bool moneyField(od::object& cost, std::string_view key, meter::Money& out) {
  std::string_view text;
  if (cost.find_field_unordered(key).get_string().get(text)) return false;
  auto money = meter::Money::parseUsd(text);
  if (!money) return false;
  out = *money;
  return true;
}

}  // namespace

struct CostEventParser::Impl {
  od::parser parser;
  std::string buffer;
};

CostEventParser::CostEventParser() : impl_(std::make_unique<Impl>()) {}
CostEventParser::~CostEventParser() = default;

ParsedEvent CostEventParser::parse(std::string_view line) {
  // Copied into a reused buffer with simdjson's padding after the line.
  impl_->buffer.assign(line);
  impl_->buffer.append(simdjson::SIMDJSON_PADDING, ' ');
  od::document doc;
  if (impl_->parser.iterate(impl_->buffer.data(), line.size(), impl_->buffer.size()).get(doc)) {
    return malformed("not JSON");
  }
  od::object root;
  if (doc.get_object().get(root)) return malformed("not a JSON object");

  std::string_view type;
  if (root.find_field_unordered("type").get_string().get(type)) return malformed("type missing");
  if (type != kUsageType) {
    ParsedEvent other;
    other.status = ParseStatus::kOtherType;
    return other;
  }
  ParsedEvent out;
  CostRecord& r = out.record;
  std::string_view text;
  if (root.find_field_unordered("id").get_string().get(text) || text.empty()) {
    return malformed("id missing or empty");
  }
  r.id.assign(text);
  if (root.find_field_unordered("time").get_string().get(text)) return malformed("time missing");
  auto end_us = microsOfRfc3339(text);
  if (!end_us) return malformed("time is not RFC 3339");
  r.hour = floorDiv(*end_us, kMicrosPerHour);

  od::object data;
  if (root.find_field_unordered("data").get_object().get(data)) return malformed("data missing");
  for (size_t i = 0; i < kLabelCount; ++i) {
    const auto name = labelName(static_cast<Label>(i));
    if (!optionalString(data, name, r.labels[i])) {
      return malformed("data." + std::string(name) + " is not a string");
    }
  }
  bool is_final = true;
  {
    auto field = data.find_field_unordered("final");
    bool null = false;
    if (!field.error() &&
        (field.is_null().get(null) || (!null && field.get_bool().get(is_final)))) {
      return malformed("data.final is not a boolean");
    }
  }
  r.completed_inference = is_final && labelOf(r.labels, Label::kOutcome) == "ok";

  od::object usage;
  if (data.find_field_unordered("usage").get_object().get(usage)) {
    return malformed("data.usage missing");
  }
  if (!tokenCount(usage, "input_tokens", r.usage.input_tokens) ||
      !tokenCount(usage, "cache_read_tokens", r.usage.cache_read_tokens) ||
      !tokenCount(usage, "cache_write_tokens", r.usage.cache_write_tokens) ||
      !tokenCount(usage, "output_tokens", r.usage.output_tokens) ||
      !tokenCount(usage, "reasoning_tokens", r.usage.reasoning_tokens)) {
    return malformed("data.usage has a count that is not a non-negative integer");
  }
  if (data.find_field_unordered("priced").get_bool().get(r.priced)) {
    return malformed("data.priced missing");
  }
  od::object cost;
  if (data.find_field_unordered("cost").get_object().get(cost))
    return malformed("data.cost missing");
  if (!moneyField(cost, "input", r.cost.input) ||
      !moneyField(cost, "cache_read", r.cost.cache_read) ||
      !moneyField(cost, "cache_write", r.cost.cache_write) ||
      !moneyField(cost, "output", r.cost.output) || !moneyField(cost, "total", r.cost.total)) {
    return malformed("data.cost has a part that is not an exact decimal string");
  }
  if (r.cost.input + r.cost.cache_read + r.cost.cache_write + r.cost.output != r.cost.total) {
    return malformed("data.cost.total is not the sum of its parts");
  }
  {
    auto pool = data.find_field_unordered("gpu_pool");
    if (!pool.error()) {
      od::object object;
      std::string_view name;
      if (pool.get_object().get(object) ||
          object.find_field_unordered("name").get_string().get(name) || name.empty()) {
        return malformed("data.gpu_pool.name missing or not a string");
      }
      r.gpu_pool.assign(name);
      od::object timing;
      std::string_view start;
      if (data.find_field_unordered("timing").get_object().get(timing) ||
          timing.find_field_unordered("start").get_string().get(start)) {
        return malformed("data.timing.start missing on a GPU-pool call");
      }
      auto start_us = microsOfRfc3339(start);
      if (!start_us || *start_us > *end_us) {
        return malformed("data.timing.start is not RFC 3339 or is after time");
      }
      r.start_us = *start_us;
      r.end_us = *end_us;
    } else if (pool.error() != simdjson::NO_SUCH_FIELD) {
      return malformed("data.gpu_pool is not an object");
    }
  }
  out.status = ParseStatus::kRecord;
  return out;
}

}  // namespace tollgate::ledger
