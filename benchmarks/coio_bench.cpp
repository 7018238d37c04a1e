// benchmarks/coio_bench.cpp: coio's in-process workloads (see shared BENCHMARKS.md for the
// definitions). Prints one line per workload, `name: <value> <unit> [key=value ...]`, and
// exits non-zero when a workload computes a wrong result.
//
//   coio_bench [--only a,b] [--smoke] [--scale f] [--list]
//   (--smoke: tiny counts, proves it runs, figures meaningless; --scale: multiplies the full
//   counts, e.g. 0.1 for the suite's --quick; --list: the workload names)
// Each line ends with rss_mb, the VmHWM delta over the workload (loop creation included).
#include <coio/coio.hpp>
#include <coio/files.hpp>
#include <coio/tcp_socket.hpp>
#include <coio/thread_pool.hpp>

#include <fmt/core.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <optional>
#include <set>
#include <span>
#include <sstream>
#include <string>
#include <vector>

namespace {

using clock_type = std::chrono::steady_clock;

long peak_rss_kb() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmHWM:", 0) == 0) return std::strtol(line.c_str() + 6, nullptr, 10);
  }
  return 0;
}

double ns_since(clock_type::time_point start, long long ops) {
  return std::chrono::duration<double, std::nano>(clock_type::now() - start).count() / static_cast<double>(ops);
}

// The current workload's result line; main() adds the peak-memory delta and prints it.
std::string result_line;
void report(std::string line) { result_line = std::move(line); }

[[noreturn]] void wrong(const char* workload, long long got, long long expected) {
  fmt::print(stderr, "{}: wrong result {} (expected {})\n", workload, got, expected);
  std::exit(1);
}

coio::task<int> trivial(int i) { co_return i; }

// await_direct: N times `co_await trivial(i)`, no task.
coio::task<> await_direct(long long n) {
  const auto start = clock_type::now();
  long long sum = 0;
  for (long long i = 0; i < n; ++i) {
    const int v = co_await trivial(static_cast<int>(i));
    sum += v;
  }
  const double ns = ns_since(start, n);
  if (sum != n * (n - 1) / 2) wrong("await_direct", sum, n * (n - 1) / 2);
  report(fmt::format("await_direct: {:.2f} ns/op n={}", ns, n));
}

// spawn_await: N times create a task from trivial(i) and await it.
coio::task<> spawn_await(long long n) {
  const auto start = clock_type::now();
  long long sum = 0;
  for (long long i = 0; i < n; ++i) {
    auto f = coio::create_task(trivial(static_cast<int>(i)));
    const int v = co_await std::move(f);
    sum += v;
  }
  const double ns = ns_since(start, n);
  if (sum != n * (n - 1) / 2) wrong("spawn_await", sum, n * (n - 1) / 2);
  report(fmt::format("spawn_await: {:.2f} ns/op n={}", ns, n));
}

coio::task<> yielder(long long n, long long& count) {
  for (long long i = 0; i < n; ++i) {
    co_await coio::sleep(std::chrono::seconds(0));
    ++count;
  }
}

// yield_switch: 2 tasks, each N times sleep(0); ns per switch = elapsed / (2N).
coio::task<> yield_switch(long long n) {
  long long count = 0;
  const auto start = clock_type::now();
  auto a = coio::create_task(yielder(n, count));
  auto b = coio::create_task(yielder(n, count));
  co_await a;
  co_await b;
  const double ns = ns_since(start, 2 * n);
  if (count != 2 * n) wrong("yield_switch", count, 2 * n);
  report(fmt::format("yield_switch: {:.2f} ns/op n={}", ns, 2 * n));
}

// gather_100k: gather N trivial tasks (each scheduled as a task), sum the results.
coio::task<> gather_100k(long long n) {
  const auto start = clock_type::now();
  std::vector<coio::task<int>> tasks;
  tasks.reserve(static_cast<std::size_t>(n));
  for (long long i = 0; i < n; ++i) tasks.push_back(trivial(static_cast<int>(i)));
  const std::vector<int> values = co_await coio::gather(std::move(tasks));
  const double ns = ns_since(start, n);
  long long sum = 0;
  for (int v : values) sum += v;
  if (sum != n * (n - 1) / 2) wrong("gather_100k", sum, n * (n - 1) / 2);
  report(fmt::format("gather_100k: {:.2f} ns/op n={}", ns, n));
}

coio::task<int> sleep_then_return(std::chrono::microseconds d, int v) {
  co_await coio::sleep(d);
  co_return v;
}

