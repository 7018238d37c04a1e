#include <coio/event_loop.hpp>

#include "coio_test.hpp"
#include "lifetime.hpp"

#include <coio/create_task.hpp>
#include <coio/sleep.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <signal.h>
#include <unistd.h>

using namespace std::chrono_literals;

namespace {

coio::task<> sleep_forever(lifetime_counter& life, int& resumed) {
  tracked guard(life);
  co_await coio::sleep(1h);
  ++resumed;  // must never run: the loop is destroyed while we sleep
}

coio::task<> wait_on(coio::future<int> f, lifetime_counter& life, int& resumed) {
  tracked guard(life);
  const int v = co_await f;
  resumed += v;
}

coio::task<int> trivial(int i) { co_return i; }

coio::task<> hog_the_loop() {
  std::this_thread::sleep_for(std::chrono::milliseconds(20));  // blocking on purpose
  co_return;
}

}  // namespace

TEST_CASE("call_soon runs callbacks in FIFO order, one turn after scheduling", "[event_loop]") {
  coio::event_loop loop;
  std::vector<int> order;
  for (int i = 0; i < 100; ++i) loop.call_soon([&order, i] { order.push_back(i); });
  loop.call_soon([&] {
    order.push_back(-1);
    loop.call_soon([&] { order.push_back(-2); });  // runs in the next turn, after 100..
    loop.stop();
  });
  loop.run_forever();
  REQUIRE(order.size() == 101);
  for (int i = 0; i < 100; ++i) REQUIRE(order[i] == i);
  REQUIRE(order.back() == -1);
  loop.run_once();
  REQUIRE(order.back() == -2);
}

TEST_CASE("shuffle_seed runs each turn in a seeded random order, reproducibly", "[event_loop]") {
  auto order_with = [](std::uint64_t seed) {
    coio::event_loop loop({.shuffle_seed = seed});
    std::vector<int> order;
    for (int i = 0; i < 100; ++i) loop.call_soon([&order, i] { order.push_back(i); });
    loop.call_soon([&] { loop.stop(); });  // stop() ends the loop after the whole turn
    loop.run_forever();
    return order;
  };
  const auto a = order_with(7), b = order_with(7), c = order_with(8);
  REQUIRE(a.size() == 100);
  REQUIRE(a == b);  // same seed, same order
  REQUIRE(a != c);
  REQUIRE_FALSE(std::is_sorted(a.begin(), a.end()));  // not FIFO
}

TEST_CASE("timers with equal deadlines fire in the order they were set", "[event_loop]") {
  coio::event_loop loop;
  std::vector<int> order;
  const auto when = loop.now() + 2ms;
  for (int i = 0; i < 50; ++i) loop.call_at(when, [&order, i] { order.push_back(i); });
  loop.call_at(when + 1ms, [&] { loop.stop(); });
  loop.call_at(when - 1ms, [&] { order.push_back(-1); });  // earlier deadline first
  loop.run_forever();
  REQUIRE(order.size() == 51);
  REQUIRE(order[0] == -1);
  for (int i = 0; i < 50; ++i) REQUIRE(order[i + 1] == i);
}

TEST_CASE("zero, negative and huge timer delays", "[event_loop]") {
  coio::event_loop loop;
  std::vector<std::string> fired;
  auto huge = loop.call_later(std::chrono::nanoseconds::max(), [&] { fired.push_back("huge"); });
  auto huge_hours = loop.call_later(std::chrono::hours::max(), [&] { fired.push_back("huge hours"); });
  loop.call_later(0s, [&] { fired.push_back("zero"); });
  loop.call_later(-5s, [&] { fired.push_back("negative"); });
  loop.call_later(std::chrono::seconds::min(), [&] { fired.push_back("min"); });
  loop.call_later(1ms, [&] { loop.stop(); });
  loop.run_forever();
  REQUIRE(fired == std::vector<std::string>{"zero", "negative", "min"});
  REQUIRE(huge.when() == coio::event_loop::time_point::max());
  REQUIRE(huge_hours.when() == coio::event_loop::time_point::max());
  REQUIRE_FALSE(huge.cancelled());
}

