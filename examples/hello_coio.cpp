// hello_coio.cpp: the README's example, kept compiling and running by the smoke test.
#include <fmt/core.h>
#include <coio/coio.hpp>
using namespace std::chrono_literals;

coio::task<std::string> greet(std::string name, std::chrono::milliseconds delay) {
  co_await coio::sleep(delay);  // await asyncio.sleep(delay)
  co_return "hello, " + name;
}

coio::task<int> amain() {
  auto slow = coio::create_task(greet("world", 200ms), "slow");  // asyncio.create_task
  std::string fast = co_await greet("coio", 100ms);              // runs inline, no task
  std::string later = co_await slow;
  fmt::print("{}\n{}\n", fast, later);  // both done after ~200 ms, not 300
  co_return 0;
}

int main() { return coio::run(amain()); }  // asyncio.run(amain())
