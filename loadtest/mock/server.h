#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "loadtest/mock/behaviour.h"

namespace tollgate::loadtest {

struct ServerOptions {
  std::string host = "127.0.0.1";
  uint16_t port = 0;
  int threads = 1;
  std::string tls_cert;  // both set: serve HTTPS
  std::string tls_key;
  Behaviour defaults;  // knobs when a request sets no x-mock-* header
  bool record = true;
  size_t record_limit = 10'000;
  // Close a connection after this many answers, the last with Connection: close (uvicorn's
  // --limit-max-requests, nginx's keepalive_requests). 0: no limit.
  size_t max_requests_per_connection = 0;
  // Bedrock requests must carry a well-formed AWS SigV4 Authorization (else 403); with the
  // secret set, the signature is verified too.
  std::string aws_secret_access_key;
};

// Binds, prints the "listening" line to stdout, serves until SIGTERM/SIGINT. Returns the
// process exit code: 0 after a signal, 1 when the server could not start (message on stderr).
int runMockServer(const ServerOptions& options);

}  // namespace tollgate::loadtest
