#include <coio/shield.hpp>

#include "coio_test.hpp"
#include "lifetime.hpp"
#include "sample_tasks.hpp"

#include <coio/create_task.hpp>
#include <coio/sleep.hpp>

#include <chrono>

using namespace std::chrono_literals;

using samples::yield_turns;

namespace {

coio::task<int> work(lifetime_counter& life, bool& finished) {
  tracked guard(life);
  co_await coio::sleep(200ms);  // long enough to still run after the awaiter is cancelled
  finished = true;
  co_return 11;
}

coio::task<int> await_shielded(coio::future<int> inner) {
  const int v = co_await coio::shield(inner);
  co_return v;
}

}  // namespace

COIO_TEST_CASE("shield: cancelling the awaiter leaves the inner task running", "[shield][cancel]") {
  lifetime_counter life;
  bool finished = false;
  auto inner = coio::create_task(work(life, finished));
  auto outer = coio::create_task(await_shielded(inner));
  co_await yield_turns(5);  // every task created above reached its first suspension
  outer.cancel();
  const bool outer_cancelled = co_await ends_cancelled(outer);
  REQUIRE(outer_cancelled);
  REQUIRE_FALSE(inner.done());  // still running
  const int v = co_await inner;
  REQUIRE(v == 11);
  REQUIRE(finished);
  REQUIRE(life.alive() == 0);  // and nothing leaked (LSan checks the frames in the ASan job)
}

COIO_TEST_CASE("shield of a lazy task runs it and gives its result", "[shield]") {
  lifetime_counter life;
  bool finished = false;
  auto shielded = coio::shield(work(life, finished));
  const int v = co_await std::move(shielded);
  REQUIRE(v == 11);
  REQUIRE(finished);
}

COIO_TEST_CASE("a shielded task survives its awaiter being cancelled and is still awaitable", "[shield][cancel]") {
  lifetime_counter life;
  bool finished = false;
  auto shielded = coio::shield(work(life, finished));
  auto inner = shielded.inner();
  coio::current_task().cancel();  // the next suspension point of this task throws
  bool cancelled = false;
  try {
    const int v = co_await std::move(shielded);
    (void)v;
  } catch (const coio::cancelled_error&) {
    cancelled = true;
  }
  REQUIRE(cancelled);
  const int v = co_await inner;
  REQUIRE(v == 11);
}
