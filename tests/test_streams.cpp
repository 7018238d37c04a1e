#include <coio/streams.hpp>

#include "coio_test.hpp"
#include "net_helpers.hpp"
#include "sample_tasks.hpp"
#include "subprocess.hpp"

#include <coio/create_task.hpp>
#include <coio/sleep.hpp>
#include <coio/tcp_socket.hpp>
#include <coio/wait_for.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <signal.h>
#include <sys/socket.h>
#include <sys/time.h>

using namespace std::chrono_literals;
using coio::stream_reader;
using coio::stream_writer;
using coio::tcp_acceptor;
using coio::tcp_socket;
using net_test::loopback;

namespace {

using stream_pair = std::pair<stream_reader, stream_writer>;

/// Both ends of one connection over 127.0.0.1, each as a reader/writer pair.
struct connected_streams {
  stream_pair client;
  stream_pair server;
};

/// A fresh connection; the server side's reader has `server_limit`. (A scalar rather than a
/// stream_options: callers would otherwise build an aggregate inside the co_await expression.)
coio::task<connected_streams> stream_pairs(std::size_t server_limit = 64 * 1024) {
  auto sockets = co_await net_test::tcp_pair();
  coio::stream_options server_options;
  server_options.limit = server_limit;
  connected_streams out{coio::make_streams(std::move(sockets.first)),
                        coio::make_streams(std::move(sockets.second), server_options)};
  co_return out;
}

/// Echoes every chunk back until end of stream, then sends end of stream in turn.
coio::task<> stream_echo(tcp_socket socket) {
  auto streams = coio::make_streams(std::move(socket));
  stream_reader reader = streams.first;
  stream_writer writer = streams.second;
  for (;;) {
    const std::string data = co_await reader.read(64 * 1024);
    if (data.empty()) break;
    writer.write(data);
    co_await writer.drain();
  }
  writer.write_eof();
}

/// Accepts connections and runs stream_echo on each. `acceptor` belongs to the test body.
coio::task<> stream_echo_server(tcp_acceptor& acceptor) {
  for (;;) {
    tcp_socket socket = co_await acceptor.accept();
    (void)coio::create_task(stream_echo(std::move(socket)), "echo");
  }
}

/// reader.read() to end of stream, bounded: an end of stream that never shows fails the test
/// with timeout_error instead of hanging it.
coio::task<std::string> read_to_end(stream_reader reader) {
  auto reading = reader.read();
  std::string all = co_await coio::wait_for(std::move(reading), 60s);
  co_return all;
}

/// Reads to end of stream: {bytes, checksum}.
struct received {
  std::uint64_t bytes = 0;
  std::uint64_t checksum = 0;
};
coio::task<received> read_all_checksummed(stream_reader reader) {
  net_test::fnv1a sum;
  received r;
  for (;;) {
    const std::string data = co_await reader.read(64 * 1024);
    if (data.empty()) break;
    sum.update(data);
    r.bytes += data.size();
  }
  r.checksum = sum.value;
  co_return r;
}

/// Writes 64 KiB chunks (with drain) until a write or drain fails; returns its os_error code.
coio::task<int> write_until_error(stream_writer writer) {
  const std::string chunk(64 * 1024, 'x');
  for (int i = 0; i < 1024; ++i) {
    try {
      writer.write(chunk);
      co_await writer.drain();
    } catch (const coio::os_error& e) {
      co_return e.code();
    }
  }
  co_return 0;
}

/// Awaits `t` and says whether it threw Error (other exceptions propagate).
template <class Error>
coio::task<bool> throws(coio::task<std::string> t) {
  try {
    co_await std::move(t);
  } catch (const Error&) {
    co_return true;
  }
  co_return false;
}

/// Reads 8 KiB at a time with a 1 ms pause after each read; returns the byte count.
coio::task<std::uint64_t> slow_reader(stream_reader reader) {
  std::uint64_t total = 0;
  for (;;) {
    const std::string data = co_await reader.read(8 * 1024);
    if (data.empty()) break;
    total += data.size();
    co_await coio::sleep(1ms);
  }
  co_return total;
}

/// Waits (bounded) until `reader` has buffered at least `n` bytes. The reader does not read
/// ahead on its own: only while some task is inside one of its reads.
coio::task<> until_buffered(stream_reader reader, std::size_t n) {
  auto& loop = coio::get_running_loop();
  const auto give_up = loop.now() + 30s;
  while (reader.buffered() < n && loop.now() < give_up) {
    co_await coio::sleep(1ms);
  }
}

}  // namespace

