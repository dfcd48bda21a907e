#pragma once

#include <string>
#include <string_view>

namespace tollgate::meter {

// A string copied or moved by one routine out of line. Inlined, each copy or move of a string is
// a few hundred bytes of code of its own, and a call's event is assembled from a dozen of them:
// the call's path through them touched more instruction-cache lines than any other part of it
// (docs/performance.md, "The event's assembly out of line").
void copyText(std::string& to, std::string_view from);
void moveText(std::string& to, std::string& from);

}  // namespace tollgate::meter