TEST_CASE("10,000 random timers fire in deadline order, FIFO on ties; cancelled ones never", "[event_loop]") {
  coio::event_loop loop;
  struct fired_timer {
    coio::event_loop::time_point when;
    int id;
  };
  std::vector<fired_timer> fired;
  std::vector<coio::timer_handle> handles;
  std::uint32_t x = 12345;  // the benchmark suite's LCG: deterministic pseudo-random delays
  const auto base = loop.now() + 5ms;
  for (int id = 0; id < 10'000; ++id) {
    x = (x * 1103515245u + 12345u) & 0x7fffffffu;
    const auto when = base + std::chrono::microseconds(x % 20'000 / 100 * 100);  // many ties
    handles.push_back(loop.call_at(when, [&fired, when, id] { fired.push_back({when, id}); }));
  }
  for (int id = 0; id < 10'000; id += 3) handles[id].cancel();
  loop.call_at(base + 25ms, [&] { loop.stop(); });
  loop.run_forever();
  REQUIRE(fired.size() == 10'000 - 3334);
  for (std::size_t i = 0; i < fired.size(); ++i) {
    REQUIRE(fired[i].id % 3 != 0);
    if (i > 0) {
      const bool ordered =
          fired[i - 1].when < fired[i].when || (fired[i - 1].when == fired[i].when && fired[i - 1].id < fired[i].id);
      REQUIRE(ordered);
    }
  }
}

TEST_CASE("cancelling a timer twice, and after it fired, is harmless", "[event_loop]") {
  coio::event_loop loop;
  int fired = 0;
  auto cancelled = loop.call_later(1ms, [&] { ++fired; });
  auto kept = loop.call_later(1ms, [&] { fired += 10; });
  cancelled.cancel();
  cancelled.cancel();
  REQUIRE(cancelled.cancelled());
  loop.call_later(5ms, [&] { loop.stop(); });
  loop.run_forever();
  REQUIRE(fired == 10);
  kept.cancel();  // already ran
  kept.cancel();
  auto soon = loop.call_soon([&] { fired += 100; });
  soon.cancel();
  loop.call_soon([&] { loop.stop(); });
  loop.run_forever();
  REQUIRE(fired == 10);
}

TEST_CASE("call_soon_threadsafe from 8 threads: every callback runs on the loop's thread", "[event_loop][threads]") {
  coio::event_loop loop;
  constexpr int threads = 8, per_thread = 2000;
  std::atomic<int> started{0};
  int ran = 0;  // only touched on the loop's thread
  bool wrong_thread = false;
  const auto loop_thread = std::this_thread::get_id();
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&] {
      ++started;
      for (int i = 0; i < per_thread; ++i) {
        loop.call_soon_threadsafe([&] {
          if (std::this_thread::get_id() != loop_thread) wrong_thread = true;
          if (++ran == threads * per_thread) loop.stop();
        });
      }
    });
  }
  loop.run_forever();
  for (auto& t : pool) t.join();
  REQUIRE(ran == threads * per_thread);
  REQUIRE_FALSE(wrong_thread);
}

TEST_CASE("call_soon_threadsafe wakes a loop blocked in the selector", "[event_loop][threads]") {
  coio::event_loop loop;
  bool ran = false;
  loop.call_later(1h, [] {});  // the loop would otherwise sleep for an hour
  std::thread waker([&] {
    std::this_thread::sleep_for(20ms);
    loop.call_soon_threadsafe([&] {
      ran = true;
      loop.stop();
    });
  });
  loop.run_forever();
  waker.join();
  REQUIRE(ran);
}

TEST_CASE("destroying a loop with pending tasks destroys each frame exactly once", "[event_loop]") {
  lifetime_counter life;
  int resumed = 0;
  coio::future<> kept;
  {
    coio::event_loop loop;
    auto blocker = loop.create_future<int>();
    kept = loop.create_task(sleep_forever(life, resumed));
    for (int i = 0; i < 10; ++i) loop.create_task(sleep_forever(life, resumed));
    for (int i = 0; i < 10; ++i) loop.create_task(wait_on(blocker, life, resumed));
    for (int i = 0; i < 5; ++i) loop.create_task(trivial(i));  // never started
    loop.call_later(5ms, [&] { loop.stop(); });
    loop.run_forever();
    REQUIRE(life.alive() == 21);
  }
  REQUIRE(life.constructed == 21);
  REQUIRE(life.destroyed == 21);
  REQUIRE(resumed == 0);
  REQUIRE(kept.cancelled());
}

