// chat_server.cpp: a chat room; each line a client sends goes to every other client.
//
//   clients = {}                                           # writer -> name
//
//   async def handle_client(reader, writer):
//       name = (await reader.readline()).decode().strip()  # the first line is the name
//       if not name: return
//       clients[writer] = name
//       writer.write(f"welcome, {name}\n".encode())        # from now on it gets every line
//       try:
//           while line := await reader.readline():         # b"" when the client leaves
//               for other in list(clients):
//                   if other is not writer:
//                       try: other.write(f"{name}: ".encode() + line)
//                       except ConnectionError: pass       # leaving; its own handler cleans up
//       except ConnectionError:
//           pass                                           # reset by the client: it left too
//       finally:
//           del clients[writer]
//
//   server = await asyncio.start_server(handle_client, "127.0.0.1", 0)
//
// The broadcast writes without drain(): write() never blocks, so one client that stops reading
// cannot stall the room (its data waits in its own buffer; a real server would drop a client
// whose write_buffer_size() grows too big). The room is shared by the handlers through a
// shared_ptr, so it outlives every connection however the server stops.
//
// With no arguments the program tests itself: alice, bob and carol join, each says one line,
// and each must receive exactly the other two's lines; dave joins and resets his connection
// meanwhile, which the server must take in its stride. `chat_server --port N` serves on
// 127.0.0.1:N until Ctrl-C (try two `nc 127.0.0.1 N`, first line your name).
#include <coio/coio.hpp>
#include <coio/gather.hpp>
#include <coio/server.hpp>
#include <coio/streams.hpp>
#include <coio/wait_for.hpp>

#include <fmt/core.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

using namespace std::chrono_literals;

namespace {

class chat_room {
 public:
  std::uint64_t join(std::string name, coio::stream_writer writer) {
    const std::uint64_t id = next_id_++;
    fmt::print("{} joined ({} in the room)\n", name, members_.size() + 1);
    members_.emplace(id, member{std::move(name), std::move(writer)});
    return id;
  }

  void leave(std::uint64_t id) {
    const auto it = members_.find(id);
    if (it == members_.end()) return;
    fmt::print("{} left ({} in the room)\n", it->second.name, members_.size() - 1);
    members_.erase(it);
  }

  // Sends `line` to every member but the sender. write() runs no other task, so the map
  // cannot change under the loop.
  void broadcast(std::uint64_t from, std::string_view line) {
    for (auto& [id, m] : members_) {
      if (id == from) continue;
      try {
        m.writer.write(line);
      } catch (const coio::error&) {
        // Its connection broke (or is closing): its own handler sees that and leaves.
      }
    }
  }

  std::size_t size() const noexcept { return members_.size(); }

 private:
  struct member {
    std::string name;
    coio::stream_writer writer;
  };
  std::map<std::uint64_t, member> members_;
  std::uint64_t next_id_ = 0;
};

// Leaves the room when the handler ends, however it ends (Python's `finally`): end of
// stream, a reset, or cancellation by close_clients().
class membership {
 public:
  membership(chat_room& room, std::uint64_t id) : room_(room), id_(id) {}
  membership(const membership&) = delete;
  membership& operator=(const membership&) = delete;
  ~membership() { room_.leave(id_); }

 private:
  chat_room& room_;
  std::uint64_t id_;
};

std::string_view strip(std::string_view s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.remove_suffix(1);
  return s;
}

coio::task<> handle_client(std::shared_ptr<chat_room> room, coio::stream_reader reader, coio::stream_writer writer) {
  const std::string first = co_await reader.readline();
  const std::string name(strip(first));
  if (name.empty()) co_return;  // left before saying who it is
  const std::uint64_t id = room->join(name, writer);
  const membership in_room(*room, id);
  writer.write(fmt::format("welcome, {}\n", name));
  try {
    for (;;) {
      std::string line = co_await reader.readline();
      if (line.empty()) break;                // end of stream: the client left
      if (line.back() != '\n') line += '\n';  // a last line without its newline
      room->broadcast(id, fmt::format("{}: {}", name, line));
    }
  } catch (const coio::connection_error&) {
    // Reset by the client: it left too.
  }
}

// start_server's handler: hands each connection to handle_client with the shared room. A
// named class, not a capturing lambda (g++ 12 and lambda temporaries: docs/compilers.md).
class chat_handler {
 public:
  explicit chat_handler(std::shared_ptr<chat_room> room) : room_(std::move(room)) {}
  coio::task<> operator()(coio::stream_reader reader, coio::stream_writer writer) const {
    return handle_client(room_, std::move(reader), std::move(writer));
  }

