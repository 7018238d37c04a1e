#include <coio/tcp_socket.hpp>

#include "coio_test.hpp"
#include "net_helpers.hpp"
#include "sample_tasks.hpp"

#include <coio/create_task.hpp>
#include <coio/sleep.hpp>
#include <coio/socket_address.hpp>
#include <coio/wait_for.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

using namespace std::chrono_literals;
using coio::socket_address;
using coio::tcp_acceptor;
using coio::tcp_socket;
using net_test::loopback;

namespace {

std::span<const std::byte> bytes_of(std::string_view s) { return std::as_bytes(std::span<const char>(s)); }

/// Reads until `n` bytes arrived or end of stream.
coio::task<std::string> read_n(tcp_socket& s, std::size_t n) {
  std::string out;
  std::byte buf[4096];
  while (out.size() < n) {
    const std::size_t got = co_await s.read_some(std::span<std::byte>(buf, std::min(sizeof buf, n - out.size())));
    if (got == 0) break;
    out.append(reinterpret_cast<const char*>(buf), got);
  }
  co_return out;
}

/// Echoes what it reads until end of stream, then half-closes.
coio::task<std::size_t> echo(tcp_socket& s) {
  std::size_t total = 0;
  std::byte buf[16 * 1024];
  for (;;) {
    const std::size_t n = co_await s.read_some(buf);
    if (n == 0) break;
    co_await s.write_all(std::span<const std::byte>(buf, n));
    total += n;
  }
  s.shutdown(SHUT_WR);
  co_return total;
}

/// Accepts connections one by one and echoes each to its end; counts them in `accepted`. A
/// connection that breaks (a client cancelled mid-way) only ends that echo. `acceptor` and
/// `accepted` belong to the test body, which outlives this task.
coio::task<> echo_server(tcp_acceptor& acceptor, int& accepted) {
  for (;;) {
    tcp_socket conn = co_await acceptor.accept();
    ++accepted;
    try {
      co_await echo(conn);
    } catch (const coio::connection_error&) {
    }
  }
}

/// Writes 64 KiB chunks until the write fails; returns the error's code (0: never failed).
coio::task<int> write_until_error(tcp_socket& s) {
  const std::string chunk(64 * 1024, 'x');
  for (int i = 0; i < 1024; ++i) {  // at most 64 MiB: far beyond any socket buffer
    try {
      co_await s.write_all(bytes_of(chunk));
    } catch (const coio::os_error& e) {
      co_return e.code();
    }
  }
  co_return 0;
}

/// What a task that should throw threw: its os_error code, or -1 for "nothing".
template <class Error>
coio::task<int> error_code_of(coio::task<std::size_t> t) {
  try {
    co_await std::move(t);
  } catch (const Error& e) {
    co_return e.code();
  }
  co_return -1;
}

}  // namespace

// --- socket_address -----------------------------------------------------------------------

TEST_CASE("socket_address parses numeric IPv4 and IPv6 hosts and formats them", "[tcp_socket][socket_address]") {
  const auto v4 = socket_address::parse("127.0.0.1", 8080);
  REQUIRE(v4);
  CHECK(v4->is_ipv4());
  CHECK(v4->family() == AF_INET);
  CHECK(v4->port() == 8080);
  CHECK(v4->host() == "127.0.0.1");
  CHECK(v4->to_string() == "127.0.0.1:8080");
  CHECK(v4->size() == sizeof(sockaddr_in));

  const auto v6 = socket_address::parse("::1", 443);
  REQUIRE(v6);
  CHECK(v6->is_ipv6());
  CHECK(v6->host() == "::1");
  CHECK(v6->to_string() == "[::1]:443");
  const auto bracketed = socket_address::parse("[::1]", 443);
  REQUIRE(bracketed);
  CHECK(*bracketed == *v6);

  socket_address moved = *v4;
  moved.set_port(9);
  CHECK(moved.port() == 9);
  CHECK_FALSE(moved == *v4);

  CHECK_FALSE(socket_address::parse("localhost", 80));  // a name: for getaddrinfo, not parse
  CHECK_FALSE(socket_address::parse("", 80));
  CHECK_FALSE(socket_address::parse("256.1.1.1", 80));
  CHECK_FALSE(socket_address::parse("[127.0.0.1", 80));

  const socket_address none;
  CHECK(none.to_string() == "(unknown)");
  CHECK(none.port() == 0);
  CHECK(none.host().empty());
}

