#include <coio/retry.hpp>

#include "coio_test.hpp"
#include "sample_tasks.hpp"

#include <coio/create_task.hpp>

#include <chrono>
#include <stdexcept>
#include <string>
#include <vector>

using namespace std::chrono_literals;
using samples::yield_turns;

namespace {

struct transient : std::runtime_error {
  transient() : std::runtime_error("transient") {}
};
struct permanent : std::runtime_error {
  permanent() : std::runtime_error("permanent") {}
};

coio::task<int> fails_until(int* calls, int succeed_on) {
  ++*calls;
  if (*calls < succeed_on) throw transient();
  co_return 42;
}

coio::task<int> always_permanent(int* calls) {
  ++*calls;
  throw permanent();
  co_return 0;
}

coio::task<int> cancelled_inside(int* calls) {
  ++*calls;
  throw coio::cancelled_error("stop");
  co_return 0;
}

coio::retry_policy fast_policy(std::vector<std::chrono::nanoseconds>& delays) {
  coio::retry_policy p;
  p.attempts = 5;
  p.initial_backoff = 1ms;
  p.multiplier = 2;
  p.max_backoff = 5ms;
  p.on_retry = [&delays](int, const std::exception_ptr&, coio::retry_policy::duration d) { delays.push_back(d); };
  return p;
}

coio::task<int> retry_forever_slowly(int* calls) {
  coio::retry_policy p;
  p.attempts = 100;
  p.initial_backoff = 10s;
  auto call = [calls] { return fails_until(calls, 1000); };
  const int v = co_await coio::retry(call, p);
  co_return v;
}

}  // namespace

COIO_TEST_CASE("retry succeeds after transient failures with an exponential, capped schedule", "[retry]") {
  int calls = 0;
  std::vector<std::chrono::nanoseconds> delays;
  auto call = [&calls] { return fails_until(&calls, 5); };
  const int v = co_await coio::retry(call, fast_policy(delays));
  REQUIRE(v == 42);
  REQUIRE(calls == 5);
  REQUIRE(delays == std::vector<std::chrono::nanoseconds>{1ms, 2ms, 4ms, 5ms});  // capped at 5 ms
}

COIO_TEST_CASE("jitter with a fixed seed is reproducible and stays within its bounds", "[retry]") {
  for (auto mode : {coio::jitter::full, coio::jitter::equal}) {
    std::vector<std::chrono::nanoseconds> first_run, second_run;
    for (auto* delays : {&first_run, &second_run}) {
      int calls = 0;
      auto policy = fast_policy(*delays);
      policy.jitter = mode;
      policy.seed = 7;
      auto call = [&calls] { return fails_until(&calls, 5); };
      const int v = co_await coio::retry(call, policy);
      REQUIRE(v == 42);
    }
    REQUIRE(first_run == second_run);
    const std::vector<std::chrono::nanoseconds> caps{1ms, 2ms, 4ms, 5ms};
    for (std::size_t i = 0; i < caps.size(); ++i) {
      REQUIRE(first_run[i] <= caps[i]);
      if (mode == coio::jitter::equal) REQUIRE(first_run[i] >= caps[i] / 2);
    }
  }
}

COIO_TEST_CASE("the last error is rethrown when attempts run out; a refused error returns at once", "[retry]") {
  int calls = 0;
  std::vector<std::chrono::nanoseconds> delays;
  auto policy = fast_policy(delays);
  policy.attempts = 3;
  auto flaky = [&calls] { return fails_until(&calls, 100); };
  bool exhausted = false;
  try {
    const int v = co_await coio::retry(flaky, policy);
    (void)v;
  } catch (const transient&) {
    exhausted = true;
  }
  REQUIRE(exhausted);
  REQUIRE(calls == 3);

  calls = 0;
  policy.retry_if = [](const std::exception_ptr& e) {
    try {
      std::rethrow_exception(e);
    } catch (const transient&) {
      return true;
    } catch (...) {
      return false;
    }
  };
  auto broken = [&calls] { return always_permanent(&calls); };
  bool refused = false;
  try {
    const int v = co_await coio::retry(broken, policy);
    (void)v;
  } catch (const permanent&) {
    refused = true;
  }
  REQUIRE(refused);
  REQUIRE(calls == 1);
}

COIO_TEST_CASE("cancellation is never retried: thrown by the call or during a backoff", "[retry][cancel]") {
  int calls = 0;
  std::vector<std::chrono::nanoseconds> delays;
  auto call = [&calls] { return cancelled_inside(&calls); };
  bool cancelled = false;
  try {
    const int v = co_await coio::retry(call, fast_policy(delays));
    (void)v;
  } catch (const coio::cancelled_error&) {
    cancelled = true;
  }
  REQUIRE(cancelled);
  REQUIRE(calls == 1);

  int slow_calls = 0;
  auto waiting = coio::create_task(retry_forever_slowly(&slow_calls));
  co_await yield_turns(3);  // first attempt failed, now in a 10 s backoff
  waiting.cancel();
  const bool stopped = co_await ends_cancelled(waiting);
  REQUIRE(stopped);
  REQUIRE(slow_calls == 1);
}

TEST_CASE("retry needs at least one attempt", "[retry]") {
  coio::retry_policy p;
  p.attempts = 0;
  auto call = [] { return coio::task<int>(); };
  bool threw = false;
  try {
    coio::run(coio::retry(call, p));
  } catch (const coio::value_error&) {
    threw = true;
  }
  REQUIRE(threw);
}
