#include <coio/create_task.hpp>

#include "coio_test.hpp"
#include "lifetime.hpp"
#include "sample_tasks.hpp"

#include <coio/sleep.hpp>

#include <algorithm>
#include <chrono>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

using namespace std::chrono_literals;

using samples::yield_turns;

namespace {

coio::task<int> trivial(int i) { co_return i; }

coio::task<> record(std::vector<int>& order, int id) {
  order.push_back(id);
  co_return;
}

coio::task<> sleeper(bool& cleaned_up, bool& caught, lifetime_counter& life) {
  tracked guard(life);
  try {
    co_await coio::sleep(10s);
  } catch (const coio::cancelled_error&) {
    caught = true;
    cleaned_up = true;
    throw;
  }
}

coio::task<int> refuses_cancellation() {
  try {
    co_await coio::sleep(10s);
  } catch (const coio::cancelled_error&) {
    co_return 99;  // asyncio allows a task to swallow its cancellation
  }
  co_return 0;
}

coio::task<int> awaits_other(coio::future<int> inner) {
  const int v = co_await inner;
  co_return v;
}

coio::task<> awaits_other_void(coio::future<> inner) { co_await inner; }

coio::task<> awaits_itself(coio::future<coio::any_future> self_future) {
  coio::any_future me = co_await self_future;
  co_await me;  // refused: would wait forever
}

coio::task<> body_runs(bool& ran) {
  ran = true;
  co_return;
}

coio::task<std::string> my_name() {
  auto self = coio::current_task();
  co_return self.name();
}

coio::task<> fails() {
  co_await coio::sleep(0s);
  throw std::runtime_error("task failed");
}

}  // namespace

COIO_TEST_CASE("create_task starts at the next turn and tasks run in FIFO order", "[create_task]") {
  std::vector<int> order;
  auto a = coio::create_task(record(order, 1));
  auto b = coio::create_task(record(order, 2));
  auto c = coio::create_task(record(order, 3));
  REQUIRE(order.empty());  // nothing ran yet
  co_await a;
  co_await b;
  co_await c;
  REQUIRE(order == std::vector<int>{1, 2, 3});
}

COIO_TEST_CASE("awaiting a task gives its result; done/cancelled/result agree", "[create_task]") {
  auto f = coio::create_task(trivial(5));
  REQUIRE(f.is_task());
  REQUIRE_FALSE(f.done());
  const int v = co_await f;
  REQUIRE(v == 5);
  REQUIRE(f.done());
  REQUIRE_FALSE(f.cancelled());
  REQUIRE(f.result() == 5);
}

COIO_TEST_CASE("cancellation runs catch blocks and destructors", "[create_task][cancel]") {
  bool cleaned_up = false, caught = false;
  lifetime_counter life;
  auto f = coio::create_task(sleeper(cleaned_up, caught, life));
  co_await yield_turns(5);  // every task created above reached its first suspension
  REQUIRE(life.alive() == 1);
  REQUIRE(f.cancel());
  const bool saw_cancel = co_await ends_cancelled(f);
  REQUIRE(saw_cancel);
  REQUIRE(caught);
  REQUIRE(cleaned_up);
  REQUIRE(life.alive() == 0);
  REQUIRE(f.cancelled());
}

COIO_TEST_CASE("cancel before the first step: the body never runs", "[create_task][cancel]") {
  bool ran = false;
  auto f = coio::create_task(body_runs(ran));
  REQUIRE(f.cancel());
  REQUIRE_FALSE(f.done());  // as asyncio: done once the loop processed the cancellation
  co_await coio::sleep(0s);
  co_await coio::sleep(0s);
  REQUIRE(f.cancelled());
  REQUIRE_FALSE(ran);
}

COIO_TEST_CASE("cancel after done is a no-op returning false", "[create_task][cancel]") {
  auto f = coio::create_task(trivial(1));
  const int v = co_await f;
  REQUIRE(v == 1);
  REQUIRE_FALSE(f.cancel());
  REQUIRE_FALSE(f.cancelled());
  REQUIRE(f.result() == 1);
}

COIO_TEST_CASE("cancelling a task cancels the task it is awaiting", "[create_task][cancel]") {
  bool cleaned_up = false, caught = false;
  lifetime_counter life;
  auto inner = coio::create_task(sleeper(cleaned_up, caught, life));
  auto outer = coio::create_task(awaits_other_void(inner));
  co_await yield_turns(5);  // every task created above reached its first suspension
  REQUIRE(outer.cancel("outer cancelled"));
  const bool outer_cancelled = co_await ends_cancelled(outer);
  REQUIRE(outer_cancelled);
  REQUIRE(inner.cancelled());
  REQUIRE(caught);
}

