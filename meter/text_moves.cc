#include "meter/text_moves.h"

#include <utility>

namespace tollgate::meter {

void copyText(std::string& to, std::string_view from) { to.assign(from.data(), from.size()); }

void moveText(std::string& to, std::string& from) { to = std::move(from); }

}  // namespace tollgate::meter
