#include <coio/thread_pool.hpp>

#include "coio_test.hpp"
#include "lifetime.hpp"
#include "sample_tasks.hpp"

#include <coio/create_task.hpp>
#include <coio/event.hpp>
#include <coio/gather.hpp>
#include <coio/sleep.hpp>
#include <coio/threadsafe.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <future>
#include <latch>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

using namespace std::chrono_literals;

namespace {

int twice(int x) { return 2 * x; }

std::string joined(std::string a, const std::string& b) { return a + b; }

/// Signals `ev` on `loop`'s thread, from any thread.
void signal(coio::event_loop& loop, coio::event& ev) {
  loop.call_soon_threadsafe([&ev] { ev.set(); });
}

/// Awaits a call of `pool` that blocks until `gate` opens, after signalling `started`.
coio::task<int> blocked_call(coio::thread_pool& pool, std::latch& gate, coio::event& started, int value) {
  coio::event_loop& loop = coio::get_running_loop();
  auto work = [&loop, &gate, &started, value] {
    signal(loop, started);
    gate.wait();
    return value;
  };
  const int v = co_await loop.run_in_executor(pool, work);
  co_return v;
}

/// Polls (a bounded wait, not an ordering assumption) until `done()` holds.
template <class Pred>
coio::task<bool> eventually(Pred done) {
  for (int i = 0; i < 5000; ++i) {
    if (done()) co_return true;
    co_await coio::sleep(1ms);
  }
  co_return done();
}

/// CPU work with no memory traffic: a xorshift over `iterations` rounds.
std::uint64_t spin(std::uint64_t iterations) {
  std::uint64_t x = 88172645463325252ull;
  for (std::uint64_t i = 0; i < iterations; ++i) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
  }
  return x;
}

coio::task<std::uint64_t> spin_on(coio::thread_pool& pool, std::uint64_t iterations) {
  const std::uint64_t v = co_await coio::get_running_loop().run_in_executor(pool, spin, iterations);
  co_return v;
}

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

/// Counts its destructions, from any thread.
struct counted_result {
  explicit counted_result(std::atomic<int>& d) : destroyed(&d) {}
  counted_result(counted_result&& other) noexcept : destroyed(std::exchange(other.destroyed, nullptr)) {}
  ~counted_result() {
    if (destroyed) destroyed->fetch_add(1);
  }
  std::atomic<int>* destroyed;
};

}  // namespace

COIO_TEST_CASE("to_thread gives the call's result", "[thread_pool]") {
  const int a = co_await coio::to_thread(twice, 21);
  REQUIRE(a == 42);

  auto make = [] { return std::make_unique<int>(7); };  // move-only result
  std::unique_ptr<int> p = co_await coio::to_thread(make);
  REQUIRE(*p == 7);

  std::string b = "b";
  const std::string s = co_await coio::to_thread(joined, std::string("a"), b);  // arguments are copied
  REQUIRE(s == "ab");

  int counter = 0;
  auto bump = [](int& c) { ++c; };
  co_await coio::to_thread(bump, std::ref(counter));  // void, and a reference through std::ref
  REQUIRE(counter == 1);
}

COIO_TEST_CASE("to_thread rethrows the call's exception", "[thread_pool]") {
  auto fails = []() -> int { throw std::invalid_argument("bad input"); };
  std::string message;
  try {
    co_await coio::to_thread(fails);
  } catch (const std::invalid_argument& e) {
    message = e.what();
  }
  REQUIRE(message == "bad input");
}

COIO_TEST_CASE("the call runs on a pool thread; the awaiting task resumes on the loop's thread", "[thread_pool]") {
  const std::thread::id loop_thread = std::this_thread::get_id();
  auto where = [] { return std::this_thread::get_id(); };
  const std::thread::id worker = co_await coio::to_thread(where);
  REQUIRE(worker != loop_thread);
  REQUIRE(std::this_thread::get_id() == loop_thread);

  // Inside a task created on the loop too, and after a call that failed.
  auto fails = []() -> int { throw std::runtime_error("x"); };
  try {
    co_await coio::to_thread(fails);
  } catch (const std::runtime_error&) {
  }
  REQUIRE(std::this_thread::get_id() == loop_thread);
}

