// tests/sample_tasks.hpp: the small coroutines many combinator tests await.
#pragma once

#include <coio/errors.hpp>
#include <coio/sleep.hpp>
#include <coio/task.hpp>

#include <chrono>
#include <stdexcept>
#include <string>

namespace samples {

/// Returns `v` after sleeping `d`.
inline coio::task<int> value_after(std::chrono::milliseconds d, int v) {
  co_await coio::sleep(d);
  co_return v;
}

/// Throws std::runtime_error(what) after sleeping `d`.
inline coio::task<int> fails_after(std::chrono::milliseconds d, std::string what = "failed") {
  co_await coio::sleep(d);
  throw std::runtime_error(what);
}

/// Sleeps 10 s (far longer than any test waits); when cancelled, counts it in `cancellations`
/// and lets the cancellation go on. Tests use it to prove a combinator cancelled what it started.
inline coio::task<int> counts_cancellation(int& cancellations) {
  try {
    co_await coio::sleep(std::chrono::seconds(10));
  } catch (const coio::cancelled_error&) {
    ++cancellations;
    throw;
  }
  co_return 0;
}

/// Lets every other ready task run `turns` times: a deterministic way to let freshly created
/// tasks reach their first suspension point (wall-clock sleeps are not, on a loaded machine).
inline coio::task<> yield_turns(int turns) {
  for (int i = 0; i < turns; ++i) co_await coio::sleep(std::chrono::seconds(0));
}

}  // namespace samples
