// coio/future.hpp: coio::future<T> (asyncio.Future and asyncio.Task: a handle to an
// eventual result) and coio::promise<T>, the producer side of a bare future.
#pragma once

#include <coio/detail/future_state.hpp>
#include <coio/errors.hpp>

#include <coroutine>
#include <exception>
#include <functional>
#include <string>
#include <type_traits>
#include <utility>

namespace coio {

class any_future;
namespace detail {
any_future adopt_any_future(future_state_base* adopted) noexcept;
}

/// A type-erased handle to a future or task (what current_task() and all_tasks() return).
/// Copies share the state by reference count; single-threaded, no atomics. All methods must
/// be called on the loop's thread.
class any_future {
 public:
  any_future() noexcept = default;
  any_future(const any_future& other) noexcept : state_(other.state_) {
    if (state_) state_->add_ref();
  }
  any_future(any_future&& other) noexcept : state_(std::exchange(other.state_, nullptr)) {}
  any_future& operator=(any_future other) noexcept {
    std::swap(state_, other.state_);
    return *this;
  }
  ~any_future() {
    if (state_) state_->release();
  }

  explicit operator bool() const noexcept { return state_ != nullptr; }
  bool valid() const noexcept { return state_ != nullptr; }
  friend bool operator==(const any_future& a, const any_future& b) noexcept { return a.state_ == b.state_; }

  /// Finished: with a value, an exception, or cancelled.
  bool done() const noexcept { return state_->done(); }
  bool cancelled() const noexcept { return state_->cancelled(); }
  /// True when this future has a coroutine behind it (asyncio.Task).
  bool is_task() const noexcept { return state_->is_task(); }

  /// Requests cancellation. A task gets coio::cancelled_error thrown out of the co_await it
  /// is suspended in (or its next one); a bare future becomes cancelled at once. Returns
  /// false when already done.
  bool cancel(std::string message = {}) { return state_->cancel(std::move(message)); }

  /// The exception of a failed future, null when it succeeded. Throws invalid_state_error
  /// while pending and coio::cancelled_error when cancelled (as asyncio).
  std::exception_ptr exception() const {
    if (!state_->done()) throw invalid_state_error("exception is not set: the future is pending");
    if (state_->cancelled()) std::rethrow_exception(state_->take_error());
    return state_->failed() ? state_->take_error() : nullptr;
  }

  /// The task's name ("Task-N" unless set); "" for bare futures.
  std::string name() const { return state_->name(); }
  void set_name(std::string name) { state_->set_name(std::move(name)); }

  /// Schedules `fn(future)` (or `fn()`) on the loop once this future is done; at once (next
  /// turn) when it already is. Exceptions from fn go to the loop's exception handler.
  template <class F>
  void add_done_callback(F&& fn);

  /// Awaiting gives nothing back but rethrows the future's exception (or cancelled_error).
  /// Cancellation: cancelling the awaiting task cancels this future too (as asyncio does);
  /// use coio::shield to prevent that.
  auto operator co_await() const noexcept;

  detail::future_state_base* state() const noexcept { return state_; }

 protected:
  friend any_future detail::adopt_any_future(detail::future_state_base*) noexcept;
  explicit any_future(detail::future_state_base* adopted) noexcept : state_(adopted) {}
  detail::future_state_base* state_ = nullptr;
};

/// Wraps a state whose reference the caller hands over.
inline any_future detail::adopt_any_future(detail::future_state_base* adopted) noexcept { return any_future(adopted); }

namespace detail {

/// The awaiter behind `co_await fut`: waits in the future's waiter list, node in the frame.
/// With ForwardCancel (the default, as asyncio) cancelling the awaiting task cancels the
/// future; without it (coio::shield) only the awaiting task is cancelled.
template <class Getter, bool ForwardCancel = true>
class future_awaiter : private future_waiter, private suspension {
 public:
  explicit future_awaiter(future_state_base* state) noexcept : state_(state) {
    state_->add_ref();
    future_waiter::notify = &on_done;
    suspension::cancel = &on_cancel;
    suspension::what = "future";
  }
  future_awaiter(const future_awaiter&) = delete;
  future_awaiter& operator=(const future_awaiter&) = delete;
  ~future_awaiter() {
    state_->remove_waiter(this);
    state_->release();
  }

