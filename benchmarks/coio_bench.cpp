// benchmarks/coio_bench.cpp: coio's in-process workloads (see shared BENCHMARKS.md for the
// definitions). Prints one line per workload, `name: <value> <unit> [key=value ...]`, and
// exits non-zero when a workload computes a wrong result.
//
//   coio_bench [--only a,b] [--smoke] [--list]
//   (--smoke: tiny counts, proves it runs, figures meaningless; --list: the workload names)
#include <coio/coio.hpp>

#include <fmt/core.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <set>
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
  fmt::print("await_direct: {:.2f} ns/op n={}\n", ns, n);
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
  fmt::print("spawn_await: {:.2f} ns/op n={}\n", ns, n);
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
  fmt::print("yield_switch: {:.2f} ns/op n={}\n", ns, 2 * n);
}

// gather_100k: gather N trivial tasks (each scheduled as a task), sum the results.
coio::task<> gather_100k(long long n) {
  const long rss_before = peak_rss_kb();
  const auto start = clock_type::now();
  std::vector<coio::task<int>> tasks;
  tasks.reserve(static_cast<std::size_t>(n));
  for (long long i = 0; i < n; ++i) tasks.push_back(trivial(static_cast<int>(i)));
  const std::vector<int> values = co_await coio::gather(std::move(tasks));
  const double ns = ns_since(start, n);
  long long sum = 0;
  for (int v : values) sum += v;
  if (sum != n * (n - 1) / 2) wrong("gather_100k", sum, n * (n - 1) / 2);
  const double rss_mb = static_cast<double>(peak_rss_kb() - rss_before) / 1024.0;
  fmt::print("gather_100k: {:.2f} ns/op rss_mb={:.1f} n={}\n", ns, rss_mb, n);
}

coio::task<int> sleep_then_return(std::chrono::microseconds d, int v) {
  co_await coio::sleep(d);
  co_return v;
}

// timers_100k: gather N tasks, task i sleeps delay_us[i] (the spec's LCG, 0..100 ms).
coio::task<> timers_100k(long long n) {
  const long rss_before = peak_rss_kb();
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
  const double rss_mb = static_cast<double>(peak_rss_kb() - rss_before) / 1024.0;
  fmt::print("timers_100k: {:.2f} ms_over_100 timers_per_s={:.0f} rss_mb={:.1f} n={}\n", ms - 100.0,
             static_cast<double>(n) / (ms / 1000.0), rss_mb, n);
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
  fmt::print("wait_for_overhead: {:.2f} ns/op n={}\n", ns, n);
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
  fmt::print("{}: {:.2f} ns/op n={}\n", name, ns, n);
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
  fmt::print("semaphore_100k: {:.2f} ns/op max_concurrency={} n={}\n", ns, peak, n);
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
  fmt::print("lock_contention: {:.2f} ns/op n={}\n", ns, 100 * per_task);
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
  std::set<std::string> only;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--smoke") {
      smoke = true;
    } else if (arg == "--list") {
      list = true;
    } else if (arg == "--only" && i + 1 < argc) {
      std::stringstream list(argv[++i]);
      for (std::string name; std::getline(list, name, ',');) only.insert(name);
    } else {
      fmt::print(stderr, "usage: coio_bench [--only a,b] [--smoke] [--list]\n");
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
  };
  if (list) {
    for (const auto& w : workloads) fmt::print("{}\n", w.name);
    return 0;
  }
  for (const auto& w : workloads) {
    if (!only.empty() && !only.count(w.name)) continue;
    const long before = peak_rss_kb();
    coio::run(w.body(smoke ? w.smoke : w.full));
    const long after = peak_rss_kb();
    std::fflush(stdout);
    if (after > before) fmt::print(stderr, "{}: peak RSS +{} KiB\n", w.name, after - before);
  }
  return 0;
}
