#include "gateway/events/spool.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

namespace tollgate::gateway {
namespace {

namespace fs = std::filesystem;

// Every spool test runs on both append paths: copies into a mapped segment, and write(2).
class SpoolTest : public ::testing::TestWithParam<bool> {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/tollgate-spool-test-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { fs::remove_all(dir_); }

  static bool mapped() { return !GetParam(); }

  SpoolOptions options(uint64_t max_bytes = 1 << 20, uint64_t segment_bytes = 1 << 16) const {
    return SpoolOptions{dir_, max_bytes, segment_bytes, /*force_write=*/!mapped()};
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

  // What the segment files take on disk: what stats().bytes must say.
  uint64_t fileBytes() const {
    uint64_t sum = 0;
    for (const auto& f : segmentFiles()) sum += fs::file_size(f);
    return sum;
  }

  static std::string readFile(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  }
  static void writeFile(const fs::path& path, const std::string& data) {
    std::ofstream(path, std::ios::binary | std::ios::trunc) << data;
  }

  std::string dir_;
};

INSTANTIATE_TEST_SUITE_P(AppendPaths, SpoolTest, ::testing::Values(false, true),
                         [](const auto& info) { return info.param ? "Write" : "Mapped"; });

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

TEST_P(SpoolTest, SyncKeepsRecordsAndCanBeRepeated) {
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

TEST_P(SpoolTest, AppendedRecordsAreReplayedAfterReopen) {
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

TEST_P(SpoolTest, RecordsBelowTheCheckpointAreNotReplayed) {
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

TEST_P(SpoolTest, AcknowledgementMarkIsSavedOnClose) {
  {
    Spool spool(options());
    appendAll(spool, {"a", "b"});
    spool.ack(1);
  }
  Spool spool(options());
  EXPECT_EQ(pendingValues(spool), (std::vector<std::string>{"b"}));
}

TEST_P(SpoolTest, NewRecordsNeverFallBelowTheMark) {
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

TEST_P(SpoolTest, ReadFromStopsAtTheLimitAndResumes) {
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

TEST_P(SpoolTest, SegmentIsDeletedOnceEveryRecordIsAcknowledged) {
  Spool spool(options(1 << 20, 4100));
  const std::string value(1000, 'x');  // with its key "k" + value: 2029 bytes a record
  // A segment takes records while they fit in 4100 bytes: two records each, the fifth alone.
  for (int i = 0; i < 5; ++i) appendAll(spool, {value});
  EXPECT_EQ(segmentFiles().size(), 3u);
  const uint64_t before = spool.stats().bytes;
  // Sealed segments are cut to their records; the active one is preallocated when mapped.
  EXPECT_EQ(before, 4u * 2029 + (mapped() ? 4100 : 2029));
  EXPECT_EQ(before, fileBytes());
  spool.ack(1);
  EXPECT_EQ(segmentFiles().size(), 3u);  // seq 2 still pending in the first segment
  spool.ack(2);
  EXPECT_EQ(segmentFiles().size(), 2u);
  EXPECT_EQ(spool.stats().bytes, before - 2 * 2029);
  EXPECT_EQ(spool.stats().pending, 3u);
}

// An append that rolls over past a fully acknowledged segment drops it, but leaves removing its
// file (slow for a large file) to the next ack, read or checkpoint, off the request path.
TEST_P(SpoolTest, SegmentDroppedByAnAppendIsRemovedByTheNextCheckpoint) {
  Spool spool(options(1 << 20, 4100));
  const std::string value(1000, 'x');  // 2029 bytes a record: two records per segment
  appendAll(spool, {value, value});
  spool.ack(1);
  spool.ack(2);  // the active segment is done, not sealed: it stays
  ASSERT_EQ(segmentFiles().size(), 1u);
  appendAll(spool, {value});  // does not fit: seals and drops the first segment
  EXPECT_EQ(spool.stats().segments, 1u);
  EXPECT_EQ(segmentFiles().size(), 2u);  // its file is not removed by the append
  spool.checkpoint();
  EXPECT_EQ(segmentFiles().size(), 1u);
  EXPECT_EQ(spool.stats().bytes, fileBytes());
  EXPECT_EQ(spool.stats().pending, 1u);
}

TEST_P(SpoolTest, TruncatedTailIsDetectedCountedAndSkipped) {
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

TEST_P(SpoolTest, TornHeaderAtTheEndIsDetected) {
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

TEST_P(SpoolTest, CorruptRecordInTheMiddleIsSkippedAndLaterRecordsKept) {
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

TEST_P(SpoolTest, AppendPastTheBoundIsRefusedUntilAcknowledgementsFreeSpace) {
  Spool spool(options(4096, 4096));
  const std::string value(900, 'v');
  std::vector<Spool::Entry> one{{"k", value}};
  uint64_t first = 0;
  int accepted = 0;
  while (spool.append(one, 1, first) == Spool::AppendResult::kOk) ++accepted;
  EXPECT_EQ(accepted, 4);  // 4 * 929 bytes fit in 4096, a fifth does not
  EXPECT_EQ(spool.append(one, 1, first), Spool::AppendResult::kFull);
  EXPECT_LE(spool.stats().bytes, 4096u);
  EXPECT_EQ(spool.stats().bytes, fileBytes());
  for (uint64_t seq = 1; seq <= 4; ++seq) spool.ack(seq);
  ASSERT_EQ(spool.append(one, 1, first), Spool::AppendResult::kOk);
  EXPECT_EQ(first, 5u);
  // A mapped segment takes the whole bound (min(segment_bytes, max_bytes)) from its creation.
  EXPECT_EQ(spool.stats().bytes, mapped() ? 4096 : Spool::kHeaderBytes + 1 + value.size());
  EXPECT_EQ(spool.stats().bytes, fileBytes());
}

TEST_P(SpoolTest, OldestPendingTimeFollowsAcknowledgements) {
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

TEST_P(SpoolTest, FailedDeliveriesAreHandedBackOnce) {
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

TEST_P(SpoolTest, AppendsUseThePathAskedFor) {
  Spool spool(options());
  appendAll(spool, {"a"});
  EXPECT_EQ(spool.stats().mapped, mapped());
  // A mapped segment is preallocated to min(segment_bytes, max_bytes) as soon as it is used.
  ASSERT_EQ(segmentFiles().size(), 1u);
  EXPECT_EQ(fs::file_size(segmentFiles()[0]),
            mapped() ? uint64_t{1} << 16 : Spool::kHeaderBytes + 2 + 1);
}

// The guarantee the request path relies on: once append() returns, a SIGKILL loses nothing.
TEST_P(SpoolTest, RecordsAppendedBeforeASigkillAreAllReplayed) {
  constexpr int kRecords = 300;
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    // 4 KiB segments of ~230-byte records: sealed segments and an active one with a tail.
    Spool spool(options(1 << 20, 4096));
    for (int i = 0; i < kRecords; ++i) {
      const std::string value = std::to_string(i) + std::string(200, 'v');
      const Spool::Entry entry{"key", value};
      uint64_t seq = 0;
      if (spool.append({&entry, 1}, 1, seq) != Spool::AppendResult::kOk) ::_exit(1);
    }
    ::kill(::getpid(), SIGKILL);
    ::_exit(2);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << status;
  // Mapped: the active segment still has its preallocated zero tail (no clean close).
  const auto files = segmentFiles();
  ASSERT_GT(files.size(), 1u);
  EXPECT_EQ(fs::file_size(files.back()) == 4096u, mapped());

  Spool spool(options(1 << 20, 4096));
  EXPECT_EQ(spool.stats().replayed, uint64_t{kRecords});
  EXPECT_EQ(spool.stats().torn_records, 0u);
  const auto values = pendingValues(spool);
  ASSERT_EQ(values.size(), size_t{kRecords});
  for (int i = 0; i < kRecords; ++i) {
    ASSERT_EQ(values[i], std::to_string(i) + std::string(200, 'v'));
  }
  // Opening cut the zero tail away: every old file holds records only.
  uint64_t record_bytes = 0;
  for (int i = 0; i < kRecords; ++i) record_bytes += Spool::kHeaderBytes + 3 + values[i].size();
  EXPECT_EQ(fileBytes(), record_bytes);
  EXPECT_EQ(spool.stats().bytes, fileBytes());
}

// A process killed inside the copy of a record: its header is there, its body only in part,
// and the rest of the preallocated segment is zeros.
TEST_P(SpoolTest, HalfCopiedRecordBeforeAZeroTailIsTorn) {
  {
    Spool spool(options());
    appendAll(spool, {"first", "second", "third"});
  }
  const auto file = segmentFiles().at(0);
  std::string data = readFile(file);
  data.replace(data.size() - 3, 3, std::string(3, '\0'));  // the end of its value not copied
  data.append(8192, '\0');
  writeFile(file, data);
  {
    Spool spool(options());
    EXPECT_EQ(spool.stats().torn_records, 1u);
    EXPECT_EQ(spool.stats().replayed, 2u);
    EXPECT_EQ(pendingValues(spool), (std::vector<std::string>{"first", "second"}));
    // The zero tail is gone, the torn record kept (a later open counts it again).
    EXPECT_EQ(fs::file_size(file), data.size() - 8192);
    appendAll(spool, {"fourth"});
  }
  Spool spool(options());
  EXPECT_EQ(pendingValues(spool), (std::vector<std::string>{"first", "second", "fourth"}));
}

// Killed inside the first copy of an append: the body is (partly) there, the header, copied
// last, is not. The data ends at the zero length, and the bytes after it say a record is torn.
TEST_P(SpoolTest, RecordWithoutItsHeaderBeforeAZeroTailIsTorn) {
  {
    Spool spool(options());
    appendAll(spool, {"first", "second"});
  }
  const auto file = segmentFiles().at(0);
  std::string data = readFile(file);
  const size_t second = data.size() - (Spool::kHeaderBytes + 7 + 6);
  data.replace(second, 8, std::string(8, '\0'));
  data.append(4096, '\0');
  writeFile(file, data);
  Spool spool(options());
  EXPECT_EQ(spool.stats().torn_records, 1u);
  EXPECT_EQ(pendingValues(spool), (std::vector<std::string>{"first"}));
  EXPECT_EQ(fs::file_size(file), data.size());  // not a zero tail: left as it is
}

TEST_P(SpoolTest, ZeroTailEndsTheDataAndIsNotATornRecord) {
  {
    Spool spool(options());
    appendAll(spool, {"first", "second"});
  }
  const auto file = segmentFiles().at(0);
  const std::string records = readFile(file);
  for (const size_t tail : {size_t{1}, size_t{3}, size_t{27}, size_t{100'000}}) {
    writeFile(file, records + std::string(tail, '\0'));
    Spool spool(options());
    EXPECT_EQ(spool.stats().torn_records, 0u) << tail;
    EXPECT_EQ(pendingValues(spool), (std::vector<std::string>{"first", "second"})) << tail;
    EXPECT_EQ(fs::file_size(file), records.size()) << tail;  // the tail was cut away
  }
}

TEST_P(SpoolTest, CleanCloseLeavesSegmentsCutToTheirRecords) {
  const std::string value(100, 'x');
  const uint64_t record = Spool::kHeaderBytes + 1 + 2 * value.size();  // keyed "k" + value
  {
    Spool spool(options(1 << 20, 4096));
    for (int i = 0; i < 100; ++i) appendAll(spool, {value});
    EXPECT_EQ(spool.stats().bytes, fileBytes());
  }
  // 4096 / 229: 17 records a segment.
  const auto files = segmentFiles();
  ASSERT_EQ(files.size(), 6u);
  for (size_t i = 0; i < 5; ++i) EXPECT_EQ(fs::file_size(files[i]), 17 * record);
  EXPECT_EQ(fs::file_size(files[5]), 15 * record);
  Spool spool(options(1 << 20, 4096));
  EXPECT_EQ(spool.stats().replayed, 100u);
  EXPECT_EQ(spool.stats().torn_records, 0u);
  EXPECT_EQ(spool.stats().bytes, 100 * record);
}

TEST_P(SpoolTest, RecordLargerThanASegmentGetsOneOfItsOwn) {
  const std::string big(6000, 'b');
  {
    Spool spool(options(1 << 20, 4096));
    appendAll(spool, {"small"});
    appendAll(spool, {big});
    appendAll(spool, {"after"});
    EXPECT_EQ(segmentFiles().size(), 3u);
    EXPECT_EQ(spool.stats().bytes, fileBytes());
  }
  Spool spool(options(1 << 20, 4096));
  EXPECT_EQ(pendingValues(spool), (std::vector<std::string>{"small", big, "after"}));
}

// A preallocated segment is mapped a few MiB at a time: records on both sides of a window's
// end, one across it, and one larger than a window all read back, before and after a reopen.
TEST_P(SpoolTest, RecordsAcrossMappingWindowsAreKept) {
  const auto value = [](int i) {
    return std::to_string(i) + std::string(1000 + i % 7, 'a' + i % 26);
  };
  const std::string big(5u << 20, 'B');
  constexpr int kSmall = 10'000;  // ~10 MiB
  const auto check = [&](Spool& spool) {
    std::vector<SpoolRecord> records;
    spool.readFrom(0, 1'000'000, records);
    ASSERT_EQ(records.size(), size_t{kSmall} + 2);
    for (int i = 0; i < kSmall; ++i) {
      const size_t at = i < kSmall / 2 ? i : i + 1;
      ASSERT_EQ(records[at].value, value(i)) << i;
    }
    EXPECT_EQ(records[kSmall / 2].value, big);
    EXPECT_EQ(records.back().value, "last");
  };
  {
    Spool spool(options(64u << 20, 32u << 20));
    for (int i = 0; i < kSmall; ++i) {
      if (i == kSmall / 2) appendAll(spool, {big});
      appendAll(spool, {value(i)});
    }
    appendAll(spool, {"last"});
    EXPECT_EQ(segmentFiles().size(), 1u);
    check(spool);
  }
  Spool spool(options(64u << 20, 32u << 20));
  EXPECT_EQ(spool.stats().torn_records, 0u);
  check(spool);
}

// The bound holds for what is on disk, preallocation included, through rollovers and deletions.
TEST_P(SpoolTest, BytesAreWhatTheFilesTakeAndStayWithinTheBound) {
  Spool spool(options(10'000, 3000));
  const std::string value(400, 'v');
  uint64_t acked = 0;
  int full = 0;
  for (int i = 0; i < 200; ++i) {
    uint64_t first = 0;
    const Spool::Entry entry{"k", value};
    if (spool.append({&entry, 1}, 1, first) == Spool::AppendResult::kFull) {
      ++full;
      spool.ack(++acked);  // free a record: the oldest segment goes once all of it is acked
    }
    ASSERT_EQ(spool.stats().bytes, fileBytes()) << i;
    ASSERT_LE(fileBytes(), 10'000u) << i;
  }
  EXPECT_GT(full, 0);
  EXPECT_EQ(spool.stats().pending + acked, spool.endSeq() - 1);
}

TEST_P(SpoolTest, ManyAcknowledgementsAtOnce) {
  Spool spool(options(1 << 20, 100));
  appendAll(spool, {"a", "b", "c"});                 // 3 * 31 bytes: one segment
  appendAll(spool, {"d"});                           // does not fit: the next
  const std::vector<uint64_t> seqs{1, 3, 3, 99, 4};  // a duplicate and an unknown one included
  spool.ack(seqs);
  EXPECT_EQ(spool.stats().pending, 1u);
  EXPECT_EQ(pendingValues(spool), (std::vector<std::string>{"b"}));
  EXPECT_EQ(spool.beginSeq(), 2u);
  EXPECT_EQ(segmentFiles().size(), 2u);
  spool.ack(std::vector<uint64_t>{2});
  EXPECT_EQ(spool.stats().pending, 0u);
  EXPECT_EQ(segmentFiles().size(), 1u);  // the first, sealed and all acknowledged, is gone
}

// prefault() makes the mapping ahead of the data writable without changing a byte: records
// appended before and after it (into prefaulted pages, across the page it started in) read back
// intact after a reopen, and nothing past the data is taken for a record.
TEST_P(SpoolTest, PrefaultAheadOfAppendsChangesNoRecord) {
  std::vector<std::string> values;
  {
    Spool spool(options(4 << 20, 1 << 20));
    spool.prefault(64 << 10);  // nothing mapped yet: nothing to do
    EXPECT_EQ(spool.stats().prefaulted_bytes, 0u);
    for (int i = 0; i < 40; ++i) {
      values.push_back(std::string(300 + i, static_cast<char>('a' + i % 26)));
    }
    appendAll(spool, {values.begin(), values.begin() + 10});
    spool.prefault(64 << 10);
    const uint64_t first = spool.stats().prefaulted_bytes;
    EXPECT_EQ(first, mapped() ? 64u << 10 : 0u);
    spool.prefault(64 << 10);  // continues where the last one stopped
    EXPECT_EQ(spool.stats().prefaulted_bytes, mapped() ? 128u << 10 : 0u);
    appendAll(spool, {values.begin() + 10, values.end()});
    EXPECT_EQ(pendingValues(spool), values);
  }
  Spool reopened(options(4 << 20, 1 << 20));
  EXPECT_EQ(reopened.stats().torn_records, 0u);
  EXPECT_EQ(reopened.stats().replayed, values.size());
  EXPECT_EQ(pendingValues(reopened), values);
}

TEST_P(SpoolTest, UnusableDirectoryThrows) {
  const std::string file = dir_ + "/not-a-dir";
  std::ofstream(file) << "x";
  EXPECT_THROW(Spool(SpoolOptions{file + "/spool", 1 << 20, 4096, !mapped()}), std::runtime_error);
}

}  // namespace
}  // namespace tollgate::gateway
