#include "gateway/core/deadline.h"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <chrono>
#include <functional>
#include <optional>

namespace tollgate::gateway {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

// A connected loopback pair: reads on `a` wait until `b` writes (it never does here).
struct Pair {
  explicit Pair(asio::io_context& io) : a(io.get_executor()), b(io.get_executor()) {
    Acceptor acceptor(io.get_executor(), {asio::ip::make_address("127.0.0.1"), 0});
    a.connect(acceptor.local_endpoint());
    acceptor.accept(b);
  }
  Socket a;
  Socket b;
};

struct ReadOutcome {
  boost::system::error_code ec;
  Clock::duration after{};
};

// Starts a one-byte read on `socket` and records when and how it ended.
void startRead(Socket& socket, char& byte, std::optional<ReadOutcome>& out) {
  const auto start = Clock::now();
  asio::async_read(socket, asio::buffer(&byte, 1),
                   [&out, start](const boost::system::error_code& ec, size_t) {
                     out = ReadOutcome{ec, Clock::now() - start};
                   });
}

// One worker's sweeper and one socket under a deadline, its read recorded.
class DeadlineTest : public testing::Test {
 protected:
  asio::io_context io;
  DeadlineSweeper sweeper{io.get_executor()};
  Pair pair{io};
  Deadline deadline{sweeper, pair.a};
  char byte = 0;
  std::optional<ReadOutcome> read;
};

TEST_F(DeadlineTest, APassedDeadlineCancelsThePendingReadNotBeforeItsTime) {
  deadline.expiresAfter(milliseconds(60));
  startRead(pair.a, byte, read);
  io.run_for(std::chrono::seconds(2));
  ASSERT_TRUE(read.has_value());
  EXPECT_EQ(read->ec, asio::error::operation_aborted);
  EXPECT_TRUE(deadline.expired());
  EXPECT_FALSE(deadline.armed());
  EXPECT_GE(read->after, milliseconds(60));
  // It does fire (within the sweep's tick and the coarse clock's grain; the bound is loose for
  // a loaded machine).
  EXPECT_LT(read->after, milliseconds(60) + std::chrono::seconds(1));
  EXPECT_EQ(sweeper.fired(), 1u);
  // The socket stays open: the caller can still answer (a 408, say).
  EXPECT_TRUE(pair.a.is_open());
}

TEST_F(DeadlineTest, ReArmingBeforeItPassesKeepsTheReadAlive) {
  deadline.expiresAfter(milliseconds(80));
  startRead(pair.a, byte, read);
  // Re-armed three times, 40 ms apart: never passes while being pushed back.
  asio::steady_timer push(io);
  int pushes = 0;
  std::function<void(const boost::system::error_code&)> again =
      [&](const boost::system::error_code& ec) {
        if (ec) return;
        deadline.expiresAfter(milliseconds(80));
        if (++pushes < 3) {
          push.expires_after(milliseconds(40));
          push.async_wait(again);
        } else {
          // Then the peer answers, 120 ms after the read began: past the first deadline.
          deadline.clear();
          asio::write(pair.b, asio::buffer("x", 1));
        }
      };
  push.expires_after(milliseconds(40));
  push.async_wait(again);
  io.run_for(std::chrono::seconds(2));
  ASSERT_TRUE(read.has_value());
  EXPECT_FALSE(read->ec) << read->ec.message();
  EXPECT_EQ(byte, 'x');
  EXPECT_GE(read->after, milliseconds(120));
  EXPECT_FALSE(deadline.expired());
  EXPECT_EQ(sweeper.fired(), 0u);
}

TEST_F(DeadlineTest, AClearedDeadlineNeverFiresAndTheSweeperStopsTicking) {
  deadline.expiresAfter(milliseconds(30));
  EXPECT_EQ(sweeper.armed(), 1u);
  deadline.clear();
  EXPECT_EQ(sweeper.armed(), 0u);
  // With nothing armed the sweeper's timer is not re-armed: run() returns by itself.
  const auto start = Clock::now();
  io.run_for(std::chrono::seconds(2));
  EXPECT_LT(Clock::now() - start, milliseconds(1500));
  EXPECT_EQ(sweeper.fired(), 0u);
  EXPECT_FALSE(deadline.expired());
}

TEST(Deadline, OnlyThePassedDeadlinesOfManyFire) {
  asio::io_context io;
  DeadlineSweeper sweeper(io.get_executor());
  Pair first(io);
  Pair second(io);
  Pair third(io);
  std::optional<Deadline> soon;
  soon.emplace(sweeper, first.a);
  Deadline late(sweeper, second.a);
  Deadline unarmed(sweeper, third.a);
  EXPECT_EQ(sweeper.registered(), 3u);
  soon->expiresAfter(milliseconds(20));
  late.expiresAfter(milliseconds(10'000));
  char b1 = 0;
  char b2 = 0;
  std::optional<ReadOutcome> r1;
  std::optional<ReadOutcome> r2;
  startRead(first.a, b1, r1);
  startRead(second.a, b2, r2);
  io.run_for(milliseconds(400));
  ASSERT_TRUE(r1.has_value());
  EXPECT_EQ(r1->ec, asio::error::operation_aborted);
  EXPECT_FALSE(r2.has_value());
  EXPECT_TRUE(soon->expired());
  EXPECT_FALSE(late.expired());
  EXPECT_FALSE(unarmed.expired());
  // A deadline destroyed while others live leaves the list whole.
  soon.reset();
  EXPECT_EQ(sweeper.registered(), 2u);
  late.clear();
  EXPECT_EQ(sweeper.armed(), 0u);
  second.b.close();
  third.b.close();
  io.run_for(milliseconds(200));
  ASSERT_TRUE(r2.has_value());
  EXPECT_NE(r2->ec, asio::error::operation_aborted);
}

}  // namespace
}  // namespace tollgate::gateway
