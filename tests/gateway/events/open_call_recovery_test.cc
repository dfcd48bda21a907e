#include "gateway/events/open_call_recovery.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>
#include <vector>

#include "gateway/events/open_call_entry.h"
#include "gateway/events/open_call_journal.h"

namespace tollgate::gateway {
namespace {

namespace fs = std::filesystem;

// Keeps what it is given; can refuse, and can hold events "unwritten" like a file sink's queue.
class RecordingSink final : public EventSink {
 public:
  bool tryEmit(meter::CostEvent&& event) override {
    if (refuse) return false;
    events.push_back(std::move(event));
    return true;
  }
  bool ready() const override { return true; }
  uint64_t stop(std::chrono::milliseconds) override { return 0; }
  SinkStats stats() const override {
    SinkStats s;
    s.queue_depth = stuck ? events.size() : 0;
    return s;
  }
  std::vector<meter::CostEvent> events;
  bool refuse = false;
  bool stuck = false;
};

OpenCallEntry entry(OpenCallEntry::Kind kind, const std::string& id, int64_t output_bytes = 0) {
  OpenCallEntry e;
  e.kind = kind;
  e.id = id;
  e.request_id = id;
  e.model_requested = "gpt-4o-mini";
  e.start_unix_ns = 1;
  e.at_unix_ns = 2 + output_bytes;
  e.output_bytes = output_bytes;
  e.input_estimate = 10;
  return e;
}

std::string records(const std::vector<OpenCallEntry>& entries) {
  std::string out;
  for (const auto& e : entries) appendOpenCallRecord(e, out);
  return out;
}

class OpenCallRecoveryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/tollgate-open-calls-test-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { fs::remove_all(dir_); }

  size_t journalFiles() const {
    size_t n = 0;
    for (const auto& item : fs::directory_iterator(dir_)) {
      if (OpenCallJournal::isJournalFile(item.path().filename().string())) ++n;
    }
    return n;
  }

  std::string dir_;
  meter::PriceBook book_;
  meter::TokenCoster prices_{book_};
};

TEST_F(OpenCallRecoveryTest, CallsLeftOpenByAKilledProcessAreBookedOnceAndTheFilesRemoved) {
  // A child process journals three calls, closes one, and is SIGKILLed with the others open:
  // what it appended is in the page cache, as after any crash of the process alone.
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    OpenCallJournal journal({dir_, false, 1 << 20}, 7, 0);
    const bool ok = journal.append(records({entry(OpenCallEntry::Kind::kOpen, "a"),
                                            entry(OpenCallEntry::Kind::kOpen, "b"),
                                            entry(OpenCallEntry::Kind::kOpen, "c")})) &&
                    journal.append(records({entry(OpenCallEntry::Kind::kProgress, "a", 400),
                                            entry(OpenCallEntry::Kind::kClose, "b")}));
    if (!ok) ::_exit(1);
    ::kill(::getpid(), SIGKILL);
    ::_exit(2);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFSIGNALED(status));
  ASSERT_EQ(journalFiles(), 1u);

  RecordingSink sink;
  const auto result = recoverOpenCalls(dir_, sink, prices_, false, std::chrono::seconds(1));
  EXPECT_EQ(result.files, 1u);
  EXPECT_EQ(result.recovered, 2u);
  EXPECT_TRUE(result.files_removed);
  ASSERT_EQ(sink.events.size(), 2u);
  EXPECT_EQ(sink.events[0].id, "a");
  EXPECT_EQ(sink.events[0].usage.output_tokens, 100);
  EXPECT_EQ(sink.events[0].outcome, meter::Outcome::kInterrupted);
  EXPECT_EQ(sink.events[1].id, "c");
  EXPECT_EQ(journalFiles(), 0u);

  // The next start finds nothing: no call is booked twice.
  RecordingSink again;
  EXPECT_EQ(recoverOpenCalls(dir_, again, prices_, false, std::chrono::seconds(1)).recovered, 0u);
  EXPECT_TRUE(again.events.empty());
}

TEST_F(OpenCallRecoveryTest, FilesOfSeveralWorkersAndGenerationsAreAllRead) {
  {
    OpenCallJournal w0({dir_, false, 1 << 20}, 1, 0);
    OpenCallJournal w1({dir_, false, 1 << 20}, 1, 1);
    OpenCallJournal older({dir_, false, 1 << 20}, 0, 0);
    ASSERT_TRUE(w0.append(records({entry(OpenCallEntry::Kind::kOpen, "w0")})));
    ASSERT_TRUE(w1.append(records({entry(OpenCallEntry::Kind::kOpen, "w1")})));
    ASSERT_TRUE(older.append(records({entry(OpenCallEntry::Kind::kOpen, "old")})));
  }
  RecordingSink sink;
  const auto result = recoverOpenCalls(dir_, sink, prices_, true, std::chrono::seconds(1));
  EXPECT_EQ(result.files, 3u);
  std::set<std::string> ids;
  for (const auto& e : sink.events) ids.insert(e.id);
  EXPECT_EQ(ids, (std::set<std::string>{"w0", "w1", "old"}));
}

