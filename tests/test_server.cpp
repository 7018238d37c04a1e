#include <coio/server.hpp>

#include "coio_test.hpp"
#include "net_helpers.hpp"
#include "sample_tasks.hpp"
#include "subprocess.hpp"

#include <coio/create_task.hpp>
#include <coio/event.hpp>
#include <coio/event_loop.hpp>
#include <coio/sleep.hpp>
#include <coio/streams.hpp>
#include <coio/wait_for.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

using namespace std::chrono_literals;
using coio::stream_reader;
using coio::stream_writer;

namespace {

/// Echoes line by line until end of stream.
coio::task<> echo_lines(stream_reader reader, stream_writer writer) {
  for (;;) {
    const std::string line = co_await reader.readline();
    if (line.empty()) break;
    writer.write(line);
    co_await writer.drain();
  }
}

/// echo_lines, but a connection that breaks (reset by a client that went away) just ends.
coio::task<> echo_lines_tolerant(stream_reader reader, stream_writer writer) {
  try {
    co_await echo_lines(std::move(reader), std::move(writer));
  } catch (const coio::os_error&) {
  }
}

/// Throws on the line "boom\n"; echoes anything else.
coio::task<> echo_or_throw(stream_reader reader, stream_writer writer) {
  for (;;) {
    const std::string line = co_await reader.readline();
    if (line.empty()) break;
    if (line == "boom\n") throw std::runtime_error("boom");
    writer.write(line);
    co_await writer.drain();
  }
}

/// Sends `line` and returns the reply line.
coio::task<std::string> ask(stream_reader reader, stream_writer writer, std::string line) {
  writer.write(line);
  co_await writer.drain();
  std::string reply = co_await reader.readline();
  co_return reply;
}

using client = std::pair<stream_reader, stream_writer>;

coio::task<client> connect_to(std::uint16_t port) {
  auto streams = co_await coio::open_connection("127.0.0.1", port);
  co_return streams;
}

/// Waits (bounded by 60 s) until the server has exactly `n` live connections.
coio::task<bool> until_connection_count(const coio::server* server, std::size_t n) {
  auto& loop = coio::get_running_loop();
  const auto give_up = loop.now() + 60s;
  while (server->connection_count() != n && loop.now() < give_up) {
    co_await coio::sleep(1ms);
  }
  co_return server->connection_count() == n;
}

/// True when connecting to `port` is refused.
coio::task<bool> refused(std::uint16_t port) {
  try {
    auto streams = co_await coio::open_connection("127.0.0.1", port);
  } catch (const coio::connection_refused_error&) {
    co_return true;
  }
  co_return false;
}

/// Installs an exception handler on the running loop that records what it is told, and
/// removes it when it goes away (the recorder lives in the test body).
class exception_recorder {
 public:
  exception_recorder() {
    coio::get_running_loop().set_exception_handler(
        [this](coio::event_loop&, const coio::exception_context& context) { contexts.push_back(context); });
  }
  exception_recorder(const exception_recorder&) = delete;
  exception_recorder& operator=(const exception_recorder&) = delete;
  ~exception_recorder() { coio::get_running_loop().set_exception_handler(nullptr); }

  std::vector<coio::exception_context> contexts;
};

std::string what_of(const std::exception_ptr& e) {
  try {
    std::rethrow_exception(e);
  } catch (const std::exception& x) {
    return x.what();
  } catch (...) {
    return "(not a std::exception)";
  }
}

}  // namespace

static coio::task<bool> throws_invalid_state(coio::task<> t) {
  try {
    co_await std::move(t);
  } catch (const coio::invalid_state_error&) {
    co_return true;
  }
  co_return false;
}

COIO_TEST_CASE("start_server: echo, port, sockets, local_address and connection_count", "[server]") {
  coio::server server = co_await coio::start_server(echo_lines, "127.0.0.1", 0);
  REQUIRE(server.is_serving());
  REQUIRE(server.port() != 0);
  REQUIRE(server.sockets().size() == 1);
  REQUIRE(server.local_address().host() == "127.0.0.1");
  REQUIRE(server.local_address().port() == server.port());
  REQUIRE(server.connection_count() == 0);

  std::vector<client> clients;
  for (int i = 0; i < 3; ++i) {
    client c = co_await connect_to(server.port());
    const std::string reply = co_await ask(c.first, c.second, "hello " + std::to_string(i) + "\n");
    REQUIRE(reply == "hello " + std::to_string(i) + "\n");
    clients.push_back(c);
  }
  REQUIRE(server.connection_count() == 3);

  clients[1].second.close();  // that handler reads end of stream and returns
  const bool two = co_await until_connection_count(&server, 2);
  REQUIRE(two);
  const std::string still = co_await ask(clients[2].first, clients[2].second, "still there?\n");
  REQUIRE(still == "still there?\n");

  for (auto& c : clients) c.second.close();
  const bool none = co_await until_connection_count(&server, 0);
  REQUIRE(none);
  server.close();
  co_await server.wait_closed();
  REQUIRE_FALSE(server.is_serving());
}

