// coio/tcp_socket.hpp: coio::tcp_socket and coio::tcp_acceptor, the low-level stream sockets
// (TCP over IPv4/IPv6, and Unix-domain stream sockets through the same classes).
#pragma once

#include <coio/config.hpp>
#include <coio/detail/io_source.hpp>
#include <coio/errors.hpp>
#include <coio/event_loop.hpp>
#include <coio/sleep.hpp>
#include <coio/socket_address.hpp>
#include <coio/task.hpp>

#include <fmt/core.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <utility>

#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

namespace coio {

namespace detail {

/// A non-blocking socket fd registered with its loop; heap-allocated so that the selector's
/// pointer to it stays valid when the owning object moves.
struct socket_state : io_source {
  event_loop* loop = nullptr;
  socket_address peer;  // kept for error messages: after a reset, getpeername fails

  socket_state(int fd_, event_loop& loop_) : loop(&loop_) {
    fd = fd_;
    try {
      loop->register_fd(fd, this);
    } catch (...) {
      ::close(fd);
      throw;
    }
  }
  socket_state(const socket_state&) = delete;
  socket_state& operator=(const socket_state&) = delete;
  ~socket_state() { close(); }

  void close() noexcept {
    if (fd < 0) return;
    loop->unregister_fd(fd);
    ::close(fd);
    fd = -1;
    abort_waiters();
  }
};

inline int open_socket(int family, int type = SOCK_STREAM) {
  const int fd = ::socket(family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) throw_os_error(errno, "socket");
  return fd;
}

inline void set_int_option(int fd, int level, int name, int value, const char* what) {
  if (::setsockopt(fd, level, name, &value, sizeof value) < 0) throw_os_error(errno, what);
}

}  // namespace detail

/// A connected stream socket. Every operation is cancellable. Reads and writes go straight
/// to the kernel and only wait (on the loop's edge-triggered selector) after EAGAIN. Writes
/// never raise SIGPIPE. One task may read while another writes; two concurrent reads (or
/// writes) on one socket are a runtime_error. Do not destroy a socket while an operation on
/// it is pending; close() it instead (the pending operation then throws
/// connection_aborted_error).
class tcp_socket {
 public:
  tcp_socket() noexcept = default;
  /// Adopts a connected, non-blocking fd and registers it with the running loop.
  static tcp_socket adopt(int fd, socket_address peer = {}) {
    tcp_socket s;
    s.state_ = std::make_unique<detail::socket_state>(fd, get_running_loop());
    s.state_->peer = peer;
    return s;
  }

  /// Connects to `address` (TCP or Unix). TCP_NODELAY is set on TCP sockets, as asyncio does.
  /// Cancellation: the half-open socket is closed. Throws connection_refused_error and the
  /// other os_error kinds, naming the address.
  static task<tcp_socket> connect(socket_address address) {
    // Registered only after connect(): a fresh unconnected socket polls as writable+hang-up.
    const int fd = detail::open_socket(address.family());
    int rc = -1;
    int err = 0;
    try {
      if (!address.is_unix()) detail::set_int_option(fd, IPPROTO_TCP, TCP_NODELAY, 1, "setsockopt(TCP_NODELAY)");
      rc = ::connect(fd, address.data(), address.size());
      err = rc < 0 ? errno : 0;
      if (rc < 0 && err != EINPROGRESS && err != EINTR) throw_os_error(err, "connect to " + address.to_string());
    } catch (...) {
      ::close(fd);
      throw;
    }
    tcp_socket s = adopt(fd, address);
    if (rc < 0) {
      s.state_->writable = false;  // an edge comes when the handshake ends, either way
      while (!s.state_->writable) {
        co_await s.wait_writable();
      }
      socklen_t len = sizeof err;
      if (::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0) err = errno;
      if (err != 0) throw_os_error(err, "connect to " + address.to_string());
    }
    co_return s;
  }

  tcp_socket(tcp_socket&&) noexcept = default;
  tcp_socket& operator=(tcp_socket&& other) noexcept {
    if (this != &other) state_ = std::move(other.state_);
    return *this;
  }
  ~tcp_socket() = default;

  /// Reads what is available, up to buffer.size() bytes; waits only when nothing is. Returns
  /// 0 at end of stream (or for an empty buffer). Throws connection_reset_error etc.
  task<std::size_t> read_some(std::span<std::byte> buffer) {
    for (;;) {
      const std::optional<std::size_t> n = try_read_some(buffer);
      if (n) co_return *n;
      co_await wait_readable();
    }
  }

  /// Writes all of `data`. Cancellation: a prefix of `data` may have been sent (as with Asio
  /// and Trio, the stream is then in an unknown state and should be closed).
  task<> write_all(std::span<const std::byte> data) {
    while (!data.empty()) {
      const std::optional<std::size_t> n = try_write_some(data);
      if (n) {
        data = data.subspan(*n);
        continue;
      }
      co_await wait_writable();
    }
  }

