// coio/shield.hpp: coio::shield, awaiting work without passing a cancellation on to it
// (asyncio.shield).
#pragma once

#include <coio/create_task.hpp>
#include <coio/future.hpp>
#include <coio/task.hpp>

#include <utility>

namespace coio {

/// What shield() returns: awaiting it waits for the inner future like `co_await fut`, except
/// that cancelling the awaiting task does not cancel the inner work.
template <class T>
class shielded {
 public:
  explicit shielded(future<T> inner) noexcept : inner_(std::move(inner)) {}

  /// The shielded work itself (still running after the awaiter was cancelled).
  const future<T>& inner() const noexcept { return inner_; }

  /// Cancellation: the awaiting task gets cancelled_error at once; the inner work carries on,
  /// and its result (or exception) stays in inner().
  /// Throws: the inner work's exception.
  auto operator co_await() && noexcept {
    return detail::future_awaiter<detail::future_result<T, true>, false>(inner_.state());
  }
  auto operator co_await() & noexcept {
    return detail::future_awaiter<detail::future_result<T, false>, false>(inner_.state());
  }

 private:
  future<T> inner_;
};

/// Protects `inner` from the awaiting task's cancellation (asyncio.shield). A task<T> is
/// scheduled with create_task, so it runs to completion even if every awaiter is cancelled;
/// the loop keeps it alive. Cancelling the inner future itself still cancels it.
template <class T>
shielded<T> shield(future<T> inner) {
  return shielded<T>(std::move(inner));
}
template <class T>
shielded<T> shield(task<T> work) {
  return shielded<T>(create_task(std::move(work)));
}

}  // namespace coio