// timers_100k: gather N tasks, task i sleeps delay_us[i] (the spec's LCG, 0..100 ms).
coio::task<> timers_100k(long long n) {
  const auto start = clock_type::now();
  std::vector<coio::task<int>> tasks;
  tasks.reserve(static_cast<std::size_t>(n));
  std::uint64_t x = 12345;
  for (long long i = 0; i < n; ++i) {
    x = (x * 1103515245u + 12345u) % (1u << 31);
    tasks.push_back(sleep_then_return(std::chrono::microseconds(x % 100001), 1));
  }
  const std::vector<int> values = co_await coio::gather(std::move(tasks));
  const double ms = std::chrono::duration<double, std::milli>(clock_type::now() - start).count();
  if (static_cast<long long>(values.size()) != n) wrong("timers_100k", static_cast<long long>(values.size()), n);
  report(fmt::format("timers_100k: {:.2f} ms_over_100 timers_per_s={:.0f} n={}", ms - 100.0,
                     static_cast<double>(n) / (ms / 1000.0), n));
}

// wait_for_overhead: N times wait_for around an immediately ready task.
coio::task<> wait_for_overhead(long long n) {
  const auto start = clock_type::now();
  long long sum = 0;
  for (long long i = 0; i < n; ++i) {
    const int v = co_await coio::wait_for(trivial(static_cast<int>(i)), std::chrono::seconds(1));
    sum += v;
  }
  const double ns = ns_since(start, n);
  if (sum != n * (n - 1) / 2) wrong("wait_for_overhead", sum, n * (n - 1) / 2);
  report(fmt::format("wait_for_overhead: {:.2f} ns/op n={}", ns, n));
}

coio::task<> pingpong_producer(coio::queue<int>& q, long long n) {
  for (long long i = 0; i < n; ++i) co_await q.put(static_cast<int>(i));
}

// queue_pingpong_<maxsize>: a producer puts 0..N-1 into a bounded queue, a consumer sums them.
coio::task<> queue_pingpong(long long n, std::size_t maxsize, const char* name) {
  coio::queue<int> q(maxsize);
  const auto start = clock_type::now();
  auto producer = coio::create_task(pingpong_producer(q, n));
  long long sum = 0;
  for (long long i = 0; i < n; ++i) {
    const int v = co_await q.get();
    sum += v;
  }
  co_await producer;
  const double ns = ns_since(start, n);
  if (sum != n * (n - 1) / 2) wrong(name, sum, n * (n - 1) / 2);
  report(fmt::format("{}: {:.2f} ns/op n={}", name, ns, n));
}
coio::task<> queue_pingpong_1(long long n) { return queue_pingpong(n, 1, "queue_pingpong_1"); }
coio::task<> queue_pingpong_1024(long long n) { return queue_pingpong(n, 1024, "queue_pingpong_1024"); }

coio::task<> limited(coio::semaphore& s, int& active, int& peak) {
  auto permit = co_await s.scoped_acquire();
  peak = std::max(peak, ++active);
  co_await coio::sleep(std::chrono::seconds(0));
  --active;
}

// semaphore_100k: gather N tasks; each acquires semaphore(100), sleep(0), releases.
coio::task<> semaphore_100k(long long n) {
  coio::semaphore s(100);
  int active = 0, peak = 0;
  const auto start = clock_type::now();
  std::vector<coio::task<>> tasks;
  tasks.reserve(static_cast<std::size_t>(n));
  for (long long i = 0; i < n; ++i) tasks.push_back(limited(s, active, peak));
  co_await coio::gather(std::move(tasks));
  const double ns = ns_since(start, n);
  if (peak != std::min<long long>(100, n)) wrong("semaphore_100k", peak, 100);
  report(fmt::format("semaphore_100k: {:.2f} ns/op max_concurrency={} n={}", ns, peak, n));
}

coio::task<> contend(coio::lock& l, long long rounds, long long& counter) {
  for (long long i = 0; i < rounds; ++i) {
    co_await l.acquire();
    ++counter;
    l.release();
    if (i % 100 == 0) co_await coio::sleep(std::chrono::seconds(0));  // let the others in
  }
}

// lock_contention: 100 tasks x N/100 lock/unlock.
coio::task<> lock_contention(long long n) {
  coio::lock l;
  long long counter = 0;
  const long long per_task = n / 100;
  const auto start = clock_type::now();
  std::vector<coio::task<>> tasks;
  for (int t = 0; t < 100; ++t) tasks.push_back(contend(l, per_task, counter));
  co_await coio::gather(std::move(tasks));
  const double ns = ns_since(start, 100 * per_task);
  if (counter != 100 * per_task) wrong("lock_contention", counter, 100 * per_task);
  report(fmt::format("lock_contention: {:.2f} ns/op n={}", ns, 100 * per_task));
}

// --- TCP: server and client in one loop on 127.0.0.1, TCP_NODELAY (coio's default) ----------