TEST_CASE("an exception thrown by a callback goes to the exception handler", "[event_loop]") {
  coio::event_loop loop;
  std::vector<std::string> seen;
  loop.set_exception_handler([&](coio::event_loop&, const coio::exception_context& c) {
    try {
      std::rethrow_exception(c.exception);
    } catch (const std::exception& e) {
      seen.push_back(c.message + ": " + e.what());
    }
  });
  loop.call_soon([] { throw std::runtime_error("bad callback"); });
  loop.call_soon([&] { loop.stop(); });
  loop.run_forever();
  REQUIRE(seen == std::vector<std::string>{"Exception in callback: bad callback"});
}

TEST_CASE("debug mode reports a step that holds the loop too long", "[event_loop]") {
  coio::event_loop loop({.debug = true, .slow_callback_duration = 5ms});
  REQUIRE(loop.get_debug());
  std::vector<std::string> seen;
  loop.set_exception_handler([&](coio::event_loop&, const coio::exception_context& c) { seen.push_back(c.message); });
  loop.call_soon([] { std::this_thread::sleep_for(20ms); });
  loop.call_soon([&] { loop.stop(); });
  loop.run_forever();
  REQUIRE(seen.size() == 1);
  REQUIRE(seen[0].find("Executing a callback took") != std::string::npos);
  seen.clear();
  loop.run_until_complete(loop.create_task(hog_the_loop(), "hog"));
  REQUIRE(seen.size() == 1);
  REQUIRE(seen[0].find("a step of task 'hog' took") != std::string::npos);
}

TEST_CASE("get_running_loop throws outside a running loop", "[event_loop]") {
  REQUIRE_THROWS_AS(coio::get_running_loop(), coio::runtime_error);
  coio::event_loop loop;
  coio::event_loop* seen = nullptr;
  loop.call_soon([&] {
    seen = &coio::get_running_loop();
    loop.stop();
  });
  loop.run_forever();
  REQUIRE(seen == &loop);
  REQUIRE_THROWS_AS(coio::get_running_loop(), coio::runtime_error);
}

TEST_CASE("time() and now() follow the monotonic clock", "[event_loop]") {
  coio::event_loop loop;
  const double t0 = loop.time();
  const auto n0 = loop.now();
  std::this_thread::sleep_for(2ms);
  REQUIRE(loop.time() > t0);
  REQUIRE(loop.now() > n0);
}

TEST_CASE("a closed loop refuses new work", "[event_loop]") {
  coio::event_loop loop;
  loop.close();
  REQUIRE(loop.is_closed());
  REQUIRE_THROWS_AS(loop.call_soon([] {}), coio::runtime_error);
  REQUIRE_THROWS_AS(loop.call_soon_threadsafe([] {}), coio::runtime_error);
  REQUIRE_THROWS_AS(loop.run_forever(), coio::runtime_error);
}

TEST_CASE("add_signal_handler runs the callback on the loop; remove restores", "[event_loop]") {
  coio::event_loop loop;
  int got = 0;
  loop.add_signal_handler(SIGUSR1, [&] {
    ++got;
    loop.stop();
  });
  loop.call_soon([] { ::kill(::getpid(), SIGUSR1); });
  loop.call_later(10s, [&] { loop.stop(); });  // safety net
  loop.run_forever();
  REQUIRE(got == 1);
  REQUIRE(loop.remove_signal_handler(SIGUSR1));
  REQUIRE_FALSE(loop.remove_signal_handler(SIGUSR1));
  REQUIRE_THROWS_AS(loop.add_signal_handler(SIGKILL, [] {}), coio::value_error);
  coio::event_loop other;
  loop.add_signal_handler(SIGUSR2, [] {});
  REQUIRE_THROWS_AS(other.add_signal_handler(SIGUSR2, [] {}), coio::runtime_error);
  loop.remove_signal_handler(SIGUSR2);
}
