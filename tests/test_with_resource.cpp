#include <coio/with_resource.hpp>

#include "coio_test.hpp"
#include "lifetime.hpp"
#include "sample_tasks.hpp"

#include <coio/create_task.hpp>
#include <coio/event.hpp>
#include <coio/sleep.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

using namespace std::chrono_literals;

using samples::yield_turns;

namespace {

using journal = std::vector<std::string>;

// A resource whose close awaits: it yields once, optionally waits for `gate`, then may fail.
class connection {
 public:
  connection(journal& log, lifetime_counter& life, coio::event* gate, bool fail_close)
      : log_(&log), guard_(life), gate_(gate), fail_close_(fail_close) {}

  coio::task<> aclose() {
    log_->push_back("close start");
    co_await coio::sleep(0s);
    if (gate_) co_await gate_->wait();
    log_->push_back("close end");
    if (fail_close_) throw std::runtime_error("close failed");
  }

  journal& log() { return *log_; }

 private:
  journal* log_;
  tracked guard_;
  coio::event* gate_;
  bool fail_close_;
};

coio::task<connection> open(journal& log, lifetime_counter& life, coio::event* gate = nullptr,
                            bool fail_close = false) {
  log.push_back("open");
  co_await coio::sleep(0s);
  co_return connection(log, life, gate, fail_close);
}

coio::task<connection> open_fails(journal& log, lifetime_counter&) {
  log.push_back("open");
  co_await coio::sleep(0s);
  throw std::runtime_error("open failed");
}

coio::task<int> doubles(connection& c, int x) {
  c.log().push_back("use");
  co_await coio::sleep(0s);
  co_return x * 2;
}

coio::task<> uses(connection& c) {
  c.log().push_back("use");
  co_await coio::sleep(0s);
}

coio::task<int> body_fails(connection& c) {
  c.log().push_back("use");
  co_await coio::sleep(0s);
  throw std::runtime_error("body failed");
}

coio::task<int> sleeps_forever(connection& c) {
  c.log().push_back("use");
  co_await coio::sleep(10s);
  c.log().push_back("woke");
  co_return 0;
}

// Finishes without suspending after a cancellation of its own task was requested.
coio::task<int> cancels_itself(connection& c) {
  c.log().push_back("use");
  coio::current_task().cancel("self");
  co_return 1;
}

coio::task<std::unique_ptr<int>> boxed(connection& c, int v) {
  c.log().push_back("use");
  co_return std::make_unique<int>(v);
}

coio::task<int&> picks(connection& c, int& target) {
  c.log().push_back("use");
  co_return target;
}

const journal in_order{"open", "use", "close start", "close end"};

}  // namespace

COIO_TEST_CASE("with_resource returns the body's result after the close completed", "[with_resource]") {
  journal log;
  lifetime_counter life;
  const int v = co_await coio::with_resource(open(log, life), doubles, 21);
  REQUIRE(v == 42);
  REQUIRE(log == in_order);
  REQUIRE(life.alive() == 0);  // the resource is destroyed after its close
}

COIO_TEST_CASE("with_resource with a void body, a move-only result and a reference result", "[with_resource]") {
  journal log;
  lifetime_counter life;
  co_await coio::with_resource(open(log, life), uses);
  REQUIRE(log == in_order);

  log.clear();
  std::unique_ptr<int> p = co_await coio::with_resource(open(log, life), boxed, 7);
  REQUIRE(p);
  REQUIRE(*p == 7);
  REQUIRE(log == in_order);

  log.clear();
  int target = 0;
  int& r = co_await coio::with_resource(open(log, life), picks, std::ref(target));
  r = 5;
  REQUIRE(target == 5);
  REQUIRE(log == in_order);
  REQUIRE(life.alive() == 0);
}

COIO_TEST_CASE("with_resource closes the resource when the body throws, then rethrows", "[with_resource]") {
  journal log;
  lifetime_counter life;
  std::string error;
  try {
    const int v = co_await coio::with_resource(open(log, life), body_fails);
    (void)v;
  } catch (const std::runtime_error& e) {
    error = e.what();
  }
  REQUIRE(error == "body failed");
  REQUIRE(log == in_order);
  REQUIRE(life.alive() == 0);
}

