// Proves that a project outside coio can include it, link it and run a coroutine.
#include <coio/coio.hpp>

#include <chrono>

coio::task<int> answer() {
  co_await coio::sleep(std::chrono::milliseconds(1));
  co_return 42;
}

int main() { return coio::run(answer()) == 42 ? 0 : 1; }
