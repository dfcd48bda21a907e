#pragma once

#include <chrono>
#include <string>

namespace tollgate::net {

// POSTs one body to an http:// or https:// URL and waits for the answer (bounded by `timeout`).
// https verifies the server's certificate against the system CAs (SSL_CERT_FILE overrides) and
// its host name. true on a 2xx status; otherwise false with `error` (connection or TLS failure,
// timeout, the status).
bool postWebhook(const std::string& url, const std::string& content_type, const std::string& body,
                 std::chrono::milliseconds timeout, std::string& error);

}  // namespace tollgate::net
