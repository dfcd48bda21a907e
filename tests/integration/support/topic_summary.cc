#include "tests/integration/support/topic_summary.h"

#include <gtest/gtest.h>

#include "tests/integration/support/json_schema.h"
#include "tests/integration/support/kafka_cluster.h"
#include "tests/integration/support/stack.h"

namespace tollgate::testing {

TopicSummary TopicSummary::read(const std::string& bootstrap, const std::string& topic) {
  const std::string content_type = "application/cloudevents+json; charset=UTF-8";
  const JsonSchemaValidator schema(readSourceFile("docs/cost-event.schema.json"));
  TopicSummary summary;
  for (const auto& record : readKafkaTopic(bootstrap, topic)) {
    ++summary.raw;
    const auto errors = schema.validate(record.value);
    Json event(record.value);
    if (!errors.empty() || !event.ok()) {
      ++summary.invalid;
      ADD_FAILURE() << "invalid event: " << (errors.empty() ? "not JSON" : errors.front()) << "\n"
                    << record.value;
      continue;
    }
    EXPECT_EQ(record.key, event.str("/data/team"));
    EXPECT_EQ(record.headers,
              (std::vector<std::pair<std::string, std::string>>{{"content-type", content_type}}));
    summary.values_by_id[event.str("/id")].push_back(record.value);
    summary.request_ids.insert(event.str("/data/request_id"));
  }
  return summary;
}

void TopicSummary::expectDuplicatesShareIds() const {
  for (const auto& [id, copies] : values_by_id) {
    for (const auto& copy : copies) EXPECT_EQ(copy, copies.front()) << "id " << id;
  }
}

std::set<std::string> missing(const std::set<std::string>& expected,
                              const std::set<std::string>& found) {
  std::set<std::string> out;
  for (const auto& id : expected) {
    if (!found.count(id)) out.insert(id);
  }
  return out;
}

}  // namespace tollgate::testing
