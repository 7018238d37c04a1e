// benchmarks/peers/asio_bench.cpp: the Boost.Asio (C++20 coroutines) peer of coio_bench.
// The workloads are those of BENCHMARKS.md, written the way Asio's own documentation and
// examples write them: awaitable, co_spawn, use_awaitable, experimental::make_parallel_group,
// experimental::channel, steady_timer and ip::tcp. A fresh io_context(1) per workload, run on
// the main thread. Prints one line per workload,
//   `name: <value> <unit> [key=value ...] rss_mb=<VmHWM delta> n=<count>`,
// and exits non-zero (message on stderr) when a workload computes a wrong result.
//
//   asio_bench [--only a,b] [--smoke] [--scale f] [--list]
//   (--smoke: tiny counts, proves it runs, figures meaningless; --scale: multiplies the full
//   counts, e.g. 0.1 for the suite's --quick; --list: the workload names)
#include <boost/asio.hpp>
#include <boost/asio/experimental/channel.hpp>
#include <boost/asio/experimental/parallel_group.hpp>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdarg>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <fstream>
#include <optional>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace asio = boost::asio;

namespace {

using asio::awaitable;
using asio::use_awaitable;
using asio::ip::tcp;
using boost::system::error_code;
using clock_type = std::chrono::steady_clock;

// --- plumbing -------------------------------------------------------------------------------

long peak_rss_kb() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmHWM:", 0) == 0) return std::strtol(line.c_str() + 6, nullptr, 10);
  }
  return 0;
}

[[gnu::format(printf, 1, 2)]] std::string strprintf(const char* format, ...) {
  char buffer[256];
  va_list args;
  va_start(args, format);
  std::vsnprintf(buffer, sizeof buffer, format, args);
  va_end(args);
  return buffer;
}

double ns_per_op(clock_type::time_point start, long long ops) {
  return std::chrono::duration<double, std::nano>(clock_type::now() - start).count() / static_cast<double>(ops);
}

// What a workload prints between its name and `rss_mb=`: "<value> <unit> [key=value ...]".
struct outcome {
  std::string figures;
  long long n = 0;
};

// A workload's own result check: throws, and main reports it and exits 1.
void check(bool ok, const char* what, long long got, long long expected) {
  if (!ok) throw std::runtime_error(strprintf("wrong %s: %lld (expected %lld)", what, got, expected));
}

// Completion handler for co_spawn'd coroutines nobody awaits: a failure propagates out of
// io_context::run().
void rethrow_failure(std::exception_ptr e) {
  if (e) std::rethrow_exception(e);
}

void rethrow_first(const std::vector<std::exception_ptr>& failures) {
  for (const auto& e : failures) rethrow_failure(e);
}

long long sum_of_first(long long n) { return n * (n - 1) / 2; }

awaitable<int> trivial(int i) { co_return i; }

// --- in-process workloads -------------------------------------------------------------------

// await_direct: n times `co_await trivial(i)`, no task.
awaitable<outcome> await_direct(long long n, bool) {
  const auto start = clock_type::now();
  long long sum = 0;
  for (long long i = 0; i < n; ++i) sum += co_await trivial(static_cast<int>(i));
  const double ns = ns_per_op(start, n);
  check(sum == sum_of_first(n), "sum", sum, sum_of_first(n));
  co_return outcome{strprintf("%.2f ns/op", ns), n};
}

// spawn_await: n times co_spawn a task from trivial(i) and await it.
awaitable<outcome> spawn_await(long long n, bool) {
  const auto ex = co_await asio::this_coro::executor;
  const auto start = clock_type::now();
  long long sum = 0;
  for (long long i = 0; i < n; ++i) sum += co_await asio::co_spawn(ex, trivial(static_cast<int>(i)), use_awaitable);
  const double ns = ns_per_op(start, n);
  check(sum == sum_of_first(n), "sum", sum, sum_of_first(n));
  co_return outcome{strprintf("%.2f ns/op", ns), n};
}

awaitable<void> yielder(long long n, long long& count) {
  const auto ex = co_await asio::this_coro::executor;
  for (long long i = 0; i < n; ++i) {
    co_await asio::post(ex, use_awaitable);  // Asio's sleep(0)
    ++count;
  }
}

