#include "gateway/spool.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace tollgate::gateway {
namespace {

namespace fs = std::filesystem;

class SpoolTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/tollgate-spool-test-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { fs::remove_all(dir_); }

  SpoolOptions options(uint64_t max_bytes = 1 << 20, uint64_t segment_bytes = 1 << 16) const {
    return SpoolOptions{dir_, max_bytes, segment_bytes};
  }

  // Appends one record per value, each keyed "k<value>"; returns the first sequence number.
  static uint64_t appendAll(Spool& spool, const std::vector<std::string>& values,
                            uint64_t now_ms = 1000) {
    std::vector<std::string> keys;
    for (const auto& v : values) keys.push_back("k" + v);
    std::vector<Spool::Entry> entries;
    for (size_t i = 0; i < values.size(); ++i) entries.push_back({keys[i], values[i]});
    uint64_t first = 0;
    EXPECT_EQ(spool.append(entries, now_ms, first), Spool::AppendResult::kOk);
    return first;
  }

  static std::vector<std::string> pendingValues(Spool& spool) {
    std::vector<SpoolRecord> records;
    spool.readFrom(0, 1'000'000, records);
    std::vector<std::string> out;
    for (const auto& r : records) out.push_back(r.value);
    return out;
  }

  std::vector<fs::path> segmentFiles() const {
    std::vector<fs::path> out;
    for (const auto& e : fs::directory_iterator(dir_)) {
      if (e.path().filename().string().rfind("segment-", 0) == 0) out.push_back(e.path());
    }
    std::sort(out.begin(), out.end());
    return out;
  }

  std::string dir_;
};

TEST(Crc32c, MatchesTheStandardCheckValue) {
  EXPECT_EQ(crc32c("123456789"), 0xE3069283u);
  EXPECT_EQ(crc32c(""), 0u);
  // The instruction path and the table agree on every length and alignment, and when chained.
  std::string data;
  for (int i = 0; i < 300; ++i) data.push_back(static_cast<char>(i * 131 + 7));
  for (size_t start = 0; start < 9; ++start) {
    for (size_t len = 0; start + len <= data.size(); len += 13) {
      const std::string_view piece(data.data() + start, len);
      ASSERT_EQ(crc32c(piece), crc32cPortable(piece)) << start << " " << len;
    }
  }
  EXPECT_EQ(crc32c("56789", crc32c("1234")), 0xE3069283u);
  EXPECT_EQ(crc32cPortable("56789", crc32cPortable("1234")), 0xE3069283u);
}

TEST_F(SpoolTest, SyncKeepsRecordsAndCanBeRepeated) {
  {
    Spool spool(options());
    EXPECT_EQ(appendAll(spool, {"a", "b"}), 1u);
    spool.sync();
    spool.sync();  // nothing appended since: nothing to do
    EXPECT_EQ(appendAll(spool, {"c"}), 3u);
    spool.ack(1);
    spool.sync();
    EXPECT_EQ(spool.stats().pending, 2u);
  }
  Spool spool(options());
  EXPECT_EQ(spool.stats().replayed, 2u);
}

TEST_F(SpoolTest, AppendedRecordsAreReplayedAfterReopen) {
  {
    Spool spool(options());
    EXPECT_EQ(appendAll(spool, {"a", "b", "c"}), 1u);
    EXPECT_EQ(spool.stats().pending, 3u);
  }
  Spool spool(options());
  EXPECT_EQ(spool.stats().replayed, 3u);
  EXPECT_EQ(spool.stats().torn_records, 0u);
  std::vector<SpoolRecord> records;
  EXPECT_EQ(spool.readFrom(spool.beginSeq(), 10, records), spool.endSeq());
  ASSERT_EQ(records.size(), 3u);
  EXPECT_EQ(records[0].seq, 1u);
  EXPECT_EQ(records[2].seq, 3u);
  EXPECT_EQ(records[1].key, "kb");
  EXPECT_EQ(records[1].value, "b");
  EXPECT_EQ(records[1].append_unix_ms, 1000u);
  // New records continue the numbering in a new segment.
  EXPECT_EQ(appendAll(spool, {"d"}), 4u);
}

