// coio/detail/future_state.hpp: the shared state behind coio::future and the bookkeeping of
// a running task (what asyncio keeps in Future and Task objects). Its loop-facing methods
// are defined at the end of event_loop.hpp.
#pragma once

#include <coio/detail/frame_allocator.hpp>
#include <coio/errors.hpp>
#include <coio/result.hpp>
#include <coio/source_location.hpp>

#include <coroutine>
#include <cstdint>
#include <exception>
#include <memory>
#include <string>

namespace coio {
class event_loop;
}

namespace coio::detail {

class future_state_base;
class promise_base;

/// The running loop and task of this thread. Constant-initialised, so access is a plain
/// TLS load with no guard.
struct thread_context {
  event_loop* loop = nullptr;
  future_state_base* task = nullptr;  // task whose step is executing, if any
  const char* stack_base = nullptr;   // native stack top of the current step (transfer guard)
};
inline thread_local thread_context this_thread;

/// Something waiting for a future to finish: an awaiting frame or a done callback. The node
/// lives in the waiter (no allocation to wait) and unlinks itself if it goes away first.
struct future_waiter {
  future_waiter* prev = nullptr;
  future_waiter* next = nullptr;
  future_state_base* owner = nullptr;                 // non-null while linked
  void (*notify)(future_waiter*) noexcept = nullptr;  // once, when the future finishes
  // Done callbacks only: called instead of notify when the future can no longer finish on a
  // live loop (its last handle went while pending, or its loop closed). Awaiters need none:
  // they hold a reference, and their frames unlink them when destroyed.
  void (*drop)(future_waiter*) noexcept = nullptr;
};

/// A cancellable suspension point of a task. Every coio awaiter registers one while its
/// task is suspended in it, so that `cancel()` can reach the innermost `co_await`.
struct suspension {
  /// Delivers a cancellation (the task's cancel message is set). Returns false when it could
  /// not, and the cancellation must wait for the task's next suspension point.
  bool (*cancel)(suspension*) = nullptr;
  const char* what = "";  // shown by dump_tasks, e.g. "sleep"
};

class future_state_base {
 public:
  enum class status : std::uint8_t { pending, value, error, cancelled };

  future_state_base(const future_state_base&) = delete;
  future_state_base& operator=(const future_state_base&) = delete;

  static void* operator new(std::size_t size) { return frame_allocator::allocate(size); }
  static void operator delete(void* p, std::size_t size) noexcept { frame_allocator::deallocate(p, size); }

  void add_ref() noexcept { ++refs_; }
  void release() noexcept {
    if (--refs_ == 0) last_ref_gone();
  }

  bool done() const noexcept { return status_ != status::pending; }
  bool cancelled() const noexcept { return status_ == status::cancelled; }
  bool failed() const noexcept { return status_ == status::error; }
  bool is_task() const noexcept { return is_task_; }
  event_loop* loop() const noexcept { return loop_; }

  // --- waiting -------------------------------------------------------------------------
  void add_waiter(future_waiter* w) noexcept {
    w->owner = this;
    w->next = nullptr;
    w->prev = waiters_tail_;
    if (waiters_tail_) {
      waiters_tail_->next = w;
    } else {
      waiters_head_ = w;
    }
    waiters_tail_ = w;
  }
  /// Unlinks and drops every waiter that has a drop function (pending done callbacks).
  void drop_waiters() noexcept {
    for (future_waiter* w = waiters_head_; w;) {
      future_waiter* next = w->next;
      if (w->drop) {
        remove_waiter(w);
        w->drop(w);
      }
      w = next;
    }
  }
  void remove_waiter(future_waiter* w) noexcept {
    if (w->owner != this) return;
    (w->prev ? w->prev->next : waiters_head_) = w->next;
    (w->next ? w->next->prev : waiters_tail_) = w->prev;
    w->prev = w->next = nullptr;
    w->owner = nullptr;
  }

  // --- results ---------------------------------------------------------------------------
  /// The exception a failed or cancelled future holds; marks it retrieved.
  std::exception_ptr take_error() noexcept {
    error_retrieved_ = true;
    return error_;
  }
  /// Throws invalid_state_error while pending; rethrows the error of a failed or cancelled
  /// future (and counts as retrieving it).
  void check_result() {
    if (status_ == status::pending) throw invalid_state_error("result is not ready");
    if (status_ != status::value) std::rethrow_exception(take_error());
  }
  void set_error(std::exception_ptr e);  // bare futures; throws invalid_state_error if done
  bool cancel(std::string message = {});

