// The request path's first steps on any bytes, cut anywhere: Beast's request parser under the
// gateway's limits, then the gateway's own request rules (gateway/request_rules.h) and the
// hop-by-hop test. Invariants: the parser never reads past its limits; a refused head always
// closes; a head let through with a Transfer-Encoding ends in chunked; trailers dropped leave
// exactly the head's fields; a query parameter is a piece of the target.
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <cstdlib>
#include <string>

#include "gateway/http/fields_arena.h"
#include "gateway/http/http_fields.h"
#include "gateway/http/request_rules.h"
#include "tests/fuzz/fuzz_input.h"

namespace http = boost::beast::http;
using tollgate::gateway::ArenaAllocator;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const auto in = tollgate::fuzz::split(data, size);
  tollgate::gateway::FieldBlockPool pool;
  tollgate::gateway::FieldArena arena(pool);
  http::request_parser<http::string_body, ArenaAllocator<char>> parser(
      std::piecewise_construct, std::make_tuple(), std::make_tuple(ArenaAllocator<char>(&arena)));
  constexpr size_t kHeaderLimit = 4096;
  constexpr size_t kBodyLimit = 16 * 1024;
  parser.header_limit(kHeaderLimit);
  parser.body_limit(kBodyLimit);
  parser.eager(false);

  // Fed as a socket would deliver it: bytes the parser did not take wait for more.
  std::string pending;
  boost::beast::error_code ec;
  bool head_checked = false;
  size_t head_fields = 0;
  bool refused = false;
  tollgate::fuzz::forEachChunk(in, [&](std::string_view chunk) {
    if (ec || refused || parser.is_done()) return;
    pending.append(chunk);
    for (;;) {
      const size_t used = parser.put(boost::asio::buffer(pending), ec);
      pending.erase(0, used);
      if (ec == http::error::need_more) {
        ec = {};
        break;
      }
      if (ec) return;
      if (parser.is_header_done() && !head_checked) {
        head_checked = true;
        const auto& head = parser.get().base();
        head_fields = static_cast<size_t>(std::distance(head.begin(), head.end()));
        const auto decision = tollgate::gateway::checkRequestHead(head, parser.get().version());
        if (decision.error && !decision.close) std::abort();
        if (decision.error) {
          refused = true;
          return;
        }
        const auto te = head[http::field::transfer_encoding];
        if (!te.empty() && !parser.chunked()) std::abort();
        const std::string_view target = parser.get().target();
        const auto key = tollgate::gateway::queryParameter(target, "key");
        if (!key.empty() && (key.data() < target.data() ||
                             key.data() + key.size() > target.data() + target.size())) {
          std::abort();
        }
        const auto hop = tollgate::gateway::HopByHop::of(head);
        for (const auto& f : head) (void)hop(f.name(), f.name_string());
      }
      if (parser.is_done() || used == 0) break;
    }
  });
  if (!ec && !refused && parser.is_done()) {
    if (parser.get().body().size() > kBodyLimit) std::abort();
    auto& head = parser.get().base();
    tollgate::gateway::dropTrailerFields(head, head_fields);
    if (static_cast<size_t>(std::distance(head.begin(), head.end())) > head_fields) std::abort();
  }
  return 0;
}
