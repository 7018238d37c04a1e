#include <coio/sleep.hpp>

#include "coio_test.hpp"

#include <coio/create_task.hpp>

#include <chrono>
#include <string>
#include <vector>

using namespace std::chrono_literals;

namespace {

coio::task<> ping(std::vector<std::string>& log, std::string name, int times) {
  for (int i = 0; i < times; ++i) {
    log.push_back(name);
    co_await coio::sleep(0s);
  }
}

coio::task<> nap(std::chrono::milliseconds d, std::vector<int>& order, int id) {
  co_await coio::sleep(d);
  order.push_back(id);
}

template <class Duration = std::chrono::seconds>
coio::task<> sleep_then_flag(bool& woke, Duration d = 10s) {
  co_await coio::sleep(d);
  woke = true;
}

}  // namespace

COIO_TEST_CASE("sleep suspends for at least the delay", "[sleep]") {
  auto& loop = coio::get_running_loop();
  const auto start = loop.now();
  co_await coio::sleep(20ms);
  REQUIRE(loop.now() - start >= 20ms);
}

COIO_TEST_CASE("sleep(0) yields: ready tasks alternate", "[sleep]") {
  std::vector<std::string> log;
  auto a = coio::create_task(ping(log, "a", 3));
  auto b = coio::create_task(ping(log, "b", 3));
  co_await a;
  co_await b;
  REQUIRE(log == std::vector<std::string>{"a", "b", "a", "b", "a", "b"});
}

COIO_TEST_CASE("sleepers wake in deadline order", "[sleep]") {
  std::vector<int> order;
  auto c = coio::create_task(nap(30ms, order, 3));
  auto a = coio::create_task(nap(10ms, order, 1));
  auto b = coio::create_task(nap(20ms, order, 2));
  co_await c;
  co_await a;
  co_await b;
  REQUIRE(order == std::vector<int>{1, 2, 3});
}

COIO_TEST_CASE("sleep_until a time point, past or future", "[sleep]") {
  auto& loop = coio::get_running_loop();
  const auto deadline = loop.now() + 10ms;
  co_await coio::sleep_until(deadline);
  REQUIRE(loop.now() >= deadline);
  co_await coio::sleep_until(loop.now() - 1h);  // in the past: returns at the next turn
}

COIO_TEST_CASE("a negative or huge sleep behaves", "[sleep]") {
  co_await coio::sleep(-1s);
  bool woke = false;
  auto f = coio::create_task(sleep_then_flag(woke, std::chrono::hours::max()));
  co_await coio::sleep(1ms);
  f.cancel();
  const bool cancelled = co_await ends_cancelled(f);
  REQUIRE(cancelled);
  REQUIRE_FALSE(woke);
}

COIO_TEST_CASE("cancelling a sleeping task wakes it at once with cancelled_error", "[sleep][cancel]") {
  auto& loop = coio::get_running_loop();
  bool woke = false;
  const auto start = loop.now();
  auto f = coio::create_task(sleep_then_flag(woke));
  co_await coio::sleep(0s);
  co_await coio::sleep(0s);
  f.cancel();
  const bool cancelled = co_await ends_cancelled(f);
  REQUIRE(cancelled);
  REQUIRE(loop.now() - start < 5s);  // generous: it did not wait the 10 s out
}

COIO_TEST_CASE("a cancellation requested while running is delivered at the next sleep", "[sleep][cancel]") {
  auto self = coio::current_task();
  self.cancel("self");
  bool cancelled = false;
  try {
    co_await coio::sleep(0s);
  } catch (const coio::cancelled_error& e) {
    cancelled = e.message() == "self";
  }
  REQUIRE(cancelled);
  co_await coio::sleep(0s);  // delivered once: the next sleep is normal
}

TEST_CASE("sleep without a running loop throws runtime_error", "[sleep]") {
  REQUIRE_THROWS_AS(coio::sleep(1s), coio::runtime_error);
}
