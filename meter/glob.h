#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace tollgate::meter {

// Shell-style glob used for model patterns: '*' any run of characters, '?' one character,
// '[abc]' / '[a-z]' / '[!a-z]' a character class, '\x' a literal x. Case-sensitive.
bool globMatch(std::string_view pattern, std::string_view text);

// nullopt when `pattern` is a valid glob, else a message saying what is wrong with it
// (empty pattern, unterminated '[', empty class, trailing '\').
std::optional<std::string> globError(std::string_view pattern);

}  // namespace tollgate::meter
