// coio/async_generator.hpp: coio::async_generator<T>, an async generator (Python's `async def`
// with `yield`, consumed by `async for`), and coio::collect.
#pragma once

#include <coio/detail/frame_allocator.hpp>
#include <coio/errors.hpp>
#include <coio/task.hpp>

#include <coroutine>
#include <cstddef>
#include <exception>
#include <memory>
#include <optional>
#include <type_traits>
#include <utility>
#include <vector>

namespace coio {

template <class T>
class async_generator;

namespace detail {

// What every async_generator promise shares, independent of T.
class async_generator_promise_base {
 public:
  // Leaves the body and resumes the consumer, whose next() is suspended (co_yield and the end).
  struct to_consumer {
    bool await_ready() const noexcept { return false; }
    template <class Promise>
    std::coroutine_handle<> await_suspend(std::coroutine_handle<Promise> self) noexcept {
      return transfer_to(self.promise().consumer_);
    }
    void await_resume() const noexcept {}
  };

  static void* operator new(std::size_t size) { return frame_allocator::allocate(size); }
  static void operator delete(void* frame, std::size_t size) noexcept { frame_allocator::deallocate(frame, size); }

  std::suspend_always initial_suspend() const noexcept { return {}; }  // lazy
  to_consumer final_suspend() const noexcept { return {}; }
  void unhandled_exception() noexcept { error_ = std::current_exception(); }
  void return_void() const noexcept {}

  std::coroutine_handle<> consumer_;  // the coroutine whose next() runs the body
  std::exception_ptr error_;          // the body's exception, until next() rethrows it
  bool running_ = false;              // a next() is between its suspension and its result

 protected:
  void rethrow_error() {
    if (error_) std::rethrow_exception(std::exchange(error_, nullptr));
  }
};

// A yielded value is never stored: the promise points at the co_yield operand, which (with
// any temporary it needed) stays alive until the body resumes.
template <class T>
class async_generator_promise final : public async_generator_promise_base {
 public:
  using next_type = std::optional<T>;

  async_generator<T> get_return_object() noexcept;

  to_consumer yield_value(T&& value) noexcept {
    value_ = std::addressof(value);
    movable_ = true;
    return {};
  }
  // An lvalue is copied out, never moved: the body may still use it after the co_yield.
  to_consumer yield_value(const T& value) noexcept requires std::is_copy_constructible_v<T> {
    value_ = std::addressof(value);
    movable_ = false;
    return {};
  }

  // Hands out the value the body is suspended on, or the end (rethrowing the body's error).
  next_type take() {
    if (const T* v = std::exchange(value_, nullptr)) {
      if constexpr (std::is_copy_constructible_v<T>) {
        if (!movable_) return next_type(std::in_place, *v);
      }
      return next_type(std::in_place, std::move(*const_cast<T*>(v)));  // it was bound to a T&&
    }
    rethrow_error();
    return next_type{};
  }

 private:
  const T* value_ = nullptr;  // non-null while suspended at a co_yield not yet read
  bool movable_ = false;      // value_ was yielded as an rvalue
};

template <class T>
class async_generator_promise<T&> final : public async_generator_promise_base {
 public:
  using next_type = T*;

  async_generator<T&> get_return_object() noexcept;

  to_consumer yield_value(T& value) noexcept {
    value_ = std::addressof(value);
    return {};
  }

  next_type take() {
    if (T* v = std::exchange(value_, nullptr)) return v;
    rethrow_error();
    return nullptr;
  }

