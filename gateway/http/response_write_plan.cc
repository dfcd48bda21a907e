#include "gateway/http/response_write_plan.h"

namespace tollgate::gateway {

std::span<const boost::asio::const_buffer> ResponseWritePlan::next(std::string_view bytes,
                                                                   bool last) {
  if (bytes.empty() && !last && head_sent_) return {};
  size_t n = 0;
  if (!head_sent_) buffers_[n++] = boost::asio::buffer(head_);
  if (!bytes.empty()) {
    if (chunked_) {
      prefix_ = ChunkPrefix(bytes.size());
      buffers_[n++] = boost::asio::buffer(prefix_.view());
    }
    buffers_[n++] = boost::asio::buffer(bytes);
    if (chunked_) buffers_[n++] = boost::asio::buffer(kCrlf);
  }
  if (last && chunked_) buffers_[n++] = boost::asio::buffer(kLastChunk);
  head_sent_ = true;
  return {buffers_.data(), n};
}

}  // namespace tollgate::gateway