COIO_TEST_CASE("a task may catch its cancellation and return a value", "[create_task][cancel]") {
  auto f = coio::create_task(refuses_cancellation());
  co_await yield_turns(5);  // every task created above reached its first suspension
  REQUIRE(f.cancel());
  const int v = co_await f;
  REQUIRE(v == 99);
  REQUIRE_FALSE(f.cancelled());
}

COIO_TEST_CASE("an awaiter sees the value when the inner task refuses the cancellation", "[create_task][cancel]") {
  auto inner = coio::create_task(refuses_cancellation());
  auto outer = coio::create_task(awaits_other(inner));
  co_await yield_turns(5);  // every task created above reached its first suspension
  outer.cancel();
  const int v = co_await outer;
  REQUIRE(v == 99);
}

COIO_TEST_CASE("a task cannot await itself", "[create_task]") {
  auto& loop = coio::get_running_loop();
  auto self_future = loop.create_future<coio::any_future>();
  auto f = coio::create_task(awaits_itself(self_future));
  self_future.set_result(f);
  bool threw = false;
  try {
    co_await f;
  } catch (const coio::runtime_error&) {
    threw = true;
  }
  REQUIRE(threw);
}

COIO_TEST_CASE("current_task and all_tasks see the running tasks", "[create_task]") {
  auto self = coio::current_task();
  REQUIRE(self);
  REQUIRE(self.name() == "main");
  auto named = coio::create_task(my_name(), "worker-7");
  auto tasks = coio::all_tasks();
  REQUIRE(tasks.size() == 2);
  REQUIRE(std::count(tasks.begin(), tasks.end(), named) == 1);
  const std::string name = co_await named;
  REQUIRE(name == "worker-7");
  named.set_name("renamed");
  REQUIRE(named.name() == "renamed");
  auto unnamed = coio::create_task(trivial(0));
  REQUIRE(unnamed.name().rfind("Task-", 0) == 0);
  co_await unnamed;
  REQUIRE_FALSE(coio::any_future());
}

COIO_TEST_CASE("a task's name may be given as a std::string, a string_view or a literal", "[create_task]") {
  std::string owned = "from-string";
  auto a = coio::create_task(my_name(), owned);
  auto b = coio::create_task(my_name(), std::string_view("from-view"));
  auto c = coio::create_task(my_name(), std::string("from-temporary"));
  auto d = coio::get_running_loop().create_task(my_name(), "from-loop");
  owned = "changed";  // the task keeps its own copy
  const std::string na = co_await a;
  const std::string nb = co_await b;
  const std::string nc = co_await c;
  const std::string nd = co_await d;
  REQUIRE(na == "from-string");
  REQUIRE(nb == "from-view");
  REQUIRE(nc == "from-temporary");
  REQUIRE(nd == "from-loop");
}

COIO_TEST_CASE("create_task outside a running loop throws runtime_error", "[create_task]") {
  bool threw = false;
  std::thread other([&] {
    try {
      auto f = coio::create_task(trivial(1));
    } catch (const coio::runtime_error&) {
      threw = true;
    }
  });
  other.join();
  REQUIRE(threw);
  co_return;
}

COIO_TEST_CASE("a failed task's exception is reported once when nobody retrieves it", "[create_task]") {
  auto& loop = coio::get_running_loop();
  int reports = 0;
  std::string message, task_name;
  loop.set_exception_handler([&](coio::event_loop&, const coio::exception_context& c) {
    ++reports;
    message = c.message;
    task_name = c.task_name;
  });
  coio::create_task(fails(), "careless");  // result dropped
  for (int i = 0; i < 4; ++i) co_await coio::sleep(0s);
  REQUIRE(reports == 1);
  REQUIRE(message == "Task exception was never retrieved");
  REQUIRE(task_name == "careless");
  auto kept = coio::create_task(fails());
  bool caught = false;
  try {
    co_await kept;
  } catch (const std::runtime_error&) {
    caught = true;
  }
  REQUIRE(caught);
  kept = {};
  REQUIRE(reports == 1);  // awaited: retrieved
  loop.set_exception_handler(nullptr);
}
