#include <coio/as_completed.hpp>

#include "coio_test.hpp"
#include "sample_tasks.hpp"

#include <coio/create_task.hpp>
#include <coio/sleep.hpp>

#include <chrono>
#include <stdexcept>
#include <string>
#include <vector>

using namespace std::chrono_literals;

using samples::counts_cancellation;
using samples::fails_after;
using samples::value_after;

using samples::yield_turns;

namespace {}  // namespace

COIO_TEST_CASE("as_completed gives results in completion order", "[as_completed]") {
  std::vector<coio::task<int>> tasks;
  tasks.push_back(value_after(30ms, 3));
  tasks.push_back(value_after(1ms, 1));
  tasks.push_back(value_after(15ms, 2));
  std::vector<int> order;
  for (auto next : coio::as_completed(std::move(tasks))) {
    const int v = co_await next;
    order.push_back(v);
  }
  REQUIRE(order == std::vector<int>{1, 2, 3});
}

COIO_TEST_CASE("as_completed surfaces exceptions in their completion order", "[as_completed]") {
  std::vector<coio::task<int>> tasks;
  tasks.push_back(value_after(1ms, 1));
  tasks.push_back(fails_after(10ms, "middle failed"));
  tasks.push_back(value_after(20ms, 3));
  std::vector<std::string> seen;
  for (auto next : coio::as_completed(std::move(tasks))) {
    try {
      const int v = co_await next;
      seen.push_back(std::to_string(v));
    } catch (const std::runtime_error& e) {
      seen.push_back(e.what());
    }
  }
  REQUIRE(seen == std::vector<std::string>{"1", "middle failed", "3"});
}

COIO_TEST_CASE("as_completed accepts futures and an empty vector", "[as_completed]") {
  std::vector<coio::future<int>> fs;
  fs.push_back(coio::create_task(value_after(5ms, 5)));
  fs.push_back(coio::create_task(value_after(1ms, 1)));
  int sum = 0;
  for (auto next : coio::as_completed(fs)) {
    const int v = co_await next;
    sum = sum * 10 + v;
  }
  REQUIRE(sum == 15);
  std::size_t count = 0;
  for (auto next : coio::as_completed(std::vector<coio::task<int>>{})) {
    (void)next;
    ++count;
  }
  REQUIRE(count == 0);
}

COIO_TEST_CASE("past the timeout: results ready before it, then timeout_error; started tasks are cancelled",
               "[as_completed]") {
  int slow_cancelled = 0;
  std::vector<coio::task<int>> tasks;
  tasks.push_back(value_after(1ms, 1));
  tasks.push_back(counts_cancellation(slow_cancelled));
  std::vector<std::string> seen;
  for (auto next : coio::as_completed(std::move(tasks), 300ms)) {
    try {
      const int v = co_await next;
      seen.push_back(std::to_string(v));
    } catch (const coio::timeout_error&) {
      seen.push_back("timeout");
    }
  }
  REQUIRE(seen == std::vector<std::string>{"1", "timeout"});
  co_await yield_turns(2);       // the cancelled task runs its catch block
  REQUIRE(slow_cancelled == 1);  // nothing it started is left running unnoticed
}

COIO_TEST_CASE("leaving an as_completed loop early cancels the tasks it started", "[as_completed]") {
  int cancelled = 0;
  {
    std::vector<coio::task<int>> tasks;
    tasks.push_back(value_after(1ms, 1));
    tasks.push_back(counts_cancellation(cancelled));
    for (auto next : coio::as_completed(std::move(tasks))) {
      const int v = co_await next;
      REQUIRE(v == 1);
      break;
    }
  }
  co_await yield_turns(2);  // the cancelled task runs its catch block
  REQUIRE(cancelled == 1);
}
