// async_range.cpp: an async iterator that yields 0..n-1 with a pause before each value.
//
//   class AsyncRange:                        # the async iterator protocol, by hand
//       def __init__(self, n):
//           self.n, self.i = n, 0
//       def __aiter__(self):
//           return self
//       async def __anext__(self):
//           if self.i >= self.n:
//               raise StopAsyncIteration
//           await asyncio.sleep(0.1)
//           self.i += 1
//           return self.i - 1
//
//   async def async_range(n):                # the same as an async generator
//       for i in range(n):
//           await asyncio.sleep(0.1)
//           yield i
//
//   async def main():
//       async for i in AsyncRange(5):
//           print(i)
//       print([i async for i in async_range(5)])
//
// C++ has no `async for`: `co_await gen.next()` gives a std::optional that is empty at the
// end (StopAsyncIteration). Await it in a statement of its own, then test it (a co_await in a
// loop condition is miscompiled by g++ 12, see docs/compilers.md). coio::collect is the list
// comprehension. Sleeps are scaled down: 0.1 s -> 10 ms.
#include <coio/async_generator.hpp>
#include <coio/coio.hpp>

#include <fmt/core.h>
#include <fmt/ranges.h>

#include <chrono>
#include <optional>
#include <vector>

using namespace std::chrono_literals;
using steady = std::chrono::steady_clock;

namespace {

// Nothing runs until the first next(): the body starts there, and each co_yield hands one
// value to the consumer and waits for the next next().
coio::async_generator<int> async_range(int n) {
  for (int i = 0; i < n; ++i) {
    co_await coio::sleep(10ms);
    co_yield i;
  }
}

coio::task<int> amain() {
  const auto start = steady::now();
  std::vector<int> seen;
  auto range = async_range(5);
  for (;;) {  // async for i in async_range(5):
    std::optional<int> i = co_await range.next();
    if (!i) break;
    fmt::print("{}\n", *i);
    seen.push_back(*i);
  }
  const double took = std::chrono::duration<double, std::milli>(steady::now() - start).count();

  const std::vector<int> all = co_await coio::collect(async_range(5));  // [i async for i in ...]
  fmt::print("{}\n", all);

  const std::vector<int> expected{0, 1, 2, 3, 4};
  const bool ok = seen == expected && all == expected && took >= 50;
  fmt::print("{} ({:.0f} ms for five values, 10 ms apart)\n", ok ? "OK" : "FAIL", took);
  co_return ok ? 0 : 1;
}

}  // namespace

int main() { return coio::run(amain()); }
