// The strict scanner of the pre-filters against simdjson on any bytes: whatever the scanner
// accepts as a whole JSON text, simdjson's DOM parser (which validates everything) accepts too
// (but for numbers it cannot represent),
// and a string the scanner measures has the length simdjson unescapes it to. The visible-text
// reader of cut bodies must not crash on any bytes, and counts no more than it was given.
#include <simdjson.h>

#include <cstdlib>
#include <string>

#include "meter/json_scanner.h"
#include "meter/visible_text.h"
#include "tests/fuzz/fuzz_input.h"

namespace {

// simdjson's DOM also refuses numbers it cannot represent (more digits than 64 bits hold, an
// exponent out of range), which JSON's grammar allows and the scanner skips unread.
bool mayHoldUnrepresentableNumbers(std::string_view text) {
  size_t digits = 0;
  for (char c : text) {
    if (c == 'e' || c == 'E') return true;
    digits = c >= '0' && c <= '9' ? digits + 1 : 0;
    if (digits >= 19) return true;
  }
  return false;
}

constexpr tollgate::meter::TextPath kPaths[] = {
    {"choices/*/message/content"}, {"a"}, {"a/*"}, {"b/c", true}};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const auto in = tollgate::fuzz::split(data, size);
  const std::string_view text = in.body;

  tollgate::meter::JsonScanner whole(text);
  if (whole.skipValue() && whole.atEnd() && whole.validUtf8()) {
    simdjson::dom::parser parser;
    simdjson::dom::element root;
    const auto error = parser.parse(text.data(), text.size()).get(root);
    const bool number_error =
        error == simdjson::NUMBER_ERROR || error == simdjson::NUMBER_OUT_OF_RANGE;
    if (error != simdjson::SUCCESS && !(number_error && mayHoldUnrepresentableNumbers(text))) {
      std::abort();
    }
  }

  tollgate::meter::JsonScanner str(text);
  int64_t bytes = 0;
  if (str.string(bytes) && str.atEnd() && str.validUtf8()) {
    simdjson::ondemand::parser parser;
    const simdjson::padded_string padded(text);
    simdjson::ondemand::document doc;
    std::string_view s;
    if (parser.iterate(padded).get(doc) != simdjson::SUCCESS ||
        doc.get_string().get(s) != simdjson::SUCCESS || static_cast<int64_t>(s.size()) != bytes) {
      std::abort();
    }
  }

  const auto visible = tollgate::meter::visibleTextBytes(text, kPaths);
  if (visible && (*visible < 0 || *visible > static_cast<int64_t>(text.size()))) std::abort();
  return 0;
}