TEST_CASE("socket_address::unix_path takes 1 to 107 bytes and formats as the path", "[tcp_socket][socket_address]") {
  const auto a = socket_address::unix_path("/tmp/coio.sock");
  CHECK(a.is_unix());
  CHECK(a.host() == "/tmp/coio.sock");
  CHECK(a.to_string() == "/tmp/coio.sock");
  CHECK(a.port() == 0);

  const std::size_t max = sizeof(sockaddr_un{}.sun_path) - 1;
  const std::string longest(max, 'p');
  CHECK(socket_address::unix_path(longest).host() == longest);
  REQUIRE_THROWS_AS(socket_address::unix_path(std::string(max + 1, 'p')), coio::value_error);
  REQUIRE_THROWS_AS(socket_address::unix_path(""), coio::value_error);
  try {
    (void)socket_address::unix_path(std::string(200, 'q'));
  } catch (const coio::value_error& e) {
    CHECK(std::string(e.what()).find("unix socket path") != std::string::npos);
  }
}

// --- tcp_socket basics --------------------------------------------------------------------

COIO_TEST_CASE("read_some, write_all and shutdown: bytes both ways, then a half close", "[tcp_socket]") {
  auto pair = co_await net_test::tcp_pair();
  tcp_socket client = std::move(pair.first);
  tcp_socket server = std::move(pair.second);
  REQUIRE(client.is_open());
  REQUIRE(client.native_handle() >= 0);
  CHECK(client.peer_address() == server.local_address());
  CHECK(client.local_address().port() == server.peer_address().port());
  CHECK(client.peer_address().to_string().rfind("127.0.0.1:", 0) == 0);

  co_await client.write_all(bytes_of("hello"));
  const std::string got = co_await read_n(server, 5);
  REQUIRE(got == "hello");

  client.shutdown(SHUT_WR);  // half close: the server reads end of stream...
  std::byte buf[16];
  const std::size_t eof = co_await server.read_some(buf);
  REQUIRE(eof == 0);
  const std::size_t empty = co_await server.read_some(std::span<std::byte>());
  REQUIRE(empty == 0);

  co_await server.write_all(bytes_of("still open"));  // ...and can still answer
  server.shutdown(SHUT_WR);
  const std::string reply = co_await read_n(client, 100);
  REQUIRE(reply == "still open");

  client.set_nodelay(false);
  client.set_nodelay(true);
  client.set_option(SOL_SOCKET, SO_KEEPALIVE, 1);
  client.set_linger(false, 0);
}

COIO_TEST_CASE("data and end of stream that arrive together: the read after the data sees the end",
               "[tcp_socket][eof]") {
  auto pair = co_await net_test::tcp_pair();
  tcp_socket client = std::move(pair.first);
  tcp_socket server = std::move(pair.second);
  std::byte buf[64];
  auto reading = coio::create_task(server.read_some(buf));
  co_await samples::yield_turns(2);  // the reader waits on the selector
  REQUIRE_FALSE(reading.done());
  // Data and FIN both arrive before the loop polls again: one readiness event covers both.
  co_await client.write_all(bytes_of("hello"));
  client.shutdown(SHUT_WR);
  const std::size_t n = co_await reading;
  REQUIRE(n == 5);
  auto at_end = server.read_some(buf);  // a short read did not drain the stream: the FIN is there
  const std::size_t eof = co_await coio::wait_for(std::move(at_end), 10s);
  REQUIRE(eof == 0);
}

