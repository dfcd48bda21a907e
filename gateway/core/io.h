#pragma once

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/basic_socket_acceptor.hpp>
#include <boost/asio/basic_stream_socket.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/basic_resolver.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/basic_stream.hpp>
#include <boost/beast/core/rate_policy.hpp>
#include <chrono>

namespace tollgate::gateway {

// The I/O types of the request path, on a worker's io_context executor named concretely.
// Asio's default, any_io_executor, is type-erased: every socket, composed operation and
// coroutine step copies and destroys one through a function table (~3,000 instructions per
// proxied call under callgrind). A worker's sockets and coroutines never leave its io_context.
using Executor = boost::asio::io_context::executor_type;
template <class T>
using Awaitable = boost::asio::awaitable<T, Executor>;
using Socket = boost::asio::basic_stream_socket<boost::asio::ip::tcp, Executor>;
using Acceptor = boost::asio::basic_socket_acceptor<boost::asio::ip::tcp, Executor>;
using Resolver = boost::asio::ip::basic_resolver<boost::asio::ip::tcp, Executor>;
using Stream =
    boost::beast::basic_stream<boost::asio::ip::tcp, Executor, boost::beast::unlimited_rate_policy>;

// Completion token of the request path: errors as values, never exceptions. A deferred
// operation is awaited directly by the coroutine (Asio's await_transform of an async operation);
// use_awaitable would wrap each operation in a coroutine of its own, a frame allocated, resumed
// and freed per read and write.
inline constexpr auto kNoThrow = boost::asio::as_tuple(boost::asio::deferred);
// For the few Beast initiating functions still declared through async_result<>::return_type
// (basic_stream's range connect, ssl_stream's handshake), which deferred does not provide.
inline constexpr auto kNoThrowAwaitable =
    boost::asio::as_tuple(boost::asio::use_awaitable_t<Executor>{});

}  // namespace tollgate::gateway
