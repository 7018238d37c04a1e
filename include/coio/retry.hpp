// coio/retry.hpp: coio::retry, calling an async function again on transient errors with
// exponential backoff and jitter (what tenacity/backoff give Python).
#pragma once

#include <coio/errors.hpp>
#include <coio/sleep.hpp>
#include <coio/task.hpp>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <exception>
#include <functional>
#include <optional>
#include <random>
#include <type_traits>
#include <utility>

namespace coio {

/// How a backoff delay is randomised (AWS's "exponential backoff and jitter" names).
enum class jitter {
  none,   // exactly the backoff
  full,   // uniform in [0, backoff]
  equal,  // backoff/2 + uniform in [0, backoff/2]
};

struct retry_policy {
  using duration = std::chrono::steady_clock::duration;

  int attempts = 3;  // calls in total, at least 1
  duration initial_backoff = std::chrono::seconds(1);
  double multiplier = 2.0;
  duration max_backoff = std::chrono::seconds(30);  // the cap
  coio::jitter jitter = coio::jitter::none;
  std::optional<std::uint64_t> seed;  // fixes the jitter sequence (tests); random otherwise
  /// Which failures are worth another attempt; every one when empty. cancelled_error never is.
  std::function<bool(const std::exception_ptr&)> retry_if;
  /// Called before each wait, e.g. to log "Attempt 1 failed, retrying in 1s".
  std::function<void(int attempt, const std::exception_ptr& error, duration delay)> on_retry;
};

/// Calls `fn()` (a callable returning a task) until it succeeds, the policy's predicate
/// refuses the error, or the attempts are used up; the last error is rethrown. Waits
/// initial_backoff * multiplier^k (capped, jittered) between attempts.
/// Cancellation: never retried; a cancellation during an attempt or a backoff propagates at
/// once. Throws: the last error; value_error when attempts < 1; cancelled_error.
template <class F>
auto retry(F fn, retry_policy policy) -> task<typename std::invoke_result_t<F&>::value_type> {
  using R = typename std::invoke_result_t<F&>::value_type;
  using duration = retry_policy::duration;
  if (policy.attempts < 1) throw value_error("retry_policy.attempts must be at least 1");
  std::mt19937_64 rng(policy.seed ? *policy.seed : std::random_device{}());
  duration backoff = policy.initial_backoff;
  for (int attempt = 1;; ++attempt) {
    std::exception_ptr error;
    try {
      task<R> call = fn();
      if constexpr (std::is_void_v<R>) {
        co_await std::move(call);
        co_return;
      } else {
        R value = co_await std::move(call);
        co_return value;
      }
    } catch (const cancelled_error&) {
      throw;
    } catch (...) {
      error = std::current_exception();
    }
    if (attempt >= policy.attempts || (policy.retry_if && !policy.retry_if(error))) std::rethrow_exception(error);
    duration delay = backoff;
    const auto ticks = static_cast<std::uint64_t>(std::max<duration::rep>(backoff.count(), 0));
    if (policy.jitter == jitter::full) {
      delay = duration(static_cast<duration::rep>(std::uniform_int_distribution<std::uint64_t>(0, ticks)(rng)));
    } else if (policy.jitter == jitter::equal) {
      delay = duration(
          static_cast<duration::rep>(ticks / 2 + std::uniform_int_distribution<std::uint64_t>(0, ticks / 2)(rng)));
    }
    if (policy.on_retry) policy.on_retry(attempt, error, delay);
    co_await sleep(delay);
    const double next = static_cast<double>(backoff.count()) * policy.multiplier;
    backoff = next >= static_cast<double>(policy.max_backoff.count()) ? policy.max_backoff
                                                                      : duration(static_cast<duration::rep>(next));
  }
}

}  // namespace coio
