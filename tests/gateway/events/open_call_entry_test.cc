#include "gateway/events/open_call_entry.h"

#include <gtest/gtest.h>

#include <string>

namespace tollgate::gateway {
namespace {

OpenCallEntry sampleOpen() {
  OpenCallEntry e;
  e.kind = OpenCallEntry::Kind::kOpen;
  e.id = "req-0001";
  e.source = "tollgate://gw-1";
  e.request_id = "req-0001";
  e.trace_id = "0af7651916cd43dd8448eb211c80319c";
  e.attribution.team = "fraud";
  e.attribution.project = "scoring";
  e.attribution.cost_center = "cc-1";
  e.attribution.workload_type = "inference";
  e.attribution.environment = "prod";
  e.attribution.tags = {{"run", "42"}, {"exp", "b"}};
  e.attribution.key_id = "fraud-prod";
  e.attribution.allocated = true;
  e.upstream = "openai";
  e.provider = "openai";
  e.operation = "chat";
  e.endpoint = "/v1/chat/completions";
  e.model_requested = "gpt-4o-mini";
  e.request_service_tier = "priority";
  e.stream = true;
  e.start_unix_ns = 1'764'000'000'123'456'789;
  e.input_estimate = 1234;
  e.at_unix_ns = 1'764'000'003'000'000'000;
  e.status = 200;
  e.model = "gpt-4o-mini-2024-07-18";
  e.answer_service_tier = "default";
  e.ttft_ms = 312.5;
  e.provider_so_far.input_tokens = 1200;
  e.provider_so_far.cache_read_tokens = 1000;
  e.input_known = true;
  e.output_bytes = 4096;
  return e;
}

TEST(OpenCallEntryTest, EveryKindReadsBackAsWritten) {
  OpenCallEntry open = sampleOpen();
  OpenCallEntry progress;
  progress.kind = OpenCallEntry::Kind::kProgress;
  progress.id = open.id;
  progress.at_unix_ns = open.at_unix_ns + 1'000'000'000;
  progress.status = 200;
  progress.model = "m";
  progress.output_bytes = 8000;
  progress.provider_so_far.output_tokens = 3;
  OpenCallEntry close;
  close.kind = OpenCallEntry::Kind::kClose;
  close.id = open.id;

  std::string bytes;
  appendOpenCallRecord(open, bytes);
  appendOpenCallRecord(progress, bytes);
  appendOpenCallRecord(close, bytes);
  const auto scan = readOpenCallRecords(bytes);
  EXPECT_EQ(scan.torn, 0u);
  EXPECT_EQ(scan.corrupt, 0u);
  ASSERT_EQ(scan.entries.size(), 3u);
  // Written again, what was read gives the same bytes: no field is lost or changed.
  std::string again;
  for (const auto& e : scan.entries) appendOpenCallRecord(e, again);
  EXPECT_EQ(again, bytes);
  const auto& a = scan.entries[0];
  EXPECT_EQ(a.kind, OpenCallEntry::Kind::kOpen);
  EXPECT_EQ(a.attribution.tags, open.attribution.tags);
  EXPECT_EQ(a.attribution.key_id, "fraud-prod");
  EXPECT_EQ(a.start_unix_ns, open.start_unix_ns);
  EXPECT_EQ(a.ttft_ms, 312.5);
  EXPECT_EQ(a.provider_so_far, open.provider_so_far);
  EXPECT_TRUE(a.input_known);
  EXPECT_EQ(a.output_bytes, 4096);
  EXPECT_EQ(scan.entries[1].kind, OpenCallEntry::Kind::kProgress);
  EXPECT_EQ(scan.entries[1].output_bytes, 8000);
  EXPECT_EQ(scan.entries[1].provider_so_far.output_tokens, 3);
  EXPECT_EQ(scan.entries[2].kind, OpenCallEntry::Kind::kClose);
  EXPECT_EQ(scan.entries[2].id, open.id);
}

TEST(OpenCallEntryTest, ARecordCutAnywhereIsCountedTornAndTheOnesBeforeItKept) {
  std::string bytes;
  appendOpenCallRecord(sampleOpen(), bytes);
  const size_t first = bytes.size();
  OpenCallEntry second = sampleOpen();
  second.id = "req-0002";
  appendOpenCallRecord(second, bytes);
  for (size_t cut = first + 1; cut < bytes.size(); ++cut) {
    const auto scan = readOpenCallRecords(std::string_view(bytes).substr(0, cut));
    ASSERT_EQ(scan.entries.size(), 1u) << "cut at " << cut;
    EXPECT_EQ(scan.entries[0].id, "req-0001");
    EXPECT_EQ(scan.torn, 1u) << "cut at " << cut;
  }
}

TEST(OpenCallEntryTest, ARecordFailingItsChecksumIsSkippedAndTheNextOneRead) {
  std::string bytes;
  appendOpenCallRecord(sampleOpen(), bytes);
  OpenCallEntry second = sampleOpen();
  second.id = "req-0002";
  appendOpenCallRecord(second, bytes);
  bytes[20] ^= 0x40;  // inside the first record's body
  const auto scan = readOpenCallRecords(bytes);
  EXPECT_EQ(scan.corrupt, 1u);
  ASSERT_EQ(scan.entries.size(), 1u);
  EXPECT_EQ(scan.entries[0].id, "req-0002");
}

TEST(OpenCallEntryTest, AZeroLengthEndsTheReadingAsDamage) {
  std::string bytes;
  appendOpenCallRecord(sampleOpen(), bytes);
  bytes.append(16, '\0');
  const auto scan = readOpenCallRecords(bytes);
  EXPECT_EQ(scan.entries.size(), 1u);
  EXPECT_EQ(scan.corrupt, 1u);
}

TEST(OpenCallEntryTest, AnEmptyFileHoldsNothing) {
  const auto scan = readOpenCallRecords("");
  EXPECT_TRUE(scan.entries.empty());
  EXPECT_EQ(scan.torn + scan.corrupt, 0u);
}

}  // namespace
}  // namespace tollgate::gateway