// --- round trips --------------------------------------------------------------------------

COIO_TEST_CASE("open_connection: an echo round trip, with peername and sockname", "[streams]") {
  tcp_acceptor acceptor = tcp_acceptor::listen(loopback());
  auto server = coio::create_task(stream_echo_server(acceptor));
  auto streams = co_await coio::open_connection("127.0.0.1", acceptor.port());
  stream_reader reader = streams.first;
  stream_writer writer = streams.second;
  REQUIRE(writer.peername() == acceptor.local_address());
  REQUIRE(writer.sockname().host() == "127.0.0.1");
  REQUIRE(writer.can_write_eof());
  REQUIRE_FALSE(writer.is_closing());

  for (int i = 0; i < 200; ++i) {
    const std::string line = "line " + std::to_string(i) + "\n";
    writer.write(line);
    co_await writer.drain();
    const std::string echoed = co_await reader.readline();
    REQUIRE(echoed == line);
  }
  const std::vector<std::string> lines{"a\n", "bb\n", "ccc\n"};
  writer.writelines(lines);
  const std::string all = co_await reader.readexactly(9);
  REQUIRE(all == "a\nbb\nccc\n");

  writer.write_eof();
  const std::string rest = co_await read_to_end(reader);
  REQUIRE(rest.empty());
  REQUIRE(reader.at_eof());
  writer.close();
  co_await writer.wait_closed();
  REQUIRE(writer.is_closing());
  REQUIRE_FALSE(writer.transport().is_open());
  server.cancel();
  co_await ends_cancelled(server);
}

COIO_TEST_CASE("write_eof: the peer reads end of stream and can still reply", "[streams]") {
  auto pairs = co_await stream_pairs();
  stream_reader client_in = pairs.client.first;
  stream_writer client_out = pairs.client.second;
  stream_reader server_in = pairs.server.first;
  stream_writer server_out = pairs.server.second;

  client_out.write("question");
  client_out.write_eof();
  client_out.write_eof();  // idempotent
  REQUIRE_THROWS_AS(client_out.write("more"), coio::runtime_error);

  const std::string question = co_await read_to_end(server_in);  // read(-1): to end of stream
  REQUIRE(question == "question");
  REQUIRE(server_in.at_eof());
  const std::string after = co_await server_in.read(100);
  REQUIRE(after.empty());

  server_out.write("answer");  // the other direction is still open
  co_await server_out.drain();
  server_out.close();
  const std::string answer = co_await read_to_end(client_in);
  REQUIRE(answer == "answer");
  REQUIRE(client_in.at_eof());
}

COIO_TEST_CASE("a last line and end of stream that arrive together are both read", "[streams][eof]") {
  auto pairs = co_await stream_pairs();
  stream_writer out = pairs.client.second;
  stream_reader in = pairs.server.first;
  auto line = coio::create_task(in.readline());
  co_await samples::yield_turns(2);  // the reader waits on the selector
  out.write("last\n");               // the line and the FIN arrive before the loop polls again
  out.write_eof();
  const std::string last = co_await line;
  REQUIRE(last == "last\n");
  auto reading = in.read(100);
  const std::string end = co_await coio::wait_for(std::move(reading), 10s);
  REQUIRE(end.empty());
  REQUIRE(in.at_eof());
}

