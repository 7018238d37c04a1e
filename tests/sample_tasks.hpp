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

}  // namespace samples
