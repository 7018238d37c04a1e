// coio/server.hpp: coio::server, start_server and start_unix_server (asyncio.start_server):
// accept connections and run a handler task for each.
#pragma once

#include <coio/create_task.hpp>
#include <coio/errors.hpp>
#include <coio/event.hpp>
#include <coio/event_loop.hpp>
#include <coio/getaddrinfo.hpp>
#include <coio/streams.hpp>
#include <coio/task.hpp>
#include <coio/tcp_socket.hpp>

#include <fmt/core.h>

#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

namespace coio {

/// start_server's options: the listening socket's and each connection's stream buffers.
struct server_options {
  acceptor_options listen;
  stream_options streams;
};

using connection_handler = std::function<task<>(stream_reader, stream_writer)>;

namespace detail {

struct server_state : std::enable_shared_from_this<server_state> {
  connection_handler handler;
  stream_options streams;
  std::vector<tcp_acceptor> acceptors;
  std::vector<future<void>> accept_loops;
  std::unordered_map<std::uint64_t, future<void>> connections;  // live handler tasks by id
  std::uint64_t next_id = 0;
  bool closed = false;
  event all_done;  // set while no connection is live
  event closed_event;

  // Accepts until cancelled. An accept error that is not transient (accept() retries those
  // and backs off on EMFILE) is reported and stops this listener; with none left, the server
  // counts as closed.
  static task<> accept_loop(std::shared_ptr<server_state> self, std::size_t index) {
    for (;;) {
      tcp_socket socket;
      try {
        socket = co_await self->acceptors[index].accept();
      } catch (const error&) {
        exception_context context;
        context.message = fmt::format("accept on {} failed; the server stops listening there",
                                      self->acceptors[index].local_address().to_string());
        context.exception = std::current_exception();
        context.task_name = "accept";
        get_running_loop().call_exception_handler(context);
        self->acceptors[index].close();
        bool any_open = false;
        for (const auto& a : self->acceptors) any_open = any_open || a.is_open();
        if (!any_open) self->close();
        co_return;
      }
      const std::uint64_t id = self->next_id++;
      auto conn = serve_connection(self, std::move(socket), id);
      self->all_done.clear();
      self->connections.emplace(id, create_task(std::move(conn), "connection"));
    }
  }

  // A handler's exception is reported through the loop's exception handler and closes
  // that connection only; the server keeps going.
  static task<> serve_connection(std::shared_ptr<server_state> self, tcp_socket socket, std::uint64_t id) {
    const std::string peer = socket.peer_address().to_string();
    auto streams = make_streams(std::move(socket), self->streams);
    stream_reader reader = streams.first;
    stream_writer writer = streams.second;
    std::exception_ptr error;
    try {
      co_await self->handler(reader, writer);
    } catch (const cancelled_error&) {
      // Closing the server's clients: not an error.
    } catch (...) {
      error = std::current_exception();
    }
    if (error) {
      exception_context context;
      context.message = fmt::format("unhandled exception in the connection handler for {}", peer);
      context.exception = error;
      context.task_name = "connection";
      get_running_loop().call_exception_handler(context);
    }
    writer.close();
    self->connections.erase(id);
    if (self->connections.empty()) self->all_done.set();
  }

  void close() noexcept {
    if (closed) return;
    closed = true;
    for (auto& loop : accept_loops) loop.cancel();
    for (auto& acceptor : acceptors) acceptor.close();
    closed_event.set();
  }
};

}  // namespace detail

/// A listening server (asyncio.Server). Destroying it closes it (stops listening); running
/// connections go on until their handlers return.
class server {
 public:
  server() = default;
  explicit server(std::shared_ptr<detail::server_state> state) : state_(std::move(state)) {}
  server(server&&) noexcept = default;
  server& operator=(server&& other) noexcept {
    if (this != &other) {
      close();
      state_ = std::move(other.state_);
    }
    return *this;
  }
  ~server() { close(); }