COIO_TEST_CASE("a handler's exception goes to the exception handler and closes only its connection", "[server]") {
  exception_recorder recorder;
  coio::server server = co_await coio::start_server(echo_or_throw, "127.0.0.1", 0);
  client a = co_await connect_to(server.port());
  client b = co_await connect_to(server.port());
  const std::string first = co_await ask(b.first, b.second, "before\n");
  REQUIRE(first == "before\n");

  a.second.write("boom\n");
  auto reading = a.first.read();
  const std::string end = co_await coio::wait_for(std::move(reading), 30s);
  REQUIRE(end.empty());  // the server closed that connection
  REQUIRE(a.first.at_eof());

  REQUIRE(recorder.contexts.size() == 1);
  const coio::exception_context& context = recorder.contexts.front();
  REQUIRE(context.exception);
  REQUIRE(what_of(context.exception) == "boom");
  INFO(context.message);
  REQUIRE(context.message.find(a.second.sockname().to_string()) != std::string::npos);  // names the peer

  const std::string after = co_await ask(b.first, b.second, "after\n");  // the other connection lives
  REQUIRE(after == "after\n");
  client c = co_await connect_to(server.port());  // and the server still accepts
  const std::string fresh = co_await ask(c.first, c.second, "fresh\n");
  REQUIRE(fresh == "fresh\n");
  REQUIRE(server.is_serving());
  REQUIRE(server.connection_count() == 2);
  REQUIRE(recorder.contexts.size() == 1);
}

COIO_TEST_CASE("close() stops listening, running connections go on, and wait_closed waits for them",
               "[server][close]") {
  coio::server server = co_await coio::start_server(echo_lines, "127.0.0.1", 0);
  const std::uint16_t port = server.port();
  client a = co_await connect_to(port);
  const std::string hi = co_await ask(a.first, a.second, "hi\n");
  REQUIRE(hi == "hi\n");

  server.close();
  REQUIRE_FALSE(server.is_serving());
  server.close();  // idempotent
  const bool no_new = co_await refused(port);
  REQUIRE(no_new);

  auto closing = coio::create_task(server.wait_closed());
  co_await samples::yield_turns(3);
  REQUIRE_FALSE(closing.done());  // a handler still runs
  const std::string again = co_await ask(a.first, a.second, "still served\n");
  REQUIRE(again == "still served\n");
  REQUIRE(server.connection_count() == 1);

  a.second.close();
  co_await coio::wait_for(closing, 30s);
  REQUIRE(server.connection_count() == 0);
}

COIO_TEST_CASE("close_clients() cancels every handler and their clients read end of stream", "[server][close]") {
  coio::server server = co_await coio::start_server(echo_lines, "127.0.0.1", 0);
  std::vector<client> clients;
  for (int i = 0; i < 3; ++i) {
    client c = co_await connect_to(server.port());
    const std::string reply = co_await ask(c.first, c.second, "x\n");
    REQUIRE(reply == "x\n");
    clients.push_back(c);
  }
  REQUIRE(server.connection_count() == 3);

  server.close_clients();
  for (auto& c : clients) {
    auto reading = c.first.read();
    const std::string end = co_await coio::wait_for(std::move(reading), 30s);
    REQUIRE(end.empty());
  }
  const bool none = co_await until_connection_count(&server, 0);
  REQUIRE(none);
  REQUIRE(server.is_serving());  // close_clients() does not stop listening
  client late = co_await connect_to(server.port());
  const std::string reply = co_await ask(late.first, late.second, "late\n");
  REQUIRE(reply == "late\n");
  server.close();
  server.close_clients();
  auto closed = server.wait_closed();
  co_await coio::wait_for(std::move(closed), 30s);
}

