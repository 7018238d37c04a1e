#include <coio/coio.hpp>

#include "coio_test.hpp"

#include <chrono>

using namespace std::chrono_literals;

namespace {
coio::task<int> greet(int n) {
  co_await coio::sleep(1ms);
  co_return n + 1;
}
}  // namespace

COIO_TEST_CASE("the umbrella header gives the whole core", "[coio]") {
  auto f = coio::create_task(greet(1));
  const int direct = co_await greet(2);
  const int spawned = co_await f;
  REQUIRE(direct == 3);
  REQUIRE(spawned == 2);
}
