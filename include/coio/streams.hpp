// coio/streams.hpp: asyncio's streams: stream_reader / stream_writer over a connected socket,
// open_connection and open_unix_connection.
#pragma once

#include <coio/create_task.hpp>
#include <coio/detail/byte_buffer.hpp>
#include <coio/errors.hpp>
#include <coio/event.hpp>
#include <coio/getaddrinfo.hpp>
#include <coio/socket_address.hpp>
#include <coio/task.hpp>
#include <coio/tcp_socket.hpp>

#include <fmt/core.h>

#include <cstddef>
#include <cstdint>
#include <exception>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace coio {

/// Buffer sizes of a stream pair (asyncio's defaults).
struct stream_options {
  std::size_t limit = 64 * 1024;       // readuntil/readline refuse to buffer more than this
  std::size_t high_water = 64 * 1024;  // drain() suspends while more than this is unsent...
  std::size_t low_water = 16 * 1024;   // ...until it is back down to this
};

namespace detail {

/// What a reader and a writer of one connection share. It outlives both while a background
/// flush still has data to send.
class stream_transport : public std::enable_shared_from_this<stream_transport> {
 public:
  stream_transport(tcp_socket socket, const stream_options& options) : socket_(std::move(socket)), options_(options) {
    drained_.set();
  }
  stream_transport(const stream_transport&) = delete;
  stream_transport& operator=(const stream_transport&) = delete;

  // --- reading ------------------------------------------------------------------------------
  /// Reads one chunk from the socket into the buffer (waiting for it); false at end of stream.
  task<bool> fill() {
    static constexpr std::size_t chunk = 64 * 1024;
    for (;;) {
      const std::span<char> room = rbuf_.prepare(chunk);
      const std::optional<std::size_t> n = socket_.try_read_some(std::as_writable_bytes(room.first(chunk)));
      if (n) {
        rbuf_.commit(*n);
        if (*n == 0) eof_ = true;
        co_return *n != 0;
      }
      co_await socket_.wait_readable();
    }
  }

  // --- writing ------------------------------------------------------------------------------
  void write(std::string_view data) {
    if (write_error_) std::rethrow_exception(write_error_);
    if (closing_ || eof_written_) throw runtime_error("write() after close() or write_eof()");
    if (data.empty()) return;
    if (!flushing_) {
      // Nothing queued: hand the bytes straight to the kernel; buffer only what it refuses.
      std::optional<std::size_t> n;
      try {
        n = socket_.try_write_some(std::as_bytes(std::span<const char>(data.data(), data.size())));
      } catch (...) {
        write_error_ = std::current_exception();
        throw;
      }
      if (n) data.remove_prefix(*n);
      if (data.empty()) return;
    }
    wbuf_.append(data);
    if (wbuf_.size() > options_.high_water) drained_.clear();
    start_flush();
  }

  task<> drain() {
    while (!write_error_ && wbuf_.size() > options_.high_water) {
      co_await drained_.wait();
    }
    if (write_error_) std::rethrow_exception(write_error_);
  }

  void write_eof() {
    if (eof_written_ || closing_) return;
    eof_written_ = true;
    if (!flushing_) shutdown_write();
  }

  void close() {
    if (closing_) return;
    closing_ = true;
    if (!flushing_) close_now();
  }

  task<> wait_closed() {
    while (socket_.is_open()) {
      co_await closed_.wait();
    }
  }

  bool is_closing() const noexcept { return closing_; }
  std::size_t write_buffer_size() const noexcept { return wbuf_.size(); }
  tcp_socket& socket() noexcept { return socket_; }
  const stream_options& options() const noexcept { return options_; }
  byte_buffer& rbuf() noexcept { return rbuf_; }
  bool eof() const noexcept { return eof_; }

 private:
  void start_flush() {
    if (flushing_) return;
    flushing_ = true;
    // The flush task holds the transport: data written just before the last reader and
    // writer go away is still sent, then the socket closes.
    auto flush = flush_in_background(shared_from_this());
    (void)create_task(std::move(flush), "stream flush");
  }