COIO_TEST_CASE("a 128 MiB echo arrives complete: byte counts and checksums match", "[streams][bulk]") {
  tcp_acceptor acceptor = tcp_acceptor::listen(loopback());
  auto server = coio::create_task(stream_echo_server(acceptor));
  auto streams = co_await coio::open_connection("127.0.0.1", acceptor.port());
  stream_reader reader = streams.first;
  stream_writer writer = streams.second;

  auto reading = coio::create_task(read_all_checksummed(reader));
  const net_test::byte_pattern pattern(64 * 1024);
  constexpr std::uint64_t total = std::uint64_t{128} << 20;
  net_test::fnv1a sent_sum;
  std::uint64_t sent = 0;
  for (std::uint64_t i = 0; sent < total; ++i) {
    const std::string_view chunk = pattern.chunk(i);
    sent_sum.update(chunk);
    writer.write(chunk);
    sent += chunk.size();
    co_await writer.drain();
  }
  writer.write_eof();
  const received got = co_await coio::wait_for(reading, 60s);
  REQUIRE(sent == total);
  REQUIRE(got.bytes == sent);
  REQUIRE(got.checksum == sent_sum.value);
  server.cancel();
  co_await ends_cancelled(server);
}

COIO_TEST_CASE("close() sends what is buffered first, then closes, and wait_closed waits for it", "[streams]") {
  auto pairs = co_await stream_pairs();
  stream_reader server_in = pairs.server.first;
  stream_writer client_out = pairs.client.second;
  const net_test::byte_pattern pattern(1 << 20);
  net_test::fnv1a sent_sum;
  for (int i = 0; i < 8; ++i) {
    sent_sum.update(pattern.chunk(i));
    client_out.write(pattern.chunk(i));  // 8 MiB, mostly buffered: nobody reads yet
  }
  REQUIRE(client_out.write_buffer_size() > 0);
  client_out.close();
  REQUIRE(client_out.is_closing());
  REQUIRE_THROWS_AS(client_out.write("late"), coio::runtime_error);

  auto reading = coio::create_task(read_all_checksummed(server_in));
  co_await client_out.wait_closed();
  REQUIRE_FALSE(client_out.transport().is_open());
  const received got = co_await coio::wait_for(reading, 60s);
  REQUIRE(got.bytes == 8u << 20);
  REQUIRE(got.checksum == sent_sum.value);
}

COIO_TEST_CASE("data written just before the last reader and writer go away is still sent", "[streams]") {
  auto sockets = co_await net_test::tcp_pair();
  auto server = coio::make_streams(std::move(sockets.second));
  {
    auto client = coio::make_streams(std::move(sockets.first));
    client.second.write(std::string(4 << 20, 'z'));
    client.second.close();
  }  // the background flush owns the connection now
  const std::string got = co_await read_to_end(server.first);
  REQUIRE(got.size() == 4u << 20);
  REQUIRE(got == std::string(4 << 20, 'z'));
}

// --- back-pressure ------------------------------------------------------------------------

