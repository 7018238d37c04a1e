#include <coio/event.hpp>

#include "coio_test.hpp"
#include "sample_tasks.hpp"

#include <coio/create_task.hpp>

#include <vector>

using samples::yield_turns;

namespace {

coio::task<> wait_and_count(coio::event& e, int& woken) {
  co_await e.wait();
  ++woken;
}

}  // namespace

COIO_TEST_CASE("set wakes every waiter, through the loop", "[event]") {
  coio::event e;
  int woken = 0;
  std::vector<coio::future<>> waiters;
  for (int i = 0; i < 5; ++i) waiters.push_back(coio::create_task(wait_and_count(e, woken)));
  co_await yield_turns(3);
  REQUIRE(woken == 0);
  e.set();
  REQUIRE(woken == 0);  // never inline
  REQUIRE(e.is_set());
  for (auto& w : waiters) co_await w;
  REQUIRE(woken == 5);
}

COIO_TEST_CASE("wait returns at once while set; clear makes it wait again", "[event]") {
  coio::event e;
  e.set();
  co_await e.wait();
  e.clear();
  REQUIRE_FALSE(e.is_set());
  int woken = 0;
  auto w = coio::create_task(wait_and_count(e, woken));
  co_await yield_turns(3);
  REQUIRE(woken == 0);
  e.set();
  co_await w;
  REQUIRE(woken == 1);
}

COIO_TEST_CASE("a cancelled waiter leaves; the others still wake", "[event][cancel]") {
  coio::event e;
  int woken = 0;
  auto a = coio::create_task(wait_and_count(e, woken));
  auto b = coio::create_task(wait_and_count(e, woken));
  co_await yield_turns(3);
  a.cancel();
  const bool cancelled = co_await ends_cancelled(a);
  REQUIRE(cancelled);
  e.set();
  co_await b;
  REQUIRE(woken == 1);
}