TEST_F(SpoolTest, RecordsBelowTheCheckpointAreNotReplayed) {
  {
    Spool spool(options());
    appendAll(spool, {"a", "b", "c", "d", "e"});
    spool.ack(1);
    spool.ack(2);
    spool.ack(4);
    spool.ack(4);  // a duplicate acknowledgement changes nothing
    EXPECT_EQ(spool.stats().pending, 2u);
    spool.checkpoint();
  }
  // Everything below the first unacknowledged record is known delivered; "d" was acknowledged
  // above that mark, so it is sent again (a duplicate consumers drop by id).
  Spool spool(options());
  EXPECT_EQ(pendingValues(spool), (std::vector<std::string>{"c", "d", "e"}));
  EXPECT_EQ(spool.beginSeq(), 3u);
  EXPECT_EQ(spool.stats().replayed, 3u);
}

TEST_F(SpoolTest, AcknowledgementMarkIsSavedOnClose) {
  {
    Spool spool(options());
    appendAll(spool, {"a", "b"});
    spool.ack(1);
  }
  Spool spool(options());
  EXPECT_EQ(pendingValues(spool), (std::vector<std::string>{"b"}));
}

TEST_F(SpoolTest, NewRecordsNeverFallBelowTheMark) {
  {
    Spool spool(options());
    appendAll(spool, {"a", "b"});
    spool.ack(1);
    spool.ack(2);
  }
  for (const auto& f : segmentFiles()) fs::remove(f);  // segments removed by hand
  Spool spool(options());
  EXPECT_EQ(appendAll(spool, {"c"}), 3u);
}

TEST_F(SpoolTest, ReadFromStopsAtTheLimitAndResumes) {
  Spool spool(options());
  appendAll(spool, {"a", "b", "c", "d"});
  spool.ack(2);
  std::vector<SpoolRecord> records;
  const uint64_t next = spool.readFrom(1, 2, records);
  ASSERT_EQ(records.size(), 2u);
  EXPECT_EQ(records[1].value, "c");
  EXPECT_EQ(next, 4u);
  records.clear();
  EXPECT_EQ(spool.readFrom(next, 2, records), 5u);
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0].value, "d");
}

TEST_F(SpoolTest, SegmentIsDeletedOnceEveryRecordIsAcknowledged) {
  Spool spool(options(1 << 20, 4000));
  const std::string value(1000, 'x');  // with its key "k" + value: 2029 bytes a record
  // A segment takes appends until it reaches 4000 bytes: two records each, the fifth alone.
  for (int i = 0; i < 5; ++i) appendAll(spool, {value});
  EXPECT_EQ(segmentFiles().size(), 3u);
  const uint64_t before = spool.stats().bytes;
  EXPECT_EQ(before, 5u * 2029);
  spool.ack(1);
  EXPECT_EQ(segmentFiles().size(), 3u);  // seq 2 still pending in the first segment
  spool.ack(2);
  EXPECT_EQ(segmentFiles().size(), 2u);
  EXPECT_EQ(spool.stats().bytes, before - 2 * 2029);
  EXPECT_EQ(spool.stats().pending, 3u);
}

TEST_F(SpoolTest, TruncatedTailIsDetectedCountedAndSkipped) {
  {
    Spool spool(options());
    appendAll(spool, {"first", "second", "third"});
  }
  auto files = segmentFiles();
  ASSERT_EQ(files.size(), 1u);
  fs::resize_file(files[0], fs::file_size(files[0]) - 3);  // a crash inside the last write
  {
    Spool spool(options());
    EXPECT_EQ(spool.stats().torn_records, 1u);
    EXPECT_EQ(spool.stats().replayed, 2u);
    EXPECT_EQ(pendingValues(spool), (std::vector<std::string>{"first", "second"}));
    appendAll(spool, {"fourth"});
  }
  // The torn record stays skipped; the records around it are all there.
  Spool spool(options());
  EXPECT_EQ(pendingValues(spool), (std::vector<std::string>{"first", "second", "fourth"}));
}

