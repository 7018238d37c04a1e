// coio/getaddrinfo.hpp: coio::getaddrinfo, name resolution off the loop (asyncio's
// loop.getaddrinfo): the blocking libc call runs on the loop's thread pool.
#pragma once

#include <coio/errors.hpp>
#include <coio/socket_address.hpp>
#include <coio/task.hpp>
#include <coio/thread_pool.hpp>

#include <fmt/core.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <netdb.h>
#include <sys/socket.h>

namespace coio {

/// A host name could not be resolved (Python's socket.gaierror); `code()` is the EAI_* value.
class resolve_error : public error {
 public:
  resolve_error(int code, const std::string& what) : error(what + ": " + ::gai_strerror(code)), code_(code) {}
  int code() const noexcept { return code_; }

 private:
  int code_;
};

namespace detail {

inline std::vector<socket_address> resolve_blocking(const std::string& host, std::uint16_t port, bool passive) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_ADDRCONFIG | (passive ? AI_PASSIVE : 0);
  addrinfo* list = nullptr;
  const std::string service = std::to_string(port);
  const int rc = ::getaddrinfo(host.empty() ? nullptr : host.c_str(), service.c_str(), &hints, &list);
  if (rc != 0) {
    if (rc == EAI_SYSTEM) throw_os_error(errno, fmt::format("getaddrinfo({})", host));
    throw resolve_error(rc, fmt::format("getaddrinfo({})", host));
  }
  std::vector<socket_address> out;
  for (const addrinfo* ai = list; ai; ai = ai->ai_next) {
    socket_address a(ai->ai_addr, ai->ai_addrlen);
    bool seen = false;
    for (const auto& b : out) seen = seen || b == a;
    if (!seen) out.push_back(a);
  }
  ::freeaddrinfo(list);
  return out;
}

}  // namespace detail

/// The stream-socket addresses of `host`:`port`, in the resolver's order, without duplicates.
/// Numeric hosts ("127.0.0.1", "::1", "[::1]") are parsed on the spot; names go to
/// ::getaddrinfo on the loop's thread pool. `passive`: addresses to listen on ("" means
/// every interface). Throws resolve_error (unknown host) or os_error. Cancellation: the
/// lookup finishes on its thread and its result is dropped.
inline task<std::vector<socket_address>> getaddrinfo(std::string host, std::uint16_t port, bool passive = false) {
  if (const std::optional<socket_address> numeric = socket_address::parse(host, port)) {
    co_return std::vector<socket_address>{*numeric};
  }
  auto lookup = [host, port, passive] { return detail::resolve_blocking(host, port, passive); };
  std::vector<socket_address> addresses = co_await to_thread(lookup);
  co_return addresses;
}

}  // namespace coio
