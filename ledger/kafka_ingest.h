#pragma once

#include <optional>
#include <string>

#include "ledger/file_ingest.h"
#include "ledger/ledger_config.h"
#include "ledger/store.h"

namespace tollgate::ledger {

// Reads the cost topic as a member of the consumer group source.kafka.group, to the end of
// every partition it is assigned, and exits (also when it has had no partition for 10 s: more
// members than partitions). Each batch's new events, their ids and the next
// offset of every partition in it are one store transaction; the offsets are committed to
// Kafka only after that (synchronously). On assignment a partition starts from the position in
// the store when there is one (the store is the truth: a crash between the store's commit and
// Kafka's loses nothing and re-reads nothing), else from the group's committed offset, else
// from the earliest message.
class KafkaIngest {
 public:
  KafkaIngest(Store& store, const LedgerConfig& config) : store_(store), config_(config) {}

  // `stats.position` is the number of partitions read to their end.
  std::optional<IngestStats> run(std::string& error, const FileIngest::BatchCallback& on_batch,
                                 const FileIngest::MalformedCallback& on_malformed);

 private:
  Store& store_;
  const LedgerConfig& config_;
};

}  // namespace tollgate::ledger