COIO_TEST_CASE("drain() holds the writer near the high-water mark against a slow reader", "[streams][drain]") {
  coio::stream_options options;
  options.high_water = 64 * 1024;
  options.low_water = 16 * 1024;
  auto sockets = co_await net_test::tcp_pair();
  // Bounded kernel buffers (no autotuning to megabytes), so that the writer's own buffer is what
  // fills up. Not below a few loopback MSS (64 KiB): smaller windows stall on delayed ACKs.
  sockets.first.set_option(SOL_SOCKET, SO_SNDBUF, 64 * 1024);
  sockets.second.set_option(SOL_SOCKET, SO_RCVBUF, 256 * 1024);
  auto client = coio::make_streams(std::move(sockets.first), options);
  auto server = coio::make_streams(std::move(sockets.second));
  stream_writer writer = client.second;
  stream_reader slow = server.first;

  auto reading = coio::create_task(slow_reader(slow));

  constexpr std::size_t chunk = 16 * 1024;
  constexpr std::uint64_t total = 4u << 20;
  const std::string data(chunk, 'b');
  std::size_t max_buffered = 0;
  int suspended_drains = 0;
  for (std::uint64_t sent = 0; sent < total; sent += chunk) {
    writer.write(data);
    const std::size_t buffered = writer.write_buffer_size();
    max_buffered = std::max(max_buffered, buffered);
    co_await writer.drain();
    const std::size_t after = writer.write_buffer_size();
    REQUIRE(after <= options.high_water);
    if (buffered > options.high_water) {
      // Only the background flush (another task) empties the buffer: from above the mark
      // down to the low-water mark means drain() suspended until the flush got there.
      REQUIRE(after <= options.low_water);
      ++suspended_drains;
    }
  }
  writer.write_eof();
  const std::uint64_t read_total = co_await coio::wait_for(reading, 60s);
  INFO("max buffered " << max_buffered << ", drains that suspended " << suspended_drains);
  REQUIRE(read_total == total);
  REQUIRE(max_buffered > options.high_water);           // back-pressure was needed...
  REQUIRE(max_buffered <= options.high_water + chunk);  // ...and held the buffer to one write above the mark
  REQUIRE(suspended_drains > 0);
}

COIO_TEST_CASE("cancelling drain() loses nothing: the buffered data keeps flowing", "[streams][drain][cancel]") {
  auto pairs = co_await stream_pairs();
  stream_writer out = pairs.client.second;
  stream_reader in = pairs.server.first;
  const net_test::byte_pattern pattern(1 << 20, 3);
  net_test::fnv1a sent_sum;
  for (int i = 0; i < 16; ++i) {  // 16 MiB: far more than the kernel takes while nobody reads
    sent_sum.update(pattern.chunk(i));
    out.write(pattern.chunk(i));
  }
  REQUIRE(out.write_buffer_size() > 64 * 1024);
  auto draining = coio::create_task(out.drain());
  co_await samples::yield_turns(2);
  REQUIRE_FALSE(draining.done());
  draining.cancel();
  const bool cancelled = co_await ends_cancelled(draining);
  REQUIRE(cancelled);

  out.write_eof();
  const received got = co_await read_all_checksummed(in);
  REQUIRE(got.bytes == 16u << 20);
  REQUIRE(got.checksum == sent_sum.value);
  co_await out.drain();  // nothing failed
  REQUIRE(out.write_buffer_size() == 0);
}

// --- reader edge cases -------------------------------------------------------------------

COIO_TEST_CASE("readuntil past the limit throws limit_overrun_error and keeps the data", "[streams][limit]") {
  const std::size_t limit = 1024;
  auto pairs = co_await stream_pairs(limit);
  stream_writer out = pairs.client.second;
  stream_reader in = pairs.server.first;

  const std::string long_line = std::string(3000, 'L') + "\n";
  out.write(long_line);
  std::size_t consumed = 0;
  bool overrun = false;
  try {
    co_await in.readuntil("\n");
  } catch (const coio::limit_overrun_error& e) {
    overrun = true;
    consumed = e.consumed();
  }
  REQUIRE(overrun);
  CHECK(consumed > limit);
  REQUIRE(in.buffered() > limit);  // kept: the reads below get every byte

  const std::string head = co_await in.readexactly(2990);  // smaller reads still work
  REQUIRE(head == std::string(2990, 'L'));
  const std::string tail = co_await in.readuntil("\n");
  REQUIRE(tail == std::string(10, 'L') + "\n");

  // No separator yet and more than the limit buffered: the same error, data kept.
  out.write(std::string(2000, 'N'));
  auto searching = in.readuntil("\n");
  const bool overrun_again = co_await throws<coio::limit_overrun_error>(std::move(searching));
  REQUIRE(overrun_again);
  REQUIRE(in.buffered() > limit);
  const std::string kept = co_await in.readexactly(2000);
  REQUIRE(kept == std::string(2000, 'N'));

  auto empty_separator = in.readuntil("");
  const bool refused = co_await throws<coio::value_error>(std::move(empty_separator));
  REQUIRE(refused);
}

