#include <coio/wait_for.hpp>

#include "coio_test.hpp"
#include "sample_tasks.hpp"

#include <coio/create_task.hpp>
#include <coio/sleep.hpp>

#include <chrono>
#include <stdexcept>
#include <string>

using namespace std::chrono_literals;

using samples::counts_cancellation;
using samples::fails_after;
using samples::value_after;

using samples::yield_turns;

namespace {

coio::task<int> slow_with_cleanup(bool& cleaned_up) {
  try {
    co_await coio::sleep(10s);
  } catch (const coio::cancelled_error&) {
    cleaned_up = false;  // cleanup starts; it must finish before wait_for throws
  }
  co_await coio::sleep(5ms);  // an asynchronous cleanup step
  cleaned_up = true;
  throw coio::cancelled_error();
}

coio::task<int> cleanup_fails() {
  try {
    co_await coio::sleep(10s);
  } catch (const coio::cancelled_error&) {
    throw std::runtime_error("cleanup failed");
  }
  co_return 0;
}

coio::task<int> swallows_cancellation() {
  try {
    co_await coio::sleep(10s);
  } catch (const coio::cancelled_error&) {
    co_return 7;
  }
  co_return 0;
}

coio::task<int> records_start(bool& started) {
  started = true;
  co_return 1;
}

coio::task<int> wait_for_sleeper(int& inner_cancelled) {
  const int v = co_await coio::wait_for(counts_cancellation(inner_cancelled), 10s);
  co_return v;
}

// The inner of two nested timeouts, recording whether *it* timed out.
coio::task<int> inner_timeout(std::chrono::milliseconds inner_limit, bool& inner_timed_out) {
  try {
    const int v = co_await coio::wait_for(value_after(1s, 1), inner_limit);
    co_return v;
  } catch (const coio::timeout_error&) {
    inner_timed_out = true;
    throw;
  }
}

}  // namespace

COIO_TEST_CASE("wait_for returns the result of work that finishes in time", "[wait_for]") {
  const int v = co_await coio::wait_for(value_after(1ms, 3), 5s);
  REQUIRE(v == 3);
  auto f = coio::create_task(value_after(1ms, 4));
  const int w = co_await coio::wait_for(f, 5s);
  REQUIRE(w == 4);
}

COIO_TEST_CASE("wait_for waits for the inner cleanup before throwing timeout_error", "[wait_for]") {
  bool cleaned_up = false;
  bool timed_out = false;
  try {
    const int v = co_await coio::wait_for(slow_with_cleanup(cleaned_up), 10ms);
    (void)v;
  } catch (const coio::timeout_error&) {
    timed_out = true;
  }
  REQUIRE(timed_out);
  REQUIRE(cleaned_up);
}

COIO_TEST_CASE("wait_for re-raises an exception thrown during cancellation", "[wait_for]") {
  std::string what;
  try {
    const int v = co_await coio::wait_for(cleanup_fails(), 10ms);
    (void)v;
  } catch (const coio::timeout_error&) {
    what = "timeout";
  } catch (const std::runtime_error& e) {
    what = e.what();
  }
  REQUIRE(what == "cleanup failed");
}

COIO_TEST_CASE("wait_for returns the value when the inner work refuses the cancellation", "[wait_for]") {
  const int v = co_await coio::wait_for(swallows_cancellation(), 10ms);
  REQUIRE(v == 7);
}

COIO_TEST_CASE("a result ready in the same loop turn as the deadline wins", "[wait_for]") {
  auto& loop = coio::get_running_loop();
  auto f = loop.create_future<int>();
  const auto deadline = loop.now() + 10ms;
  loop.call_at(deadline, [f]() mutable { f.set_result(5); });  // same deadline, armed first
  const int v = co_await coio::timeout_at(f, deadline);
  REQUIRE(v == 5);
}

COIO_TEST_CASE("zero and negative timeouts: work not started, timeout_error; ready futures still give results",
               "[wait_for]") {
  for (auto limit : {0ms, -5ms}) {
    bool started = false;
    bool timed_out = false;
    try {
      const int v = co_await coio::wait_for(records_start(started), limit);
      (void)v;
    } catch (const coio::timeout_error&) {
      timed_out = true;
    }
    REQUIRE(timed_out);
    REQUIRE_FALSE(started);
  }
  auto ready = coio::get_running_loop().create_future<int>();
  ready.set_result(9);
  const int v = co_await coio::wait_for(ready, 0s);
  REQUIRE(v == 9);
  const int w = co_await coio::wait_for(value_after(1ms, 2), std::chrono::hours::max());
  REQUIRE(w == 2);
}

COIO_TEST_CASE("cancelling the task awaiting wait_for cancels the inner work", "[wait_for][cancel]") {
  int inner_cancelled = 0;
  auto outer = coio::create_task(wait_for_sleeper(inner_cancelled));
  co_await yield_turns(5);  // every task created above reached its first suspension
  outer.cancel();
  const bool outer_cancelled = co_await ends_cancelled(outer);
  REQUIRE(outer_cancelled);  // cancelled_error, not timeout_error
  REQUIRE(inner_cancelled == 1);
}

COIO_TEST_CASE("nested timeouts: only the expiring one raises; the outer sees the inner's outcome", "[wait_for]") {
  // The inner limit expires first: the inner raises timeout_error, the outer passes it on.
  bool inner_timed_out = false;
  bool outer_saw_timeout = false;
  try {
    const int v = co_await coio::wait_for(inner_timeout(10ms, inner_timed_out), 5s);
    (void)v;
  } catch (const coio::timeout_error&) {
    outer_saw_timeout = true;
  }
  REQUIRE(inner_timed_out);
  REQUIRE(outer_saw_timeout);
  // The outer limit expires first: the inner is cancelled (no timeout of its own), the outer
  // raises timeout_error.
  inner_timed_out = false;
  bool outer_timed_out = false;
  try {
    const int v = co_await coio::wait_for(inner_timeout(5s, inner_timed_out), 10ms);
    (void)v;
  } catch (const coio::timeout_error&) {
    outer_timed_out = true;
  }
  REQUIRE(outer_timed_out);
  REQUIRE_FALSE(inner_timed_out);
}

COIO_TEST_CASE("timeout_at takes a time point", "[wait_for]") {
  auto& loop = coio::get_running_loop();
  bool timed_out = false;
  try {
    const int v = co_await coio::timeout_at(value_after(1s, 1), loop.now() + 5ms);
    (void)v;
  } catch (const coio::timeout_error&) {
    timed_out = true;
  }
  REQUIRE(timed_out);
}