  static task<> flush_in_background(std::shared_ptr<stream_transport> self) {
    try {
      while (!self->wbuf_.empty()) {
        const std::span<const char> pending(self->wbuf_.data(), self->wbuf_.size());
        const std::optional<std::size_t> n = self->socket_.try_write_some(std::as_bytes(pending));
        if (!n) {
          co_await self->socket_.wait_writable();
          continue;
        }
        self->wbuf_.consume(*n);
        if (self->wbuf_.size() <= self->options_.low_water) self->drained_.set();
      }
    } catch (...) {
      // A failed or cancelled flush loses the rest: drain() reports why.
      self->write_error_ = std::current_exception();
      self->wbuf_.clear();
    }
    self->flushing_ = false;
    self->drained_.set();
    if (self->closing_) {
      self->close_now();
    } else if (self->eof_written_ && !self->write_error_) {
      self->shutdown_write();
    }
  }

  void shutdown_write() noexcept {
    try {
      socket_.shutdown(SHUT_WR);
    } catch (...) {
      if (!write_error_) write_error_ = std::current_exception();
    }
  }

  void close_now() noexcept {
    socket_.close();
    drained_.set();
    closed_.set();
  }

  tcp_socket socket_;
  stream_options options_;
  byte_buffer rbuf_;
  bool eof_ = false;
  byte_buffer wbuf_;
  bool flushing_ = false;
  bool eof_written_ = false;
  bool closing_ = false;
  std::exception_ptr write_error_;
  event drained_;
  event closed_;
};

}  // namespace detail

/// Reads from a connection (asyncio.StreamReader). Cheap to copy: copies share the stream.
/// Every method is cancellable without losing data: what was read stays buffered.
class stream_reader {
 public:
  stream_reader() = default;
  explicit stream_reader(std::shared_ptr<detail::stream_transport> t) : t_(std::move(t)) {}

  /// Up to `n` bytes: what is buffered, or else one read's worth. `n < 0` reads to end of
  /// stream. Returns "" at end of stream (and for n == 0).
  task<std::string> read(std::ptrdiff_t n = -1) {
    auto& buf = t_->rbuf();
    if (n == 0) co_return std::string();
    if (n < 0) {
      while (!t_->eof()) {
        co_await t_->fill();
      }
      co_return buf.take(buf.size());
    }
    if (buf.empty() && !t_->eof()) co_await t_->fill();
    co_return buf.take(static_cast<std::size_t>(n));
  }

  /// Exactly `n` bytes. Throws incomplete_read_error (holding what arrived) at end of stream.
  task<std::string> readexactly(std::size_t n) {
    auto& buf = t_->rbuf();
    while (buf.size() < n && !t_->eof()) {
      co_await t_->fill();
    }
    if (buf.size() < n) throw incomplete_read_error(buf.take(buf.size()), n);
    co_return buf.take(n);
  }

  /// The bytes up to and including `separator`. Throws incomplete_read_error (with the
  /// rest) at end of stream, and limit_overrun_error, leaving the data buffered, when more
  /// than the limit would have to be buffered.
  task<std::string> readuntil(std::string separator = "\n") {
    if (separator.empty()) throw value_error("readuntil: the separator must not be empty");
    auto& buf = t_->rbuf();
    const std::size_t limit = t_->options().limit;
    std::size_t searched = 0;  // bytes already known not to start a match
    for (;;) {
      const std::size_t at = buf.view().find(separator, searched);
      if (at != std::string_view::npos) {
        const std::size_t end = at + separator.size();  // the separator may start at `limit` (asyncio)
        if (at > limit) throw limit_overrun_error("separator is found, but the chunk is longer than the limit", at);
        co_return buf.take(end);
      }
      if (buf.size() >= separator.size()) searched = buf.size() - separator.size() + 1;
      if (buf.size() > limit)
        throw limit_overrun_error("separator is not found, and the chunk exceeds the limit", buf.size());
      if (t_->eof()) throw incomplete_read_error(buf.take(buf.size()), 0);
      co_await t_->fill();
    }
  }