  /// One non-blocking read: the byte count (0 at end of stream), or nullopt when the caller
  /// must wait_readable() first. Throws os_error kinds, and connection_aborted_error once closed.
  std::optional<std::size_t> try_read_some(std::span<std::byte> buffer) {
    detail::socket_state& s = open_state("read from");
    if (buffer.empty()) return 0;
    if (!s.readable) return std::nullopt;
    for (;;) {
      const ssize_t n = ::recv(s.fd, buffer.data(), buffer.size(), 0);
      if (n >= 0) {
        // A short read drained the kernel buffer: the next arrival brings a new edge, so the
        // next read waits for it instead of paying for an EAGAIN. Not once the peer's FIN has
        // been seen: it may have come in the same edge as the data, and no other edge follows.
        if (n > 0 && static_cast<std::size_t>(n) < buffer.size() && !s.read_hangup) s.readable = false;
        return static_cast<std::size_t>(n);
      }
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) {
        s.readable = false;
        return std::nullopt;
      }
      throw_os_error(errno, "read from " + s.peer.to_string());
    }
  }

  /// One non-blocking write: the bytes the kernel took, or nullopt when the caller must
  /// wait_writable() first. Never raises SIGPIPE (a broken pipe is broken_pipe_error).
  std::optional<std::size_t> try_write_some(std::span<const std::byte> data) {
    detail::socket_state& s = open_state("write to");
    if (data.empty()) return 0;
    if (!s.writable) return std::nullopt;
    for (;;) {
      const ssize_t n = ::send(s.fd, data.data(), data.size(), MSG_NOSIGNAL);
      if (n >= 0) {
        if (static_cast<std::size_t>(n) < data.size()) s.writable = false;  // the send buffer is full
        return static_cast<std::size_t>(n);
      }
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) {
        s.writable = false;
        return std::nullopt;
      }
      throw_os_error(errno, "write to " + s.peer.to_string());
    }
  }

  /// Waits until the socket may be readable (or is closed: the next try_read_some says so).
  /// Cancellation: throws cancelled_error, nothing consumed.
  detail::io_waiter wait_readable() { return detail::io_waiter(open_state("read from"), detail::io_waiter::read); }
  /// Waits until the socket may be writable.
  detail::io_waiter wait_writable() { return detail::io_waiter(open_state("write to"), detail::io_waiter::write); }

  /// Shuts down one or both directions (SHUT_WR sends end-of-stream: a half close).
  void shutdown(int how = SHUT_WR) {
    detail::socket_state& s = open_state("shutdown");
    if (::shutdown(s.fd, how) < 0 && errno != ENOTCONN) throw_os_error(errno, "shutdown " + s.peer.to_string());
  }

  /// Closes the socket now; a pending read or write wakes and throws connection_aborted_error.
  void close() noexcept {
    if (state_) state_->close();
  }
  bool is_open() const noexcept { return state_ && state_->fd >= 0; }
  int native_handle() const noexcept { return state_ ? state_->fd : -1; }

  /// The peer's address as connected or accepted.
  const socket_address& peer_address() const noexcept {
    static const socket_address none;
    return state_ ? state_->peer : none;
  }
  socket_address local_address() const {
    socket_address a;
    *a.size_ptr() = socket_address::capacity();
    if (::getsockname(native_handle(), a.data(), a.size_ptr()) < 0) throw_os_error(errno, "getsockname");
    return a;
  }

  /// TCP_NODELAY (on by default for connected and accepted TCP sockets).
  void set_nodelay(bool on) { set_option(IPPROTO_TCP, TCP_NODELAY, on ? 1 : 0); }
  /// setsockopt with an int value (SO_KEEPALIVE, SO_SNDBUF, SO_LINGER needs set_linger...).
  void set_option(int level, int name, int value) {
    detail::set_int_option(open_state("setsockopt").fd, level, name, value, "setsockopt");
  }
  /// SO_LINGER; `set_linger(true, 0)` makes close() send a reset.
  void set_linger(bool on, int seconds) {
    const linger l{on ? 1 : 0, seconds};
    if (::setsockopt(open_state("setsockopt").fd, SOL_SOCKET, SO_LINGER, &l, sizeof l) < 0)
      throw_os_error(errno, "setsockopt(SO_LINGER)");
  }

 private:
  friend class tcp_acceptor;

  detail::socket_state& open_state(const char* what) {
    if (!state_ || state_->fd < 0) [[unlikely]]
      throw_closed(what);
    return *state_;
  }
  [[noreturn]] COIO_COLD void throw_closed(const char* what) const {
    throw connection_aborted_error(
        ECONNABORTED, fmt::format("{} {}: socket is closed", what, state_ ? state_->peer.to_string() : "(none)"));
  }

  std::unique_ptr<detail::socket_state> state_;
};

/// How a listening socket is set up (asyncio.start_server's options).
struct acceptor_options {
  int backlog = 128;
  bool reuse_address = true;  // SO_REUSEADDR (asyncio's default on POSIX)
  bool reuse_port = false;    // SO_REUSEPORT: several processes share the port
  bool ipv6_only = true;      // an IPv6 listener does not also take IPv4 (bind both instead)
  bool nodelay = true;        // TCP_NODELAY on accepted sockets
};

