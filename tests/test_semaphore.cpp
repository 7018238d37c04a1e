#include <coio/semaphore.hpp>

#include "coio_test.hpp"
#include "sample_tasks.hpp"

#include <coio/create_task.hpp>
#include <coio/gather.hpp>
#include <coio/sleep.hpp>

#include <chrono>
#include <string>
#include <vector>

using namespace std::chrono_literals;
using samples::yield_turns;

namespace {

coio::task<> hold_for(coio::semaphore& s, int& active, int& peak, std::chrono::milliseconds d) {
  auto permit = co_await s.scoped_acquire();
  ++active;
  if (active > peak) peak = active;
  co_await coio::sleep(d);
  --active;
}

coio::task<> take(coio::semaphore& s, std::vector<std::string>& order, std::string name) {
  co_await s.acquire();
  order.push_back(name);
}

}  // namespace

COIO_TEST_CASE("a semaphore bounds concurrency to its value", "[semaphore]") {
  coio::semaphore s(3);
  int active = 0, peak = 0;
  std::vector<coio::task<>> tasks;
  for (int i = 0; i < 30; ++i) tasks.push_back(hold_for(s, active, peak, 1ms));
  co_await coio::gather(std::move(tasks));
  REQUIRE(peak == 3);
  REQUIRE(s.value() == 3);
  REQUIRE_FALSE(s.locked());
}

COIO_TEST_CASE("no lost wake-up: a woken waiter cancelled before it runs passes the permit on (gh-90155)",
               "[semaphore][cancel]") {
  coio::semaphore s(0);
  std::vector<std::string> order;
  auto first = coio::create_task(take(s, order, "first"));
  auto second = coio::create_task(take(s, order, "second"));
  co_await yield_turns(3);
  REQUIRE(s.waiting() == 2);
  s.release();     // handed to `first`, which is scheduled but has not run yet
  first.cancel();  // ...and is cancelled before it runs
  const bool first_cancelled = co_await ends_cancelled(first);
  REQUIRE(first_cancelled);
  co_await second;  // the permit reached the second waiter
  REQUIRE(order == std::vector<std::string>{"second"});
  REQUIRE(s.value() == 0);
}

COIO_TEST_CASE("FIFO with no barging: a newcomer does not jump the queue", "[semaphore]") {
  coio::semaphore s(0);
  std::vector<std::string> order;
  auto a = coio::create_task(take(s, order, "a"));
  auto b = coio::create_task(take(s, order, "b"));
  co_await yield_turns(3);
  s.release();  // goes to `a`, though `late` arrives before `a` runs
  auto late = coio::create_task(take(s, order, "late"));
  s.release();  // goes to `b`
  co_await a;
  co_await b;
  REQUIRE(order == std::vector<std::string>{"a", "b"});
  REQUIRE_FALSE(late.done());  // still waiting: no permit was free for it
  s.release();
  co_await late;
  REQUIRE(order.back() == "late");
}

COIO_TEST_CASE("a cancelled waiter leaves the queue", "[semaphore][cancel]") {
  coio::semaphore s(0);
  std::vector<std::string> order;
  auto a = coio::create_task(take(s, order, "a"));
  auto b = coio::create_task(take(s, order, "b"));
  co_await yield_turns(3);
  a.cancel();
  const bool a_cancelled = co_await ends_cancelled(a);
  REQUIRE(a_cancelled);
  REQUIRE(s.waiting() == 1);
  s.release();
  co_await b;
  REQUIRE(order == std::vector<std::string>{"b"});
}

COIO_TEST_CASE("permits release when they go out of scope, and early on request", "[semaphore]") {
  coio::semaphore s(1);
  {
    auto p = co_await s.scoped_acquire();
    REQUIRE(p);
    REQUIRE(s.locked());
    p.release();
    REQUIRE_FALSE(s.locked());
    p.release();  // harmless twice
  }
  REQUIRE(s.value() == 1);
  co_await s.acquire();
  REQUIRE(s.value() == 0);
  s.release();
  REQUIRE(s.value() == 1);
}

COIO_TEST_CASE("bounded_semaphore refuses a release above its initial value", "[semaphore]") {
  coio::bounded_semaphore s(2);
  co_await s.acquire();
  s.release();
  REQUIRE_THROWS_AS(s.release(), coio::value_error);
  REQUIRE(s.value() == 2);
}
