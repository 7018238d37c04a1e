#include <coio/future.hpp>

#include "coio_test.hpp"

#include <coio/create_task.hpp>
#include <coio/sleep.hpp>
#include <coio/wait.hpp>

#include <chrono>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

using namespace std::chrono_literals;

namespace {

coio::task<> set_later(coio::promise<int> p, int value) {
  co_await coio::sleep(1ms);
  p.set_result(value);
}

coio::task<int> wait_for_future(coio::future<int> f) {
  const int v = co_await f;
  co_return v;
}

coio::task<> fail_later(coio::promise<int> p) {
  co_await coio::sleep(1ms);
  p.set_exception(std::runtime_error("nope"));
}

}  // namespace

COIO_TEST_CASE("a promise completes its future and wakes the awaiter", "[future]") {
  coio::promise<int> p;
  coio::future<int> f = p.get_future();
  REQUIRE_FALSE(f.done());
  auto setter = coio::create_task(set_later(std::move(p), 5));
  const int v = co_await f;
  REQUIRE(v == 5);
  REQUIRE(f.done());
  REQUIRE_FALSE(f.cancelled());
  REQUIRE(f.result() == 5);
  REQUIRE(f.exception() == nullptr);
  co_await setter;
}

COIO_TEST_CASE("one future is awaited by many tasks", "[future]") {
  auto& loop = coio::get_running_loop();
  coio::future<int> f = loop.create_future<int>();
  std::vector<coio::future<int>> waiters;
  for (int i = 0; i < 5; ++i) waiters.push_back(coio::create_task(wait_for_future(f)));
  co_await coio::sleep(0s);
  f.set_result(11);
  for (auto& w : waiters) {
    const int v = co_await w;
    REQUIRE(v == 11);
  }
}

// coio::wait leaves the future alone when its task is cancelled (awaiting f directly would
// forward the cancellation to f).
coio::task<> record_when_done(coio::future<int> f, std::vector<int>& order, int tag) {
  std::vector<coio::future<int>> one{f};
  co_await coio::wait(std::move(one));
  order.push_back(tag);
}

COIO_TEST_CASE("a future's waiters are notified in the order they came, after others left from head, middle and tail",
               "[future]") {
  // The waiters form a ring in the state; leaving from any position keeps the rest in order.
  // Done callbacks record the order (each runs in the order it was notified); waiting tasks
  // take the places in between and leave when cancelled.
  auto& loop = coio::get_running_loop();
  coio::future<int> f = loop.create_future<int>();
  std::vector<int> order;
  std::vector<int> woken;
  std::vector<coio::future<>> tasks;
  tasks.push_back(coio::create_task(record_when_done(f, woken, 0)));  // will leave: the head
  co_await coio::sleep(0s);
  f.add_done_callback([&order] { order.push_back(1); });
  tasks.push_back(coio::create_task(record_when_done(f, woken, 2)));  // stays
  co_await coio::sleep(0s);
  f.add_done_callback([&order] { order.push_back(3); });
  tasks.push_back(coio::create_task(record_when_done(f, woken, 4)));  // will leave: the middle
  co_await coio::sleep(0s);
  f.add_done_callback([&order] { order.push_back(5); });
  tasks.push_back(coio::create_task(record_when_done(f, woken, 6)));  // will leave: the tail
  co_await coio::sleep(0s);
  tasks[0].cancel();
  tasks[2].cancel();
  tasks[3].cancel();
  co_await coio::sleep(0s);
  f.add_done_callback([&order] { order.push_back(7); });
  f.set_result(1);
  for (auto& t : tasks) {
    try {
      co_await t;
    } catch (const coio::cancelled_error&) {
    }
  }
  co_await coio::sleep(0s);
  REQUIRE(order == std::vector<int>{1, 3, 5, 7});
  REQUIRE(woken == std::vector<int>{2});
  REQUIRE(tasks[0].cancelled());
  REQUIRE(tasks[3].cancelled());
}

COIO_TEST_CASE("result() and exception() of a pending future throw invalid_state_error", "[future]") {
  auto f = coio::get_running_loop().create_future<int>();
  REQUIRE_THROWS_AS(f.result(), coio::invalid_state_error);
  REQUIRE_THROWS_AS(f.exception(), coio::invalid_state_error);
  f.set_result(1);
  co_return;
}

COIO_TEST_CASE("set_result on a finished future throws invalid_state_error", "[future]") {
  auto f = coio::get_running_loop().create_future<int>();
  f.set_result(1);
  REQUIRE_THROWS_AS(f.set_result(2), coio::invalid_state_error);
  REQUIRE_THROWS_AS(f.set_exception(std::make_exception_ptr(std::runtime_error("x"))), coio::invalid_state_error);
  REQUIRE(f.result() == 1);
  co_return;
}

COIO_TEST_CASE("an exception set on a future reaches its awaiter", "[future]") {
  coio::promise<int> p;
  auto f = p.get_future();
  auto failer = coio::create_task(fail_later(std::move(p)));
  bool caught = false;
  try {
    const int v = co_await f;
    (void)v;
  } catch (const std::runtime_error& e) {
    caught = std::string(e.what()) == "nope";
  }
  REQUIRE(caught);
  REQUIRE(f.exception() != nullptr);
  REQUIRE_THROWS_AS(f.result(), std::runtime_error);
  co_await failer;
}

