// benchmarks/coio_bench.cpp: coio's in-process workloads (see shared BENCHMARKS.md for the
// definitions). Prints one line per workload, `name: <value> <unit> [key=value ...]`, and
// exits non-zero when a workload computes a wrong result.
//
//   coio_bench [--only a,b] [--smoke] [--list]
//   (--smoke: tiny counts, proves it runs, figures meaningless; --list: the workload names)
#include <coio/coio.hpp>

#include <fmt/core.h>

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
      {"await_direct", await_direct, 1'000'000, 1'000}, {"spawn_await", spawn_await, 1'000'000, 1'000},
      {"yield_switch", yield_switch, 1'000'000, 1'000}, {"gather_100k", gather_100k, 100'000, 1'000},
      {"timers_100k", timers_100k, 100'000, 100},       {"wait_for_overhead", wait_for_overhead, 1'000'000, 1'000},
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
