// to_thread_cpu.cpp: blocking CPU work off the loop, while the loop keeps ticking.
//
//   def count_primes(lo, hi):              # plain blocking CPU work
//       return sum(1 for n in range(lo, hi) if is_prime(n))
//
//   async def ticker(ticks):
//       while True:
//           await asyncio.sleep(0.01)
//           ticks[0] += 1
//
//   async def main():
//       ticks = [0]
//       t = asyncio.create_task(ticker(ticks))
//       n = await asyncio.to_thread(count_primes, 0, 2_000_000)   # the loop keeps running
//       print(n, "primes; ticks meanwhile:", ticks[0])
//       # two halves at once: with the GIL they take turns; in C++ they run in parallel
//       a, b = await asyncio.gather(asyncio.to_thread(count_primes, 0, 1_000_000),
//                                   asyncio.to_thread(count_primes, 1_000_000, 2_000_000))
//       t.cancel()
//
//   asyncio.run(main())
//
// coio::to_thread runs the call on the loop's default thread pool and resumes the awaiting
// task on the loop's thread with the result; other tasks run in the meantime.
#include <coio/coio.hpp>
#include <coio/thread_pool.hpp>

#include <fmt/core.h>

#include <chrono>
#include <memory>

using namespace std::chrono_literals;

namespace {

bool is_prime(long n) {
  if (n < 2) return false;
  for (long d = 2; d * d <= n; ++d) {
    if (n % d == 0) return false;
  }
  return true;
}

// Blocking CPU work: it never yields, so it must not run on the loop's thread.
long count_primes(long lo, long hi) {
  long count = 0;
  for (long n = lo; n < hi; ++n) count += is_prime(n) ? 1 : 0;
  return count;
}

coio::task<> ticker(std::shared_ptr<int> ticks) {
  for (;;) {
    co_await coio::sleep(10ms);
    ++*ticks;
  }
}

coio::task<long> count_on_a_thread(long lo, long hi) {
  const long n = co_await coio::to_thread(count_primes, lo, hi);
  co_return n;
}

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

coio::task<int> amain() {
  auto ticks = std::make_shared<int>(0);
  coio::future<> t = coio::create_task(ticker(ticks), "ticker");

  auto start = std::chrono::steady_clock::now();
  const long all = co_await coio::to_thread(count_primes, 0, 2'000'000);
  const double one_call = seconds_since(start);
  const int ticks_during = *ticks;
  fmt::print("{} primes below 2,000,000 in {:.2f} s; the ticker ticked {} times meanwhile\n", all, one_call,
             ticks_during);

  start = std::chrono::steady_clock::now();
  const auto [low, high] =
      co_await coio::gather(count_on_a_thread(0, 1'000'000), count_on_a_thread(1'000'000, 2'000'000));
  fmt::print("two halves at once: {} + {} = {} in {:.2f} s (two threads, no GIL)\n", low, high, low + high,
             seconds_since(start));

  t.cancel();
  try {
    co_await t;
  } catch (const coio::cancelled_error&) {
  }

  // The call took well over 10 ms, so a loop that was not blocked ticked several times.
  const bool ok = all == 148'933 && low + high == all && ticks_during >= 3;
  fmt::print("{}\n", ok ? "OK: the CPU work ran off the loop, which kept ticking" : "FAIL");
  co_return ok ? 0 : 1;
}

}  // namespace

int main() { return coio::run(amain()); }