COIO_TEST_CASE("an echo round trip through an acceptor", "[tcp_socket]") {
  tcp_acceptor acceptor = tcp_acceptor::listen(loopback());
  REQUIRE(acceptor.is_open());
  REQUIRE(acceptor.port() != 0);
  REQUIRE(acceptor.local_address().host() == "127.0.0.1");
  int accepted = 0;
  auto server = coio::create_task(echo_server(acceptor, accepted));

  for (int round = 0; round < 3; ++round) {
    tcp_socket client = co_await tcp_socket::connect(acceptor.local_address());
    std::string sent;
    for (int i = 0; i < 100; ++i) {
      const std::string message = "message " + std::to_string(round) + "/" + std::to_string(i) + "\n";
      co_await client.write_all(bytes_of(message));
      const std::string echoed = co_await read_n(client, message.size());
      REQUIRE(echoed == message);
    }
    client.shutdown(SHUT_WR);
    std::byte buf[8];
    const std::size_t eof = co_await client.read_some(buf);  // the echo half-closes in turn
    REQUIRE(eof == 0);
  }
  REQUIRE(accepted == 3);
  server.cancel();
  const bool cancelled = co_await ends_cancelled(server);
  REQUIRE(cancelled);
}

COIO_TEST_CASE("a peer reset makes reads throw connection_reset_error", "[tcp_socket][reset]") {
  auto pair = co_await net_test::tcp_pair();
  tcp_socket client = std::move(pair.first);
  tcp_socket server = std::move(pair.second);
  client.set_linger(true, 0);
  client.close();  // SO_LINGER 0: close sends a reset
  REQUIRE_FALSE(client.is_open());

  std::byte buf[64];
  const int code = co_await error_code_of<coio::connection_reset_error>(server.read_some(buf));
  REQUIRE(code == ECONNRESET);
}

COIO_TEST_CASE("writes after a peer reset fail with an os_error and raise no SIGPIPE", "[tcp_socket][reset]") {
  net_test::sigpipe_kills sigpipe;  // a SIGPIPE would end the test process here
  auto pair = co_await net_test::tcp_pair();
  tcp_socket client = std::move(pair.first);
  tcp_socket server = std::move(pair.second);
  client.set_linger(true, 0);
  client.close();

  const int first = co_await write_until_error(server);
  INFO("first failing write: errno " << first);
  REQUIRE((first == ECONNRESET || first == EPIPE));
  const int second = co_await write_until_error(server);  // and again: still no signal
  REQUIRE((second == ECONNRESET || second == EPIPE));
}

COIO_TEST_CASE("a write after shutdown(SHUT_RDWR) fails with broken_pipe_error, no SIGPIPE", "[tcp_socket]") {
  net_test::sigpipe_kills sigpipe;
  auto pair = co_await net_test::tcp_pair();
  tcp_socket client = std::move(pair.first);
  tcp_socket server = std::move(pair.second);
  server.shutdown(SHUT_RDWR);  // this side shut down both ways: writing is EPIPE at once
  bool broken = false;
  try {
    co_await server.write_all(bytes_of("late"));
  } catch (const coio::broken_pipe_error& e) {
    broken = e.code() == EPIPE;
  }
  REQUIRE(broken);
}

COIO_TEST_CASE("connect to a port nobody listens on throws connection_refused_error naming it", "[tcp_socket]") {
  net_test::refusing_port nobody;
  const socket_address address = loopback(nobody.port());
  const int before = net_test::count_open_fds();
  std::string message;
  int code = 0;
  try {
    tcp_socket s = co_await tcp_socket::connect(address);
  } catch (const coio::connection_refused_error& e) {
    message = e.what();
    code = e.code();
  }
  REQUIRE(code == ECONNREFUSED);
  INFO(message);
  REQUIRE(message.find(address.to_string()) != std::string::npos);
  REQUIRE(net_test::count_open_fds() == before);  // the failed socket was closed
}

