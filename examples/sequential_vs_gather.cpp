// sequential_vs_gather.cpp: three greetings awaited one after another, then with gather.
//
//   async def say_after(delay, what):
//       await asyncio.sleep(delay)
//       print(what)
//       return what
//
//   async def main():
//       await say_after(1, "hello")         # awaiting a coroutine runs it to completion:
//       await say_after(1, "world")         # 3 s in all
//       await say_after(1, "again")
//       a, b, c = await asyncio.gather(say_after(1, "hello"), say_after(1, "world"),
//                                      say_after(1, "again"))   # 1 s: they sleep together
//
// Awaiting a coio::task runs it inline, like awaiting a coroutine in Python: nothing else of
// main runs meanwhile. coio::gather schedules each task (create_task) and waits for all of
// them, so the three sleeps overlap. Delays are scaled down: 1 s -> 200 ms.
#include <coio/coio.hpp>
#include <coio/gather.hpp>

#include <fmt/core.h>

#include <chrono>
#include <string>
#include <tuple>

using namespace std::chrono_literals;
using steady = std::chrono::steady_clock;

namespace {

constexpr auto delay = 200ms;

double ms_since(steady::time_point start) {
  return std::chrono::duration<double, std::milli>(steady::now() - start).count();
}

coio::task<std::string> say_after(std::chrono::milliseconds d, std::string what) {
  co_await coio::sleep(d);
  fmt::print("  {}\n", what);
  co_return what;
}

coio::task<int> amain() {
  fmt::print("one after another:\n");
  auto start = steady::now();
  const std::string s1 = co_await say_after(delay, "hello");
  const std::string s2 = co_await say_after(delay, "world");
  const std::string s3 = co_await say_after(delay, "again");
  const double sequential_ms = ms_since(start);
  fmt::print("sequential took {:.0f} ms (3 x {} ms)\n\n", sequential_ms, delay.count());

  fmt::print("with coio::gather:\n");
  start = steady::now();
  // gather of three task<std::string> gives a std::tuple<std::string, std::string, std::string>.
  auto greetings =
      co_await coio::gather(say_after(delay, "hello"), say_after(delay, "world"), say_after(delay, "again"));
  const double gathered_ms = ms_since(start);
  const auto& [a, b, c] = greetings;  // Python's `a, b, c = await asyncio.gather(...)`
  fmt::print("gather took {:.0f} ms and returned ({}, {}, {})\n", gathered_ms, a, b, c);

  const double speedup = sequential_ms / gathered_ms;
  fmt::print("speed-up: {:.1f}x (ideal 3x)\n", speedup);
  // Nothing may finish before its delay; past that, leave room for a slow, noisy machine.
  const bool values_ok =
      s1 == "hello" && s2 == "world" && s3 == "again" && a == "hello" && b == "world" && c == "again";
  const bool ok = values_ok && sequential_ms >= 3.0 * delay.count() && gathered_ms >= delay.count() && speedup > 2.0;
  fmt::print("{}\n", ok ? "OK: gather ran the greetings concurrently" : "FAIL");
  co_return ok ? 0 : 1;
}

}  // namespace

int main() { return coio::run(amain()); }