COIO_TEST_CASE("many calls at once, gathered", "[thread_pool]") {
  std::vector<coio::task<int>> calls;
  auto call = [](int i) -> coio::task<int> {
    const int v = co_await coio::to_thread(twice, i);
    co_return v;
  };
  for (int i = 0; i < 200; ++i) calls.push_back(call(i));
  const std::vector<int> values = co_await coio::gather(std::move(calls));
  long sum = 0;
  for (int v : values) sum += v;
  REQUIRE(sum == 2 * (199 * 200 / 2));
}

COIO_TEST_CASE("cancelling while the call runs: cancelled_error at once, the result is dropped", "[thread_pool]") {
  coio::thread_pool pool(1);
  coio::event_loop& loop = coio::get_running_loop();
  std::latch gate(1);
  coio::event started;
  std::atomic<bool> finished{false};
  std::atomic<int> results_destroyed{0};
  auto work = [&] {
    signal(loop, started);
    gate.wait();
    finished = true;
    return counted_result(results_destroyed);
  };
  auto waiter = [](coio::event_loop& l, coio::thread_pool& p, decltype(work) w) -> coio::task<int> {
    counted_result r = co_await l.run_in_executor(p, w);
    co_return 1;
  };
  coio::future<int> f = coio::create_task(waiter(loop, pool, work));
  co_await started.wait();  // the call is running on the pool
  f.cancel();
  const bool cancelled = co_await ends_cancelled(f);
  REQUIRE(cancelled);
  REQUIRE_FALSE(finished);  // the awaiter did not wait for the call: its frame is gone already
  gate.count_down();
  const bool dropped = co_await eventually([&] { return results_destroyed.load() == 1; });
  REQUIRE(dropped);
  REQUIRE(finished);
}

COIO_TEST_CASE("cancelling a queued call removes it: it never runs, its captures go at once", "[thread_pool]") {
  coio::thread_pool pool(1);
  coio::event_loop& loop = coio::get_running_loop();
  std::latch gate(1);
  coio::event started;
  coio::future<int> first = coio::create_task(blocked_call(pool, gate, started, 1));
  co_await started.wait();  // the pool's only thread is busy

  lifetime_counter life;
  std::atomic<bool> ran{false};
  auto queued = [&ran, guard = tracked(life)] { ran = true; };
  auto waiter = [](coio::event_loop& l, coio::thread_pool& p, decltype(queued) w) -> coio::task<> {
    co_await l.run_in_executor(p, std::move(w));
  };
  coio::future<> second = coio::create_task(waiter(loop, pool, queued));
  co_await samples::yield_turns(2);  // `second` is suspended, its call queued
  const int alive = life.alive();
  second.cancel();
  REQUIRE(life.alive() == alive - 1);  // the queued copy of the call went at once
  const bool cancelled = co_await ends_cancelled(second);
  REQUIRE(cancelled);

  gate.count_down();
  const int v = co_await first;
  REQUIRE(v == 1);
  pool.shutdown();
  REQUIRE_FALSE(ran);
}

COIO_TEST_CASE("a task cancelled before it awaits never submits the call", "[thread_pool]") {
  std::atomic<bool> ran{false};
  auto work = [&ran] { ran = true; };
  coio::any_future self = coio::current_task();
  self.cancel();
  bool cancelled = false;
  try {
    co_await coio::to_thread(work);
  } catch (const coio::cancelled_error&) {
    cancelled = true;
  }
  REQUIRE(cancelled);
  REQUIRE_FALSE(ran);
}

COIO_TEST_CASE("shutting a pool down cancels its queued calls and waits for the running one", "[thread_pool]") {
  coio::thread_pool pool(1);
  coio::event_loop& loop = coio::get_running_loop();
  std::latch gate(1);
  coio::event started;
  coio::future<int> running = coio::create_task(blocked_call(pool, gate, started, 7));
  co_await started.wait();

  std::atomic<int> ran{0};
  auto work = [&ran] { return ++ran; };
  auto waiter = [](coio::event_loop& l, coio::thread_pool& p, decltype(work) w) -> coio::task<int> {
    const int v = co_await l.run_in_executor(p, w);
    co_return v;
  };
  std::vector<coio::future<int>> queued;
  for (int i = 0; i < 3; ++i) queued.push_back(coio::create_task(waiter(loop, pool, work)));
  co_await samples::yield_turns(2);  // all three queued behind the running call

  std::thread stopper([&pool] { pool.shutdown(); });  // blocks until the running call ends
  for (auto& q : queued) {
    const bool cancelled = co_await ends_cancelled(q);  // promptly: the running call still runs
    REQUIRE(cancelled);
  }
  gate.count_down();
  const int v = co_await running;
  REQUIRE(v == 7);
  stopper.join();
  REQUIRE(ran == 0);

  bool refused = false;
  try {
    co_await loop.run_in_executor(pool, work);
  } catch (const coio::runtime_error&) {
    refused = true;
  }
  REQUIRE(refused);
}

