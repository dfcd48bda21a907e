#pragma once

// Turns a fuzzer's bytes into a body and the places where it is cut into chunks, so that every
// target also exercises the chunk boundaries.

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

namespace tollgate::fuzz {

struct Input {
  uint8_t selector = 0;      // first byte: target-specific choices
  std::string_view body;     // the rest
  std::vector<size_t> cuts;  // ascending cut positions in body
};

inline Input split(const uint8_t* data, size_t size) {
  Input in;
  if (size == 0) return in;
  in.selector = data[0];
  in.body = std::string_view(reinterpret_cast<const char*>(data + 1), size - 1);
  // Cut positions come from the body's own bytes, so the fuzzer can steer them.
  const size_t step = 1 + (in.selector % 17);
  for (size_t at = step; at < in.body.size(); at += step + static_cast<uint8_t>(in.body[at]) % 13) {
    in.cuts.push_back(at);
  }
  return in;
}

template <class Feed>
void forEachChunk(const Input& in, Feed&& feed) {
  size_t from = 0;
  for (size_t cut : in.cuts) {
    feed(in.body.substr(from, cut - from));
    from = cut;
  }
  feed(in.body.substr(from));
}

}  // namespace tollgate::fuzz