// yield_switch: 2 tasks, each n times post; ns per switch = elapsed / (2n).
awaitable<outcome> yield_switch(long long n, bool) {
  const auto ex = co_await asio::this_coro::executor;
  long long count = 0;
  const auto start = clock_type::now();
  auto [order, e0, e1] =
      co_await asio::experimental::make_parallel_group(asio::co_spawn(ex, yielder(n, count), asio::deferred),
                                                       asio::co_spawn(ex, yielder(n, count), asio::deferred))
          .async_wait(asio::experimental::wait_for_all(), use_awaitable);
  const double ns = ns_per_op(start, 2 * n);
  rethrow_failure(e0);
  rethrow_failure(e1);
  check(count == 2 * n, "switch count", count, 2 * n);
  co_return outcome{strprintf("%.2f ns/op", ns), 2 * n};
}

using trivial_op = decltype(asio::co_spawn(std::declval<asio::any_io_executor>(), trivial(0), asio::deferred));

// gather_100k: n trivial tasks, each co_spawn'd, gathered with the ranged parallel group.
awaitable<outcome> gather_100k(long long n, bool) {
  const auto ex = co_await asio::this_coro::executor;
  const auto start = clock_type::now();
  std::vector<trivial_op> ops;
  ops.reserve(static_cast<std::size_t>(n));
  for (long long i = 0; i < n; ++i) ops.push_back(asio::co_spawn(ex, trivial(static_cast<int>(i)), asio::deferred));
  auto [order, failures, values] = co_await asio::experimental::make_parallel_group(std::move(ops))
                                       .async_wait(asio::experimental::wait_for_all(), use_awaitable);
  const double ns = ns_per_op(start, n);
  rethrow_first(failures);
  long long sum = 0;
  for (int v : values) sum += v;
  check(sum == sum_of_first(n), "sum", sum, sum_of_first(n));
  co_return outcome{strprintf("%.2f ns/op", ns), n};
}

// Sleeps `delay`; returns 1 if it woke no earlier than that, else 0.
awaitable<int> sleeper(std::chrono::microseconds delay) {
  const auto started = clock_type::now();
  asio::steady_timer timer(co_await asio::this_coro::executor, delay);
  co_await timer.async_wait(use_awaitable);
  co_return clock_type::now() - started >= delay ? 1 : 0;
}

using sleeper_op = decltype(asio::co_spawn(std::declval<asio::any_io_executor>(), sleeper(std::chrono::microseconds(0)),
                                           asio::deferred));

// timers_100k: gather n tasks, task i sleeps delay_us[i] (the shared LCG, 0..100 ms).
awaitable<outcome> timers_100k(long long n, bool) {
  const auto ex = co_await asio::this_coro::executor;
  const auto start = clock_type::now();
  std::vector<sleeper_op> ops;
  ops.reserve(static_cast<std::size_t>(n));
  std::uint64_t x = 12345;
  for (long long i = 0; i < n; ++i) {
    x = (x * 1103515245u + 12345u) % (std::uint64_t{1} << 31);
    ops.push_back(asio::co_spawn(ex, sleeper(std::chrono::microseconds(x % 100001)), asio::deferred));
  }
  auto [order, failures, on_time] = co_await asio::experimental::make_parallel_group(std::move(ops))
                                        .async_wait(asio::experimental::wait_for_all(), use_awaitable);
  const double ms = std::chrono::duration<double, std::milli>(clock_type::now() - start).count();
  rethrow_first(failures);
  check(static_cast<long long>(order.size()) == n, "tasks completed", static_cast<long long>(order.size()), n);
  long long punctual = 0;
  for (int v : on_time) punctual += v;
  check(punctual == n, "tasks woken no earlier than their delay", punctual, n);
  co_return outcome{strprintf("%.2f ms_over_100 timers_per_s=%.0f", ms - 100.0, static_cast<double>(n) / (ms / 1000.0)),
                    n};
}

using int_channel = asio::experimental::channel<void(error_code, int)>;

awaitable<void> producer(int_channel& queue, long long n) {
  for (long long i = 0; i < n; ++i) co_await queue.async_send(error_code{}, static_cast<int>(i), use_awaitable);
}

awaitable<void> consumer(int_channel& queue, long long n, long long& sum) {
  for (long long i = 0; i < n; ++i) sum += co_await queue.async_receive(use_awaitable);
}

