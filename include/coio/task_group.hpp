// coio/task_group.hpp: coio::task_group, structured concurrency (asyncio.TaskGroup, Trio's
// nursery): every child started in the group finishes before the group's scope ends.
#pragma once

#include <coio/create_task.hpp>
#include <coio/detail/join.hpp>
#include <coio/errors.hpp>
#include <coio/future.hpp>
#include <coio/task.hpp>

#include <exception>
#include <functional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

namespace coio {

/// A scope for child tasks. Only coio::task_group::run creates one, so a group can neither
/// be forgotten nor outlive its children:
///
///   co_await coio::task_group::run([](coio::task_group& g) -> coio::task<> {
///     g.create_task(fetch("a"));
///     g.create_task(fetch("b"));
///     co_return;
///   });  // both fetches have finished here
///
/// The first failure of a child (or of the body) cancels the body and every other child;
/// once all have finished, every failure is thrown together as coio::exception_group (always
/// wrapped, even a single one, as Python's TaskGroup does). A child that is cancelled on its
/// own is not a failure.
class task_group {
 public:
  task_group(const task_group&) = delete;
  task_group& operator=(const task_group&) = delete;

  /// Runs `body(group, args...)` (a callable returning a task) as the group's first child,
  /// waits for it and every child it started, and returns the body's result. Pass a
  /// captureless lambda or a named function and hand data over through `args` (copied into
  /// the group): g++ 12 destroys captures of a lambda temporary inside `co_await` twice
  /// (docs/compilers.md).
  /// Cancellation: cancelling the awaiting task cancels the body and every child, waits for
  /// them, then throws cancelled_error (or exception_group if some child failed).
  /// Throws: exception_group; cancelled_error.
  template <class F, class... Args>
  static auto run(F body, Args... args) -> task<typename std::invoke_result_t<F&, task_group&, Args&...>::value_type> {
    using R = typename std::invoke_result_t<F&, task_group&, Args&...>::value_type;
    task_group group;
    future<R> body_future = group.create_task(std::invoke(body, group, args...), "task_group body");
    std::exception_ptr cancelled;
    try {
      co_await group.set_.wait();
    } catch (const cancelled_error&) {
      cancelled = std::current_exception();
    }
    group.closed_ = true;
    std::vector<std::exception_ptr> failures;
    group.set_.for_each_child([&failures](any_future& child) {
      if (child.state()->failed()) failures.push_back(child.state()->take_error());
    });
    if (!failures.empty()) throw exception_group(std::move(failures));
    if (cancelled) std::rethrow_exception(cancelled);
    if constexpr (std::is_void_v<R>) {
      body_future.result();
    } else {
      co_return std::move(body_future).result();
    }
  }

  /// Starts `t` as a child of the group (it begins at the loop's next turn).
  /// Throws runtime_error once the group is shutting down (after a failure) or finished.
  template <class T>
  future<T> create_task(task<T> t, std::string_view name = {}, source_location where = source_location::current()) {
    if (closed_) throw runtime_error("task_group is finished");
    if (set_.cancelling()) throw runtime_error("task_group is shutting down");
    future<T> f = get_running_loop().create_task(std::move(t), name, where);
    set_.add(f);
    return f;
  }

  /// Children started so far (the body included) and how many are still running.
  std::size_t size() const noexcept { return set_.size(); }
  std::size_t running() const noexcept { return set_.pending(); }

 private:
  task_group() noexcept : set_({detail::join_set::until::all_done, true, true, false}) {}

  detail::join_set set_;
  bool closed_ = false;
};

}  // namespace coio
