// dynamic_gather.cpp: gather over a list of tasks built at run time.
//
//   async def square(i):
//       await asyncio.sleep(0.1 * (i % 3))     # some answers take longer than others
//       return i * i
//
//   async def main():
//       squares = await asyncio.gather(*[square(i) for i in range(10)])
//       print(squares)                          # [0, 1, 4, ..., 81] in ~0.2 s, not 0.9 s
//
// The list comprehension becomes a loop filling a std::vector<coio::task<int>>. Calling a
// coroutine function only creates the task (nothing runs yet, as with a Python coroutine
// object); gather(std::move(tasks)) schedules them all and returns a std::vector<int> in input
// order. Delays are scaled down: 0.1 s -> 100 ms.
#include <coio/coio.hpp>
#include <coio/gather.hpp>

#include <fmt/core.h>
#include <fmt/ranges.h>

#include <chrono>
#include <cstddef>
#include <utility>
#include <vector>

using namespace std::chrono_literals;
using steady = std::chrono::steady_clock;

namespace {

constexpr int count = 10;

coio::task<int> square(int i) {
  co_await coio::sleep(100ms * (i % 3));  // 0 ms, 100 ms or 200 ms (0 just yields)
  co_return i* i;
}

coio::task<int> amain() {
  const auto start = steady::now();
  std::vector<coio::task<int>> tasks;
  for (int i = 0; i < count; ++i) tasks.push_back(square(i));  // [square(i) for i in range(10)]
  const std::vector<int> squares = co_await coio::gather(std::move(tasks));
  const double took = std::chrono::duration<double, std::milli>(steady::now() - start).count();
  fmt::print("squares: {}\n", squares);
  fmt::print("took {:.0f} ms (the longest delay is 200 ms; one after another would be 900 ms)\n", took);

  // An empty list is fine too: asyncio.gather() with no arguments returns [].
  std::vector<coio::task<int>> none;
  const std::vector<int> nothing = co_await coio::gather(std::move(none));
  fmt::print("gather of no tasks: {}\n", nothing);

  bool values_ok = squares.size() == static_cast<std::size_t>(count) && nothing.empty();
  for (int i = 0; values_ok && i < count; ++i) values_ok = squares[i] == i * i;
  const bool ok = values_ok && took >= 200 && took < 600;
  fmt::print("{}\n", ok ? "OK: ten tasks ran concurrently, results in input order" : "FAIL");
  co_return ok ? 0 : 1;
}

}  // namespace

int main() { return coio::run(amain()); }
