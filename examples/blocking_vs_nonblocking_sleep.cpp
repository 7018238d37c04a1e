// blocking_vs_nonblocking_sleep.cpp: why async code must never block the loop.
//
//   async def ticker(ticks):
//       while True:
//           await asyncio.sleep(0.05)
//           ticks[0] += 1
//           print("tick", ticks[0])
//
//   async def main():
//       ticks = [0]
//       t = asyncio.create_task(ticker(ticks))
//       await asyncio.sleep(0)             # let the ticker start
//       time.sleep(0.5)                    # (a) blocks the whole loop: no tick at all
//       await asyncio.sleep(0.5)           # (b) suspends main only: about 10 ticks
//       t.cancel()
//       try: await t
//       except asyncio.CancelledError: pass
//
//   asyncio.run(main(), debug=True)        # debug mode reports the 0.5 s blocking step
//
// Every task shares one thread: std::this_thread::sleep_for stalls all of them, while
// co_await coio::sleep hands the thread back to the loop until the timer is due.
#include <coio/coio.hpp>

#include <fmt/core.h>

#include <chrono>
#include <memory>
#include <thread>

using namespace std::chrono_literals;

namespace {

coio::task<> ticker(std::shared_ptr<int> ticks) {
  for (;;) {
    co_await coio::sleep(50ms);  // throws coio::cancelled_error here once cancelled
    ++*ticks;
    fmt::print("  tick {}\n", *ticks);
  }
}

coio::task<int> amain() {
  auto ticks = std::make_shared<int>(0);
  coio::future<> t = coio::create_task(ticker(ticks), "ticker");
  co_await coio::sleep(0ms);  // yield: the ticker starts and waits for its first tick

  fmt::print("(a) std::this_thread::sleep_for(500ms): blocks the loop\n");
  const int before_a = *ticks;
  std::this_thread::sleep_for(500ms);
  const int ticks_a = *ticks - before_a;
  fmt::print("    ticks meanwhile: {}\n", ticks_a);

  fmt::print("(b) co_await coio::sleep(500ms): the loop keeps running\n");
  const int before_b = *ticks;
  co_await coio::sleep(500ms);
  const int ticks_b = *ticks - before_b;
  fmt::print("    ticks meanwhile: {}\n", ticks_b);

  t.cancel();
  bool cancelled = false;
  try {
    co_await t;
  } catch (const coio::cancelled_error&) {
    cancelled = true;
  }

  // (a) cannot tick at all: nothing else runs until main's step returns to the loop.
  // (b) should tick about 10 times (the first one is the tick overdue since (a)).
  const bool ok = ticks_a == 0 && ticks_b >= 4 && cancelled;
  fmt::print("{}\n", ok ? "OK: blocking stalled the ticker, coio::sleep did not" : "FAIL");
  co_return ok ? 0 : 1;
}

}  // namespace

// Debug mode, as asyncio's: the loop reports on stderr each step that held it over 100 ms.
int main() { return coio::run(amain(), {.debug = true}); }
