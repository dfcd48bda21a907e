#pragma once

#include <string>

#include "tests/integration/support/process.h"

namespace tollgate::testing {

// The whole content of a file ("" when it cannot be read).
std::string readFile(const std::string& path);

// Writes `text` whole to a temporary name, then renames it over `path`: a gateway reloading
// meanwhile never reads half a file. Returns false when the rename fails.
bool writeFileAtomically(const std::string& path, const std::string& text);

// `text` with the first `from` replaced by `to`; a test failure (and `text` unchanged) when
// `from` is absent.
std::string replacedOnce(std::string text, const std::string& from, const std::string& to);

// A test CA (ca.pem, ca.key) and a server certificate it signed for localhost and 127.0.0.1
// (server.pem, server.key), written in `dir` with the openssl command. Returns false on failure.
bool makeTestCertificates(const TempDir& dir);

}  // namespace tollgate::testing