COIO_TEST_CASE("cancelling a connect that waits on a full backlog closes its socket", "[tcp_socket][cancel]") {
  const int before = net_test::count_open_fds();
  {
    coio::acceptor_options options;
    options.backlog = 1;  // the kernel queues ~2 connections, then drops further SYNs
    tcp_acceptor never_accepts = tcp_acceptor::listen(loopback(), options);
    auto& loop = coio::get_running_loop();
    std::vector<tcp_socket> queued;
    bool cancelled_pending = false;
    for (int i = 0; i < 32 && !cancelled_pending; ++i) {
      auto connecting = coio::create_task(tcp_socket::connect(never_accepts.local_address()));
      const auto give_up = loop.now() + 300ms;  // a queued connect completes in microseconds
      while (!connecting.done() && loop.now() < give_up) {
        co_await coio::sleep(1ms);
      }
      if (connecting.done()) {
        tcp_socket s = co_await std::move(connecting);
        queued.push_back(std::move(s));
        continue;
      }
      connecting.cancel();  // still connecting: its SYN was dropped
      cancelled_pending = co_await ends_cancelled(connecting);
    }
    INFO("connections queued before one stayed pending: " << queued.size());
    REQUIRE(cancelled_pending);
  }
  REQUIRE(net_test::count_open_fds() == before);
}

COIO_TEST_CASE("cancelling connects at once or after a few turns leaks no descriptor", "[tcp_socket][cancel]") {
  tcp_acceptor acceptor = tcp_acceptor::listen(loopback());
  int accepted = 0;
  auto server = coio::create_task(echo_server(acceptor, accepted));
  co_await samples::yield_turns(2);
  const int before = net_test::count_open_fds();
  int cancelled = 0;
  for (int i = 0; i < 100; ++i) {
    auto connecting = coio::create_task(tcp_socket::connect(acceptor.local_address()));
    co_await samples::yield_turns(i % 4);
    connecting.cancel();
    const bool c = co_await ends_cancelled(connecting);  // or it connected first: dropped here
    if (c) ++cancelled;
  }
  INFO("cancelled " << cancelled << " of 100");
  CHECK(cancelled > 0);
  server.cancel();
  co_await ends_cancelled(server);
  co_await samples::yield_turns(2);
  REQUIRE(net_test::count_open_fds() == before);
}

COIO_TEST_CASE("close() wakes a pending read with connection_aborted_error", "[tcp_socket]") {
  auto pair = co_await net_test::tcp_pair();
  tcp_socket client = std::move(pair.first);
  std::byte buf[16];
  auto reading = coio::create_task(error_code_of<coio::connection_aborted_error>(client.read_some(buf)));
  co_await samples::yield_turns(2);
  REQUIRE_FALSE(reading.done());
  client.close();
  const int code = co_await reading;
  REQUIRE(code == ECONNABORTED);

  REQUIRE_FALSE(client.is_open());
  REQUIRE(client.native_handle() == -1);
  client.close();  // idempotent
  const int again = co_await error_code_of<coio::connection_aborted_error>(client.read_some(buf));
  REQUIRE(again == ECONNABORTED);
  REQUIRE_THROWS_AS(client.try_write_some(bytes_of("x")), coio::connection_aborted_error);
  REQUIRE_THROWS_AS(client.shutdown(), coio::connection_aborted_error);

  tcp_socket empty;
  REQUIRE_FALSE(empty.is_open());
  REQUIRE_THROWS_AS(empty.try_read_some(buf), coio::connection_aborted_error);
}

