#include "meter/ndjson_framer.h"

namespace tollgate::meter {

void NdjsonFramer::keep(std::string_view bytes) {
  if (dropping_) return;
  if (partial_.size() + bytes.size() > kMaxLine) {
    std::string().swap(partial_);
    dropping_ = true;
    ++dropped_;
    return;
  }
  partial_.append(bytes);
}

}  // namespace tollgate::meter