TEST_F(SpoolTest, TornHeaderAtTheEndIsDetected) {
  {
    Spool spool(options());
    appendAll(spool, {"first", "second"});
  }
  auto files = segmentFiles();
  const auto size = fs::file_size(files[0]);
  fs::resize_file(files[0], size - (Spool::kHeaderBytes + 2 + 6) + 5);  // 5 header bytes left
  Spool spool(options());
  EXPECT_EQ(spool.stats().torn_records, 1u);
  EXPECT_EQ(pendingValues(spool), (std::vector<std::string>{"first"}));
}

TEST_F(SpoolTest, CorruptRecordInTheMiddleIsSkippedAndLaterRecordsKept) {
  {
    Spool spool(options());
    appendAll(spool, {"aaaa", "bbbb", "cccc"});
  }
  auto files = segmentFiles();
  {
    std::fstream f(files[0], std::ios::in | std::ios::out | std::ios::binary);
    // The value of the second record: after the first record and the second's header + key.
    const auto record = Spool::kHeaderBytes + 5 + 4;
    f.seekp(static_cast<std::streamoff>(record + Spool::kHeaderBytes + 5));
    f.put('X');
  }
  Spool spool(options());
  EXPECT_EQ(spool.stats().torn_records, 1u);
  EXPECT_EQ(spool.stats().replayed, 2u);
  EXPECT_EQ(pendingValues(spool), (std::vector<std::string>{"aaaa", "cccc"}));
}

TEST_F(SpoolTest, AppendPastTheBoundIsRefusedUntilAcknowledgementsFreeSpace) {
  Spool spool(options(4096, 4096));
  const std::string value(900, 'v');
  std::vector<Spool::Entry> one{{"k", value}};
  uint64_t first = 0;
  int accepted = 0;
  while (spool.append(one, 1, first) == Spool::AppendResult::kOk) ++accepted;
  EXPECT_EQ(accepted, 4);  // 4 * 929 bytes fit in 4096, a fifth does not
  EXPECT_EQ(spool.append(one, 1, first), Spool::AppendResult::kFull);
  EXPECT_LE(spool.stats().bytes, 4096u);
  for (uint64_t seq = 1; seq <= 4; ++seq) spool.ack(seq);
  ASSERT_EQ(spool.append(one, 1, first), Spool::AppendResult::kOk);
  EXPECT_EQ(first, 5u);
  EXPECT_EQ(spool.stats().bytes, Spool::kHeaderBytes + 1 + value.size());
}

TEST_F(SpoolTest, OldestPendingTimeFollowsAcknowledgements) {
  Spool spool(options());
  appendAll(spool, {"a"}, 111);
  appendAll(spool, {"b"}, 222);
  EXPECT_EQ(spool.stats().oldest_pending_unix_ms, 111u);
  spool.ack(1);
  EXPECT_EQ(spool.stats().oldest_pending_unix_ms, 222u);
  spool.ack(2);
  EXPECT_EQ(spool.stats().oldest_pending_unix_ms, 0u);
  EXPECT_EQ(spool.beginSeq(), spool.endSeq());
}

TEST_F(SpoolTest, FailedDeliveriesAreHandedBackOnce) {
  Spool spool(options());
  appendAll(spool, {"a", "b"});
  spool.markFailed(2);
  spool.markFailed(1);
  EXPECT_EQ(spool.takeFailed(), (std::vector<uint64_t>{2, 1}));
  EXPECT_TRUE(spool.takeFailed().empty());
  SpoolRecord r;
  ASSERT_TRUE(spool.read(2, r));
  EXPECT_EQ(r.value, "b");
  spool.ack(2);
  EXPECT_FALSE(spool.read(2, r));
}

TEST_F(SpoolTest, UnusableDirectoryThrows) {
  const std::string file = dir_ + "/not-a-dir";
  std::ofstream(file) << "x";
  EXPECT_THROW(Spool(SpoolOptions{file + "/spool", 1 << 20, 4096}), std::runtime_error);
}

}  // namespace
}  // namespace tollgate::gateway
