// coio/task.hpp: coio::task<T>, the lazy coroutine every async function returns (what
// calling an `async def` gives in Python: nothing runs until it is awaited or scheduled).
#pragma once

#include <coio/config.hpp>
#include <coio/detail/frame_allocator.hpp>
#include <coio/detail/future_state.hpp>
#include <coio/result.hpp>
#include <coio/source_location.hpp>

#include <coroutine>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <type_traits>
#include <utility>

namespace coio {

template <class T = void>
class task;

namespace detail {

/// How much native stack a step may grow through nested symmetric transfers before the
/// guard bounces through the ready queue (see COIO_TRANSFER_GUARD in config.hpp).
inline constexpr std::ptrdiff_t max_transfer_stack = 64 * 1024;

/// Returns `next` for symmetric transfer, or (when the stack of this step has grown past the
/// limit) queues it as the current task's next step and returns a no-op so that the native
/// stack unwinds first.
COIO_ALWAYS_INLINE std::coroutine_handle<> transfer_to(std::coroutine_handle<> next) noexcept {
#if COIO_TRANSFER_GUARD
  // Stacks grow down. Outside a loop step stack_base is 0, so the difference is negative.
  const auto here = reinterpret_cast<std::intptr_t>(__builtin_frame_address(0));
  if (reinterpret_cast<std::intptr_t>(this_thread.stack_base) - here > max_transfer_stack) [[unlikely]] {
    this_thread.task->reschedule(next);
    return std::noop_coroutine();
  }
#endif
  return next;
}

/// What every task promise shares, independent of T.
class promise_base {
 public:
  struct final_awaiter {
    bool await_ready() const noexcept { return false; }
    template <class Promise>
    std::coroutine_handle<> await_suspend(std::coroutine_handle<Promise> self) noexcept {
      promise_base& p = self.promise();
      // An awaited task resumes its awaiter; a scheduled one returns to the loop, which
      // sees the root frame done and completes the future.
      if (p.continuation_) return transfer_to(p.continuation_);
      return std::noop_coroutine();
    }
    void await_resume() const noexcept {}
  };

  std::suspend_always initial_suspend() const noexcept { return {}; }
  final_awaiter final_suspend() const noexcept { return {}; }

  // Frames come from the per-thread recycler: a small co_await allocates nothing new.
  static void* operator new(std::size_t size) { return frame_allocator::allocate(size); }
  static void operator delete(void* frame, std::size_t size) noexcept { frame_allocator::deallocate(frame, size); }

  /// Where the coroutine function is defined (its name and line), for dump_tasks.
  const source_location& defined_at() const noexcept { return defined_at_; }
  /// The task this coroutine is awaiting right now, or null.
  promise_base* awaiting() const noexcept { return awaiting_; }

 protected:
  // The default argument is evaluated in the coroutine's ramp, so it names the coroutine.
  explicit promise_base(source_location defined_at) noexcept : defined_at_(defined_at) {}

 private:
  template <class T>
  friend class coio::task;
  std::coroutine_handle<> continuation_;  // the awaiting coroutine; null for a root task
  promise_base* awaiting_ = nullptr;      // child task being awaited (for dump_tasks only)
  source_location defined_at_;
};

template <class T>
class task_promise final : public promise_base {
 public:
  task_promise(source_location where = source_location::current()) noexcept : promise_base(where) {}

  task<T> get_return_object() noexcept;

  void unhandled_exception() noexcept { result_.set_error(std::current_exception()); }

  template <class U = T>
  requires(!std::is_void_v<T> && std::is_convertible_v<U&&, T>) void return_value(U&& value) {
    result_.set_value(std::forward<U>(value));
  }

  result<T>& result_slot() noexcept { return result_; }

 private:
  result<T> result_;
};

template <>
class task_promise<void> final : public promise_base {
 public:
  task_promise(source_location where = source_location::current()) noexcept : promise_base(where) {}
  task<void> get_return_object() noexcept;
  void unhandled_exception() noexcept { result_.set_error(std::current_exception()); }
  void return_void() noexcept { result_.set_value(); }
  result<void>& result_slot() noexcept { return result_; }

 private:
  result<void> result_;
};

}  // namespace detail

/// A lazy coroutine producing a T (or an exception). Awaiting it runs it inline on the
/// awaiting task through symmetric transfer: no loop round trip, no allocation besides its
/// frame. Move-only; awaited at most once. To run it concurrently, hand it to create_task.
///
/// Cancellation: a task<T> has no cancellation of its own; it runs as part of the task that
/// awaits it, and that task's cancellation reaches whatever it is suspended in.
template <class T>
class [[nodiscard]] task {
 public:
  using promise_type = detail::task_promise<T>;
  using handle_type = std::coroutine_handle<promise_type>;
  using value_type = T;

  task() noexcept = default;
  task(task&& other) noexcept : frame_(std::exchange(other.frame_, nullptr)) {}
  task& operator=(task&& other) noexcept {
    if (this != &other) {
      if (frame_) frame_.destroy();
      frame_ = std::exchange(other.frame_, nullptr);
    }
    return *this;
  }
  ~task() {
    if (frame_) frame_.destroy();
  }

  /// False for a moved-from or default-constructed task.
  bool valid() const noexcept { return static_cast<bool>(frame_); }

  class awaiter {
   public:
    explicit awaiter(handle_type frame) noexcept : frame_(frame) {}
    bool await_ready() const noexcept { return false; }  // lazy: it has not started yet
    template <class Promise>
    std::coroutine_handle<> await_suspend(std::coroutine_handle<Promise> awaiting) noexcept {
      frame_.promise().continuation_ = awaiting;
      if constexpr (std::is_base_of_v<detail::promise_base, Promise>) {
        parent_ = &awaiting.promise();
        parent_->awaiting_ = &frame_.promise();
      }
      return detail::transfer_to(frame_);
    }
    T await_resume() {
      if (parent_) parent_->awaiting_ = nullptr;
      if constexpr (std::is_void_v<T>) {
        frame_.promise().result_slot().value();
      } else {
        return std::move(frame_.promise().result_slot()).value();
      }
    }

   private:
    handle_type frame_;
    detail::promise_base* parent_ = nullptr;
  };

  /// Runs the task inline and gives its result (or rethrows its exception).
  /// Precondition: valid().
  awaiter operator co_await() && noexcept { return awaiter(frame_); }
  awaiter operator co_await() & noexcept { return awaiter(frame_); }

  /// Gives up ownership of the frame (create_task takes it over).
  handle_type release() noexcept { return std::exchange(frame_, nullptr); }

 private:
  friend class detail::task_promise<T>;
  explicit task(handle_type frame) noexcept : frame_(frame) {}
  handle_type frame_;
};

namespace detail {

template <class T>
task<T> task_promise<T>::get_return_object() noexcept {
  return task<T>(std::coroutine_handle<task_promise>::from_promise(*this));
}
inline task<void> task_promise<void>::get_return_object() noexcept {
  return task<void>(std::coroutine_handle<task_promise>::from_promise(*this));
}

}  // namespace detail
}  // namespace coio
