#include "ledger/cost_event_parser.h"

#include <simdjson.h>

#include "ledger/calendar.h"
#include "meter/money.h"

namespace tollgate::ledger {
namespace {

namespace od = simdjson::ondemand;

constexpr std::string_view kUsageType = "dev.tollgate.llm.usage.v1";
// v2 adds line items (docs/events.md, "Version 2"): two more cost parts, requests and
// other_models, in the total.
constexpr std::string_view kUsageTypeV2 = "dev.tollgate.llm.usage.v2";
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

// The five token counts of a usage object (the call's, or an other_model line item's).
bool readTokenCounts(od::object& usage, meter::Usage& out) {
  return tokenCount(usage, "input_tokens", out.input_tokens) &&
         tokenCount(usage, "cache_read_tokens", out.cache_read_tokens) &&
         tokenCount(usage, "cache_write_tokens", out.cache_write_tokens) &&
         tokenCount(usage, "output_tokens", out.output_tokens) &&
         tokenCount(usage, "reasoning_tokens", out.reasoning_tokens);
}

bool moneyField(od::object& cost, std::string_view key, meter::Money& out) {
  std::string_view text;
  if (cost.find_field_unordered(key).get_string().get(text)) return false;
  auto money = meter::Money::parseUsd(text);
  if (!money) return false;
  out = *money;
  return true;
}

// v2's data.usage.units: {"audio_input_tokens":300,...}. A name this version does not know
// (a unit a later gateway counts) is skipped: its cost is still in cost.requests and the total.
bool readUnits(od::object& usage, meter::UnitCounts& units) {
  auto field = usage.find_field_unordered("units");
  if (field.error() == simdjson::NO_SUCH_FIELD) return true;
  od::object object;
  if (field.get_object().get(object)) return false;
  for (auto member : object) {
    std::string_view name;
    if (member.unescaped_key().get(name)) return false;
    int64_t count = 0;
    if (member.value().get_int64().get(count) || count < 0) return false;
    for (const meter::Unit unit : meter::kAllUnits) {
      if (meter::toString(unit) == name) units[meter::index(unit)] = count;
    }
  }
  return true;
}

// v2's data.line_items: each unit's cost, and the usage on other models with its cost.
bool readLineItems(od::object& data, CostRecord& r) {
  auto field = data.find_field_unordered("line_items");
  if (field.error() == simdjson::NO_SUCH_FIELD) return true;
  od::array items;
  if (field.get_array().get(items)) return false;
  for (auto element : items) {
    od::object item;
    std::string_view unit;
    if (element.get_object().get(item) ||
        item.find_field_unordered("unit").get_string().get(unit)) {
      return false;
    }
    if (unit == "other_model") {
      OtherModelItem other;
      std::string_view model;
      od::object usage;
      if (item.find_field_unordered("model").get_string().get(model) ||
          item.find_field_unordered("usage").get_object().get(usage) ||
          !readTokenCounts(usage, other.usage) || !moneyField(item, "cost", other.cost)) {
        return false;
      }
      other.model.assign(model);
      r.other_models.push_back(std::move(other));
      continue;
    }
    for (const meter::Unit known : meter::kAllUnits) {
      if (meter::toString(known) == unit &&
          !moneyField(item, "cost", r.cost.units[meter::index(known)])) {
        return false;
      }
    }
  }
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
  const bool v2 = type == kUsageTypeV2;
  if (type != kUsageType && !v2) {
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
  if (!readTokenCounts(usage, r.usage)) {
    return malformed("data.usage has a count that is not a non-negative integer");
  }
  if (v2 && !readUnits(usage, r.usage.units)) {
    return malformed("data.usage.units has a count that is not a non-negative integer");
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
  if (v2 && (!moneyField(cost, "requests", r.cost.requests) ||
             !moneyField(cost, "other_models", r.cost.other_models))) {
    return malformed("data.cost has a part that is not an exact decimal string");
  }
  if (r.cost.input + r.cost.cache_read + r.cost.cache_write + r.cost.output + r.cost.requests +
          r.cost.other_models !=
      r.cost.total) {
    return malformed("data.cost.total is not the sum of its parts");
  }
  if (v2 && !readLineItems(data, r)) {
    return malformed("data.line_items has an item without its unit, model, usage or cost");
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