  // --- tasks -----------------------------------------------------------------------------
  /// Records where this task is suspended; `s` receives cancellation while it stays there.
  void suspend_at(std::coroutine_handle<> h, suspension* s) noexcept {
    resume_point_ = h;
    suspended_on_ = s;
  }
  /// Leaves the suspension point and schedules the next step (never runs it inline).
  void wake() noexcept;
  /// Schedules a resumption of `h` without a suspension point (yield, transfer guard).
  void reschedule(std::coroutine_handle<> h) noexcept;
  /// True (once) when a cancellation is pending; the next suspension point then throws.
  bool take_cancel_request() noexcept {
    const bool requested = cancel_requested_;
    cancel_requested_ = false;
    return requested;
  }
  /// The cancelled_error a suspension point throws for a delivered cancellation.
  cancelled_error make_cancelled_error() { return cancelled_error(std::move(cancel_message_)); }
  const std::string& cancel_message() const noexcept { return cancel_message_; }

  std::string name() const;
  void set_name(std::string name) { name_ = std::make_unique<std::string>(std::move(name)); }
  std::uint64_t id() const noexcept { return id_; }
  const source_location& created_at() const noexcept { return created_at_; }
  const char* state_name() const noexcept;
  promise_base* root_promise() const noexcept { return root_promise_; }
  const suspension* suspended_on() const noexcept { return suspended_on_; }
  bool started() const noexcept { return started_; }

 protected:
  future_state_base(event_loop* loop, void (*destroy)(future_state_base*) noexcept) noexcept;
  ~future_state_base() = default;

  /// Marks the future finished and schedules everyone waiting for it.
  void finish(status s) noexcept;
  void last_ref_gone() noexcept;

  std::uint32_t refs_ = 1;
  status status_ = status::pending;
  bool is_task_ = false;
  bool started_ = false;
  bool cancel_requested_ = false;
  bool error_retrieved_ = false;
  event_loop* loop_ = nullptr;
  future_waiter* waiters_head_ = nullptr;
  future_waiter* waiters_tail_ = nullptr;
  std::exception_ptr error_;  // set when status_ is error or cancelled

  // Task bookkeeping (unused by bare futures).
  std::coroutine_handle<> frame_;         // the task's outermost coroutine, until it finishes
  promise_base* root_promise_ = nullptr;  // its promise, where dump_tasks starts
  std::coroutine_handle<> resume_point_;  // innermost coroutine to resume at the next step
  suspension* suspended_on_ = nullptr;
  std::string cancel_message_;
  std::uint64_t id_ = 0;
  std::unique_ptr<std::string> name_;
  source_location created_at_;
  void (*complete_task_)(future_state_base*) noexcept = nullptr;  // moves the result out

 private:
  friend class coio::event_loop;
  future_state_base* registry_prev_ = nullptr;  // the loop's list of live states
  future_state_base* registry_next_ = nullptr;
  void (*destroy_)(future_state_base*) noexcept;
};

/// True when `e` holds a cancelled_error (which is not a std::exception, so it cannot be
/// found with a cast).
inline bool is_cancelled_error(const std::exception_ptr& e) noexcept {
  try {
    std::rethrow_exception(e);
  } catch (const cancelled_error&) {
    return true;
  } catch (...) {
    return false;
  }
}

/// The typed state: a result slot on top of the base.
template <class T>
class future_state final : public future_state_base {
 public:
  explicit future_state(event_loop* loop) noexcept : future_state_base(loop, &destroy) {}

  static future_state* create(event_loop* loop) { return new future_state(loop); }

  template <class... Args>
  void set_value(Args&&... args) {
    if (done()) throw invalid_state_error("future is already done");
    if (is_task()) throw runtime_error("a task's result is set by its coroutine");
    result_.set_value(std::forward<Args>(args)...);
    finish(status::value);
  }

  /// Precondition: done(). Rethrows the error; returns the value by reference.
  decltype(auto) value_ref() {
    check_result();
    return result_.value();
  }
  decltype(auto) value_moved() {
    check_result();
    return std::move(result_).value();
  }

  /// Turns this state into the task running `frame`, whose promise keeps the result in a
  /// `result<T>` reachable through `result_of`.
  template <class Promise>
  void adopt_task(std::coroutine_handle<Promise> frame, promise_base* root) noexcept {
    is_task_ = true;
    frame_ = frame;
    resume_point_ = frame;
    root_promise_ = root;
    complete_task_ = [](future_state_base* base) noexcept {
      auto* self = static_cast<future_state*>(base);
      auto h = std::coroutine_handle<Promise>::from_address(self->frame_.address());
      self->result_ = std::move(h.promise().result_slot());
      self->frame_ = nullptr;
      h.destroy();
      if (self->result_.ok()) {
        self->finish(status::value);
      } else {
        self->error_ = self->result_.error();
        self->finish(is_cancelled_error(self->error_) ? status::cancelled : status::error);
      }
    };
  }

 private:
  static void destroy(future_state_base* base) noexcept { delete static_cast<future_state*>(base); }

  result<T> result_;
};

}  // namespace coio::detail

#include <coio/event_loop.hpp>
