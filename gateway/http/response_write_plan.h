#pragma once

#include <array>
#include <boost/asio/buffer.hpp>
#include <cstddef>
#include <span>
#include <string_view>

#include "gateway/http/http_head.h"

namespace tollgate::gateway {

// The buffers of each write of a relayed response to the client: the head goes with the first
// write, a chunked body gets its chunk framing, and the last write of a chunked body carries
// the last chunk; each write is one gathered system call. Planning is kept apart from writing
// so that the relay awaits each write directly: a coroutine per write cost a frame allocation,
// a resumption and a free per chunk.
class ResponseWritePlan {
 public:
  // `head` (the status line and fields, ended by an empty line) must outlive the plan.
  ResponseWritePlan(std::string_view head, bool chunked) : head_(head), chunked_(chunked) {}
  ResponseWritePlan(const ResponseWritePlan&) = delete;
  ResponseWritePlan& operator=(const ResponseWritePlan&) = delete;

  // The buffers that send `bytes` (with the head, if it has not gone yet); `last` also ends the
  // body. Empty when there is nothing to send. Valid until the next call.
  std::span<const boost::asio::const_buffer> next(std::string_view bytes, bool last);

  bool headSent() const { return head_sent_; }

 private:
  std::string_view head_;
  bool chunked_;
  bool head_sent_ = false;
  ChunkPrefix prefix_{0};
  std::array<boost::asio::const_buffer, 5> buffers_;
};

}  // namespace tollgate::gateway