/// A listening stream socket (TCP or Unix). accept() survives running out of file
/// descriptors: on EMFILE/ENFILE it backs off (10 ms doubling to 1 s) instead of spinning,
/// and accepts again once descriptors are free; connections wait in the backlog meanwhile.
class tcp_acceptor {
 public:
  tcp_acceptor() noexcept = default;
  tcp_acceptor(tcp_acceptor&&) noexcept = default;
  tcp_acceptor& operator=(tcp_acceptor&& other) noexcept {
    if (this != &other) {
      close();
      socket_ = std::move(other.socket_);
      address_ = other.address_;
      options_ = other.options_;
      resource_waits_ = other.resource_waits_;
    }
    return *this;
  }
  ~tcp_acceptor() { close(); }

  /// Binds and listens on `address` (port 0 picks a free port). For a Unix path, a stale
  /// socket file left by a dead server is removed first (as asyncio does).
  static tcp_acceptor listen(const socket_address& address, const acceptor_options& options = {}) {
    tcp_acceptor a;
    a.options_ = options;
    const int fd = detail::open_socket(address.family());
    try {
      if (address.is_unix()) {
        struct stat st {};
        const std::string path = address.host();
        if (::stat(path.c_str(), &st) == 0 && S_ISSOCK(st.st_mode)) ::unlink(path.c_str());
      } else {
        if (options.reuse_address) detail::set_int_option(fd, SOL_SOCKET, SO_REUSEADDR, 1, "setsockopt(SO_REUSEADDR)");
        if (options.reuse_port) detail::set_int_option(fd, SOL_SOCKET, SO_REUSEPORT, 1, "setsockopt(SO_REUSEPORT)");
        if (address.is_ipv6())
          detail::set_int_option(fd, IPPROTO_IPV6, IPV6_V6ONLY, options.ipv6_only ? 1 : 0, "setsockopt(IPV6_V6ONLY)");
      }
      if (::bind(fd, address.data(), address.size()) < 0) throw_os_error(errno, "bind " + address.to_string());
      if (::listen(fd, options.backlog) < 0) throw_os_error(errno, "listen on " + address.to_string());
    } catch (...) {
      ::close(fd);
      throw;
    }
    a.socket_ = tcp_socket::adopt(fd);
    a.address_ = a.socket_.local_address();
    a.socket_.state_->peer = a.address_;  // error messages name the listening address
    return a;
  }

  /// Waits for the next connection. Cancellation: nothing is accepted. Throws os_error for
  /// errors other than the transient ones (which are retried) and fd exhaustion (backed off).
  task<tcp_socket> accept() {
    auto backoff = std::chrono::milliseconds(10);
    for (;;) {
      detail::socket_state& s = socket_.open_state("accept on");
      if (s.readable) {
        socket_address peer;
        *peer.size_ptr() = socket_address::capacity();
        const int fd = ::accept4(s.fd, peer.data(), peer.size_ptr(), SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd >= 0) {
          tcp_socket conn = tcp_socket::adopt(fd, peer);
          if (options_.nodelay && !peer.is_unix() && peer.family() != AF_UNSPEC) conn.set_nodelay(true);
          co_return conn;
        }
        const int err = errno;
        if (err == EAGAIN || err == EWOULDBLOCK) {
          s.readable = false;
        } else if (err == EMFILE || err == ENFILE || err == ENOBUFS || err == ENOMEM) {
          // Out of descriptors or memory: the pending connection stays in the backlog and no
          // new edge will come for it, so poll again after a pause rather than spin.
          ++resource_waits_;
          co_await sleep(backoff);
          backoff = std::min<std::chrono::milliseconds>(backoff * 2, std::chrono::seconds(1));
          continue;
        } else if (err != EINTR && err != ECONNABORTED && err != EPROTO && err != EPERM && err != ENETDOWN &&
                   err != ENOPROTOOPT && err != EHOSTDOWN && err != ENONET && err != EHOSTUNREACH &&
                   err != EOPNOTSUPP && err != ENETUNREACH) {
          throw_os_error(err, "accept on " + address_.to_string());
        }
        continue;  // the connection died before we took it: take the next one
      }
      co_await socket_.wait_readable();
    }
  }

  const socket_address& local_address() const noexcept { return address_; }
  std::uint16_t port() const noexcept { return address_.port(); }
  bool is_open() const noexcept { return socket_.is_open(); }
  int native_handle() const noexcept { return socket_.native_handle(); }
  /// How many times accept() has backed off for lack of descriptors or memory.
  std::uint64_t resource_waits() const noexcept { return resource_waits_; }
  /// Stops listening; a pending accept() throws connection_aborted_error. A Unix socket's
  /// file is removed.
  void close() noexcept {
    if (!socket_.is_open()) return;
    socket_.close();
    if (address_.is_unix() && !address_.host().empty()) ::unlink(address_.host().c_str());
  }

 private:
  tcp_socket socket_;
  socket_address address_;
  acceptor_options options_;
  std::uint64_t resource_waits_ = 0;
};

}  // namespace coio
