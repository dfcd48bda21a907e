#pragma once

#include <map>
#include <set>
#include <string>
#include <vector>

namespace tollgate::testing {

// A cost-event topic read back by kcat, each message checked (gtest failures otherwise): valid
// against docs/cost-event.schema.json, the CloudEvents content-type header, the team as key.
struct TopicSummary {
  std::map<std::string, std::vector<std::string>> values_by_id;  // raw copies per event id
  std::set<std::string> request_ids;
  size_t raw = 0;
  size_t invalid = 0;

  size_t duplicates() const { return raw - values_by_id.size(); }

  static TopicSummary read(const std::string& bootstrap, const std::string& topic);
  // Every duplicate is a byte-identical copy of the same event: same id, same content.
  void expectDuplicatesShareIds() const;
};

// The ids of `expected` not in `found`.
std::set<std::string> missing(const std::set<std::string>& expected,
                              const std::set<std::string>& found);

}  // namespace tollgate::testing
