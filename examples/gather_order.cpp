// gather_order.cpp: gather's results come in argument order, whatever order the tasks finish in.
//
//   async def factorial(name, number):
//       f = 1
//       for i in range(2, number + 1):
//           print(f"Task {name}: Compute factorial({number}), currently i={i}...")
//           await asyncio.sleep(1)
//           f *= i
//       print(f"Task {name}: factorial({number}) = {f}")
//       return f
//
//   async def main():
//       L = await asyncio.gather(factorial("A", 4), factorial("B", 3), factorial("C", 2))
//       print(L)                      # [24, 6, 2], although C finished first and A last
//
// (The asyncio docs' gather example, with the numbers reversed so that the finishing order
// differs from the argument order.) Each task also records when it finished, in a list shared
// through a std::shared_ptr: coroutine parameters are taken by value, so nothing dangles.
// Delays are scaled down: 1 s -> 100 ms.
#include <coio/coio.hpp>
#include <coio/gather.hpp>

#include <fmt/core.h>
#include <fmt/ranges.h>

#include <chrono>
#include <memory>
#include <string>
#include <tuple>
#include <vector>

using namespace std::chrono_literals;

namespace {

using finish_log = std::shared_ptr<std::vector<std::string>>;

coio::task<long> factorial(std::string name, int number, finish_log finished) {
  long f = 1;
  for (int i = 2; i <= number; ++i) {
    fmt::print("Task {}: Compute factorial({}), currently i={}...\n", name, number, i);
    co_await coio::sleep(100ms);
    f *= i;
  }
  fmt::print("Task {}: factorial({}) = {}\n", name, number, f);
  finished->push_back(name);
  co_return f;
}

coio::task<int> amain() {
  auto finished = std::make_shared<std::vector<std::string>>();
  // A needs three steps, B two, C one: C finishes first and A last.
  auto results =
      co_await coio::gather(factorial("A", 4, finished), factorial("B", 3, finished), factorial("C", 2, finished));
  const std::vector<long> values{std::get<0>(results), std::get<1>(results), std::get<2>(results)};
  fmt::print("results in argument order:  {}\n", values);
  fmt::print("tasks in order of finishing: {}\n", *finished);

  const bool ok = values == std::vector<long>{24, 6, 2} && *finished == std::vector<std::string>{"C", "B", "A"};
  fmt::print("{}\n", ok ? "OK: results follow the arguments, not the finishing order" : "FAIL");
  co_return ok ? 0 : 1;
}

}  // namespace

int main() { return coio::run(amain()); }