COIO_TEST_CASE("readuntil accepts a chunk whose separator starts exactly at the limit, as asyncio",
               "[streams][limit]") {
  const std::size_t limit = 1024;
  auto pairs = co_await stream_pairs(limit);
  stream_writer out = pairs.client.second;
  stream_reader in = pairs.server.first;

  out.write(std::string(limit, 'A') + "\n" + std::string(limit + 1, 'B') + "\n");
  const std::string at_limit = co_await in.readuntil("\n");
  REQUIRE(at_limit.size() == limit + 1);
  auto one_more = in.readuntil("\n");
  const bool overrun = co_await throws<coio::limit_overrun_error>(std::move(one_more));
  REQUIRE(overrun);
}

COIO_TEST_CASE("readuntil finds a separator split across arrivals", "[streams]") {
  auto pairs = co_await stream_pairs();
  stream_writer out = pairs.client.second;
  stream_reader in = pairs.server.first;
  auto reading = coio::create_task(in.readuntil("\r\n"));
  out.write("abc\r");
  co_await until_buffered(in, 4);
  REQUIRE_FALSE(reading.done());
  out.write("\ndef\r\n");
  const std::string first = co_await reading;
  REQUIRE(first == "abc\r\n");
  const std::string second = co_await in.readuntil("\r\n");
  REQUIRE(second == "def\r\n");
}

COIO_TEST_CASE("readexactly short of data throws incomplete_read_error with the partial bytes", "[streams]") {
  auto pairs = co_await stream_pairs();
  stream_writer out = pairs.client.second;
  stream_reader in = pairs.server.first;
  out.write("12345");
  out.write_eof();
  const std::string first = co_await in.readexactly(2);
  REQUIRE(first == "12");
  std::string partial;
  std::size_t expected = 0;
  try {
    co_await in.readexactly(10);
  } catch (const coio::incomplete_read_error& e) {
    partial = e.partial();
    expected = e.expected();
  }
  REQUIRE(partial == "345");
  REQUIRE(expected == 10);
  REQUIRE(in.at_eof());  // the partial bytes were consumed

  const std::string none = co_await in.readexactly(0);
  REQUIRE(none.empty());
}

COIO_TEST_CASE("readline: lines, a last line without newline, then empty strings at end of stream",
               "[streams][readline]") {
  auto pairs = co_await stream_pairs();
  stream_writer out = pairs.client.second;
  stream_reader in = pairs.server.first;
  out.write("one\ntwo\n\nlast without newline");
  out.write_eof();
  const std::string one = co_await in.readline();
  const std::string two = co_await in.readline();
  const std::string blank = co_await in.readline();
  const std::string last = co_await in.readline();
  const std::string end = co_await in.readline();
  const std::string end_again = co_await in.readline();
  REQUIRE(one == "one\n");
  REQUIRE(two == "two\n");
  REQUIRE(blank == "\n");
  REQUIRE(last == "last without newline");
  REQUIRE(end.empty());
  REQUIRE(end_again.empty());
  REQUIRE(in.at_eof());
}

COIO_TEST_CASE("readline and read on an empty stream return empty strings", "[streams][readline]") {
  auto pairs = co_await stream_pairs();
  stream_writer out = pairs.client.second;
  stream_reader in = pairs.server.first;
  REQUIRE_FALSE(in.at_eof());
  out.write_eof();
  const std::string line = co_await in.readline();
  REQUIRE(line.empty());
  REQUIRE(in.at_eof());
  const std::string all = co_await read_to_end(in);
  REQUIRE(all.empty());
  const std::string some = co_await in.read(10);
  REQUIRE(some.empty());
  auto until = in.readuntil("\n");
  const bool incomplete = co_await throws<coio::incomplete_read_error>(std::move(until));
  REQUIRE(incomplete);
}

