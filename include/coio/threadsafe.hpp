// coio/threadsafe.hpp: coio::run_coroutine_threadsafe, the door into a loop from other
// threads (asyncio.run_coroutine_threadsafe).
#pragma once

#include <coio/create_task.hpp>
#include <coio/event_loop.hpp>
#include <coio/task.hpp>

#include <exception>
#include <future>
#include <memory>
#include <type_traits>
#include <utility>

namespace coio {

namespace detail {

template <class T>
task<void> forward_to_std_promise(task<T> work, std::shared_ptr<std::promise<T>> out) {
  try {
    if constexpr (std::is_void_v<T>) {
      co_await std::move(work);
      out->set_value();
    } else {
      T value = co_await std::move(work);
      out->set_value(std::forward<T>(value));
    }
  } catch (...) {
    out->set_exception(std::current_exception());
  }
}

}  // namespace detail

/// Schedules `work` as a task on `loop` (running on another thread) and returns a
/// std::future for its result. May be called from any thread. If the loop closes before the
/// task finishes, the std::future reports cancelled_error (or broken_promise when the task
/// never started).
template <class T>
std::future<T> run_coroutine_threadsafe(task<T> work, event_loop& loop) {
  auto out = std::make_shared<std::promise<T>>();
  std::future<T> result = out->get_future();
  task<void> runner = detail::forward_to_std_promise(std::move(work), std::move(out));
  loop.call_soon_threadsafe([&loop, runner = std::move(runner)]() mutable { loop.create_task(std::move(runner)); });
  return result;
}

}  // namespace coio
