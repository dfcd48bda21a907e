#include "gateway/events/open_call_tracker.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include "gateway/core/deadline.h"
#include "gateway/events/interrupted_calls.h"

namespace tollgate::gateway {
namespace {

namespace fs = std::filesystem;

class FakeCall final : public OpenCallTracker::Call {
 public:
  explicit FakeCall(std::string id) : id_(std::move(id)) {}
  void describe(OpenCallEntry& entry) const override {
    entry.id = id_;
    entry.request_id = id_;
    entry.model_requested = "gpt-4o-mini";
    entry.attribution.team = "fraud";
    entry.input_estimate = 10;
    entry.status = 200;
    entry.output_bytes = output_bytes;
  }
  int64_t output_bytes = 0;

 private:
  std::string id_;
};

class OpenCallTrackerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/tollgate-tracker-test-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::unique_ptr<OpenCallTracker> tracker(uint64_t compact_bytes = 1 << 20) {
    auto journal = std::make_unique<OpenCallJournal>(
        OpenCallJournal::Options{dir_, false, compact_bytes}, 1, 0);
    path_ = journal->path();
    return std::make_unique<OpenCallTracker>(
        ioc_.get_executor(), std::move(journal),
        OpenCallTracker::Options{std::chrono::milliseconds(3000), std::chrono::milliseconds(1000)});
  }

  std::string fileBytes() const {
    std::ifstream in(path_, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  }

  std::vector<OpenCallEntry> unclosed() const {
    const auto scan = readOpenCallRecords(fileBytes());
    return unclosedCalls(scan.entries);
  }

  boost::asio::io_context ioc_;
  std::string dir_;
  std::string path_;
};

TEST_F(OpenCallTrackerTest, ACallShorterThanTheThresholdWritesNothing) {
  auto t = tracker();
  const int64_t now = DeadlineSweeper::nowMillis();
  {
    FakeCall call("short");
    OpenCallTracker::Handle handle;
    handle.begin(t.get(), call);
    t->tick(now + 1000, 1);
    handle.end();
  }
  EXPECT_TRUE(fileBytes().empty());
  EXPECT_EQ(t->stats().opened_total, 0u);
  EXPECT_EQ(t->stats().linked, 0u);
}

TEST_F(OpenCallTrackerTest, ALongCallIsJournaledRefreshedAndClosedByItsEvent) {
  auto t = tracker();
  const int64_t now = DeadlineSweeper::nowMillis();
  FakeCall call("long");
  OpenCallTracker::Handle handle;
  handle.begin(t.get(), call);
  call.output_bytes = 400;
  t->tick(now + 3500, 100);
  ASSERT_EQ(unclosed().size(), 1u);
  EXPECT_EQ(unclosed()[0].output_bytes, 400);
  call.output_bytes = 800;
  t->tick(now + 4500, 200);
  t->tick(now + 5500, 300);  // nothing moved: no record
  EXPECT_EQ(t->stats().progress_total, 1u);
  ASSERT_EQ(unclosed().size(), 1u);
  EXPECT_EQ(unclosed()[0].output_bytes, 800);
  EXPECT_EQ(unclosed()[0].at_unix_ns, 200);
  handle.end();
  EXPECT_TRUE(unclosed().empty());
  EXPECT_EQ(t->stats().closed_total, 1u);
  t->stop();
  EXPECT_FALSE(fs::exists(path_));  // nothing left open: the file is not needed
}

TEST_F(OpenCallTrackerTest, ACallAbandonedWithoutItsEventStaysOpenForTheNextStart) {
  auto t = tracker();
  const int64_t now = DeadlineSweeper::nowMillis();
  {
    FakeCall call("abandoned");
    OpenCallTracker::Handle handle;
    handle.begin(t.get(), call);
    t->tick(now + 3500, 100);
  }
  t->stop();
  ASSERT_TRUE(fs::exists(path_));
  ASSERT_EQ(unclosed().size(), 1u);
  EXPECT_EQ(unclosed()[0].id, "abandoned");
  EXPECT_EQ(t->stats().abandoned, 1u);
}

TEST_F(OpenCallTrackerTest, CompactionKeepsTheLiveCallsWithTheirLatestProgress) {
  auto t = tracker(/*compact_bytes=*/600);
  const int64_t now = DeadlineSweeper::nowMillis();
  FakeCall a("a");
  FakeCall b("b");
  OpenCallTracker::Handle ha;
  OpenCallTracker::Handle hb;
  ha.begin(t.get(), a);
  hb.begin(t.get(), b);
  for (int i = 1; i <= 20; ++i) {
    a.output_bytes = 4 * i;
    b.output_bytes = 8 * i;
    t->tick(now + 3000 + 1000 * i, i);
  }
  hb.end();
  EXPECT_GT(t->stats().compactions, 0u);
  EXPECT_LT(fileBytes().size(), 1200u);
  const auto calls = unclosed();
  ASSERT_EQ(calls.size(), 1u);
  EXPECT_EQ(calls[0].id, "a");
  EXPECT_EQ(calls[0].output_bytes, 80);
}

TEST_F(OpenCallTrackerTest, TheTimerTicksOnlyWhileCallsAreLinked) {
  auto t = tracker();
  FakeCall call("x");
  {
    OpenCallTracker::Handle handle;
    handle.begin(t.get(), call);
  }
  // The armed tick finds nothing linked and does not re-arm: the loop ends by itself.
  ioc_.run_for(std::chrono::seconds(3));
  EXPECT_TRUE(ioc_.stopped());
}

TEST_F(OpenCallTrackerTest, WithoutAJournalNothingIsLinked) {
  OpenCallTracker t(ioc_.get_executor(), nullptr, {});
  FakeCall call("x");
  OpenCallTracker::Handle handle;
  handle.begin(&t, call);
  EXPECT_EQ(t.stats().linked, 0u);
  handle.end();
}

}  // namespace
}  // namespace tollgate::gateway