COIO_TEST_CASE("run_in_executor with an explicit pool", "[thread_pool]") {
  coio::thread_pool pool(1);
  coio::event_loop& loop = coio::get_running_loop();
  auto where = [] { return std::this_thread::get_id(); };
  const std::thread::id a = co_await loop.run_in_executor(pool, where);
  const std::thread::id b = co_await loop.run_in_executor(&pool, where);
  REQUIRE(a == b);  // the pool's single thread
  REQUIRE(a != std::this_thread::get_id());
  REQUIRE(pool.thread_count() == 1);
  REQUIRE(pool.max_threads() == 1);

  const int v = co_await loop.run_in_executor(nullptr, twice, 4);  // null: the default pool
  REQUIRE(v == 8);
  REQUIRE(loop.default_executor_owner()->max_threads() == coio::detail::default_pool_size());
}

COIO_TEST_CASE("CPU-bound calls on two threads run in parallel", "[thread_pool]") {
  if (std::thread::hardware_concurrency() < 2) {
    WARN("fewer than 2 CPUs: skipped");
    co_return;
  }
  coio::thread_pool pool(2);
  coio::event_loop& loop = coio::get_running_loop();

  // Deterministic: two calls are running at the same time (each waits for the other to start;
  // a pool that ran them one after the other would never get past this).
  std::atomic<int> arrived{0};
  auto rendezvous = [&arrived] {
    ++arrived;
    const auto deadline = std::chrono::steady_clock::now() + 30s;
    while (arrived.load() < 2 && std::chrono::steady_clock::now() < deadline) std::this_thread::yield();
    return arrived.load() == 2;
  };
  auto meet = [](coio::event_loop& l, coio::thread_pool& p, decltype(rendezvous) r) -> coio::task<bool> {
    const bool met = co_await l.run_in_executor(p, r);
    co_return met;
  };
  const auto [met1, met2] = co_await coio::gather(meet(loop, pool, rendezvous), meet(loop, pool, rendezvous));
  REQUIRE(met1);
  REQUIRE(met2);

  // Timed: about 200 ms of work per call on this build (calibrated here, on the loop).
  const std::uint64_t probe = 1 << 24;
  const auto calibrate = std::chrono::steady_clock::now();
  const std::uint64_t check = spin(probe);
  const double per_iteration = seconds_since(calibrate) / static_cast<double>(probe);
  const std::uint64_t warm = co_await spin_on(pool, probe);
  REQUIRE(warm == check);
  const auto n = static_cast<std::uint64_t>(0.2 / per_iteration);

  // The machine may be shared, and while another process holds a core nothing runs in
  // parallel. So each attempt also times two plain std::threads doing the same work: the test
  // fails when plain threads get the speed-up (parallel < 0.8 x serial) in at least three
  // attempts and the pool in none; when neither gets it, there was no free core to show it on.
  double best_pool = 1e9;
  int plain_sped_up = 0;
  for (int attempt = 0; attempt < 10 && best_pool >= 0.8; ++attempt) {
    const auto serial_start = std::chrono::steady_clock::now();
    const std::uint64_t s1 = co_await spin_on(pool, n);
    const std::uint64_t s2 = co_await spin_on(pool, n);
    const double serial = seconds_since(serial_start);
    const auto parallel_start = std::chrono::steady_clock::now();
    const auto [p1, p2] = co_await coio::gather(spin_on(pool, n), spin_on(pool, n));
    const double parallel = seconds_since(parallel_start);
    REQUIRE(s1 == s2);
    REQUIRE(p1 == s1);
    REQUIRE(p2 == s1);
    const auto plain_start = std::chrono::steady_clock::now();
    std::uint64_t t1 = 0, t2 = 0;
    std::thread a([&t1, n] { t1 = spin(n); });
    std::thread b([&t2, n] { t2 = spin(n); });
    a.join();
    b.join();
    const double plain = seconds_since(plain_start);
    REQUIRE(t1 == s1);
    REQUIRE(t2 == s1);
    best_pool = std::min(best_pool, parallel / serial);
    if (plain / serial < 0.8) ++plain_sped_up;
    UNSCOPED_INFO("attempt " << attempt << ": serial " << serial << " s, pool parallel " << parallel
                             << " s, plain threads " << plain << " s");
  }
  if (best_pool >= 0.8 && plain_sped_up < 3) {
    WARN("no free core to show the speed-up on (best pool parallel / serial " << best_pool << ")");
  } else {
    INFO("best pool parallel / serial = " << best_pool);
    REQUIRE(best_pool < 0.8);
  }
}