// queue_pingpong_<capacity>: a producer sends 0..n-1 through a channel buffering `capacity`
// values, a consumer receives and sums them.
awaitable<outcome> queue_pingpong(long long n, std::size_t capacity) {
  const auto ex = co_await asio::this_coro::executor;
  int_channel queue(ex, capacity);
  long long sum = 0;
  const auto start = clock_type::now();
  auto [order, e0, e1] =
      co_await asio::experimental::make_parallel_group(asio::co_spawn(ex, producer(queue, n), asio::deferred),
                                                       asio::co_spawn(ex, consumer(queue, n, sum), asio::deferred))
          .async_wait(asio::experimental::wait_for_all(), use_awaitable);
  const double ns = ns_per_op(start, n);
  rethrow_failure(e0);
  rethrow_failure(e1);
  check(sum == sum_of_first(n), "sum", sum, sum_of_first(n));
  co_return outcome{strprintf("%.2f ns/op", ns), n};
}

awaitable<outcome> queue_pingpong_1(long long n, bool) { return queue_pingpong(n, 1); }
awaitable<outcome> queue_pingpong_1024(long long n, bool) { return queue_pingpong(n, 1024); }

// Asio has no semaphore: a channel with 100 buffer slots is one. Sending takes a slot (and
// waits while all are taken), receiving gives one back.
using slot_channel = asio::experimental::channel<void(error_code)>;

awaitable<void> limited(slot_channel& slots, int& active, int& peak) {
  co_await slots.async_send(error_code{}, use_awaitable);  // acquire
  peak = std::max(peak, ++active);
  co_await asio::post(co_await asio::this_coro::executor, use_awaitable);  // sleep(0)
  --active;
  slots.try_receive([](error_code) {});  // release
}

using limited_op = decltype(asio::co_spawn(
    std::declval<asio::any_io_executor>(),
    limited(std::declval<slot_channel&>(), std::declval<int&>(), std::declval<int&>()), asio::deferred));

// semaphore_100k: gather n tasks; each acquires the 100-slot semaphore, posts, releases.
awaitable<outcome> semaphore_100k(long long n, bool) {
  const auto ex = co_await asio::this_coro::executor;
  slot_channel slots(ex, 100);
  int active = 0;
  int peak = 0;
  const auto start = clock_type::now();
  std::vector<limited_op> ops;
  ops.reserve(static_cast<std::size_t>(n));
  for (long long i = 0; i < n; ++i) ops.push_back(asio::co_spawn(ex, limited(slots, active, peak), asio::deferred));
  auto [order, failures] = co_await asio::experimental::make_parallel_group(std::move(ops))
                               .async_wait(asio::experimental::wait_for_all(), use_awaitable);
  const double ns = ns_per_op(start, n);
  rethrow_first(failures);
  check(static_cast<long long>(order.size()) == n, "tasks completed", static_cast<long long>(order.size()), n);
  check(peak == 100, "max concurrency", peak, 100);
  co_return outcome{strprintf("%.2f ns/op max_concurrency=%d", ns, peak), n};
}

// --- TCP: server and clients in one io_context on 127.0.0.1, TCP_NODELAY on both ends --------

// Echoes whatever each read returns until the peer closes.
awaitable<void> echo_session(tcp::socket socket) {
  std::array<char, 16 * 1024> data;
  try {
    for (;;) {
      const std::size_t n = co_await socket.async_read_some(asio::buffer(data), use_awaitable);
      co_await asio::async_write(socket, asio::buffer(data, n), use_awaitable);
    }
  } catch (const boost::system::system_error& e) {
    if (e.code() != asio::error::eof) throw;
  }
}

// Accepts connections, each served by its own echo task, until cancelled.
awaitable<void> echo_listener(tcp::acceptor& acceptor) {
  try {
    for (;;) {
      tcp::socket socket = co_await acceptor.async_accept(use_awaitable);
      socket.set_option(tcp::no_delay(true));
      asio::co_spawn(socket.get_executor(), echo_session(std::move(socket)), rethrow_failure);
    }
  } catch (const boost::system::system_error& e) {
    if (e.code() != asio::error::operation_aborted) throw;
  }
}

