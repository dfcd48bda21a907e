#include "meter/json_array_framer.h"

namespace tollgate::meter {

void JsonArrayFramer::keep(std::string_view bytes) {
  if (dropping_) return;
  if (partial_.size() + bytes.size() > kMaxObject) {
    std::string().swap(partial_);
    dropping_ = true;
    return;
  }
  partial_.append(bytes);
}

}  // namespace tollgate::meter