COIO_TEST_CASE("after shutdown_default_executor, to_thread throws runtime_error", "[thread_pool]") {
  coio::event_loop& loop = coio::get_running_loop();
  const int v = co_await coio::to_thread(twice, 1);  // creates the default pool
  REQUIRE(v == 2);
  loop.shutdown_default_executor();
  bool refused = false;
  try {
    co_await coio::to_thread(twice, 2);
  } catch (const coio::runtime_error&) {
    refused = true;
  }
  REQUIRE(refused);
}

COIO_TEST_CASE("a call may call back into its loop", "[thread_pool]") {
  coio::event_loop& loop = coio::get_running_loop();
  auto ask_loop = [&loop] {
    std::future<int> r = coio::run_coroutine_threadsafe(samples::value_after(1ms, 5), loop);
    return r.get();
  };
  const int v = co_await coio::to_thread(ask_loop);
  REQUIRE(v == 5);
}

TEST_CASE("thread_pool(0) throws value_error", "[thread_pool]") {
  REQUIRE_THROWS_AS(coio::thread_pool(0), coio::value_error);
}

namespace {

coio::task<> sleeps_on_a_thread(std::atomic<bool>& finished, coio::event& started) {
  coio::event_loop& loop = coio::get_running_loop();
  auto work = [&finished, &started, &loop] {
    signal(loop, started);
    std::this_thread::sleep_for(100ms);
    finished = true;
  };
  co_await coio::to_thread(work);
}

coio::task<> leaves_a_call_running(std::atomic<bool>& finished) {
  coio::event started;
  coio::create_task(sleeps_on_a_thread(finished, started));
  co_await started.wait();
}

coio::task<> asks_the_loop_late(std::atomic<int>& outcome, coio::event& started) {
  coio::event_loop& loop = coio::get_running_loop();
  auto work = [&outcome, &started, &loop] {
    signal(loop, started);
    std::this_thread::sleep_for(50ms);  // main has returned by now, most likely: run is shutting down
    try {
      std::future<int> r = coio::run_coroutine_threadsafe(samples::value_after(1ms, 5), loop);
      outcome = r.get();
    } catch (const coio::cancelled_error&) {
      outcome = -1;
    } catch (...) {
      outcome = -2;
    }
  };
  co_await coio::to_thread(work);
}

coio::task<> leaves_a_call_that_needs_the_loop(std::atomic<int>& outcome) {
  coio::event started;
  coio::create_task(asks_the_loop_late(outcome, started));
  co_await started.wait();
}

coio::task<> awaits_a_call_forever(coio::thread_pool& pool, std::latch& gate, coio::event& started) {
  const int v = co_await blocked_call(pool, gate, started, 1);
  (void)v;
}

}  // namespace

TEST_CASE("coio::run waits for the default pool's running calls at exit", "[thread_pool]") {
  std::atomic<bool> finished{false};
  coio::run(leaves_a_call_running(finished));
  REQUIRE(finished);
}

TEST_CASE("coio::run keeps the loop running while it waits for the default pool", "[thread_pool]") {
  std::atomic<int> outcome{0};
  coio::run(leaves_a_call_that_needs_the_loop(outcome));  // would deadlock otherwise
  REQUIRE(outcome != 0);
}

TEST_CASE("a loop closed while its task awaits a call on a pool that outlives it", "[thread_pool]") {
  coio::thread_pool pool(1);
  std::latch gate(1);
  {
    coio::event_loop loop;
    coio::event started;
    auto until_started = [](coio::event& s) -> coio::task<> { co_await s.wait(); };
    coio::future<> waiting = loop.create_task(awaits_a_call_forever(pool, gate, started));
    loop.run_until_complete(until_started(started));
  }  // the loop closes: the awaiting frame is destroyed while the call runs
  gate.count_down();
  pool.shutdown();  // the call finishes and reports to no one
  SUCCEED();
}
