// greet_after_delay.cpp: the first program of Python's asyncio tutorial, twice over.
//
//   async def say_after(delay, what):
//       await asyncio.sleep(delay)
//       print(what)
//
//   async def main():
//       task1 = asyncio.create_task(say_after(1, "hello"))
//       task2 = asyncio.create_task(say_after(2, "world"))
//       await task1
//       await task2                # about 2 s in all, not 1 + 2 = 3 s
// First the greetings run one after another with a blocking sleep (plain synchronous code),
// then as coio tasks that sleep concurrently. Sleeps are scaled down: 1 s -> 200 ms.
#include <coio/coio.hpp>

#include <fmt/core.h>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

using namespace std::chrono_literals;
using steady = std::chrono::steady_clock;

namespace {

struct greeting {
  std::chrono::milliseconds delay;
  const char* what;
};
constexpr greeting greetings[] = {{200ms, "hello"}, {300ms, "world"}, {400ms, "from coio"}};
double ms_since(steady::time_point start) {
  return std::chrono::duration<double, std::milli>(steady::now() - start).count();
}

// def say_after_sync(delay, what): time.sleep(delay); print(what)
void say_after_sync(std::chrono::milliseconds delay, const char* what) {
  std::this_thread::sleep_for(delay);
  fmt::print("  sync:  {}\n", what);
}

// async def say_after(delay, what): await asyncio.sleep(delay); print(what); return what
coio::task<std::string> say_after(std::chrono::milliseconds delay, std::string what) {
  co_await coio::sleep(delay);
  fmt::print("  async: {}\n", what);
  co_return what;
}

coio::task<double> amain() {
  const auto start = steady::now();
  // asyncio.create_task(...) for each greeting: all start at the loop's next turn.
  std::vector<coio::future<std::string>> tasks;
  for (const greeting& g : greetings) tasks.push_back(coio::create_task(say_after(g.delay, g.what)));
  // `await task` for each: while the first is awaited, the others keep sleeping.
  for (auto& t : tasks) {
    const std::string said = co_await t;
    fmt::print("  awaited {} after {:.0f} ms\n", said, ms_since(start));
  }
  co_return ms_since(start);
}

}  // namespace

int main() {
  fmt::print("sequential, blocking sleeps:\n");
  const auto start = steady::now();
  for (const greeting& g : greetings) say_after_sync(g.delay, g.what);
  const double sync_ms = ms_since(start);
  fmt::print("sequential took {:.0f} ms (the sum of the delays)\n\n", sync_ms);

  fmt::print("concurrent tasks:\n");
  const double async_ms = coio::run(amain());
  fmt::print("concurrent took {:.0f} ms (the longest delay)\n", async_ms);

  // Sequential: >= 900 ms. Concurrent: ~400 ms (never less). Room left for a slow machine.
  const bool ok = async_ms >= 400 && async_ms < 0.75 * sync_ms;
  fmt::print("{}\n", ok ? "OK: the tasks slept concurrently" : "FAIL: the tasks did not overlap");
  return ok ? 0 : 1;
}
