// tests/sample_tasks.hpp: the small coroutines many combinator tests await.
#pragma once

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

/// Lets every other ready task run `turns` times: a deterministic way to let freshly created
/// tasks reach their first suspension point (wall-clock sleeps are not, on a loaded machine).
inline coio::task<> yield_turns(int turns) {
  for (int i = 0; i < turns; ++i) co_await coio::sleep(std::chrono::seconds(0));
}

}  // namespace samples