COIO_TEST_CASE("a second concurrent read on one socket is a runtime_error", "[tcp_socket]") {
  auto pair = co_await net_test::tcp_pair();
  tcp_socket client = std::move(pair.first);
  tcp_socket server = std::move(pair.second);
  auto first = coio::create_task(read_n(server, 2));
  co_await samples::yield_turns(2);
  bool refused = false;
  try {
    std::byte buf[4];
    co_await server.read_some(buf);
  } catch (const coio::runtime_error&) {
    refused = true;
  }
  REQUIRE(refused);
  co_await client.write_all(bytes_of("ok"));  // the first reader is unaffected
  const std::string got = co_await first;
  REQUIRE(got == "ok");
}

COIO_TEST_CASE("a second concurrent write on one socket is a runtime_error but a read meanwhile is fine",
               "[tcp_socket]") {
  auto pair = co_await net_test::tcp_pair();
  tcp_socket client = std::move(pair.first);
  tcp_socket server = std::move(pair.second);
  const std::string big(32 << 20, 'w');  // more than the kernel buffers while nobody reads
  auto writing = coio::create_task(client.write_all(bytes_of(big)));
  co_await samples::yield_turns(2);
  REQUIRE_FALSE(writing.done());  // waiting for room
  bool refused = false;
  try {
    co_await client.write_all(bytes_of("second writer"));
  } catch (const coio::runtime_error&) {
    refused = true;
  }
  REQUIRE(refused);
  co_await server.write_all(bytes_of("meanwhile"));  // reading while another task writes is fine
  const std::string got = co_await read_n(client, 9);
  REQUIRE(got == "meanwhile");
  const std::string all = co_await read_n(server, big.size());
  REQUIRE(all.size() == big.size());
  co_await writing;
}

COIO_TEST_CASE("a cancelled read_some consumes nothing", "[tcp_socket][cancel]") {
  auto pair = co_await net_test::tcp_pair();
  tcp_socket client = std::move(pair.first);
  tcp_socket server = std::move(pair.second);
  auto reading = coio::create_task(read_n(server, 3));
  co_await samples::yield_turns(2);
  reading.cancel();
  const bool cancelled = co_await ends_cancelled(reading);
  REQUIRE(cancelled);
  co_await client.write_all(bytes_of("abc"));
  const std::string got = co_await read_n(server, 3);
  REQUIRE(got == "abc");
}

COIO_TEST_CASE("try_read_some and try_write_some say when to wait", "[tcp_socket]") {
  auto pair = co_await net_test::tcp_pair();
  tcp_socket client = std::move(pair.first);
  tcp_socket server = std::move(pair.second);
  std::byte buf[16];
  const auto nothing = server.try_read_some(buf);
  REQUIRE_FALSE(nothing);  // nothing sent yet: wait first
  const auto wrote = client.try_write_some(bytes_of("hi"));
  REQUIRE(wrote == std::optional<std::size_t>(2));
  co_await server.wait_readable();
  const auto got = server.try_read_some(buf);
  REQUIRE(got == std::optional<std::size_t>(2));
  REQUIRE(std::string_view(reinterpret_cast<const char*>(buf), 2) == "hi");
}

COIO_TEST_CASE("an acceptor on a Unix path: connect, exchange, and the file goes with close()", "[tcp_socket][unix]") {
  net_test::temp_dir dir;
  const std::string path = dir.file("s.sock");
  tcp_acceptor acceptor = tcp_acceptor::listen(socket_address::unix_path(path));
  REQUIRE(acceptor.local_address().is_unix());
  REQUIRE(acceptor.local_address().host() == path);
  struct stat st {};
  REQUIRE(::stat(path.c_str(), &st) == 0);

  tcp_socket client = co_await tcp_socket::connect(socket_address::unix_path(path));
  tcp_socket server = co_await acceptor.accept();
  REQUIRE(server.peer_address().is_unix());
  co_await client.write_all(bytes_of("over unix"));
  const std::string got = co_await read_n(server, 9);
  REQUIRE(got == "over unix");

  acceptor.close();
  REQUIRE_FALSE(acceptor.is_open());
  REQUIRE(::stat(path.c_str(), &st) != 0);
}