// Echoes whatever each read returns until the peer closes.
coio::task<> echo_connection(coio::tcp_socket socket) {
  std::array<std::byte, 16 * 1024> buffer;
  for (;;) {
    const std::size_t n = co_await socket.read_some(buffer);
    if (n == 0) break;
    co_await socket.write_all(std::span(buffer).first(n));
  }
}

coio::task<> echo_server(coio::tcp_acceptor& acceptor, std::vector<coio::future<void>>& connections) {
  for (;;) {
    coio::tcp_socket socket = co_await acceptor.accept();
    connections.push_back(coio::create_task(echo_connection(std::move(socket))));
  }
}

// Sends a 64-byte message and waits for its whole echo, `rounds` times; returns the bytes
// echoed, after checking each echo equals the message.
coio::task<long long> echo_client(coio::socket_address server, long long rounds, std::vector<double>* latencies_us) {
  coio::tcp_socket socket = co_await coio::tcp_socket::connect(server);
  std::array<std::byte, 64> message;
  std::array<std::byte, 4096> echo;  // room for more than one echo: a short read needs no EAGAIN to end
  long long echoed = 0;
  for (long long r = 0; r < rounds; ++r) {
    for (std::size_t i = 0; i < message.size(); ++i)
      message[i] = static_cast<std::byte>((r + static_cast<long long>(i)) & 0xff);
    const auto sent = clock_type::now();
    co_await socket.write_all(message);
    std::size_t got = 0;
    while (got < message.size()) {
      const std::size_t n = co_await socket.read_some(std::span(echo).subspan(got));
      if (n == 0) wrong("tcp echo: early end of stream", static_cast<long long>(got), 64);
      got += n;
    }
    if (latencies_us)
      latencies_us->push_back(std::chrono::duration<double, std::micro>(clock_type::now() - sent).count());
    if (got != message.size() || !std::equal(message.begin(), message.end(), echo.begin()))
      wrong("tcp echo: echo differs from message", r, r);
    echoed += static_cast<long long>(got);
  }
  co_return echoed;
}

struct echo_fixture {
  coio::tcp_acceptor acceptor = coio::tcp_acceptor::listen(*coio::socket_address::parse("127.0.0.1", 0));
  std::vector<coio::future<void>> connections;
  coio::future<void> server = coio::create_task(echo_server(acceptor, connections));

  coio::task<> stop() {
    server.cancel();
    acceptor.close();
    for (auto& c : connections) {
      co_await c;  // each ends when its client closes
    }
  }
};

// tcp_echo_100conn: 100 connections, each 10,000 round trips of 64 bytes (after a warm-up
// connection of 1,000). n = total round trips.
coio::task<> tcp_echo_100conn(long long n) {
  const int conns = n >= 100'000 ? 100 : 10;
  const long long rounds = n / conns;
  echo_fixture fx;
  const coio::socket_address address = fx.acceptor.local_address();
  const long long warm = co_await echo_client(address, std::min<long long>(1000, rounds), nullptr);
  if (warm != 64 * std::min<long long>(1000, rounds)) wrong("tcp_echo_100conn warm-up", warm, 64000);
  const auto start = clock_type::now();
  std::vector<coio::task<long long>> clients;
  for (int c = 0; c < conns; ++c) clients.push_back(echo_client(address, rounds, nullptr));
  const std::vector<long long> echoed = co_await coio::gather(std::move(clients));
  const double seconds = std::chrono::duration<double>(clock_type::now() - start).count();
  long long total = 0;
  for (long long e : echoed) total += e;
  if (total != 64 * rounds * conns) wrong("tcp_echo_100conn", total, 64 * rounds * conns);
  co_await fx.stop();
  report(fmt::format("tcp_echo_100conn: {:.2f} rt_per_s connections={} n={}",
                     static_cast<double>(rounds * conns) / seconds, conns, rounds * conns));
}

// tcp_latency_1conn: one connection, 1,000 unmeasured then n measured round trips.
coio::task<> tcp_latency_1conn(long long n) {
  echo_fixture fx;
  const coio::socket_address address = fx.acceptor.local_address();
  std::vector<double> latencies;
  latencies.reserve(static_cast<std::size_t>(n) + 1000);
  const long long echoed = co_await echo_client(address, n + 1000, &latencies);
  if (echoed != 64 * (n + 1000)) wrong("tcp_latency_1conn", echoed, 64 * (n + 1000));
  latencies.erase(latencies.begin(), latencies.begin() + 1000);
  co_await fx.stop();
  double sum = 0;
  for (double l : latencies) sum += l;
  std::sort(latencies.begin(), latencies.end());
  const auto at = [&](double q) {
    return latencies[static_cast<std::size_t>(q * static_cast<double>(latencies.size() - 1))];
  };
  report(fmt::format("tcp_latency_1conn: {:.2f} us p50={:.2f} p99={:.2f} n={}", sum / static_cast<double>(n), at(0.5),
                     at(0.99), n));
}