  /// The port of the first listening socket (handy with port 0); 0 for an empty server.
  std::uint16_t port() const noexcept {
    return !state_ || state_->acceptors.empty() ? 0 : state_->acceptors.front().port();
  }
  /// The first listening address (an empty address for an empty server); sockets(): every one.
  socket_address local_address() const {
    return !state_ || state_->acceptors.empty() ? socket_address() : state_->acceptors.front().local_address();
  }
  std::vector<socket_address> sockets() const {
    std::vector<socket_address> out;
    if (state_)
      for (const auto& a : state_->acceptors) out.push_back(a.local_address());
    return out;
  }
  /// Live connections (handlers still running).
  std::size_t connection_count() const noexcept { return state_ ? state_->connections.size() : 0; }
  bool is_serving() const noexcept { return state_ && !state_->closed; }

  /// Stops listening. Connections already accepted go on (asyncio's Server.close()).
  void close() noexcept {
    if (state_) state_->close();
  }
  /// Cancels every running handler (Python 3.13's close_clients()); their sockets close.
  void close_clients() {
    if (!state_) return;
    std::vector<future<void>> live;
    for (auto& [id, f] : state_->connections) live.push_back(f);
    for (auto& f : live) f.cancel();
  }
  /// Waits until the server is closed and every handler has returned.
  task<> wait_closed() {
    auto state = state_;
    if (!state) co_return;
    while (!state->closed) {
      co_await state->closed_event.wait();
    }
    while (!state->connections.empty()) {
      co_await state->all_done.wait();
    }
  }
  /// Serves until cancelled; then closes the server and rethrows the cancellation.
  task<> serve_forever() {
    auto state = state_;
    if (!state) throw invalid_state_error("serve_forever() on an empty server");
    struct closer {
      detail::server_state* s;
      ~closer() { s->close(); }
    } guard{state.get()};
    while (!state->closed) {
      co_await state->closed_event.wait();
    }
  }

 private:
  std::shared_ptr<detail::server_state> state_;
};

namespace detail {
inline server start_listening(std::shared_ptr<server_state> state) {
  for (std::size_t i = 0; i < state->acceptors.size(); ++i) {
    auto loop = server_state::accept_loop(state, i);
    state->accept_loops.push_back(create_task(std::move(loop), "accept"));
  }
  state->all_done.set();
  return server(std::move(state));
}
}  // namespace detail

/// Listens on `host`:`port` (every address the host resolves to; "" or "0.0.0.0"/"::" for
/// all interfaces; port 0 picks a free one) and runs `handler(reader, writer)` as its own
/// task for each connection. The writer is closed when the handler returns.
/// Throws os_error (e.g. EADDRINUSE) naming the address.
template <class Handler>
task<server> start_server(Handler handler, std::string host, std::uint16_t port, server_options options = {}) {
  auto state = std::make_shared<detail::server_state>();
  state->handler = connection_handler(std::move(handler));
  state->streams = options.streams;
  const std::vector<socket_address> addresses = co_await getaddrinfo(host, port, /*passive=*/true);
  for (socket_address address : addresses) {
    // Port 0 on several addresses: the rest take the port the first one got.
    if (!state->acceptors.empty()) address.set_port(state->acceptors.front().port());
    state->acceptors.push_back(tcp_acceptor::listen(address, options.listen));
  }
  co_return detail::start_listening(std::move(state));
}

/// start_server on a Unix-domain socket path (a stale socket file is replaced).
template <class Handler>
task<server> start_unix_server(Handler handler, std::string path, server_options options = {}) {
  auto state = std::make_shared<detail::server_state>();
  state->handler = connection_handler(std::move(handler));
  state->streams = options.streams;
  state->acceptors.push_back(tcp_acceptor::listen(socket_address::unix_path(path), options.listen));
  co_return detail::start_listening(std::move(state));
}

}  // namespace coio