COIO_TEST_CASE("close() wakes a pending accept with connection_aborted_error", "[tcp_socket]") {
  tcp_acceptor acceptor = tcp_acceptor::listen(loopback());
  auto accepting = coio::create_task(acceptor.accept());
  co_await samples::yield_turns(2);
  acceptor.close();
  bool aborted = false;
  try {
    tcp_socket s = co_await std::move(accepting);
  } catch (const coio::connection_aborted_error&) {
    aborted = true;
  }
  REQUIRE(aborted);
}

COIO_TEST_CASE("listen on a port in use throws os_error EADDRINUSE naming the address", "[tcp_socket]") {
  tcp_acceptor first = tcp_acceptor::listen(loopback());
  coio::acceptor_options options;
  options.reuse_address = false;
  std::string message;
  int code = 0;
  try {
    tcp_acceptor second = tcp_acceptor::listen(first.local_address(), options);
  } catch (const coio::os_error& e) {
    message = e.what();
    code = e.code();
  }
  REQUIRE(code == EADDRINUSE);
  REQUIRE(message.find(first.local_address().to_string()) != std::string::npos);
  co_return;
}

// --- running out of descriptors ---------------------------------------------------------

COIO_TEST_CASE("accept backs off without spinning while descriptors run out (EMFILE)", "[tcp_socket][emfile]") {
  tcp_acceptor acceptor = tcp_acceptor::listen(loopback());
  int accepted = 0;
  auto server = coio::create_task(echo_server(acceptor, accepted));
  co_await samples::yield_turns(2);
  auto& loop = coio::get_running_loop();

  // No Catch2 assertion while descriptors are exhausted: UBSan's vptr check probes memory
  // through a pipe, fails with EMFILE and reports a false "invalid vptr" in Catch2's
  // expression objects. Record what happens, give the descriptors back, then check.
  net_test::nofile_limit limit;
  net_test::fd_exhauster exhaust;
  const bool lowered = limit.set_soft(static_cast<rlim_t>(net_test::highest_open_fd()) + 64);
  const int stopped_by = exhaust.fill();
  exhaust.release_one();  // room for the client's socket only

  // The connection completes into the listener's backlog; the server cannot take it.
  tcp_socket client = co_await tcp_socket::connect(acceptor.local_address());
  co_await client.write_all(bytes_of("ping"));
  const auto give_up = loop.now() + 30s;
  while (acceptor.resource_waits() == 0 && loop.now() < give_up) {
    co_await coio::sleep(1ms);
  }
  const std::uint64_t waits_before = acceptor.resource_waits();

  // One second out of descriptors: the acceptor backs off instead of spinning.
  const double cpu_before = net_test::process_cpu_seconds();
  const auto wall_before = loop.now();
  co_await coio::sleep(1s);
  const double cpu = net_test::process_cpu_seconds() - cpu_before;
  const double wall = std::chrono::duration<double>(loop.now() - wall_before).count();
  const std::uint64_t waits = acceptor.resource_waits() - waits_before;
  const int accepted_while_exhausted = accepted;
  exhaust.release();

  REQUIRE(lowered);
  REQUIRE(stopped_by == EMFILE);
  REQUIRE(waits_before > 0);  // accept() did hit EMFILE
  INFO("accept retries in " << wall << " s: " << waits << ", CPU time: " << cpu << " s");
  CHECK(waits < 200);
  CHECK(cpu < 0.5 * wall);
  REQUIRE(accepted_while_exhausted == 0);

  // Descriptors are back: the waiting connection is accepted and served.
  std::byte buf[4];
  auto reading = client.read_some(buf);
  const std::size_t n = co_await coio::wait_for(std::move(reading), 60s);
  REQUIRE(n > 0);
  REQUIRE(std::string_view(reinterpret_cast<const char*>(buf), n) == std::string_view("ping").substr(0, n));
  REQUIRE(accepted == 1);

  server.cancel();
  co_await ends_cancelled(server);
}