// Sends a 64-byte message and waits for its whole echo, `rounds` times, checking every echo
// equals its message; returns the bytes echoed. Records each round trip's µs if asked.
awaitable<long long> echo_client(tcp::endpoint server, long long rounds, std::vector<double>* latencies_us) {
  tcp::socket socket(co_await asio::this_coro::executor);
  co_await socket.async_connect(server, use_awaitable);
  socket.set_option(tcp::no_delay(true));
  std::array<unsigned char, 64> message;
  std::array<unsigned char, 64> echo;
  long long echoed = 0;
  for (long long r = 0; r < rounds; ++r) {
    for (std::size_t i = 0; i < message.size(); ++i)
      message[i] = static_cast<unsigned char>((r + static_cast<long long>(i)) & 0xff);
    const auto sent = clock_type::now();
    co_await asio::async_write(socket, asio::buffer(message), use_awaitable);
    const std::size_t got = co_await asio::async_read(socket, asio::buffer(echo), use_awaitable);
    if (latencies_us)
      latencies_us->push_back(std::chrono::duration<double, std::micro>(clock_type::now() - sent).count());
    check(got == echo.size(), "bytes echoed in a round trip", static_cast<long long>(got), 64);
    if (echo != message) throw std::runtime_error(strprintf("round trip %lld: the echo differs from the message", r));
    echoed += static_cast<long long>(got);
  }
  co_return echoed;
}

using client_op = decltype(asio::co_spawn(std::declval<asio::any_io_executor>(),
                                          echo_client(tcp::endpoint(), 0, nullptr), asio::deferred));

struct echo_counts {
  int connections;
  long long rounds;
  long long warm_up;
};

// The measured part of tcp_echo_100conn, run while the listener serves.
awaitable<void> echo_load(tcp::endpoint server, echo_counts counts, outcome& result) {
  const auto ex = co_await asio::this_coro::executor;
  const long long warm = co_await echo_client(server, counts.warm_up, nullptr);
  check(warm == 64 * counts.warm_up, "warm-up bytes echoed", warm, 64 * counts.warm_up);
  const auto start = clock_type::now();
  std::vector<client_op> ops;
  for (int c = 0; c < counts.connections; ++c)
    ops.push_back(asio::co_spawn(ex, echo_client(server, counts.rounds, nullptr), asio::deferred));
  auto [order, failures, echoed] = co_await asio::experimental::make_parallel_group(std::move(ops))
                                       .async_wait(asio::experimental::wait_for_all(), use_awaitable);
  const double seconds = std::chrono::duration<double>(clock_type::now() - start).count();
  rethrow_first(failures);
  long long total = 0;
  for (long long e : echoed) total += e;
  const long long trips = counts.rounds * counts.connections;
  check(total == 64 * trips, "bytes echoed", total, 64 * trips);
  result = outcome{strprintf("%.2f rt_per_s", static_cast<double>(trips) / seconds), trips};
}

// The measured part of tcp_latency_1conn.
awaitable<void> latency_load(tcp::endpoint server, long long warm_up, long long n, outcome& result) {
  std::vector<double> latencies;
  latencies.reserve(static_cast<std::size_t>(warm_up + n));
  const long long echoed = co_await echo_client(server, warm_up + n, &latencies);
  check(echoed == 64 * (warm_up + n), "bytes echoed", echoed, 64 * (warm_up + n));
  latencies.erase(latencies.begin(), latencies.begin() + static_cast<std::ptrdiff_t>(warm_up));
  double sum = 0;
  for (double l : latencies) sum += l;
  std::sort(latencies.begin(), latencies.end());
  const auto at = [&](double q) {
    return latencies[static_cast<std::size_t>(q * static_cast<double>(latencies.size() - 1))];
  };
  result = outcome{strprintf("%.2f us p50=%.2f p99=%.2f", sum / static_cast<double>(n), at(0.5), at(0.99)), n};
}

// Runs `load` while the echo listener serves `acceptor`; once `load` ends the parallel group
// cancels the listener (its pending accept), and completes when both have finished.
awaitable<void> serve_while(tcp::acceptor& acceptor, awaitable<void> load) {
  const auto ex = co_await asio::this_coro::executor;
  auto [order, listener_failure, load_failure] =
      co_await asio::experimental::make_parallel_group(asio::co_spawn(ex, echo_listener(acceptor), asio::deferred),
                                                       asio::co_spawn(ex, std::move(load), asio::deferred))
          .async_wait(asio::experimental::wait_for_one(), use_awaitable);
  rethrow_failure(load_failure);
  rethrow_failure(listener_failure);
}

