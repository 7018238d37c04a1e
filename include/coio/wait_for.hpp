// coio/wait_for.hpp: coio::wait_for and timeout_at (asyncio.wait_for / asyncio.timeout_at).
#pragma once

#include <coio/create_task.hpp>
#include <coio/event_loop.hpp>
#include <coio/future.hpp>
#include <coio/task.hpp>

#include <chrono>
#include <type_traits>
#include <utility>

namespace coio {

namespace detail {

/// Cancels `inner` when the deadline passes, unless it finished by then: a result that is
/// ready in the same loop turn as the deadline wins. Disarms itself when it goes away.
class deadline_guard {
 public:
  deadline_guard(event_loop& loop, std::chrono::steady_clock::time_point deadline, any_future inner)
      : timer_(loop.call_at(deadline, [this, inner]() mutable {
          if (!inner.done()) {
            expired_ = true;
            inner.cancel("deadline passed");
          }
        })) {}
  deadline_guard(const deadline_guard&) = delete;
  deadline_guard& operator=(const deadline_guard&) = delete;
  ~deadline_guard() { timer_.cancel(); }

  bool expired() const noexcept { return expired_; }

 private:
  bool expired_ = false;
  timer_handle timer_;
};

}  // namespace detail

/// Waits for `inner` until the loop's clock reaches `deadline`. On expiry it cancels `inner`,
/// waits until it has really finished, then throws coio::timeout_error. If `inner` refuses the
/// cancellation and returns a value, that value is returned (as asyncio 3.12); an exception
/// `inner` raises while being cancelled propagates instead of timeout_error. A deadline
/// already past cancels `inner` before it runs another step.
/// Cancellation: cancelling the awaiting task cancels `inner` and waits for it too.
/// Throws: timeout_error; `inner`'s exception; cancelled_error.
template <class T>
task<T> timeout_at(future<T> inner, std::chrono::steady_clock::time_point deadline) {
  if (!inner.done()) {
    detail::deadline_guard guard(get_running_loop(), deadline, inner);
    try {
      if constexpr (std::is_void_v<T>) {
        co_await inner;
        co_return;
      } else {
        co_return co_await std::move(inner);
      }
    } catch (const cancelled_error&) {
      if (!guard.expired()) throw;
    }
    throw timeout_error("timed out waiting for " + (inner.name().empty() ? std::string("a future") : inner.name()));
  }
  if constexpr (std::is_void_v<T>) {
    co_await inner;
  } else {
    co_return co_await std::move(inner);
  }
}

/// timeout_at for a lazy task: it is scheduled with create_task first. With a deadline
/// already past it never starts (its body does not run) and timeout_error is thrown.
template <class T>
task<T> timeout_at(task<T> work, std::chrono::steady_clock::time_point deadline) {
  return timeout_at(create_task(std::move(work)), deadline);
}

/// Waits for `work` (a task or a future) at most `timeout` (asyncio.wait_for). Zero and
/// negative timeouts expire at once; duration::max() never does.
/// Cancellation and Throws: as timeout_at.
template <class Work, class Rep, class Period>
auto wait_for(Work work, std::chrono::duration<Rep, Period> timeout) {
  return timeout_at(std::move(work), get_running_loop().deadline_after(timeout));
}

}  // namespace coio