  bool await_ready() const noexcept { return state_->done(); }

  bool await_suspend(std::coroutine_handle<> h) noexcept {
    task_ = this_thread.task;
    if (!task_) {
      refusal_ = "a future can only be awaited inside a coio task";
      return false;
    }
    if (task_ == state_) {
      refusal_ = "a task cannot await itself";
      return false;
    }
    if (task_->take_cancel_request()) {
      cancelled_ = true;
      return false;
    }
    state_->add_waiter(this);
    task_->suspend_at(h, this);
    return true;
  }

  typename Getter::type await_resume() {
    if (refusal_) throw runtime_error(refusal_);
    if (cancelled_) throw task_->make_cancelled_error();
    // Woken by completion but cancelled before this step ran: the result stays in the
    // future for others, so nothing is lost by delivering the cancellation here.
    if (task_ && task_->take_cancel_request()) throw task_->make_cancelled_error();
    return Getter::get(state_);
  }

 private:
  static void on_done(future_waiter* w) noexcept { static_cast<future_awaiter*>(w)->task_->wake(); }

  // Forwarding: cancelling the awaiting task cancels the awaited future (asyncio's
  // _fut_waiter.cancel()). The task stays suspended here until that future finishes, and sees
  // its outcome: a cancelled_error, or a value if the inner task refused the cancellation.
  // Shielded: the task stops waiting at once and the future carries on.
  static bool on_cancel(suspension* s) noexcept {
    auto* self = static_cast<future_awaiter*>(s);
    if constexpr (ForwardCancel) {
      try {
        return self->state_->cancel(self->task_->cancel_message());
      } catch (...) {
        return false;
      }
    } else {
      self->state_->remove_waiter(self);
      self->cancelled_ = true;
      self->task_->wake();
      return true;
    }
  }

  future_state_base* state_;
  future_state_base* task_ = nullptr;
  const char* refusal_ = nullptr;
  bool cancelled_ = false;
};

/// How `co_await` hands the result out: nothing for any_future; for future<T>, a copy from
/// an lvalue future and a move from an rvalue one.
struct void_result {
  using type = void;
  static void get(future_state_base* s) { s->check_result(); }
};

template <class T, bool Move>
struct future_result {
  using type = T;
  static T get(future_state_base* base) {
    auto* s = static_cast<future_state<T>*>(base);
    if constexpr (std::is_void_v<T> || std::is_reference_v<T>) {
      return s->value_ref();
    } else if constexpr (Move) {
      return T(s->value_moved());
    } else {
      return T(s->value_ref());
    }
  }
};

}  // namespace detail

inline auto any_future::operator co_await() const noexcept {
  return detail::future_awaiter<detail::void_result>(state_);
}

/// A handle to a T that will be ready later: a task's result (create_task) or a bare future
/// (coio::promise, loop.create_future). Copyable; copies share the state. Awaitable by any
/// number of tasks.
template <class T = void>
class future : public any_future {
 public:
  using value_type = T;

  future() noexcept = default;

  /// The value. Throws invalid_state_error while pending, rethrows the exception of a failed
  /// future, throws coio::cancelled_error for a cancelled one.
  decltype(auto) result() const& { return typed()->value_ref(); }
  decltype(auto) result() && {
    if constexpr (std::is_void_v<T> || std::is_reference_v<T>) {
      return typed()->value_ref();
    } else {
      return T(typed()->value_moved());
    }
  }

  /// Completes a bare future (asyncio's Future.set_result). Throws invalid_state_error when
  /// it is done already and runtime_error for a task's future.
  template <class... Args>
  void set_result(Args&&... args) {
    typed()->set_value(std::forward<Args>(args)...);
  }
  void set_exception(std::exception_ptr e) { state_->set_error(std::move(e)); }

