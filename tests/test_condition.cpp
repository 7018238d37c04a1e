#include <coio/condition.hpp>

#include "coio_test.hpp"
#include "sample_tasks.hpp"

#include <coio/create_task.hpp>

#include <string>
#include <vector>

using samples::yield_turns;

namespace {

coio::task<> wait_for_value(coio::condition& c, const int& value, int wanted, std::vector<std::string>& log,
                            std::string name) {
  auto guard = co_await c.scoped_acquire();
  auto reached = [&value, wanted] { return value >= wanted; };  // named: docs/compilers.md
  co_await c.wait(reached);
  log.push_back(name);
}

coio::task<> wait_once(coio::condition& c, std::vector<std::string>& log, std::string name) {
  co_await c.acquire();
  try {
    co_await c.wait();
  } catch (const coio::cancelled_error&) {
    log.push_back(name + " cancelled, lock held: " + (c.locked() ? "yes" : "no"));
    c.release();
    throw;
  }
  log.push_back(name);
  c.release();
}

}  // namespace

COIO_TEST_CASE("wait(pred) rechecks after each notification", "[condition]") {
  coio::condition c;
  int value = 0;
  std::vector<std::string> log;
  auto low = coio::create_task(wait_for_value(c, value, 1, log, "low"));
  auto high = coio::create_task(wait_for_value(c, value, 3, log, "high"));
  co_await yield_turns(3);
  for (int i = 1; i <= 3; ++i) {
    auto guard = co_await c.scoped_acquire();
    value = i;
    c.notify_all();
  }
  co_await low;
  co_await high;
  REQUIRE(log == std::vector<std::string>{"low", "high"});
}

COIO_TEST_CASE("notify(n) wakes n waiters in FIFO order", "[condition]") {
  coio::condition c;
  std::vector<std::string> log;
  std::vector<coio::future<>> waiters;
  for (const char* name : {"a", "b", "c"}) waiters.push_back(coio::create_task(wait_once(c, log, name)));
  co_await yield_turns(3);
  co_await c.acquire();
  c.notify(2);
  c.release();
  co_await waiters[0];
  co_await waiters[1];
  REQUIRE(log == std::vector<std::string>{"a", "b"});
  REQUIRE_FALSE(waiters[2].done());
  co_await c.acquire();
  c.notify();
  c.release();
  co_await waiters[2];
  REQUIRE(log.back() == "c");
}

COIO_TEST_CASE("a cancelled waiter holds the lock again when cancelled_error reaches it", "[condition][cancel]") {
  coio::condition c;
  std::vector<std::string> log;
  auto w = coio::create_task(wait_once(c, log, "w"));
  co_await yield_turns(3);
  auto guard = co_await c.scoped_acquire();  // the waiter must wait for this to re-acquire
  w.cancel();
  co_await yield_turns(2);
  guard.release();
  const bool cancelled = co_await ends_cancelled(w);
  REQUIRE(cancelled);
  REQUIRE(log == std::vector<std::string>{"w cancelled, lock held: yes"});
  REQUIRE_FALSE(c.locked());
}

COIO_TEST_CASE("a notification to a waiter cancelled before it runs goes to the next one", "[condition][cancel]") {
  coio::condition c;
  std::vector<std::string> log;
  auto first = coio::create_task(wait_once(c, log, "first"));
  auto second = coio::create_task(wait_once(c, log, "second"));
  co_await yield_turns(3);
  co_await c.acquire();
  c.notify(1);     // handed to `first`...
  first.cancel();  // ...cancelled before it runs
  c.release();
  const bool cancelled = co_await ends_cancelled(first);
  REQUIRE(cancelled);
  co_await second;
  REQUIRE(log.back() == "second");
}

COIO_TEST_CASE("wait and notify without the lock throw runtime_error", "[condition]") {
  coio::condition c;
  REQUIRE_THROWS_AS(c.notify(), coio::runtime_error);
  REQUIRE_THROWS_AS(c.notify_all(), coio::runtime_error);
  bool threw = false;
  try {
    co_await c.wait();
  } catch (const coio::runtime_error&) {
    threw = true;
  }
  REQUIRE(threw);
  coio::lock shared;
  coio::condition a(shared), b(shared);
  co_await a.acquire();
  REQUIRE(b.locked());  // one lock under both
  a.release();
}