TEST_F(OpenCallRecoveryTest, EventsTheSinkRefusesKeepTheFilesForTheNextStart) {
  {
    OpenCallJournal journal({dir_, false, 1 << 20}, 1, 0);
    ASSERT_TRUE(journal.append(records({entry(OpenCallEntry::Kind::kOpen, "a")})));
  }
  RecordingSink refusing;
  refusing.refuse = true;
  const auto result = recoverOpenCalls(dir_, refusing, prices_, true, std::chrono::seconds(1));
  EXPECT_EQ(result.refused, 1u);
  EXPECT_FALSE(result.files_removed);
  EXPECT_EQ(journalFiles(), 1u);

  RecordingSink sink;
  EXPECT_EQ(recoverOpenCalls(dir_, sink, prices_, true, std::chrono::seconds(1)).recovered, 1u);
  EXPECT_EQ(journalFiles(), 0u);
}

TEST_F(OpenCallRecoveryTest, EventsNotYetWrittenByTheSinkKeepTheFiles) {
  {
    OpenCallJournal journal({dir_, false, 1 << 20}, 1, 0);
    ASSERT_TRUE(journal.append(records({entry(OpenCallEntry::Kind::kOpen, "a")})));
  }
  RecordingSink stuck;
  stuck.stuck = true;
  const auto result = recoverOpenCalls(dir_, stuck, prices_, false, std::chrono::milliseconds(20));
  EXPECT_EQ(result.recovered, 1u);
  EXPECT_FALSE(result.files_removed);
  EXPECT_EQ(journalFiles(), 1u);
}

TEST_F(OpenCallRecoveryTest, ACompactedJournalHoldsOnlyTheLiveCalls) {
  OpenCallJournal journal({dir_, false, 64}, 1, 0);
  ASSERT_TRUE(journal.append(
      records({entry(OpenCallEntry::Kind::kOpen, "a"), entry(OpenCallEntry::Kind::kOpen, "b"),
               entry(OpenCallEntry::Kind::kClose, "a")})));
  EXPECT_TRUE(journal.wantsCompaction());
  ASSERT_TRUE(journal.compact(records({entry(OpenCallEntry::Kind::kOpen, "b", 800)})));
  ASSERT_TRUE(journal.append(records({entry(OpenCallEntry::Kind::kProgress, "b", 1200)})));
  RecordingSink sink;
  recoverOpenCalls(dir_, sink, prices_, true, std::chrono::seconds(1));
  ASSERT_EQ(sink.events.size(), 1u);
  EXPECT_EQ(sink.events[0].id, "b");
  EXPECT_EQ(sink.events[0].usage.output_tokens, 300);
}

TEST_F(OpenCallRecoveryTest, ATornLastRecordIsCountedAndTheRestBooked) {
  std::string path;
  {
    OpenCallJournal journal({dir_, false, 1 << 20}, 1, 0);
    ASSERT_TRUE(journal.append(records({entry(OpenCallEntry::Kind::kOpen, "a")})));
    const std::string torn = records({entry(OpenCallEntry::Kind::kOpen, "b")});
    ASSERT_TRUE(journal.append(std::string_view(torn).substr(0, torn.size() - 5)));
  }
  RecordingSink sink;
  const auto result = recoverOpenCalls(dir_, sink, prices_, true, std::chrono::seconds(1));
  EXPECT_EQ(result.torn, 1u);
  ASSERT_EQ(sink.events.size(), 1u);
  EXPECT_EQ(sink.events[0].id, "a");
}

TEST_F(OpenCallRecoveryTest, AMissingDirectoryHoldsNothing) {
  RecordingSink sink;
  const auto result =
      recoverOpenCalls(dir_ + "/absent", sink, prices_, true, std::chrono::seconds(1));
  EXPECT_EQ(result.files, 0u);
  EXPECT_TRUE(sink.events.empty());
}

TEST_F(OpenCallRecoveryTest, AJournalThatCannotBeCreatedFailsLoudly) {
  EXPECT_THROW(OpenCallJournal({"/proc/no-such-dir", false, 1 << 20}, 1, 0), std::runtime_error);
}

}  // namespace
}  // namespace tollgate::gateway
