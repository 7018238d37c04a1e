// rate_limiter.cpp: fifteen requests through a limiter of 5 requests per 2 seconds.
//
//   from aiolimiter import AsyncLimiter
//   async def request(i, limiter, start):
//       async with limiter:                   # waits until the bucket has room
//           print(f"request {i:2} at {time.monotonic() - start:.2f} s")
//
//   async def main():
//       limiter = AsyncLimiter(5, 2)          # 5 per 2 s
//       start = time.monotonic()
//       await asyncio.gather(*(request(i, limiter, start) for i in range(15)))
//
// coio::rate_limiter is aiolimiter's leaky bucket: a burst of up to 5 goes through at once,
// then the bucket drains at 5 / 2 s, so one request every 0.4 s: the 15th starts at about 4 s.
// Waiters are served first come, first served.
#include <coio/coio.hpp>
#include <coio/gather.hpp>
#include <coio/rate_limiter.hpp>

#include <fmt/core.h>

#include <algorithm>
#include <chrono>
#include <vector>

using namespace std::chrono_literals;
using steady = std::chrono::steady_clock;

namespace {

constexpr int requests = 15;
constexpr double max_rate = 5;  // requests per period
constexpr auto period = 2s;

double seconds_since(steady::time_point start) { return std::chrono::duration<double>(steady::now() - start).count(); }

coio::task<double> request(int id, coio::rate_limiter& limiter, steady::time_point start) {
  co_await limiter.acquire();
  const double at = seconds_since(start);
  fmt::print("  request {:2} at {:.2f} s\n", id, at);
  co_return at;
}

coio::task<int> amain() {
  coio::rate_limiter limiter(max_rate, period);
  const auto start = steady::now();
  std::vector<coio::task<double>> batch;
  for (int i = 0; i < requests; ++i) batch.push_back(request(i, limiter, start));
  std::vector<double> times = co_await coio::gather(std::move(batch));
  std::sort(times.begin(), times.end());

  // The k-th start (0-based) may come no earlier than (k - 4) * 0.4 s: a burst of 5, then the
  // leak rate. A 10 ms tolerance covers timer rounding; the upper bound is generous for a busy CI.
  const double interval = std::chrono::duration<double>(period).count() / max_rate;
  bool paced = true;
  for (int k = 0; k < requests; ++k) {
    const double earliest = std::max(0, k - static_cast<int>(max_rate) + 1) * interval;
    if (times[k] < earliest - 0.010) {
      fmt::print("request #{} started at {:.3f} s, before {:.3f} s\n", k, times[k], earliest);
      paced = false;
    }
  }
  const double total = times.back();
  fmt::print("{} requests in {:.2f} s (at most {} per {} s: a burst, then one every {:.1f} s)\n", requests, total,
             max_rate, period.count(), interval);
  const bool ok = paced && total < 3 * (requests - max_rate) * interval;
  fmt::print("{}\n", ok ? "OK: the limiter held the rate" : "FAIL");
  co_return ok ? 0 : 1;
}

}  // namespace

int main() { return coio::run(amain()); }