COIO_TEST_CASE("destroying the server stops listening but accepted connections go on", "[server][close]") {
  std::uint16_t port = 0;
  client c;
  {
    coio::server server = co_await coio::start_server(echo_lines, "127.0.0.1", 0);
    port = server.port();
    c = co_await connect_to(port);
    const std::string first = co_await ask(c.first, c.second, "first\n");
    REQUIRE(first == "first\n");
  }
  const bool no_new = co_await refused(port);
  REQUIRE(no_new);
  const std::string second = co_await ask(c.first, c.second, "second\n");
  REQUIRE(second == "second\n");
}

COIO_TEST_CASE("cancelling serve_forever closes the server", "[server][close]") {
  coio::server server = co_await coio::start_server(echo_lines, "127.0.0.1", 0);
  const std::uint16_t port = server.port();
  auto serving = coio::create_task(server.serve_forever());
  co_await samples::yield_turns(2);
  REQUIRE_FALSE(serving.done());
  client c = co_await connect_to(port);
  const std::string reply = co_await ask(c.first, c.second, "served\n");
  REQUIRE(reply == "served\n");

  serving.cancel();
  const bool cancelled = co_await ends_cancelled(serving);
  REQUIRE(cancelled);
  REQUIRE_FALSE(server.is_serving());
  const bool no_new = co_await refused(port);
  REQUIRE(no_new);
}

COIO_TEST_CASE("serve_forever returns when the server is closed elsewhere", "[server][close]") {
  coio::server server = co_await coio::start_server(echo_lines, "127.0.0.1", 0);
  auto serving = coio::create_task(server.serve_forever());
  co_await samples::yield_turns(2);
  server.close();
  co_await coio::wait_for(serving, 30s);
  REQUIRE(serving.done());
  REQUIRE_FALSE(serving.cancelled());
}

COIO_TEST_CASE("a Unix-domain server replaces a stale socket file and serves open_unix_connection", "[server][unix]") {
  net_test::temp_dir dir;
  const std::string path = dir.file("echo.sock");
  {  // a server that died without cleaning up: its socket file remains
    const coio::socket_address stale = coio::socket_address::unix_path(path);
    const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    REQUIRE(::bind(fd, stale.data(), stale.size()) == 0);
    ::close(fd);
  }
  struct stat st {};
  REQUIRE(::stat(path.c_str(), &st) == 0);
  REQUIRE(S_ISSOCK(st.st_mode));

  coio::server server = co_await coio::start_unix_server(echo_lines, path);
  REQUIRE(server.local_address().is_unix());
  REQUIRE(server.local_address().host() == path);
  REQUIRE(server.port() == 0);
  auto streams = co_await coio::open_unix_connection(path);
  const std::string reply = co_await ask(streams.first, streams.second, "over a unix socket\n");
  REQUIRE(reply == "over a unix socket\n");
  REQUIRE(streams.second.peername().host() == path);
  REQUIRE(server.connection_count() == 1);

  streams.second.close();
  server.close();
  auto closed = server.wait_closed();
  co_await coio::wait_for(std::move(closed), 30s);
  REQUIRE(::stat(path.c_str(), &st) != 0);  // the server removed its file
}

COIO_TEST_CASE("a Unix-domain server does not remove a file that is not a socket", "[server][unix]") {
  net_test::temp_dir dir;
  const std::string path = dir.file("precious.txt");
  net_test::write_file(path, "keep me");
  int code = 0;
  try {
    coio::server server = co_await coio::start_unix_server(echo_lines, path);
  } catch (const coio::os_error& e) {
    code = e.code();
  }
  REQUIRE(code == EADDRINUSE);
  struct stat st {};
  REQUIRE(::stat(path.c_str(), &st) == 0);
  REQUIRE(S_ISREG(st.st_mode));

  bool refused_connect = false;
  try {
    auto streams = co_await coio::open_unix_connection(dir.file("nobody.sock"));
  } catch (const coio::os_error& e) {
    refused_connect = e.code() == ENOENT;
  }
  REQUIRE(refused_connect);
}