 private:
  T* value_ = nullptr;
};

}  // namespace detail

/// An async generator: a coroutine with both `co_await` and `co_yield` in its body (Python's
/// `async def` with `yield`). The consumer's spelling of `async for item in gen:` is
///
///   auto gen = numbers(10);
///   for (;;) {
///     std::optional<int> item = co_await gen.next();  // a statement of its own (compilers.md)
///     if (!item) break;
///     use(*item);
///   }
///
/// Lazy: the body starts at the first next(). Each next() runs the body inline, as part of
/// the awaiting task, by symmetric transfer (no loop round trip), up to its next `co_yield`
/// or its end. An lvalue operand of co_yield is copied out, an rvalue is moved out: the value
/// is never stored in between. For `async_generator<U&>`, next() gives a `U*` pointing at the
/// yielded object (valid until the following next()), null at the end, so the same
/// `if (!item) break; use(*item);` reads both.
///
/// As with co_await, build an aggregate or a capturing lambda as a named local before you
/// co_yield it: g++ 12 destroys such temporaries inside co_yield twice (docs/compilers.md).
///
/// Abandoning the generator (destroying it while suspended at a co_yield) destroys its frame:
/// its RAII cleanup runs, no more of its code does (so no co_await in the cleanup; Python's
/// `aclose()` has no counterpart). Move-only. The generator must outlive a pending next().
///
/// Cancellation: the body runs as part of the task that awaits next() (it is
/// `current_task()` there), so cancelling that task reaches whatever the body is suspended in:
/// cancelled_error is thrown inside the body, runs its cleanup and comes out of next().
template <class T>
class [[nodiscard]] async_generator {
  static_assert(!std::is_void_v<T>, "an async_generator yields values: use task<void> for none");
  static_assert(!std::is_rvalue_reference_v<T>, "async_generator<T&&> is not supported: yield T or T&");

 public:
  using promise_type = detail::async_generator_promise<T>;
  using handle_type = std::coroutine_handle<promise_type>;
  using value_type = T;
  /// What `co_await next()` gives: std::optional<T>, or a pointer for a reference T.
  using next_type = typename promise_type::next_type;

  async_generator() noexcept = default;
  async_generator(async_generator&& other) noexcept : frame_(std::exchange(other.frame_, nullptr)) {}
  async_generator& operator=(async_generator&& other) noexcept {
    if (this != &other) {
      if (frame_) frame_.destroy();
      frame_ = std::exchange(other.frame_, nullptr);
    }
    return *this;
  }
  ~async_generator() {
    if (frame_) frame_.destroy();
  }

  /// False for a moved-from or default-constructed generator.
  bool valid() const noexcept { return static_cast<bool>(frame_); }
  /// True once the body has finished (returned or thrown). Precondition: valid().
  bool done() const noexcept { return frame_.done(); }

  class next_awaiter {
   public:
    explicit next_awaiter(handle_type frame) noexcept : frame_(frame) {}

    bool await_ready() const {
      if (!frame_) throw invalid_state_error("async_generator::next(): the generator is empty (moved from?)");
      if (frame_.promise().running_)
        throw runtime_error("async_generator::next(): the generator is already running (a next() is pending)");
      return frame_.done();  // finished: no need to suspend, the result is the end
    }
    std::coroutine_handle<> await_suspend(std::coroutine_handle<> consumer) noexcept {
      promise_type& p = frame_.promise();
      p.consumer_ = consumer;
      p.running_ = true;
      return detail::transfer_to(frame_);
    }
    next_type await_resume() {
      frame_.promise().running_ = false;
      return frame_.promise().take();
    }

   private:
    handle_type frame_;
  };

  /// Runs the body up to its next co_yield and gives the value; gives std::nullopt (a null
  /// pointer for a reference T) once the body has finished, however often it is called.
  /// Cancellation: delivered into the body (see the class comment).
  /// Throws: the body's exception (once; the generator is finished after it);
  /// runtime_error while another next() on this generator is pending; invalid_state_error
  /// when the generator is empty.
  [[nodiscard]] next_awaiter next() noexcept { return next_awaiter(frame_); }

 private:
  friend promise_type;
  explicit async_generator(handle_type frame) noexcept : frame_(frame) {}
  handle_type frame_;
};

namespace detail {
template <class T>
async_generator<T> async_generator_promise<T>::get_return_object() noexcept {
  return async_generator<T>(std::coroutine_handle<async_generator_promise>::from_promise(*this));
}
template <class T>
async_generator<T&> async_generator_promise<T&>::get_return_object() noexcept {
  return async_generator<T&>(std::coroutine_handle<async_generator_promise>::from_promise(*this));
}
}  // namespace detail

/// Runs `gen` to its end and gives every value it yielded, in order (Python's
/// `[x async for x in gen]`).
/// Cancellation: as next(): delivered into the generator, whose frame is destroyed.
/// Throws: the generator's exception.
template <class T>
requires(!std::is_reference_v<T>) task<std::vector<T>> collect(async_generator<T> gen) {
  std::vector<T> items;
  for (;;) {
    std::optional<T> item = co_await gen.next();
    if (!item) break;
    items.push_back(std::move(*item));
  }
  co_return items;
}

}  // namespace coio
