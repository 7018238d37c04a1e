// echo_client.cpp: an echo client, line by line and then a 1 MiB message sent and received at once.
//
//   async def send_all(writer, payload):
//       writer.write(payload)
//       await writer.drain()                   # waits while the server is behind
//       writer.write_eof()                     # half close: the server sees end of stream
//
//   async def main(host, port):
//       reader, writer = await asyncio.open_connection(host, port)
//       for line in [b"hello\n", b"coio\n"]:
//           writer.write(line)
//           assert await reader.readline() == line
//       payload = bytes(...)                   # 1 MiB: more than the socket buffers hold
//       _, echo = await asyncio.gather(send_all(writer, payload), reader.readexactly(len(payload)))
//       assert echo == payload and await reader.read() == b""
//       writer.close(); await writer.wait_closed()
//
// The big message needs a reader and a writer running at once: write everything first and
// read afterwards, and both ends stall with full buffers, in asyncio as here. One task may
// read while another writes on the same connection.
//
// `echo_client --port N [--host H]` talks to a running `echo_server --port N`; with no
// arguments it starts an echo server in this process on a free port of 127.0.0.1.
#include <coio/coio.hpp>
#include <coio/gather.hpp>
#include <coio/server.hpp>
#include <coio/streams.hpp>

#include <fmt/core.h>

#include <array>
#include <charconv>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>

namespace {

// The server, for the self-test: the same handler as echo_server.cpp.
coio::task<> handle_echo(coio::stream_reader reader, coio::stream_writer writer) {
  for (;;) {
    const std::string data = co_await reader.read(64 * 1024);
    if (data.empty()) break;
    writer.write(data);
    co_await writer.drain();
  }
}

coio::task<> send_all(coio::stream_writer writer, std::string payload) {
  writer.write(payload);
  co_await writer.drain();
  writer.write_eof();
}

coio::task<std::string> receive(coio::stream_reader reader, std::size_t size) {
  std::string echo = co_await reader.readexactly(size);
  co_return echo;
}

// 16,384 lines of 64 bytes, each numbered, so a lost or reordered chunk cannot go unnoticed.
std::string make_payload() {
  std::string payload;
  for (int i = 0; i < 16 * 1024; ++i) payload += fmt::format("{:06} {:->56}\n", i, '>');
  return payload;
}

coio::task<bool> talk(std::string host, std::uint16_t port) {
  auto [reader, writer] = co_await coio::open_connection(host, port);
  fmt::print("connected to {}\n", writer.peername().to_string());
  bool ok = true;
  const std::array<std::string_view, 2> lines{"hello\n", "coio\n"};
  for (const std::string_view line : lines) {
    writer.write(line);
    const std::string echo = co_await reader.readline();
    fmt::print("sent {:?}, got {:?}\n", line, echo);
    ok = ok && echo == line;
  }

  const std::string payload = make_payload();
  auto sending = send_all(writer, payload);
  auto receiving = receive(reader, payload.size());
  const auto results = co_await coio::gather(std::move(sending), std::move(receiving));
  const std::string& echo = std::get<1>(results);   // send_all's slot is a std::monostate
  const std::string rest = co_await reader.read();  // to end of stream
  fmt::print("sent {} bytes at once, got {} back{}\n", payload.size(), echo.size(),
             echo == payload ? ", identical" : ", DIFFERENT");
  ok = ok && echo == payload && rest.empty();

  writer.close();
  co_await writer.wait_closed();
  co_return ok;
}

coio::task<int> amain(std::string host, std::optional<std::uint16_t> port) {
  coio::server server;  // only for the self-test
  if (!port) {
    server = co_await coio::start_server(handle_echo, "127.0.0.1", 0);
    port = server.port();
    fmt::print("started an echo server on {}\n", server.local_address().to_string());
  }
  const bool ok = co_await talk(host, *port);
  if (server.is_serving()) {
    server.close();
    co_await server.wait_closed();
  }
  fmt::print("{}\n", ok ? "OK: every byte came back in order" : "FAIL");
  co_return ok ? 0 : 1;
}

std::optional<std::uint16_t> parse_port(std::string_view text) {
  unsigned value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || value > 65535) return std::nullopt;
  return static_cast<std::uint16_t>(value);
}

}  // namespace

int main(int argc, char** argv) {
  std::string host = "127.0.0.1";
  std::optional<std::uint16_t> port;
  bool usage = false;
  for (int i = 1; i < argc; i += 2) {
    const std::string_view flag = argv[i];
    if (i + 1 >= argc) {
      usage = true;
    } else if (flag == "--port") {
      port = parse_port(argv[i + 1]);
      usage = usage || !port;
    } else if (flag == "--host") {
      host = argv[i + 1];
    } else {
      usage = true;
    }
  }
  if (usage || (argc > 1 && !port)) {
    fmt::print(stderr, "usage: {} [--port N [--host H]]   (no arguments: self-test)\n", argv[0]);
    return 2;
  }
  try {
    return coio::run(amain(host, port));
  } catch (const coio::os_error& e) {  // e.g. connection_refused_error: no server at that port
    fmt::print(stderr, "{}\n", e.what());
    return 1;
  }
}