 private:
  std::shared_ptr<chat_room> room_;
};

// --- the self-test --------------------------------------------------------------------------

// Lets the test clients wait for one another: nobody talks before everyone has joined, and
// nobody leaves before everyone has heard everything.
struct rendezvous {
  int joined = 0, heard = 0;
  coio::event all_joined, all_heard;
};

constexpr int talkers = 3;

int handler_errors = 0;  // failures the server reported through the loop's exception handler

void count_error(coio::event_loop&, const coio::exception_context& context) {
  ++handler_errors;
  coio::event_loop::default_exception_handler(context);
}

coio::task<bool> talker(std::uint16_t port, std::string name, std::vector<std::string> expected, rendezvous& meet) {
  auto [reader, writer] = co_await coio::open_connection("127.0.0.1", port);
  writer.write(name + "\n");
  const std::string welcome = co_await reader.readline();  // now in the room
  if (++meet.joined == talkers + 1) meet.all_joined.set();
  co_await meet.all_joined.wait();

  writer.write(fmt::format("hi, I am {}\n", name));
  std::vector<std::string> heard;
  for (std::size_t i = 0; i < expected.size(); ++i) {
    std::string line = co_await reader.readline();
    heard.push_back(std::move(line));
  }
  if (++meet.heard == talkers) meet.all_heard.set();
  co_await meet.all_heard.wait();

  writer.write_eof();                               // leave
  const std::string rest = co_await reader.read();  // to end of stream: must be nothing
  writer.close();
  co_await writer.wait_closed();

  std::sort(heard.begin(), heard.end());  // the others' lines may arrive in either order
  std::sort(expected.begin(), expected.end());
  const bool ok = welcome == fmt::format("welcome, {}\n", name) && heard == expected && rest.empty();
  fmt::print("{} heard {} line(s) from the others{}\n", name, heard.size(), ok ? "" : ": WRONG");
  co_return ok;
}

// Joins, then resets the connection (SO_LINGER 0) while the others talk.
coio::task<bool> leaver(std::uint16_t port, rendezvous& meet) {
  auto [reader, writer] = co_await coio::open_connection("127.0.0.1", port);
  writer.write("dave\n");
  const std::string welcome = co_await reader.readline();
  if (++meet.joined == talkers + 1) meet.all_joined.set();
  co_await meet.all_joined.wait();
  writer.transport().set_linger(true, 0);
  writer.close();  // sends a reset, not a polite end of stream
  co_return welcome == "welcome, dave\n";
}

coio::task<int> smoke_test() {
  coio::get_running_loop().set_exception_handler(count_error);
  auto room = std::make_shared<chat_room>();
  chat_handler handler(room);
  coio::server server = co_await coio::start_server(handler, "127.0.0.1", 0);
  fmt::print("chat server on {}\n", server.local_address().to_string());

  const std::vector<std::string> names{"alice", "bob", "carol"};
  rendezvous meet;
  std::vector<coio::task<bool>> clients;
  for (const std::string& name : names) {
    std::vector<std::string> expected;  // one line from each of the others
    for (const std::string& other : names) {
      if (other != name) expected.push_back(fmt::format("{}: hi, I am {}\n", other, other));
    }
    clients.push_back(talker(server.port(), name, std::move(expected), meet));
  }
  clients.push_back(leaver(server.port(), meet));

  std::vector<bool> results;
  try {
    auto everyone = coio::gather(std::move(clients));
    results = co_await coio::wait_for(std::move(everyone), 10s);
  } catch (const coio::timeout_error&) {
    fmt::print("timed out\n");
  }
  server.close();
  server.close_clients();  // only on failure is anyone still connected
  co_await server.wait_closed();

  const bool all_ok =
      results.size() == names.size() + 1 && std::all_of(results.begin(), results.end(), [](bool r) { return r; });
  const bool ok = all_ok && room->size() == 0 && handler_errors == 0;
  fmt::print("{}\n", ok ? "OK: each client heard the others and not itself; the room emptied cleanly" : "FAIL");
  co_return ok ? 0 : 1;
}

coio::task<int> serve(std::uint16_t port) {
  auto room = std::make_shared<chat_room>();
  chat_handler handler(room);
  coio::server server = co_await coio::start_server(handler, "127.0.0.1", port);
  fmt::print("chat server on {}; Ctrl-C stops it\n", server.local_address().to_string());
  std::fflush(stdout);
  try {
    co_await server.serve_forever();
  } catch (const coio::cancelled_error&) {
    // Ctrl-C: serve_forever() has stopped listening. No co_await in a catch handler.
  }
  fmt::print("\ninterrupted: closing {} connection(s)\n", server.connection_count());
  server.close_clients();
  co_await server.wait_closed();
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
