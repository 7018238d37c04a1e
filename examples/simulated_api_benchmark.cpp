// simulated_api_benchmark.cpp: N simulated API calls, awaited one by one vs gathered.
//
//   async def call_api(i):
//       await asyncio.sleep(0.02)                # the network round trip
//       return i
//
//   async def main():
//       for n in (5, 10, 20, 50, 100):
//           t0 = time.perf_counter()
//           for i in range(n): await call_api(i)                       # "sync": one at a time
//           t1 = time.perf_counter()
//           await asyncio.gather(*(call_api(i) for i in range(n)))     # async: all at once
//           print(n, t1 - t0, time.perf_counter() - t1)
//
// The sequential column grows with N (N x delay); the gathered one stays at about one delay,
// so the speed-up is about N. Both columns use 10 ms per call instead of the tutorial's 20 ms:
// at 20 ms the sequential column alone would take 185 x 20 ms = 3.7 s. At 10 ms the whole
// table takes about 2 s, and both columns still time the same work.
#include <coio/coio.hpp>
#include <coio/gather.hpp>

#include <fmt/core.h>

#include <algorithm>
#include <chrono>
#include <utility>
#include <vector>

using namespace std::chrono_literals;
using steady = std::chrono::steady_clock;

namespace {

constexpr auto call_delay = 10ms;

double ms_since(steady::time_point start) {
  return std::chrono::duration<double, std::milli>(steady::now() - start).count();
}

coio::task<int> call_api(int i) {
  co_await coio::sleep(call_delay);
  co_return i;
}

// Both return the sum of the answers (call i answers i): proof that every call ran.
coio::task<long> sequential(int n) {
  long sum = 0;
  for (int i = 0; i < n; ++i) {
    const int r = co_await call_api(i);
    sum += r;
  }
  co_return sum;
}

coio::task<long> gathered(int n) {
  std::vector<coio::task<int>> calls;
  for (int i = 0; i < n; ++i) calls.push_back(call_api(i));
  const std::vector<int> answers = co_await coio::gather(std::move(calls));
  long sum = 0;
  for (int r : answers) sum += r;
  co_return sum;
}

coio::task<int> amain() {
  constexpr int sizes[] = {5, 10, 20, 50, 100};
  bool ok = true;
  double slowest_async = 0;
  fmt::print("{:>5} {:>10} {:>10} {:>9}\n", "N", "sync ms", "async ms", "speed-up");
  for (const int n : sizes) {
    auto start = steady::now();
    const long sync_sum = co_await sequential(n);
    const double sync_ms = ms_since(start);
    start = steady::now();
    const long async_sum = co_await gathered(n);
    const double async_ms = ms_since(start);
    fmt::print("{:>5} {:>10.1f} {:>10.1f} {:>8.1f}x\n", n, sync_ms, async_ms, sync_ms / async_ms);
    const long expected = static_cast<long>(n) * (n - 1) / 2;
    ok = ok && sync_sum == expected && async_sum == expected && async_ms < sync_ms && async_ms >= call_delay.count();
    slowest_async = std::max(slowest_async, async_ms);
  }
  // "Roughly constant": every gathered run takes about one delay. Allow 8 delays for a noisy
  // machine; the sequential run of 100 calls takes 100.
  ok = ok && slowest_async < 8.0 * call_delay.count();
  fmt::print("{}\n", ok ? "OK: gather was faster for every N and its time did not grow with N" : "FAIL");
  co_return ok ? 0 : 1;
}

}  // namespace

int main() { return coio::run(amain()); }