tcp::acceptor loopback_acceptor(const asio::any_io_executor& ex) {
  return tcp::acceptor(ex, tcp::endpoint(asio::ip::make_address_v4("127.0.0.1"), 0));  // port 0: ephemeral
}

// tcp_echo_100conn: a warm-up connection of 1,000 round trips, then 100 connections each
// 10,000 round trips of 64 bytes (smoke: 100, then 10 x 100). n = measured round trips.
awaitable<outcome> tcp_echo_100conn(long long n, bool smoke) {
  tcp::acceptor acceptor = loopback_acceptor(co_await asio::this_coro::executor);
  const int connections = smoke ? 10 : 100;
  const echo_counts counts{connections, n / connections, smoke ? 100 : 1000};
  outcome result;
  co_await serve_while(acceptor, echo_load(acceptor.local_endpoint(), counts, result));
  co_return result;
}

// tcp_latency_1conn: one connection, 1,000 unmeasured then n measured round trips (smoke: 100
// unmeasured).
awaitable<outcome> tcp_latency_1conn(long long n, bool smoke) {
  tcp::acceptor acceptor = loopback_acceptor(co_await asio::this_coro::executor);
  outcome result;
  co_await serve_while(acceptor, latency_load(acceptor.local_endpoint(), smoke ? 100 : 1000, n, result));
  co_return result;
}

struct workload {
  const char* name;
  awaitable<outcome> (*body)(long long n, bool smoke);
  long long full;
  long long smoke;
};

const workload workloads[] = {
    {"await_direct", await_direct, 1'000'000, 1'000},
    {"spawn_await", spawn_await, 1'000'000, 1'000},
    {"yield_switch", yield_switch, 1'000'000, 1'000},  // per task; n printed = 2x
    {"gather_100k", gather_100k, 100'000, 1'000},
    {"timers_100k", timers_100k, 100'000, 100},
    {"queue_pingpong_1", queue_pingpong_1, 1'000'000, 1'000},
    {"queue_pingpong_1024", queue_pingpong_1024, 1'000'000, 1'000},
    {"semaphore_100k", semaphore_100k, 100'000, 1'000},
    {"tcp_echo_100conn", tcp_echo_100conn, 1'000'000, 1'000},
    {"tcp_latency_1conn", tcp_latency_1conn, 20'000, 1'000},
};

}  // namespace

int main(int argc, char** argv) {
  bool smoke = false;
  double scale = 1.0;
  bool list = false;
  std::set<std::string> only;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--smoke") {
      smoke = true;
    } else if (arg == "--scale" && i + 1 < argc) {
      scale = std::strtod(argv[++i], nullptr);
    } else if (arg == "--list") {
      list = true;
    } else if (arg == "--only" && i + 1 < argc) {
      std::stringstream names(argv[++i]);
      for (std::string name; std::getline(names, name, ',');) only.insert(name);
    } else {
      std::fprintf(stderr, "usage: asio_bench [--only a,b] [--smoke] [--scale f] [--list]\n");
      return 2;
    }
  }
  if (list) {
    for (const auto& w : workloads) std::printf("%s\n", w.name);
    return 0;
  }
  for (const auto& w : workloads) {
    if (!only.empty() && !only.count(w.name)) continue;
    const long rss_before = peak_rss_kb();
    std::optional<outcome> result;
    {
      asio::io_context ctx(1);
      asio::co_spawn(
          ctx,
          w.body(smoke ? w.smoke : std::max(w.smoke, static_cast<long long>(static_cast<double>(w.full) * scale)),
                 smoke),
          [&](std::exception_ptr e, outcome o) {
            rethrow_failure(e);
            result = std::move(o);
          });
      try {
        ctx.run();
      } catch (const std::exception& e) {
        std::fflush(stdout);
        std::fprintf(stderr, "%s: %s\n", w.name, e.what());
        std::exit(1);  // leaves the io_context and its suspended coroutines alone
      }
    }
    if (!result) {
      std::fprintf(stderr, "%s: the workload never completed\n", w.name);
      return 1;
    }
    // VmHWM comes from the kernel's lazily synced RSS counters: clamp a tiny negative delta.
    const double rss_mb = static_cast<double>(std::max(0L, peak_rss_kb() - rss_before)) / 1024.0;
    std::printf("%s: %s rss_mb=%.1f n=%lld\n", w.name, result->figures.c_str(), rss_mb, result->n);
    std::fflush(stdout);
  }
  return 0;
}
