// coio/socket_address.hpp: coio::socket_address, an IPv4, IPv6 or Unix socket address with
// its text form ("127.0.0.1:8080", "[::1]:8080", "/run/app.sock").
#pragma once

#include <coio/errors.hpp>

#include <fmt/core.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/un.h>

namespace coio {

/// A socket address of any family, held by value (a sockaddr_storage and its length).
class socket_address {
 public:
  socket_address() noexcept { std::memset(&storage_, 0, sizeof storage_); }
  /// Copies `len` bytes of `addr` (at most sizeof(sockaddr_storage)).
  socket_address(const sockaddr* addr, socklen_t len) noexcept : socket_address() {
    len_ = len > sizeof storage_ ? static_cast<socklen_t>(sizeof storage_) : len;
    std::memcpy(&storage_, addr, len_);
  }

  /// A numeric IPv4 or IPv6 address ("127.0.0.1", "::1", "[::1]") and a port; nullopt when
  /// `host` is not numeric (a name for getaddrinfo). Never blocks, never resolves.
  static std::optional<socket_address> parse(std::string_view host, std::uint16_t port) {
    if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
    const std::string text(host);
    socket_address a;
    sockaddr_in v4{};
    if (::inet_pton(AF_INET, text.c_str(), &v4.sin_addr) == 1) {
      v4.sin_family = AF_INET;
      v4.sin_port = htons(port);
      std::memcpy(&a.storage_, &v4, sizeof v4);
      a.len_ = sizeof v4;
      return a;
    }
    sockaddr_in6 v6{};
    if (::inet_pton(AF_INET6, text.c_str(), &v6.sin6_addr) == 1) {
      v6.sin6_family = AF_INET6;
      v6.sin6_port = htons(port);
      std::memcpy(&a.storage_, &v6, sizeof v6);
      a.len_ = sizeof v6;
      return a;
    }
    return std::nullopt;
  }

  /// A Unix-domain address. Throws value_error when the path does not fit in sun_path.
  static socket_address unix_path(std::string_view path) {
    sockaddr_un un{};
    if (path.empty() || path.size() >= sizeof un.sun_path)
      throw value_error(fmt::format("unix socket path must be 1 to {} bytes: '{}'", sizeof un.sun_path - 1, path));
    un.sun_family = AF_UNIX;
    std::memcpy(un.sun_path, path.data(), path.size());
    return socket_address(reinterpret_cast<const sockaddr*>(&un),
                          static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + path.size() + 1));
  }

  int family() const noexcept { return storage_.ss_family; }
  bool is_ipv4() const noexcept { return family() == AF_INET; }
  bool is_ipv6() const noexcept { return family() == AF_INET6; }
  bool is_unix() const noexcept { return family() == AF_UNIX; }

  /// The port (IP families), 0 otherwise.
  std::uint16_t port() const noexcept {
    if (is_ipv4()) return ntohs(reinterpret_cast<const sockaddr_in*>(&storage_)->sin_port);
    if (is_ipv6()) return ntohs(reinterpret_cast<const sockaddr_in6*>(&storage_)->sin6_port);
    return 0;
  }

  /// Sets the port (IP families; ignored otherwise).
  void set_port(std::uint16_t port) noexcept {
    if (is_ipv4()) reinterpret_cast<sockaddr_in*>(&storage_)->sin_port = htons(port);
    if (is_ipv6()) reinterpret_cast<sockaddr_in6*>(&storage_)->sin6_port = htons(port);
  }

  /// The host part: "127.0.0.1", "::1", or the Unix path.
  std::string host() const {
    char text[INET6_ADDRSTRLEN] = {};
    if (is_ipv4()) {
      ::inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in*>(&storage_)->sin_addr, text, sizeof text);
      return text;
    }
    if (is_ipv6()) {
      ::inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6*>(&storage_)->sin6_addr, text, sizeof text);
      return text;
    }
    if (is_unix()) {
      const auto* un = reinterpret_cast<const sockaddr_un*>(&storage_);
      const std::size_t max = len_ > offsetof(sockaddr_un, sun_path) ? len_ - offsetof(sockaddr_un, sun_path) : 0;
      return std::string(un->sun_path, ::strnlen(un->sun_path, max));
    }
    return {};
  }

  /// "127.0.0.1:8080", "[::1]:8080", "/path/to.sock", or "(unknown)".
  std::string to_string() const {
    if (is_ipv4()) return fmt::format("{}:{}", host(), port());
    if (is_ipv6()) return fmt::format("[{}]:{}", host(), port());
    if (is_unix()) return host().empty() ? "(unnamed unix socket)" : host();
    return "(unknown)";
  }

  const sockaddr* data() const noexcept { return reinterpret_cast<const sockaddr*>(&storage_); }
  sockaddr* data() noexcept { return reinterpret_cast<sockaddr*>(&storage_); }
  socklen_t size() const noexcept { return len_; }
  /// For calls that fill the address in (accept, getsockname): the capacity, then the length.
  socklen_t* size_ptr() noexcept { return &len_; }
  static constexpr socklen_t capacity() noexcept { return sizeof(sockaddr_storage); }

  friend bool operator==(const socket_address& a, const socket_address& b) noexcept {
    return a.len_ == b.len_ && std::memcmp(&a.storage_, &b.storage_, a.len_) == 0;
  }

 private:
  sockaddr_storage storage_;
  socklen_t len_ = 0;
};

}  // namespace coio
