#pragma once

#include <simdjson.h>

#include <string>
#include <vector>

namespace tollgate::testing {

// Validates JSON documents against a JSON Schema (draft 2020-12) restricted to the keywords
// docs/cost-event.schema.json uses: type, const, enum, properties, required,
// additionalProperties, pattern, minLength, minimum, maximum, items and local $ref
// ("#/$defs/..."). Annotations (title, description, format, $schema, $id, $comment) are
// ignored. Any other keyword is reported as an error rather than silently skipped, so the
// validator never claims more than it checks.
class JsonSchemaValidator {
 public:
  explicit JsonSchemaValidator(const std::string& schema_text);

  // Empty when `document` is valid; otherwise one "<json pointer>: <why>" per violation.
  std::vector<std::string> validate(const std::string& document) const;

 private:
  void check(simdjson::dom::element schema, simdjson::dom::element value, const std::string& at,
             std::vector<std::string>& errors) const;

  simdjson::dom::parser schema_parser_;
  simdjson::dom::element schema_;
};

}  // namespace tollgate::testing
