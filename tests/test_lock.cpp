#include <coio/lock.hpp>

#include "coio_test.hpp"
#include "sample_tasks.hpp"

#include <coio/create_task.hpp>
#include <coio/sleep.hpp>

#include <chrono>
#include <vector>

using namespace std::chrono_literals;
using samples::yield_turns;

namespace {

coio::task<> hold_forever(coio::lock& l, bool& holding) {
  auto guard = co_await l.scoped_acquire();
  holding = true;
  co_await coio::sleep(10s);  // cancelled while holding the lock
}

coio::task<> increment(coio::lock& l, int& shared, int& overlaps, bool& inside) {
  auto guard = co_await l.scoped_acquire();
  if (inside) ++overlaps;
  inside = true;
  const int seen = shared;
  co_await coio::sleep(0s);  // a suspension inside the critical section
  shared = seen + 1;
  inside = false;
}

coio::task<> wait_for_lock(coio::lock& l, bool& got) {
  co_await l.acquire();
  got = true;
  l.release();
}

}  // namespace

COIO_TEST_CASE("the lock serialises critical sections that suspend", "[lock]") {
  coio::lock l;
  int shared = 0, overlaps = 0;
  bool inside = false;
  std::vector<coio::future<>> tasks;
  for (int i = 0; i < 50; ++i) tasks.push_back(coio::create_task(increment(l, shared, overlaps, inside)));
  for (auto& t : tasks) co_await t;
  REQUIRE(shared == 50);
  REQUIRE(overlaps == 0);
  REQUIRE_FALSE(l.locked());
}

COIO_TEST_CASE("a holder cancelled with a scoped guard releases the lock", "[lock][cancel]") {
  coio::lock l;
  bool holding = false;
  auto holder = coio::create_task(hold_forever(l, holding));
  co_await yield_turns(3);
  REQUIRE(holding);
  REQUIRE(l.locked());
  holder.cancel();
  const bool cancelled = co_await ends_cancelled(holder);
  REQUIRE(cancelled);
  REQUIRE_FALSE(l.locked());
}

COIO_TEST_CASE("a cancelled waiter does not leave the lock unusable", "[lock][cancel]") {
  coio::lock l;
  co_await l.acquire();
  bool got_first = false, got_second = false;
  auto first = coio::create_task(wait_for_lock(l, got_first));
  auto second = coio::create_task(wait_for_lock(l, got_second));
  co_await yield_turns(3);
  first.cancel();
  const bool cancelled = co_await ends_cancelled(first);
  REQUIRE(cancelled);
  l.release();
  co_await second;
  REQUIRE(got_second);
  REQUIRE_FALSE(got_first);
  REQUIRE_FALSE(l.locked());
  const bool taken = l.try_acquire();
  REQUIRE(taken);
  l.release();
}

COIO_TEST_CASE("try_acquire never waits; releasing an unheld lock throws runtime_error", "[lock]") {
  coio::lock l;
  REQUIRE_THROWS_AS(l.release(), coio::runtime_error);
  REQUIRE(l.try_acquire());
  REQUIRE(l.locked());
  REQUIRE_FALSE(l.try_acquire());
  l.release();
  REQUIRE_FALSE(l.locked());
  co_return;
}
