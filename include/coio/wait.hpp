// coio/wait.hpp: coio::wait, waiting for the first, the first failing, or all of a set of
// futures without cancelling the rest (asyncio.wait).
#pragma once

#include <coio/detail/join.hpp>
#include <coio/event_loop.hpp>
#include <coio/future.hpp>
#include <coio/task.hpp>

#include <chrono>
#include <utility>
#include <vector>

namespace coio {

/// When coio::wait returns (asyncio's FIRST_COMPLETED, FIRST_EXCEPTION, ALL_COMPLETED).
/// first_exception returns when a future fails or is cancelled, or when all are done.
enum class return_when { first_completed, first_exception, all_completed };

/// The futures that finished and those still pending, each in input order.
template <class T>
struct wait_result {
  std::vector<future<T>> done;
  std::vector<future<T>> pending;
};

namespace detail {

inline join_set::policy wait_policy(return_when when) noexcept {
  switch (when) {
    case return_when::first_completed:
      return {join_set::until::first_done, false, false, true};
    case return_when::first_exception:
      return {join_set::until::first_error, false, false, true};
    case return_when::all_completed:
      break;
  }
  return {join_set::until::all_done, false, false, true};
}

template <class T>
task<wait_result<T>> wait_impl(std::vector<future<T>> futures, return_when when, event_loop::time_point* deadline) {
  join_set set(wait_policy(when));
  for (auto& f : futures) set.add(f);
  timer_handle timer;
  if (deadline) timer = get_running_loop().call_at(*deadline, [&set] { set.expire(); });
  co_await set.wait();
  timer.cancel();
  wait_result<T> out;
  for (auto& f : futures) (f.done() ? out.done : out.pending).push_back(std::move(f));
  co_return out;
}

}  // namespace detail

/// Waits until `when` holds for `futures` and returns them split into done and pending, in
/// input order. Nothing is cancelled: pending futures keep running (as asyncio.wait). Failures
/// are not raised here; read them from the done futures. An empty vector returns at once.
/// Cancellation: cancelling the awaiting task stops the wait; the futures carry on.
/// Throws: cancelled_error.
template <class T>
task<wait_result<T>> wait(std::vector<future<T>> futures, return_when when = return_when::all_completed) {
  return detail::wait_impl(std::move(futures), when, nullptr);
}

/// wait with a timeout: returns when `when` holds or `timeout` passed, whichever is first
/// (the timeout raises nothing: what is not done is in `pending`).
template <class T, class Rep, class Period>
task<wait_result<T>> wait(std::vector<future<T>> futures, return_when when,
                          std::chrono::duration<Rep, Period> timeout) {
  auto deadline = get_running_loop().deadline_after(timeout);
  co_return co_await detail::wait_impl(std::move(futures), when, &deadline);
}

}  // namespace coio