  /// Waits for the result: a copy from an lvalue future, moved out of an rvalue one (use
  /// `co_await std::move(f)` for move-only T when no one else reads it).
  /// Cancellation: as any_future.
  /// Throws: the future's exception; cancelled_error.
  auto operator co_await() const& noexcept { return detail::future_awaiter<detail::future_result<T, false>>(state_); }
  auto operator co_await() && noexcept { return detail::future_awaiter<detail::future_result<T, true>>(state_); }

  /// Wraps a new reference-counted state (used by promise, create_task, create_future).
  static future adopt(detail::future_state<T>* s) noexcept { return future(s); }

 private:
  explicit future(detail::future_state<T>* s) noexcept : any_future(s) {}
  detail::future_state<T>* typed() const noexcept { return static_cast<detail::future_state<T>*>(state_); }
};

/// The producer side of a bare future on the running loop. Destroying a promise that never
/// set a result fails its future with coio::broken_promise, so no waiter hangs forever.
template <class T = void>
class promise {
 public:
  /// Throws runtime_error when no loop runs on this thread.
  promise() : promise(get_running_loop()) {}
  explicit promise(event_loop& loop) : future_(loop.create_future<T>()) {}
  promise(promise&&) noexcept = default;
  promise& operator=(promise&& other) noexcept {
    if (this != &other) {
      abandon();
      future_ = std::move(other.future_);
    }
    return *this;
  }
  ~promise() { abandon(); }

  future<T> get_future() const { return future_; }

  template <class... Args>
  void set_result(Args&&... args) {
    future_.set_result(std::forward<Args>(args)...);
  }
  void set_exception(std::exception_ptr e) { future_.set_exception(std::move(e)); }
  template <class E>
  void set_exception(E&& e) {
    future_.set_exception(std::make_exception_ptr(std::forward<E>(e)));
  }

 private:
  void abandon() noexcept {
    if (future_ && !future_.done()) {
      try {
        future_.set_exception(std::make_exception_ptr(broken_promise()));
      } catch (...) {
      }
    }
  }
  future<T> future_;
};

template <class F>
void any_future::add_done_callback(F&& fn) {
  event_loop* loop = state_->loop();
  if (!loop || loop->is_closed()) throw runtime_error("event loop is closed");
  auto* node = new detail::callback_node;
  node->loop = loop;
  node->subject = state_;  // no reference yet: a pending future must not keep itself alive
  if constexpr (std::is_invocable_v<F&, any_future&>) {
    node->fn = [fn = std::forward<F>(fn), node]() mutable {
      node->subject->add_ref();
      any_future done = detail::adopt_any_future(node->subject);
      fn(done);
    };
  } else {
    static_assert(std::is_invocable_v<F&>, "a done callback takes the future or nothing");
    node->fn = detail::unique_function(std::forward<F>(fn));
  }
  node->notify = [](detail::future_waiter* w) noexcept {
    auto* n = static_cast<detail::callback_node*>(w);
    n->subject->add_ref();  // the future finished: keep it readable until the callback ran
    n->holds_subject = true;
    if (n->loop->closing()) {
      n->release();
    } else {
      n->loop->push_callback_owned(n);
    }
  };
  node->drop = [](detail::future_waiter* w) noexcept { static_cast<detail::callback_node*>(w)->release(); };
  if (state_->done()) {
    node->notify(node);
  } else {
    state_->add_waiter(node);
  }
}

template <class T>
future<T> event_loop::create_future() {
  if (closed_) throw runtime_error("event loop is closed");
  return future<T>::adopt(new detail::future_state<T>(this));
}

template <class T>
T event_loop::run_until_complete(future<T> f) {
  f.add_done_callback([this] { stop(); });
  run_forever();
  if (!f.done()) throw runtime_error("event loop stopped before the future completed");
  if constexpr (std::is_void_v<T>) {
    f.result();
  } else {
    return std::move(f).result();
  }
}

}  // namespace coio
