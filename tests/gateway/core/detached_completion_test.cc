#include "gateway/core/detached_completion.h"

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <stdexcept>

#include "gateway/core/io.h"

namespace tollgate::gateway {
namespace {

Awaitable<void> throwsAfterStarting() {
  throw std::runtime_error("boom");
  co_return;
}

Awaitable<void> endsNormally() { co_return; }

TEST(DetachedCompletion, ExceptionEscapingACoroutineIsCounted) {
  boost::asio::io_context ioc{1};
  const uint64_t before = DetachedCompletion::failures();
  boost::asio::co_spawn(ioc.get_executor(), throwsAfterStarting(), DetachedCompletion("test"));
  boost::asio::co_spawn(ioc.get_executor(), endsNormally(), DetachedCompletion("test"));
  ioc.run();
  EXPECT_EQ(DetachedCompletion::failures(), before + 1);
}

}  // namespace
}  // namespace tollgate::gateway