COIO_TEST_CASE("readline past the limit drops that line, throws, and the next line reads", "[streams][readline]") {
  auto pairs = co_await stream_pairs(100);
  stream_writer out = pairs.client.second;
  stream_reader in = pairs.server.first;
  out.write(std::string(500, 'x') + "\nnext\n");  // one segment on loopback: read in one go
  auto too_long = in.readline();
  const bool overrun = co_await throws<coio::limit_overrun_error>(std::move(too_long));
  REQUIRE(overrun);
  const std::string next = co_await in.readline();
  REQUIRE(next == "next\n");
}

COIO_TEST_CASE("read(n) returns what is buffered up to n and read(0) is empty", "[streams]") {
  auto pairs = co_await stream_pairs();
  stream_writer out = pairs.client.second;
  stream_reader in = pairs.server.first;
  out.write("abcdef");  // one segment on loopback: the first read buffers all of it
  const std::string zero = co_await in.read(0);
  REQUIRE(zero.empty());
  const std::string two = co_await in.read(2);
  REQUIRE(two == "ab");
  REQUIRE(in.buffered() == 4);
  const std::string rest = co_await in.read(100);
  REQUIRE(rest == "cdef");
}

// --- errors --------------------------------------------------------------------------------

COIO_TEST_CASE("open_connection to a port nobody listens on throws connection_refused_error", "[streams]") {
  net_test::refusing_port nobody;
  std::string message;
  bool refused = false;
  try {
    auto streams = co_await coio::open_connection("127.0.0.1", nobody.port());
  } catch (const coio::connection_refused_error& e) {
    refused = true;
    message = e.what();
  }
  REQUIRE(refused);
  INFO(message);
  REQUIRE(message.find("127.0.0.1:" + std::to_string(nobody.port())) != std::string::npos);
}

COIO_TEST_CASE("a peer reset: reads throw connection_reset_error, writes fail, no SIGPIPE", "[streams][reset]") {
  net_test::sigpipe_kills sigpipe;
  auto sockets = co_await net_test::tcp_pair();
  tcp_socket client = std::move(sockets.first);
  auto server = coio::make_streams(std::move(sockets.second));
  stream_reader in = server.first;
  stream_writer out = server.second;
  client.set_linger(true, 0);
  client.close();

  auto reading = in.read();
  const bool reset = co_await throws<coio::connection_reset_error>(std::move(reading));
  REQUIRE(reset);

  const int code = co_await write_until_error(out);
  INFO("errno " << code);
  REQUIRE((code == EPIPE || code == ECONNRESET));
  bool failed_again = false;
  try {
    out.write("again");
  } catch (const coio::os_error&) {
    failed_again = true;
  }
  REQUIRE(failed_again);
  bool drain_failed = false;
  try {
    co_await out.drain();
  } catch (const coio::os_error&) {
    drain_failed = true;
  }
  REQUIRE(drain_failed);
}

COIO_TEST_CASE("close() wakes a read pending on the same connection with connection_aborted_error", "[streams]") {
  auto pairs = co_await stream_pairs();
  stream_reader in = pairs.client.first;
  stream_writer out = pairs.client.second;
  auto reading = coio::create_task(throws<coio::connection_aborted_error>(in.read()));
  co_await samples::yield_turns(2);
  REQUIRE_FALSE(reading.done());
  out.close();
  const bool aborted = co_await reading;
  REQUIRE(aborted);
}

