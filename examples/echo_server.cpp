// echo_server.cpp: an echo server; with no arguments it tests itself with concurrent clients.
//
//   async def handle_echo(reader, writer):
//       while data := await reader.read(65536):   # b"" at end of stream: the client is done
//           writer.write(data)
//           await writer.drain()                   # back-pressure: wait if the client lags
//
//   async def client(port, i):
//       reader, writer = await asyncio.open_connection("127.0.0.1", port)
//       for n in range(3):
//           writer.write(f"client {i} line {n}\n".encode())
//           assert await reader.readline() == f"client {i} line {n}\n".encode()
//       writer.write_eof()                         # half close: "I am done sending"
//       assert await reader.read() == b""          # the server closed its side too
//       writer.close(); await writer.wait_closed()
//
//   async def main():
//       server = await asyncio.start_server(handle_echo, "127.0.0.1", 0)   # port 0: any free
//       await asyncio.gather(*[client(server.sockets[0].getsockname()[1], i) for i in range(5)])
//       server.close(); await server.wait_closed()
//
// `echo_server --port N` serves on 127.0.0.1:N until Ctrl-C (try `nc 127.0.0.1 N`): the first
// SIGINT cancels main inside serve_forever(), which stops listening; main then cancels the
// open connections with close_clients() and waits for them. The server closes each writer
// when its handler returns, so handle_echo need not.
#include <coio/coio.hpp>
#include <coio/gather.hpp>
#include <coio/server.hpp>
#include <coio/streams.hpp>

#include <fmt/core.h>

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace {

constexpr int clients = 5, lines_per_client = 3;

// Echoes whatever each read returns, until the client sends end of stream.
coio::task<> handle_echo(coio::stream_reader reader, coio::stream_writer writer) {
  for (;;) {
    const std::string data = co_await reader.read(64 * 1024);  // a named result, never `while (co_await ...)`
    if (data.empty()) break;
    writer.write(data);
    co_await writer.drain();
  }
}

coio::task<bool> client(std::uint16_t port, int i) {
  auto [reader, writer] = co_await coio::open_connection("127.0.0.1", port);
  bool ok = true;
  for (int n = 0; n < lines_per_client; ++n) {
    const std::string line = fmt::format("client {} line {}\n", i, n);
    writer.write(line);
    co_await writer.drain();
    const std::string echo = co_await reader.readline();
    ok = ok && echo == line;
  }
  writer.write_eof();
  const std::string rest = co_await reader.read();  // to end of stream: nothing more came back
  ok = ok && rest.empty();
  writer.close();
  co_await writer.wait_closed();
  fmt::print("client {}: {} lines echoed{}\n", i, lines_per_client, ok ? "" : ", WRONG");
  co_return ok;
}

coio::task<int> smoke_test() {
  coio::server server = co_await coio::start_server(handle_echo, "127.0.0.1", 0);
  fmt::print("echo server on {}\n", server.local_address().to_string());

  std::vector<coio::task<bool>> runs;
  for (int i = 0; i < clients; ++i) runs.push_back(client(server.port(), i));
  const std::vector<bool> results = co_await coio::gather(std::move(runs));  // all at once

  server.close();
  co_await server.wait_closed();  // every handler has returned
  const bool all_echoed = std::all_of(results.begin(), results.end(), [](bool r) { return r; });
  const bool ok = all_echoed && server.connection_count() == 0;
  fmt::print("{}\n", ok ? "OK: every client got its lines back, the server shut down cleanly" : "FAIL");
  co_return ok ? 0 : 1;
}

coio::task<int> serve(std::uint16_t port) {
  coio::server server = co_await coio::start_server(handle_echo, "127.0.0.1", port);
  fmt::print("echo server on {}; Ctrl-C stops it\n", server.local_address().to_string());
  std::fflush(stdout);
  try {
    co_await server.serve_forever();
  } catch (const coio::cancelled_error&) {
    // Ctrl-C: serve_forever() has stopped listening. No co_await in a catch handler.
  }
  const std::size_t open = server.connection_count();
  server.close_clients();
  co_await server.wait_closed();
  fmt::print("\ninterrupted: closed {} open connection(s), bye\n", open);
  co_return 0;
}

std::optional<std::uint16_t> parse_port(std::string_view text) {
  unsigned value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || value > 65535) return std::nullopt;
  return static_cast<std::uint16_t>(value);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc == 1) return coio::run(smoke_test());
  const std::optional<std::uint16_t> port =
      argc == 3 && std::string_view(argv[1]) == "--port" ? parse_port(argv[2]) : std::nullopt;
  if (!port) {
    fmt::print(stderr, "usage: {} [--port N]   (no arguments: self-test on a free port)\n", argv[0]);
    return 2;
  }
  return coio::run(serve(*port));
}
