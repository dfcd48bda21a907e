#include "meter/sse_framer.h"

#include <algorithm>
#include <cstring>

namespace tollgate::meter {
namespace {

constexpr size_t kNotFound = static_cast<size_t>(-1);
// Owned event buffers larger than this are released after the event instead of being kept for
// reuse, so one huge event does not pin its memory for the rest of the stream.
constexpr size_t kKeepCapacity = size_t{1} << 20;

size_t findByte(std::string_view s, char c, size_t from) {
  if (from >= s.size()) return kNotFound;
  const void* hit = std::memchr(s.data() + from, c, s.size() - from);
  return hit == nullptr ? kNotFound : static_cast<size_t>(static_cast<const char*>(hit) - s.data());
}

void release(std::string& s) {
  if (s.capacity() > kKeepCapacity) {
    std::string().swap(s);
  } else {
    s.clear();
  }
}

}  // namespace

bool SseFramer::hasPartial() const { return in_event_ || !line_.empty() || deferred_dispatch_; }

size_t SseFramer::partialBegin() const {
  if (in_event_) return event_begin_;
  if (!line_.empty()) return line_begin_;
  return offset_;
}

void SseFramer::beginChunk(std::string_view chunk) {
  chunk_ = chunk;
  pos_ = 0;
  chunk_base_ = offset_;
  offset_ += chunk.size();
  // Two memchr scans (one per line-break byte) instead of a byte loop: on LF-only streams the
  // CR scan runs once per chunk and finds nothing.
  next_lf_ = findByte(chunk_, '\n', 0);
  next_cr_ = findByte(chunk_, '\r', 0);
}

size_t SseFramer::findLineBreak(size_t from) {
  if (next_lf_ < from) next_lf_ = findByte(chunk_, '\n', from);
  if (next_cr_ < from) next_cr_ = findByte(chunk_, '\r', from);
  return std::min(next_lf_, next_cr_);
}

bool SseFramer::nextEvent() {
  if (chunk_.empty()) return false;
  if (pending_cr_ && pos_ == 0) {
    if (chunk_[0] == '\n') pos_ = 1;
    pending_cr_ = false;
    if (deferred_dispatch_) {
      deferred_dispatch_ = false;
      dispatch(chunk_base_ + pos_);
      return true;
    }
  }
  while (pos_ < chunk_.size()) {
    const size_t brk = findLineBreak(pos_);
    if (brk == kNotFound) return false;  // the rest is a partial line, kept by endChunk()
    if (skipping_) [[unlikely]] {
      skipLine(brk);
      continue;
    }

    std::string_view line;
    size_t begin = 0;
    if (!line_.empty() && !line_done_) {
      line_.append(chunk_.data() + pos_, brk - pos_);
      line_done_ = true;
      line = line_;
      begin = line_begin_;
    } else {
      line = chunk_.substr(pos_, brk - pos_);
      begin = chunk_base_ + pos_;
    }

    size_t next = brk + 1;
    bool cr_at_end = false;
    if (chunk_[brk] == '\r') {
      if (next < chunk_.size()) {
        if (chunk_[next] == '\n') ++next;
      } else {
        cr_at_end = true;
        pending_cr_ = true;
      }
    }
    pos_ = next;

    if (processLine(line, begin)) {
      if (cr_at_end) {
        deferred_dispatch_ = true;
        return false;
      }
      dispatch(chunk_base_ + pos_);
      return true;
    }
    // The event so far (in_event_ after any line but a blank one) is checked against the cap.
    if (chunk_base_ + pos_ - event_begin_ > max_event_bytes_) [[unlikely]] {
      checkSize(false);
    }
  }
  return false;
}

void SseFramer::skipLine(size_t brk) {
  // The blank line that ends the event is the only line that matters; the rest is not kept.
  const bool blank = brk == pos_ && !skip_line_nonempty_;
  skip_line_nonempty_ = false;
  size_t next = brk + 1;
  if (chunk_[brk] == '\r') {
    if (next < chunk_.size()) {
      if (chunk_[next] == '\n') ++next;
    } else {
      pending_cr_ = true;
    }
  }
  pos_ = next;
  if (blank) skipping_ = false;
}

void SseFramer::checkSize(bool mid_line) {
  if (skipping_ || deferred_dispatch_) return;
  size_t begin = 0;
  if (in_event_) {
    begin = event_begin_;
  } else if (!line_.empty() && !line_done_) {
    begin = line_begin_;
  } else if (mid_line) {
    begin = chunk_base_ + pos_;
  } else {
    return;
  }
  const size_t at = mid_line ? offset_ : chunk_base_ + pos_;
  if (at - begin <= max_event_bytes_) return;
  skipping_ = true;
  skip_line_nonempty_ = mid_line;
  ++oversized_events_;
  resetEvent();
  std::string().swap(line_);
  line_done_ = false;
}

bool SseFramer::processLine(std::string_view line, size_t begin) {
  if (line.empty()) {
    if (!in_event_) return false;
    if (has_data_) return true;
    resetEvent();  // a block without data (comments, "event:" alone) dispatches nothing
    return false;
  }
  if (!in_event_) {
    in_event_ = true;
    event_begin_ = begin;
  }
  if (line[0] == ':') return false;

  const size_t colon = line.find(':');
  const std::string_view field = line.substr(0, colon);
  std::string_view value;
  if (colon != std::string_view::npos) {
    value = line.substr(colon + 1);
    if (!value.empty() && value[0] == ' ') value.remove_prefix(1);
  }
  if (field == "data") {
    appendData(value);
  } else if (field == "event") {
    event_view_ = value;
    event_owned_ = false;
  }
  return false;
}

void SseFramer::appendData(std::string_view value) {
  if (!has_data_) {
    has_data_ = true;
    data_view_ = value;
    data_owned_ = false;
    return;
  }
  if (!data_owned_) {
    data_.assign(data_view_);
    data_owned_ = true;
  }
  data_.push_back('\n');
  data_.append(value);
  data_view_ = data_;
}

void SseFramer::dispatch(size_t raw_end) {
  ready_.event = event_view_;
  ready_.data = data_view_;
  ready_.raw_begin = event_begin_;
  ready_.raw_end = raw_end;
}

void SseFramer::keepViews() {
  if (!in_event_) return;
  if (has_data_ && !data_owned_) {
    data_.assign(data_view_);
    data_view_ = data_;
    data_owned_ = true;
  }
  if (!event_owned_) {
    event_.assign(event_view_);
    event_view_ = event_;
    event_owned_ = true;
  }
}

void SseFramer::endChunk() {
  if (skipping_) {
    if (pos_ < chunk_.size()) skip_line_nonempty_ = true;
    chunk_ = {};
    pos_ = 0;
    return;
  }
  // Checked before anything of this chunk is copied: an oversized event keeps nothing more.
  const bool mid_line = pos_ < chunk_.size();
  checkSize(mid_line);
  if (skipping_) {
    chunk_ = {};
    pos_ = 0;
    return;
  }
  keepViews();
  if (line_done_) {
    release(line_);
    line_done_ = false;
  }
  if (mid_line) {
    if (line_.empty()) line_begin_ = chunk_base_ + pos_;
    line_.append(chunk_.data() + pos_, chunk_.size() - pos_);
  }
  chunk_ = {};
  pos_ = 0;
}

bool SseFramer::flushDeferred() {
  if (!deferred_dispatch_) return false;
  deferred_dispatch_ = false;
  pending_cr_ = false;
  dispatch(offset_);
  return true;
}

void SseFramer::resetEvent() {
  in_event_ = false;
  has_data_ = false;
  data_owned_ = false;
  event_owned_ = false;
  data_view_ = {};
  event_view_ = {};
  release(data_);
  release(event_);
}

}  // namespace tollgate::meter