COIO_TEST_CASE("two tasks reading one stream at once: the second gets runtime_error", "[streams]") {
  auto pairs = co_await stream_pairs();
  stream_writer out = pairs.client.second;
  stream_reader in = pairs.server.first;
  auto first = coio::create_task(in.read(100));
  co_await samples::yield_turns(2);
  auto second = in.read(100);
  const bool refused = co_await throws<coio::runtime_error>(std::move(second));
  REQUIRE(refused);
  out.write("for the first");
  const std::string got = co_await first;
  REQUIRE(got == "for the first");
}

// --- cancellation -------------------------------------------------------------------------

COIO_TEST_CASE("cancelling a pending read loses nothing: the next read gets the data", "[streams][cancel]") {
  auto pairs = co_await stream_pairs();
  stream_writer out = pairs.client.second;
  stream_reader in = pairs.server.first;

  auto reading = coio::create_task(in.read(100));
  co_await samples::yield_turns(2);
  REQUIRE_FALSE(reading.done());
  reading.cancel();
  const bool cancelled = co_await ends_cancelled(reading);
  REQUIRE(cancelled);
  out.write("hello");
  const std::string hello = co_await in.read(100);
  REQUIRE(hello == "hello");
}

COIO_TEST_CASE("cancelling readexactly or readuntil halfway keeps the partial data buffered", "[streams][cancel]") {
  auto pairs = co_await stream_pairs();
  stream_writer out = pairs.client.second;
  stream_reader in = pairs.server.first;

  auto exact = coio::create_task(in.readexactly(10));
  out.write("0123");
  co_await until_buffered(in, 4);
  REQUIRE_FALSE(exact.done());
  exact.cancel();
  const bool c1 = co_await ends_cancelled(exact);
  REQUIRE(c1);
  REQUIRE(in.buffered() == 4);
  out.write("456789");
  const std::string ten = co_await in.readexactly(10);
  REQUIRE(ten == "0123456789");

  auto line = coio::create_task(in.readuntil("\n"));
  out.write("abc");
  co_await until_buffered(in, 3);
  line.cancel();
  const bool c2 = co_await ends_cancelled(line);
  REQUIRE(c2);
  out.write("def\n");
  const std::string whole = co_await in.readuntil("\n");
  REQUIRE(whole == "abcdef\n");
}

// --- signals ------------------------------------------------------------------------------

namespace {

std::atomic<int> alarms{0};
void count_alarm(int) { alarms.fetch_add(1, std::memory_order_relaxed); }

/// SIGALRM at 1 kHz (ITIMER_REAL) with a handler installed without SA_RESTART, so that
/// blocking calls see EINTR; restores the timer and the old handler when it goes away.
class alarm_storm {
 public:
  alarm_storm() {
    struct sigaction action {};
    action.sa_handler = count_alarm;
    sigemptyset(&action.sa_mask);
    action.sa_flags = 0;  // no SA_RESTART
    ::sigaction(SIGALRM, &action, &saved_action_);
    itimerval every_ms{};
    every_ms.it_interval.tv_usec = 1000;
    every_ms.it_value.tv_usec = 1000;
    ::setitimer(ITIMER_REAL, &every_ms, &saved_timer_);
  }
  alarm_storm(const alarm_storm&) = delete;
  alarm_storm& operator=(const alarm_storm&) = delete;
  ~alarm_storm() {
    itimerval off{};
    ::setitimer(ITIMER_REAL, &off, nullptr);
    // Ignoring discards a SIGALRM still pending for another thread, which the restored
    // (default: fatal) disposition would otherwise receive.
    struct sigaction ignore {};
    ignore.sa_handler = SIG_IGN;
    sigemptyset(&ignore.sa_mask);
    ::sigaction(SIGALRM, &ignore, nullptr);
    ::sigaction(SIGALRM, &saved_action_, nullptr);
    ::setitimer(ITIMER_REAL, &saved_timer_, nullptr);
  }