int trivial_call(int i) { return i; }

// to_thread_roundtrip: n sequential `co_await to_thread(trivial_call, i)` (loop -> pool thread
// -> loop wake-up per call).
coio::task<> to_thread_roundtrip(long long n) {
  const auto start = clock_type::now();
  long long sum = 0;
  for (long long i = 0; i < n; ++i) {
    const int v = co_await coio::to_thread(trivial_call, static_cast<int>(i));
    sum += v;
  }
  const double ns = ns_since(start, n);
  if (sum != n * (n - 1) / 2) wrong("to_thread_roundtrip", sum, n * (n - 1) / 2);
  report(fmt::format("to_thread_roundtrip: {:.2f} ns/op n={}", ns, n));
}

// file_lines: reads an n MB file of 64-byte lines (generated first, not timed) with
// async_file::lines(); MB/s.
coio::task<> file_lines(long long n) {
  char pattern[] = "/tmp/coio-bench-XXXXXX";
  const char* dir = ::mkdtemp(pattern);
  if (!dir) wrong("file_lines (mkdtemp)", 0, 1);
  const std::string path = std::string(dir) + "/lines.txt";
  const long long line_count = n * (1 << 20) / 64;
  {
    std::ofstream out(path, std::ios::binary);
    std::string block;
    for (long long i = 0; i < line_count; ++i) {
      block += fmt::format("{:08} {:054}\n", i, 0);
      if (block.size() >= (1 << 20)) {
        out << block;
        block.clear();
      }
    }
    out << block;
  }
  const auto start = clock_type::now();
  coio::async_file f = co_await coio::open_file(path);
  auto lines = f.lines();
  long long count = 0, bytes = 0;
  for (;;) {
    std::optional<std::string> line = co_await lines.next();
    if (!line) break;
    ++count;
    bytes += static_cast<long long>(line->size());
  }
  const double seconds = std::chrono::duration<double>(clock_type::now() - start).count();
  std::filesystem::remove_all(dir);
  if (count != line_count) wrong("file_lines", count, line_count);
  report(
      fmt::format("file_lines: {:.1f} MB/s lines={} n={}", static_cast<double>(bytes) / (1 << 20) / seconds, count, n));
}

struct workload {
  const char* name;
  std::function<coio::task<>(long long)> body;
  long long full;
  long long smoke;
};

}  // namespace

int main(int argc, char** argv) {
  bool smoke = false;
  bool list = false;
  double scale = 1.0;
  std::set<std::string> only;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--smoke") {
      smoke = true;
    } else if (arg == "--list") {
      list = true;
    } else if (arg == "--scale" && i + 1 < argc) {
      scale = std::strtod(argv[++i], nullptr);
    } else if (arg == "--only" && i + 1 < argc) {
      std::stringstream list(argv[++i]);
      for (std::string name; std::getline(list, name, ',');) only.insert(name);
    } else {
      fmt::print(stderr, "usage: coio_bench [--only a,b] [--smoke] [--scale f] [--list]\n");
      return 2;
    }
  }
  const std::vector<workload> workloads = {
      {"await_direct", await_direct, 1'000'000, 1'000},
      {"spawn_await", spawn_await, 1'000'000, 1'000},
      {"yield_switch", yield_switch, 1'000'000, 1'000},
      {"gather_100k", gather_100k, 100'000, 1'000},
      {"timers_100k", timers_100k, 100'000, 100},
      {"wait_for_overhead", wait_for_overhead, 1'000'000, 1'000},
      {"queue_pingpong_1", queue_pingpong_1, 1'000'000, 1'000},
      {"queue_pingpong_1024", queue_pingpong_1024, 1'000'000, 1'000},
      {"semaphore_100k", semaphore_100k, 100'000, 1'000},
      {"lock_contention", lock_contention, 1'000'000, 10'000},
      {"tcp_echo_100conn", tcp_echo_100conn, 1'000'000, 1'000},
      {"tcp_latency_1conn", tcp_latency_1conn, 20'000, 1'000},
      {"to_thread_roundtrip", to_thread_roundtrip, 100'000, 100},
      {"file_lines", file_lines, 100, 1},
  };
  if (list) {
    for (const auto& w : workloads) fmt::print("{}\n", w.name);
    return 0;
  }
  for (const auto& w : workloads) {
    if (!only.empty() && !only.count(w.name)) continue;
    const long long count =
        smoke ? w.smoke : std::max(w.smoke, static_cast<long long>(static_cast<double>(w.full) * scale));
    result_line.clear();
    const long before = peak_rss_kb();
    coio::run(w.body(count));
    const long after = peak_rss_kb();
    fmt::print("{} rss_mb={:.1f}\n", result_line, static_cast<double>(after - before) / 1024.0);
    std::fflush(stdout);
  }
  return 0;
}
