// coio/with_resource.hpp: coio::with_resource, an async context manager (Python's
// `async with`): acquire, use, and an async close that always runs to completion.
#pragma once

#include <coio/create_task.hpp>
#include <coio/detail/future_state.hpp>
#include <coio/errors.hpp>
#include <coio/event_loop.hpp>
#include <coio/future.hpp>
#include <coio/result.hpp>
#include <coio/task.hpp>

#include <exception>
#include <functional>
#include <memory>
#include <string>
#include <type_traits>
#include <utility>

namespace coio {

/// A resource whose close has to await: `r.aclose()` returns something to co_await (a
/// `task<>`), as Python's `aclose()` of async generators and `contextlib.aclosing`.
template <class Resource>
concept async_closeable = requires(Resource& r) {
  r.aclose();
};

namespace detail {

// Waits for a future to finish without reading its outcome.
struct ignore_future_result {
  using type = void;
  static void get(future_state_base*) noexcept {}
};

// The close runs as a task of its own that owns the resource: the consumer's cancellation
// cannot reach it, and it may finish even if the consumer's frame is torn down first.
template <class Resource>
task<void> close_owned(std::unique_ptr<Resource> resource) {
  co_await resource->aclose();
}

}  // namespace detail

/// `async with acquire as r: return await body(r)`. Awaits `acquire`, calls
/// `body(resource, args...)` (a callable returning a task) and awaits it, then awaits
/// `resource.aclose()` to completion whatever happened, and returns the body's result. Pass a
/// captureless lambda or a named function and hand data over through `args` (copied into the
/// frame): g++ 12 destroys the captures of a lambda temporary inside `co_await` twice
/// (docs/compilers.md).
///
///   int rows = co_await coio::with_resource(open_db("app.db"), count_rows, "users");
///
/// The resource lives on the heap (its address never changes); the close runs as a task of its
/// own that owns it (one allocation each, and the close starts at the loop's next turn).
/// When the acquire fails nothing is closed. For a resource whose close is synchronous no
/// helper is needed: its destructor is the `async with`, and it runs on success, on an
/// exception and on cancellation alike (a cancellation is an exception in the frame).
///
/// Cancellation: a cancellation during the body reaches the body (the close still runs); one
/// during the close does not reach the close: with_resource waits for the close to finish and
/// then throws cancelled_error. A cancellation during the acquire propagates; nothing is
/// closed.
/// Throws: in this order of precedence, the body's exception (a close that also failed goes to
/// the loop's exception handler), cancelled_error for a cancellation during the close, the
/// close's exception; the acquire's exception.
template <class Resource, class F, class... Args>
requires async_closeable<Resource>
auto with_resource(task<Resource> acquire, F body, Args... args)
    -> task<typename std::invoke_result_t<F&, Resource&, Args&...>::value_type> {
  using R = typename std::invoke_result_t<F&, Resource&, Args&...>::value_type;
  std::unique_ptr<Resource> resource;
  {
    task<Resource> opening = std::move(acquire);  // its frame (and result slot) go at the brace
    Resource acquired = co_await std::move(opening);
    resource = std::make_unique<Resource>(std::move(acquired));
  }

  result<R> outcome;
  try {
    task<R> work = std::invoke(body, *resource, args...);
    if constexpr (std::is_void_v<R>) {
      co_await std::move(work);
      outcome.set_value();
    } else {
      R value = co_await std::move(work);
      outcome.set_value(static_cast<R&&>(value));
    }
  } catch (...) {
    outcome.set_error(std::current_exception());
  }

  future<void> closing = create_task(detail::close_owned(std::move(resource)), "with_resource close");
  std::exception_ptr cancelled;  // a cancellation of this task that arrived during the close
  while (!closing.done()) {
    try {
      // Shielded: a cancellation stops this wait only, and the loop waits again.
      co_await detail::future_awaiter<detail::ignore_future_result, false>(closing.state());
    } catch (const cancelled_error&) {
      cancelled = std::current_exception();
    }
  }
  std::exception_ptr close_error;
  if (closing.state()->failed() || closing.cancelled()) close_error = closing.state()->take_error();

  std::exception_ptr winner = outcome.error();
  if (!winner) winner = cancelled;
  if (!winner) winner = close_error;
  if (winner) {
    if (close_error && winner != close_error && !detail::is_cancelled_error(close_error)) {
      // Nobody else can receive it (Python would chain it as __context__).
      exception_context context;
      context.message = "with_resource: aclose() failed while an earlier exception propagated";
      context.exception = close_error;
      if (detail::this_thread.task) context.task_name = detail::this_thread.task->name();
      get_running_loop().call_exception_handler(context);
    }
    std::rethrow_exception(winner);
  }
  if constexpr (std::is_void_v<R>) {
    co_return;
  } else {
    co_return std::move(outcome).value();
  }
}

}  // namespace coio