 private:
  struct sigaction saved_action_ {};
  itimerval saved_timer_{};
};

/// Writes at least `min_bytes` (and keeps going until `min_alarms` signals arrived, up to
/// 1 GiB), then sends end of stream. Returns {bytes, checksum}.
coio::task<received> send_during_storm(stream_writer writer, std::uint64_t min_bytes, int min_alarms) {
  const net_test::byte_pattern pattern(64 * 1024, 7);
  net_test::fnv1a sum;
  received r;
  for (std::uint64_t i = 0; r.bytes < min_bytes || (alarms.load() < min_alarms && r.bytes < (1u << 30)); ++i) {
    const std::string_view chunk = pattern.chunk(i);
    sum.update(chunk);
    writer.write(chunk);
    r.bytes += chunk.size();
    co_await writer.drain();
  }
  writer.write_eof();
  r.checksum = sum.value;
  co_return r;
}

}  // namespace

COIO_TEST_CASE("a 1 kHz SIGALRM storm during a 16 MiB transfer causes no spurious errors", "[streams][signals]") {
  auto pairs = co_await stream_pairs();
  alarms = 0;
  received sent;
  received got;
  {
    alarm_storm storm;
    auto reading = coio::create_task(read_all_checksummed(pairs.server.first));
    sent = co_await send_during_storm(pairs.client.second, 16u << 20, 20);
    got = co_await coio::wait_for(reading, 60s);
    for (int i = 0; i < 50; ++i) {  // connect and accept too, and sleep
      auto more = co_await net_test::tcp_pair();
      co_await coio::sleep(100us);
    }
  }
  INFO("signals during the transfer: " << alarms.load());
  REQUIRE(alarms.load() >= 1);
  REQUIRE(sent.bytes >= (16u << 20));
  REQUIRE(got.bytes == sent.bytes);
  REQUIRE(got.checksum == sent.checksum);
}

// --- Python interop -----------------------------------------------------------------------

namespace {

constexpr std::string_view python_server_script = R"PY(
import asyncio, sys

async def main():
    done = asyncio.Event()

    async def handle(reader, writer):
        n = 0
        while True:
            line = await reader.readline()
            if not line:
                break
            n += 1
            writer.write(b"py:" + line.upper())
            await writer.drain()
        writer.write(f"bye {n}\n".encode())
        await writer.drain()
        writer.close()
        await writer.wait_closed()
        done.set()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    print(server.sockets[0].getsockname()[1], flush=True)
    async with server:
        await asyncio.wait_for(done.wait(), 60)

asyncio.run(main())
)PY";

}  // namespace

COIO_TEST_CASE("a coio client talks to a Python asyncio server", "[streams][python]") {
  const std::string python = net_test::find_python3();
  if (python.empty()) {
    WARN("no python3: skipped");
    co_return;
  }
  net_test::temp_dir dir;
  const std::string script = dir.file("server.py");
  net_test::write_file(script, python_server_script);
  net_test::subprocess child = net_test::subprocess::spawn({python, script});
  const std::string port_line = co_await child.read_line(60s);
  const int port = std::stoi(port_line);
  REQUIRE(port > 0);

  auto streams = co_await coio::open_connection("127.0.0.1", static_cast<std::uint16_t>(port));
  stream_reader reader = streams.first;
  stream_writer writer = streams.second;
  for (int i = 0; i < 50; ++i) {
    writer.write("line " + std::to_string(i) + " from coio\n");
    co_await writer.drain();
    const std::string reply = co_await reader.readline();
    REQUIRE(reply == "py:LINE " + std::to_string(i) + " FROM COIO\n");
  }
  writer.write_eof();
  const std::string bye = co_await reader.readline();
  REQUIRE(bye == "bye 50\n");
  const std::string end = co_await read_to_end(reader);
  REQUIRE(end.empty());
  writer.close();
  const int status = co_await child.wait(60s);
  REQUIRE(status == 0);
}