COIO_TEST_CASE("an IPv6 server on ::1", "[server][ipv6]") {
  coio::server server;
  int code = 0;
  try {
    server = co_await coio::start_server(echo_lines, "::1", 0);
  } catch (const coio::os_error& e) {
    code = e.code();
  }
  if (code == EADDRNOTAVAIL || code == EAFNOSUPPORT) {
    WARN("no IPv6 loopback here: skipped");
    co_return;
  }
  REQUIRE(code == 0);
  REQUIRE(server.local_address().is_ipv6());
  REQUIRE(server.local_address().to_string() == "[::1]:" + std::to_string(server.port()));
  auto streams = co_await coio::open_connection("::1", server.port());
  REQUIRE(streams.second.peername().is_ipv6());
  const std::string reply = co_await ask(streams.first, streams.second, "over IPv6\n");
  REQUIRE(reply == "over IPv6\n");
  auto bracketed = co_await coio::open_connection("[::1]", server.port());
  const std::string again = co_await ask(bracketed.first, bracketed.second, "bracketed\n");
  REQUIRE(again == "bracketed\n");
}

COIO_TEST_CASE("start_server on a port in use throws os_error naming the address", "[server]") {
  coio::server first = co_await coio::start_server(echo_lines, "127.0.0.1", 0);
  coio::server_options options;
  options.listen.reuse_address = false;
  std::string message;
  int code = 0;
  try {
    coio::server second = co_await coio::start_server(echo_lines, "127.0.0.1", first.port(), options);
  } catch (const coio::os_error& e) {
    code = e.code();
    message = e.what();
  }
  REQUIRE(code == EADDRINUSE);
  REQUIRE(message.find("127.0.0.1:" + std::to_string(first.port())) != std::string::npos);
}

// --- many connections -----------------------------------------------------------------------

namespace {

/// One short client conversation; true when the echo came back right.
coio::task<bool> one_conversation(std::uint16_t port, int id) {
  auto streams = co_await coio::open_connection("127.0.0.1", port);
  const std::string line = "client " + std::to_string(id) + "\n";
  const std::string reply = co_await ask(streams.first, streams.second, line);
  streams.second.close();
  co_return reply == line;
}

}  // namespace

COIO_TEST_CASE("10000 connections with some cancelled midway leave the open descriptors unchanged", "[server][many]") {
  net_test::nofile_limit limit;
  limit.raise_to_hard();
  exception_recorder recorder;
  const int before = net_test::count_open_fds();
  {
    coio::server_options options;
    options.listen.backlog = 1024;
    coio::server server = co_await coio::start_server(echo_lines_tolerant, "127.0.0.1", 0, options);
    constexpr int total = 10'000;
    constexpr int batch = 200;
    int succeeded = 0;
    int cancelled = 0;
    for (int start = 0; start < total; start += batch) {
      std::vector<coio::future<bool>> conversations;
      for (int i = start; i < start + batch; ++i) {
        conversations.push_back(coio::create_task(one_conversation(server.port(), i)));
      }
      co_await samples::yield_turns(start / batch % 4);  // cancel at different stages
      for (int i = start; i < start + batch; i += 10) conversations[static_cast<std::size_t>(i - start)].cancel();
      for (auto& conversation : conversations) {
        const bool was_cancelled = co_await ends_cancelled(conversation);
        if (was_cancelled) {
          ++cancelled;
          continue;
        }
        const bool ok = co_await conversation;
        if (ok) ++succeeded;
      }
    }
    INFO("succeeded " << succeeded << ", cancelled " << cancelled);
    REQUIRE(succeeded + cancelled == total);
    REQUIRE(succeeded >= total * 9 / 10);
    const bool drained = co_await until_connection_count(&server, 0);
    REQUIRE(drained);
    server.close();
    auto closed = server.wait_closed();
    co_await coio::wait_for(std::move(closed), 60s);
  }
  // Background flushes and closes finish within a few turns.
  auto& loop = coio::get_running_loop();
  const auto give_up = loop.now() + 30s;
  while (net_test::count_open_fds() != before && loop.now() < give_up) {
    co_await coio::sleep(1ms);
  }
  REQUIRE(net_test::count_open_fds() == before);
  for (const auto& context : recorder.contexts) {  // the handler keeps its errors: nothing to report
    INFO(context.message << ": " << (context.exception ? what_of(context.exception) : ""));
    CHECK(false);
  }
}

namespace {

/// Connects, checks one echo, then holds the connection until `release` is set.
coio::task<bool> held_conversation(std::uint16_t port, int id, int* ready, coio::event* release) {
  auto streams = co_await coio::open_connection("127.0.0.1", port);
  const std::string line = "held " + std::to_string(id) + "\n";
  const std::string reply = co_await ask(streams.first, streams.second, line);
  ++*ready;
  co_await release->wait();
  streams.second.close();
  co_await streams.second.wait_closed();
  co_return reply == line;
}

}  // namespace

