#include <coio/task_group.hpp>

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

coio::task<> fails_while_cancelled() {
  try {
    co_await coio::sleep(10s);
  } catch (const coio::cancelled_error&) {
    throw std::logic_error("cleanup failed too");
  }
}

coio::task<int> sum_two(coio::task_group& g, int a, int b) {
  auto x = g.create_task(value_after(5ms, a));
  auto y = g.create_task(value_after(1ms, b));
  const int vx = co_await x;
  const int vy = co_await y;
  co_return vx + vy;
}

coio::task<> one_failure(coio::task_group& g, int* cancelled) {
  g.create_task(counts_cancellation(*cancelled));
  g.create_task(counts_cancellation(*cancelled));
  g.create_task(fails_after(2ms, "child failed"));
  co_await coio::sleep(10s);  // the body is cancelled too
}

coio::task<> five_children(coio::task_group& g, int* cancelled) {
  for (int i = 0; i < 5; ++i) g.create_task(counts_cancellation(*cancelled));
  co_return;
}

coio::task<> run_five(int* cancelled) { co_await coio::task_group::run(five_children, cancelled); }

coio::task<> two_failures(coio::task_group& g) {
  g.create_task(fails_while_cancelled());
  g.create_task(fails_after(2ms, "first"));
  co_return;
}

coio::task<> inner_group(coio::task_group&) { co_await coio::task_group::run(two_failures); }

coio::task<> outer_body(coio::task_group& g, int* cancelled) {
  g.create_task(counts_cancellation(*cancelled));
  g.create_task(inner_group(g));
  co_return;
}

coio::task<> late_spawner(coio::task_group& g, bool* refused) {
  g.create_task(fails_after(1ms, "boom"));
  try {
    co_await coio::sleep(10s);
  } catch (const coio::cancelled_error&) {
    try {
      g.create_task(value_after(1ms, 0));
    } catch (const coio::runtime_error&) {
      *refused = true;
    }
    throw;
  }
}

}  // namespace

COIO_TEST_CASE("task_group returns the body's result after every child finished", "[task_group]") {
  const int sum = co_await coio::task_group::run(sum_two, 40, 2);
  REQUIRE(sum == 42);
}

COIO_TEST_CASE("a child's failure cancels the body and the other children; failures come as exception_group",
               "[task_group]") {
  int cancelled = 0;
  std::size_t count = 0;
  std::string what;
  try {
    co_await coio::task_group::run(one_failure, &cancelled);
  } catch (const coio::exception_group& e) {
    count = e.exceptions().size();
    what = e.what();
  }
  REQUIRE(count == 1);  // always wrapped, even a single failure
  REQUIRE(what.find("child failed") != std::string::npos);
  REQUIRE(cancelled == 2);
}

COIO_TEST_CASE("cancelling the parent reaches all five children", "[task_group][cancel]") {
  int cancelled = 0;
  auto parent = coio::create_task(run_five(&cancelled));
  co_await yield_turns(5);  // every task created above reached its first suspension
  parent.cancel();
  const bool parent_cancelled = co_await ends_cancelled(parent);
  REQUIRE(parent_cancelled);
  REQUIRE(cancelled == 5);
}

COIO_TEST_CASE("multiple failures are all collected", "[task_group]") {
  std::size_t count = 0;
  try {
    co_await coio::task_group::run(two_failures);
  } catch (const coio::exception_group& e) {
    count = e.exceptions().size();
  }
  REQUIRE(count == 2);
}

COIO_TEST_CASE("nested groups: an inner group's failures reach the outer group as one exception_group",
               "[task_group]") {
  int cancelled = 0;
  bool nested = false;
  try {
    co_await coio::task_group::run(outer_body, &cancelled);
  } catch (const coio::exception_group& outer) {
    REQUIRE(outer.exceptions().size() == 1);
    try {
      std::rethrow_exception(outer.exceptions().front());
    } catch (const coio::exception_group& inner) {
      nested = inner.exceptions().size() == 2;
    }
  }
  REQUIRE(nested);
  REQUIRE(cancelled == 1);  // the outer group's other child was cancelled
}

COIO_TEST_CASE("a group that is shutting down refuses new children", "[task_group]") {
  bool refused = false;
  bool failed = false;
  try {
    co_await coio::task_group::run(late_spawner, &refused);
  } catch (const coio::exception_group&) {
    failed = true;
  }
  REQUIRE(failed);
  REQUIRE(refused);
}