COIO_TEST_CASE("cancelling a bare future makes awaiting it throw cancelled_error", "[future]") {
  auto f = coio::get_running_loop().create_future<int>();
  REQUIRE(f.cancel("stop"));
  REQUIRE(f.cancelled());
  REQUIRE(f.done());
  REQUIRE_FALSE(f.cancel());  // already done
  std::string message;
  try {
    const int v = co_await f;
    (void)v;
  } catch (const coio::cancelled_error& e) {
    message = e.message();
  }
  REQUIRE(message == "stop");
  REQUIRE_THROWS_AS(f.result(), coio::cancelled_error);
  REQUIRE_THROWS_AS(f.exception(), coio::cancelled_error);
}

COIO_TEST_CASE("a promise destroyed without a result breaks its future", "[future]") {
  coio::future<int> f;
  {
    coio::promise<int> p;
    f = p.get_future();
  }
  REQUIRE(f.done());
  REQUIRE_THROWS_AS(f.result(), coio::broken_promise);
  co_return;
}

COIO_TEST_CASE("add_done_callback runs on the loop after completion, or next turn if already done", "[future]") {
  auto f = coio::get_running_loop().create_future<int>();
  std::vector<std::string> calls;
  f.add_done_callback([&](coio::any_future& done) { calls.push_back("first:" + std::to_string(done.done())); });
  f.add_done_callback([&] { calls.push_back("second"); });
  f.set_result(3);
  REQUIRE(calls.empty());  // never inline
  co_await coio::sleep(0s);
  REQUIRE(calls == std::vector<std::string>{"first:1", "second"});
  f.add_done_callback([&] { calls.push_back("late"); });
  REQUIRE(calls.size() == 2);
  co_await coio::sleep(0s);
  REQUIRE(calls.back() == "late");
}

COIO_TEST_CASE("co_await on an lvalue future copies, on an rvalue future moves", "[future]") {
  auto f = coio::get_running_loop().create_future<std::string>();
  f.set_result(std::string(100, 'x'));
  const std::string copy = co_await f;
  REQUIRE(copy.size() == 100);
  REQUIRE(f.result().size() == 100);  // still there
  auto g = coio::get_running_loop().create_future<std::unique_ptr<int>>();
  g.set_result(std::make_unique<int>(4));
  std::unique_ptr<int> moved = co_await std::move(g);
  REQUIRE(*moved == 4);
}

COIO_TEST_CASE("future<void> and any_future", "[future]") {
  auto f = coio::get_running_loop().create_future<void>();
  coio::any_future erased = f;
  REQUIRE(erased == f);
  REQUIRE_FALSE(erased.is_task());
  REQUIRE(erased.name().empty());
  f.set_result();
  co_await erased;
  co_await f;
  REQUIRE(erased.done());
}

COIO_TEST_CASE("an unretrieved future exception is reported exactly once", "[future]") {
  auto& loop = coio::get_running_loop();
  int reports = 0;
  std::string message;
  loop.set_exception_handler([&](coio::event_loop&, const coio::exception_context& c) {
    ++reports;
    message = c.message;
  });
  {
    auto f = loop.create_future<int>();
    f.set_exception(std::make_exception_ptr(std::runtime_error("lost")));
    coio::any_future copy = f;  // two handles: reported when the last goes
  }
  REQUIRE(reports == 1);
  REQUIRE(message == "Future exception was never retrieved");
  {
    auto f = loop.create_future<int>();
    f.set_exception(std::make_exception_ptr(std::runtime_error("seen")));
    REQUIRE(f.exception() != nullptr);  // retrieved: no report
  }
  REQUIRE(reports == 1);
  loop.set_exception_handler(nullptr);
  co_return;
}

COIO_TEST_CASE("a pending future dropped with a done callback frees both, never runs it", "[future]") {
  int ran = 0;
  {
    auto f = coio::get_running_loop().create_future<int>();
    f.add_done_callback([&](coio::any_future&) { ++ran; });
    f.add_done_callback([&] { ++ran; });
  }  // last handle gone while pending: LSan (ASan job) reports the cycle if it leaks
  co_await coio::sleep(0s);
  REQUIRE(ran == 0);
}

TEST_CASE("done callbacks of a future still pending when its loop closes are dropped", "[future]") {
  int ran = 0;
  coio::future<int> survivor;
  {
    coio::event_loop loop;
    survivor = loop.create_future<int>();
    survivor.add_done_callback([&] { ++ran; });
  }
  survivor.set_result(1);  // the loop is gone: nothing may touch it, nothing runs
  REQUIRE(ran == 0);
  REQUIRE(survivor.result() == 1);
  REQUIRE_THROWS_AS(survivor.add_done_callback([] {}), coio::runtime_error);
}

COIO_TEST_CASE("a future outlives its loop", "[future]") {
  coio::future<int> kept;
  {
    coio::event_loop loop;
    kept = loop.create_future<int>();
    kept.set_result(8);
  }
  REQUIRE(kept.result() == 8);
  co_return;
}