  /// One line including its "\n"; at end of stream, the partial last line ("" when none).
  /// Past the limit: consumes the over-long line (through its "\n" when there is one) and
  /// throws limit_overrun_error, as asyncio's readline raises ValueError.
  task<std::string> readline() {
    std::string line;
    std::optional<std::size_t> overrun;
    try {
      line = co_await readuntil("\n");
    } catch (const incomplete_read_error& e) {
      line = e.partial();
    } catch (const limit_overrun_error& e) {
      overrun = e.consumed();
    }
    if (overrun) {
      auto& buf = t_->rbuf();
      const bool found = buf.view().substr(*overrun, 1) == "\n";
      buf.consume(found ? *overrun + 1 : buf.size());
      throw limit_overrun_error("line is longer than the limit", *overrun);
    }
    co_return line;
  }

  /// True when the buffer is empty and the peer has sent end of stream.
  bool at_eof() const noexcept { return t_->eof() && t_->rbuf().empty(); }
  /// Bytes buffered and not yet returned.
  std::size_t buffered() const noexcept { return t_->rbuf().size(); }

 private:
  std::shared_ptr<detail::stream_transport> t_;
};

/// Writes to a connection (asyncio.StreamWriter). write() never blocks: what the kernel does
/// not take at once is buffered and sent in the background; drain() applies back-pressure.
/// Cheap to copy: copies share the stream.
class stream_writer {
 public:
  stream_writer() = default;
  explicit stream_writer(std::shared_ptr<detail::stream_transport> t) : t_(std::move(t)) {}

  /// Sends or buffers `data`. Throws the error that broke the connection, if one did, and
  /// runtime_error after close() or write_eof().
  void write(std::string_view data) { t_->write(data); }
  template <class Range>
  void writelines(const Range& lines) {
    for (const auto& line : lines) t_->write(std::string_view(line));
  }

  /// Waits while more than the high-water mark is buffered, until it is down to the
  /// low-water mark. Throws the connection's error (e.g. connection_reset_error).
  /// Cancellation: nothing is lost; the data stays buffered and keeps flowing.
  task<> drain() { return t_->drain(); }

  /// Half close: sends end of stream after the buffered data; reading still works.
  void write_eof() { t_->write_eof(); }
  bool can_write_eof() const noexcept { return true; }

  /// Closes after the buffered data is sent (the reader of this connection wakes with
  /// connection_aborted_error if it was waiting). Idempotent.
  void close() { t_->close(); }
  /// Waits until the socket is really closed.
  task<> wait_closed() { return t_->wait_closed(); }
  bool is_closing() const noexcept { return t_->is_closing(); }

  socket_address peername() const { return t_->socket().peer_address(); }
  socket_address sockname() const { return t_->socket().local_address(); }
  std::size_t write_buffer_size() const noexcept { return t_->write_buffer_size(); }
  /// The socket underneath, for options (set_nodelay, set_option) — asyncio's transport.
  tcp_socket& transport() noexcept { return t_->socket(); }

 private:
  std::shared_ptr<detail::stream_transport> t_;
};

/// A reader/writer pair over a connected socket.
inline std::pair<stream_reader, stream_writer> make_streams(tcp_socket socket, const stream_options& options = {}) {
  auto t = std::make_shared<detail::stream_transport>(std::move(socket), options);
  return {stream_reader(t), stream_writer(t)};
}

/// Connects to one address (tried in getaddrinfo's order until one answers) and returns the
/// stream pair: `auto [reader, writer] = co_await coio::open_connection("127.0.0.1", 8080);`
/// Throws the last connect error, naming the host; cancellation closes the half-open socket.
inline task<std::pair<stream_reader, stream_writer>> open_connection(std::string host, std::uint16_t port,
                                                                     stream_options options = {}) {
  const std::vector<socket_address> addresses = co_await getaddrinfo(host, port);
  std::exception_ptr last_error;
  for (const socket_address& address : addresses) {
    try {
      tcp_socket socket = co_await tcp_socket::connect(address);
      co_return make_streams(std::move(socket), options);
    } catch (const os_error&) {
      last_error = std::current_exception();
    }
  }
  if (last_error) std::rethrow_exception(last_error);
  throw os_error(EADDRNOTAVAIL, fmt::format("connect to {}:{}: no address", host, port));
}

/// open_connection for a Unix-domain socket path.
inline task<std::pair<stream_reader, stream_writer>> open_unix_connection(std::string path,
                                                                          stream_options options = {}) {
  tcp_socket socket = co_await tcp_socket::connect(socket_address::unix_path(path));
  co_return make_streams(std::move(socket), options);
}

}  // namespace coio
