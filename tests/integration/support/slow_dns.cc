// LD_PRELOAD shim for tests: name resolution of hosts ending in ".slow.test" takes 3 s and then
// fails, as with an unreachable DNS server; every other name goes to the C library. Lets a test
// show that the gateway's connect timeout bounds name resolution.
#include <dlfcn.h>
#include <netdb.h>
#include <unistd.h>

#include <cstring>

extern "C" int getaddrinfo(const char* node, const char* service, const struct addrinfo* hints,
                           struct addrinfo** res) {
  constexpr char kSuffix[] = ".slow.test";
  const size_t n = node != nullptr ? std::strlen(node) : 0;
  if (n >= sizeof kSuffix - 1 && std::strcmp(node + n - (sizeof kSuffix - 1), kSuffix) == 0) {
    ::sleep(3);
    return EAI_AGAIN;
  }
  using Real = int (*)(const char*, const char*, const struct addrinfo*, struct addrinfo**);
  static const auto real = reinterpret_cast<Real>(::dlsym(RTLD_NEXT, "getaddrinfo"));
  return real(node, service, hints, res);
}