COIO_TEST_CASE("1000 connections held open at once", "[server][many]") {
  net_test::nofile_limit limit;
  if (limit.hard() < 2200) {
    WARN("RLIMIT_NOFILE hard limit " << limit.hard() << " < 2200: skipped");
    co_return;
  }
  REQUIRE(limit.raise_to_hard());
  coio::server_options options;
  options.listen.backlog = 2048;
  coio::server server = co_await coio::start_server(echo_lines, "127.0.0.1", 0, options);
  constexpr int total = 1000;
  int ready = 0;
  coio::event release;
  std::vector<coio::future<bool>> clients;
  for (int i = 0; i < total; ++i)
    clients.push_back(coio::create_task(held_conversation(server.port(), i, &ready, &release)));

  auto& loop = coio::get_running_loop();
  const auto give_up = loop.now() + 90s;
  while (ready < total && loop.now() < give_up) {
    co_await coio::sleep(5ms);
  }
  REQUIRE(ready == total);
  REQUIRE(server.connection_count() == static_cast<std::size_t>(total));

  release.set();
  int ok = 0;
  for (auto& c : clients) {
    const bool good = co_await c;
    if (good) ++ok;
  }
  REQUIRE(ok == total);
  const bool none = co_await until_connection_count(&server, 0);
  REQUIRE(none);
}

// --- Python interop -------------------------------------------------------------------------

namespace {

constexpr std::string_view python_client_script = R"PY(
import asyncio, sys

async def main(port):
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    for i in range(50):
        writer.write(f"py line {i}\n".encode())
        await writer.drain()
        reply = await reader.readline()
        if reply != f"coio:py line {i}\n".encode():
            sys.exit(f"unexpected reply {reply!r}")
    writer.write_eof()
    bye = await reader.readline()
    if bye != b"bye 50\n":
        sys.exit(f"unexpected goodbye {bye!r}")
    rest = await reader.read()
    if rest != b"":
        sys.exit(f"unexpected data after the goodbye {rest!r}")
    writer.close()
    await writer.wait_closed()
    print("ok", flush=True)

asyncio.run(asyncio.wait_for(main(int(sys.argv[1])), 60))
)PY";

/// Replies "coio:" + line to each line and records it; at end of stream says "bye N".
coio::task<> recording_handler(stream_reader reader, stream_writer writer, std::vector<std::string>* lines) {
  for (;;) {
    const std::string line = co_await reader.readline();
    if (line.empty()) break;
    lines->push_back(line);
    writer.write("coio:" + line);
    co_await writer.drain();
  }
  writer.write("bye " + std::to_string(lines->size()) + "\n");
  co_await writer.drain();
}

}  // namespace

COIO_TEST_CASE("a Python asyncio client talks to a coio server", "[server][python]") {
  const std::string python = net_test::find_python3();
  if (python.empty()) {
    WARN("no python3: skipped");
    co_return;
  }
  std::vector<std::string> lines;
  auto handler = [&lines](stream_reader r, stream_writer w) { return recording_handler(r, w, &lines); };
  coio::server server = co_await coio::start_server(handler, "127.0.0.1", 0);

  net_test::temp_dir dir;
  const std::string script = dir.file("client.py");
  net_test::write_file(script, python_client_script);
  net_test::subprocess child = net_test::subprocess::spawn({python, script, std::to_string(server.port())});
  const std::string verdict = co_await child.read_line(90s);
  const int status = co_await child.wait(60s);
  REQUIRE(verdict == "ok");
  REQUIRE(status == 0);
  REQUIRE(lines.size() == 50);
  for (std::size_t i = 0; i < lines.size(); ++i) REQUIRE(lines[i] == "py line " + std::to_string(i) + "\n");
  const bool none = co_await until_connection_count(&server, 0);
  REQUIRE(none);
}

COIO_TEST_CASE("an empty or moved-from server answers its queries without crashing", "[server]") {
  coio::server empty;
  REQUIRE(empty.port() == 0);
  REQUIRE(empty.sockets().empty());
  REQUIRE(empty.local_address().family() == AF_UNSPEC);
  REQUIRE(empty.connection_count() == 0);
  REQUIRE_FALSE(empty.is_serving());
  empty.close();
  empty.close_clients();
  co_await empty.wait_closed();
  auto forever = empty.serve_forever();
  const bool refused = co_await throws_invalid_state(std::move(forever));
  REQUIRE(refused);
}
