#include "tests/integration/support/json_schema.h"

#include <cmath>
#include <regex>
#include <stdexcept>

namespace tollgate::testing {
namespace {

using simdjson::dom::element;
using simdjson::dom::element_type;

bool isInteger(element v) {
  if (v.is_int64() || v.is_uint64()) return true;
  double d = 0;
  return v.get(d) == simdjson::SUCCESS && std::floor(d) == d;
}

bool hasType(element v, std::string_view type) {
  switch (v.type()) {
    case element_type::OBJECT:
      return type == "object";
    case element_type::ARRAY:
      return type == "array";
    case element_type::STRING:
      return type == "string";
    case element_type::BOOL:
      return type == "boolean";
    case element_type::NULL_VALUE:
      return type == "null";
    case element_type::INT64:
    case element_type::UINT64:
    case element_type::DOUBLE:
      return type == "number" || (type == "integer" && isInteger(v));
  }
  return false;
}

double asNumber(element v) {
  double d = 0;
  if (v.get(d) == simdjson::SUCCESS) return d;
  int64_t i = 0;
  if (v.get(i) == simdjson::SUCCESS) return static_cast<double>(i);
  uint64_t u = 0;
  if (v.get(u) == simdjson::SUCCESS) return static_cast<double>(u);
  return std::nan("");
}

bool equal(element a, element b) {
  if (a.is_number() && b.is_number()) return asNumber(a) == asNumber(b);
  if (a.type() != b.type()) return false;
  switch (a.type()) {
    case element_type::STRING:
      return std::string_view(a) == std::string_view(b);
    case element_type::BOOL:
      return bool(a) == bool(b);
    case element_type::NULL_VALUE:
      return true;
    default:
      return simdjson::to_string(a) == simdjson::to_string(b);
  }
}

size_t codePoints(std::string_view s) {
  size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

}  // namespace

JsonSchemaValidator::JsonSchemaValidator(const std::string& schema_text) {
  if (schema_parser_.parse(schema_text).get(schema_) != simdjson::SUCCESS) {
    throw std::runtime_error("the JSON Schema is not valid JSON");
  }
}

std::vector<std::string> JsonSchemaValidator::validate(const std::string& document) const {
  simdjson::dom::parser parser;
  element value;
  if (parser.parse(document).get(value) != simdjson::SUCCESS) return {"/: not valid JSON"};
  std::vector<std::string> errors;
  check(schema_, value, "", errors);
  return errors;
}

void JsonSchemaValidator::check(element schema, element value, const std::string& at,
                                std::vector<std::string>& errors) const {
  const std::string where = at.empty() ? "/" : at;
  simdjson::dom::object keywords;
  if (schema.get(keywords) != simdjson::SUCCESS) {
    bool allowed = true;
    if (schema.get(allowed) == simdjson::SUCCESS && !allowed)
      errors.push_back(where + ": not allowed");
    return;
  }
  for (auto [key, arg] : keywords) {
    if (key == "$ref") {
      const std::string_view ref = arg;
      if (ref.substr(0, 1) != "#") {
        errors.push_back(where + ": unsupported $ref " + std::string(ref));
        continue;
      }
      element target;
      if (schema_.at_pointer(ref.substr(1)).get(target) != simdjson::SUCCESS) {
        errors.push_back(where + ": unresolved $ref " + std::string(ref));
        continue;
      }
      check(target, value, at, errors);
    } else if (key == "type") {
      bool ok = false;
      if (arg.is_string()) {
        ok = hasType(value, std::string_view(arg));
      } else {
        for (element t : simdjson::dom::array(arg)) ok = ok || hasType(value, std::string_view(t));
      }
      if (!ok) errors.push_back(where + ": wrong type, expected " + simdjson::to_string(arg));
    } else if (key == "const") {
      if (!equal(arg, value)) errors.push_back(where + ": must be " + simdjson::to_string(arg));
    } else if (key == "enum") {
      bool ok = false;
      for (element e : simdjson::dom::array(arg)) ok = ok || equal(e, value);
      if (!ok) errors.push_back(where + ": " + simdjson::to_string(value) + " not in enum");
    } else if (key == "required") {
      if (!value.is_object()) continue;
      for (element name : simdjson::dom::array(arg)) {
        if (value.at_key(std::string_view(name)).error() != simdjson::SUCCESS) {
          errors.push_back(where + ": missing required " + std::string(std::string_view(name)));
        }
      }
    } else if (key == "properties") {
      if (!value.is_object()) continue;
      for (auto [name, sub] : simdjson::dom::object(arg)) {
        element field;
        if (value.at_key(name).get(field) == simdjson::SUCCESS) {
          check(sub, field, at + "/" + std::string(name), errors);
        }
      }
    } else if (key == "additionalProperties") {
      if (!value.is_object()) continue;
      simdjson::dom::object declared;
      const bool has_declared = keywords["properties"].get(declared) == simdjson::SUCCESS;
      for (auto [name, field] : simdjson::dom::object(value)) {
        if (has_declared && declared.at_key(name).error() == simdjson::SUCCESS) continue;
        check(arg, field, at + "/" + std::string(name), errors);
      }
    } else if (key == "items") {
      if (!value.is_array()) continue;
      size_t i = 0;
      for (element item : simdjson::dom::array(value)) {
        check(arg, item, at + "/" + std::to_string(i++), errors);
      }
    } else if (key == "pattern") {
      if (!value.is_string()) continue;
      const std::regex re{std::string(std::string_view(arg)), std::regex::ECMAScript};
      if (!std::regex_search(std::string(std::string_view(value)), re)) {
        errors.push_back(where + ": " + simdjson::to_string(value) + " does not match " +
                         std::string(std::string_view(arg)));
      }
    } else if (key == "minLength" || key == "maxLength") {
      if (!value.is_string()) continue;
      const size_t n = codePoints(std::string_view(value));
      const auto limit = static_cast<size_t>(asNumber(arg));
      if (key == "minLength" ? n < limit : n > limit) {
        errors.push_back(where + ": length " + std::to_string(n) + " violates " + std::string(key));
      }
    } else if (key == "minimum" || key == "maximum") {
      if (!value.is_number()) continue;
      const double v = asNumber(value), limit = asNumber(arg);
      if (key == "minimum" ? v < limit : v > limit) {
        errors.push_back(where + ": " + simdjson::to_string(value) + " violates " +
                         std::string(key));
      }
    } else if (key == "$schema" || key == "$id" || key == "$defs" || key == "title" ||
               key == "description" || key == "format" || key == "$comment") {
      continue;
    } else {
      errors.push_back(where + ": the test validator does not implement keyword " +
                       std::string(key));
    }
  }
}

}  // namespace tollgate::testing