COIO_TEST_CASE("with_resource: the close's exception comes out when the body succeeded", "[with_resource]") {
  journal log;
  lifetime_counter life;
  std::string error;
  try {
    const int v = co_await coio::with_resource(open(log, life, nullptr, true), doubles, 1);
    (void)v;
  } catch (const std::runtime_error& e) {
    error = e.what();
  }
  REQUIRE(error == "close failed");
  REQUIRE(log == in_order);
  REQUIRE(life.alive() == 0);
}

COIO_TEST_CASE("with_resource: when body and close both throw, the body's exception wins", "[with_resource]") {
  auto& loop = coio::get_running_loop();
  std::vector<std::string> reported;
  loop.set_exception_handler([&](coio::event_loop&, const coio::exception_context& c) {
    std::string what;
    try {
      std::rethrow_exception(c.exception);
    } catch (const std::exception& e) {
      what = e.what();
    }
    reported.push_back(what);
  });
  journal log;
  lifetime_counter life;
  std::string error;
  try {
    const int v = co_await coio::with_resource(open(log, life, nullptr, true), body_fails);
    (void)v;
  } catch (const std::runtime_error& e) {
    error = e.what();
  }
  co_await yield_turns(2);  // nothing else is reported later (no "never retrieved")
  loop.set_exception_handler(nullptr);
  REQUIRE(error == "body failed");
  REQUIRE(reported == std::vector<std::string>{"close failed"});  // the close's is not lost
  REQUIRE(log == in_order);
  REQUIRE(life.alive() == 0);
}

COIO_TEST_CASE("with_resource: a failed acquire runs neither body nor close", "[with_resource]") {
  journal log;
  lifetime_counter life;
  std::string error;
  try {
    const int v = co_await coio::with_resource(open_fails(log, life), doubles, 1);
    (void)v;
  } catch (const std::runtime_error& e) {
    error = e.what();
  }
  REQUIRE(error == "open failed");
  REQUIRE(log == journal{"open"});
}

COIO_TEST_CASE("with_resource: cancelled during the body, the close still runs to completion",
               "[with_resource][cancel]") {
  journal log;
  lifetime_counter life;
  coio::event gate;
  auto f = coio::create_task(coio::with_resource(open(log, life, &gate), sleeps_forever));
  co_await yield_turns(5);  // opened, and the body sleeps
  REQUIRE(log == journal{"open", "use"});
  f.cancel("first");
  co_await yield_turns(5);  // the body was cancelled; the close waits at the gate
  REQUIRE(log == journal{"open", "use", "close start"});
  REQUIRE_FALSE(f.done());
  f.cancel("second");  // does not reach the close either
  co_await yield_turns(3);
  REQUIRE_FALSE(f.done());
  REQUIRE(life.alive() == 1);
  gate.set();
  std::string message;
  try {
    co_await f;
  } catch (const coio::cancelled_error& e) {
    message = e.message();
  }
  REQUIRE(message == "first");  // the body's cancellation
  REQUIRE(log == in_order);
  REQUIRE(life.alive() == 0);
}

COIO_TEST_CASE("with_resource: cancelled during the close, it waits for the close, then is cancelled",
               "[with_resource][cancel]") {
  journal log;
  lifetime_counter life;
  coio::event gate;
  auto f = coio::create_task(coio::with_resource(open(log, life, &gate), doubles, 4));
  co_await yield_turns(10);  // the body is done; the close waits at the gate
  REQUIRE(log == journal{"open", "use", "close start"});
  f.cancel("during close");
  co_await yield_turns(3);
  REQUIRE_FALSE(f.done());
  gate.set();
  std::string message;
  try {
    co_await f;
  } catch (const coio::cancelled_error& e) {
    message = e.message();
  }
  REQUIRE(message == "during close");
  REQUIRE(log == in_order);
  REQUIRE(life.alive() == 0);
}

COIO_TEST_CASE("with_resource: a cancellation pending when the body ends is delivered after the close",
               "[with_resource][cancel]") {
  journal log;
  lifetime_counter life;
  std::string message;
  try {
    const int v = co_await coio::with_resource(open(log, life), cancels_itself);
    (void)v;
  } catch (const coio::cancelled_error& e) {
    message = e.message();
  }
  REQUIRE(message == "self");
  REQUIRE(log == in_order);
  REQUIRE(life.alive() == 0);
}
