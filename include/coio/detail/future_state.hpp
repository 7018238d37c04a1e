// coio/detail/future_state.hpp: the shared state behind coio::future and the bookkeeping of
// a running task (what asyncio keeps in Future and Task objects). Its loop-facing methods
// are defined at the end of event_loop.hpp.
#pragma once

#include <coio/detail/frame_allocator.hpp>
#include <coio/detail/value_slot.hpp>
#include <coio/errors.hpp>
#include <coio/result.hpp>
#include <coio/source_location.hpp>

#include <coroutine>
#include <cstdint>
#include <exception>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>

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
  // Non-null while linked into a future's ring of waiters (a lone waiter links to itself).
  future_waiter* prev = nullptr;
  future_waiter* next = nullptr;
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

/// What differs between the typed states, and between a task and a bare future: one static
/// table per type instead of three function pointers in every state.
struct future_ops {
  void (*destroy)(future_state_base*) noexcept;
  void (*complete_task)(future_state_base*) noexcept;                // tasks: moves the result out
  promise_base* (*root_promise)(const future_state_base*) noexcept;  // tasks: where dump_tasks starts
};

/// The rarely used parts of a state, allocated only when a task is named or cancelled with a
/// message: most tasks never are, and 40 bytes less per state is 40 bytes less per task.
struct future_extras {
  std::optional<std::string> name;
  std::string cancel_message;
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
  /// More than one handle (or the loop, for a running task) refers to this state.
  bool shared() const noexcept { return refs_ > 1; }
  bool cancelled() const noexcept { return status_ == status::cancelled; }
  bool failed() const noexcept { return status_ == status::error; }
  bool is_task() const noexcept { return is_task_; }
  event_loop* loop() const noexcept { return loop_; }

  // --- waiting -------------------------------------------------------------------------
  // The waiters form a ring, in the order they came: waiters_ is the first, its prev the last.
  void add_waiter(future_waiter* w) noexcept {
    if (!waiters_) {
      w->prev = w->next = w;
      waiters_ = w;
      return;
    }
    future_waiter* last = waiters_->prev;
    w->prev = last;
    w->next = waiters_;
    last->next = w;
    waiters_->prev = w;
  }
  /// Unlinks and drops every waiter that has a drop function (pending done callbacks).
  void drop_waiters() noexcept {
    // Unlink them all first, then drop: a drop function may touch the ring.
    future_waiter* dropped = nullptr;
    future_waiter* w = waiters_;
    future_waiter* const last = w ? w->prev : nullptr;
    while (w) {
      future_waiter* next = w == last ? nullptr : w->next;
      if (w->drop) {
        remove_waiter(w);
        w->next = dropped;
        dropped = w;
      }
      w = next;
    }
    while (dropped) {
      future_waiter* d = dropped;
      dropped = d->next;
      d->next = nullptr;
      d->drop(d);
    }
  }
  /// Unlinks `w` if it is still linked. Precondition: it was added to this future, if to any.
  void remove_waiter(future_waiter* w) noexcept {
    if (!w->next) return;
    if (w->next == w) {
      waiters_ = nullptr;
    } else {
      w->prev->next = w->next;
      w->next->prev = w->prev;
      if (waiters_ == w) waiters_ = w->next;
    }
    w->prev = w->next = nullptr;
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
  cancelled_error make_cancelled_error() {
    return cancelled_error(extras_ ? std::move(extras_->cancel_message) : std::string());
  }
  const std::string& cancel_message() const noexcept {
    static const std::string none;
    return extras_ ? extras_->cancel_message : none;
  }

  std::string name() const;
  void set_name(std::string name) { extras().name = std::move(name); }
  std::uint64_t id() const noexcept { return id_; }
  const source_location& created_at() const noexcept { return created_at_; }
  const char* state_name() const noexcept;
  /// The outermost coroutine's promise of a running task; null otherwise.
  promise_base* root_promise() const noexcept { return ops_->root_promise ? ops_->root_promise(this) : nullptr; }
  const suspension* suspended_on() const noexcept { return suspended_on_; }
  bool started() const noexcept { return started_; }

 protected:
  future_state_base(event_loop* loop, const future_ops* ops) noexcept;
  ~future_state_base() = default;

  future_extras& extras() {
    if (!extras_) extras_ = std::make_unique<future_extras>();
    return *extras_;
  }

  /// Marks the future finished and schedules everyone waiting for it.
  void finish(status s) noexcept;
  void last_ref_gone() noexcept;

  // Laid out to keep a state small (104 bytes with GCC): a burst of 100,000 tasks is 100,000
  // states, and each fresh page they touch costs a fault.
  std::uint32_t refs_ = 1;
  status status_ = status::pending;
  bool is_task_ : 1 = false;
  bool started_ : 1 = false;
  bool cancel_requested_ : 1 = false;
  bool error_retrieved_ : 1 = false;
  event_loop* loop_ = nullptr;
  future_waiter* waiters_ = nullptr;
  std::exception_ptr error_;  // set when status_ is error or cancelled

  // Task bookkeeping (unused by bare futures).
  std::coroutine_handle<> frame_;         // the task's outermost coroutine, until it finishes
  std::coroutine_handle<> resume_point_;  // innermost coroutine to resume at the next step
  suspension* suspended_on_ = nullptr;
  std::uint64_t id_ = 0;
  source_location created_at_;
  std::unique_ptr<future_extras> extras_;  // name, cancel message
  const future_ops* ops_;

 private:
  friend class coio::event_loop;
  future_state_base* registry_prev_ = nullptr;  // the loop's list of live states
  future_state_base* registry_next_ = nullptr;
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

/// The typed state: a value slot on top of the base.
template <class T>
class future_state final : public future_state_base {
 public:
  explicit future_state(event_loop* loop) noexcept : future_state_base(loop, &bare_ops) {}
  future_state(const future_state&) = delete;
  future_state& operator=(const future_state&) = delete;
  ~future_state() {
    if (status_ == status::value) value_.destroy();
  }

  static future_state* create(event_loop* loop) { return new future_state(loop); }

  template <class... Args>
  void set_value(Args&&... args) {
    if (done()) throw invalid_state_error("future is already done");
    if (is_task()) throw runtime_error("a task's result is set by its coroutine");
    value_.construct(std::forward<Args>(args)...);
    finish(status::value);
  }

  /// Precondition: done(). Rethrows the error; returns the value by reference.
  decltype(auto) value_ref() {
    check_result();
    return value_.ref();
  }
  decltype(auto) value_moved() {
    check_result();
    return value_.moved();
  }

  /// Turns this state into the task running `frame`, whose promise keeps the result in a
  /// `result<T>` reachable through `result_slot()`.
  template <class Promise>
  void adopt_task(std::coroutine_handle<Promise> frame) noexcept {
    is_task_ = true;
    frame_ = frame;
    resume_point_ = frame;
    ops_ = &task_ops<Promise>;
  }

 private:
  static void destroy(future_state_base* base) noexcept { delete static_cast<future_state*>(base); }

  template <class Promise>
  static std::coroutine_handle<Promise> root_frame(const future_state_base* base) noexcept {
    return std::coroutine_handle<Promise>::from_address(static_cast<const future_state*>(base)->frame_.address());
  }

  template <class Promise>
  static void complete_task(future_state_base* base) noexcept {
    auto* self = static_cast<future_state*>(base);
    auto frame = root_frame<Promise>(base);
    auto& outcome = frame.promise().result_slot();
    const bool ok = outcome.ok();
    if (ok) {
      if constexpr (std::is_void_v<T>) {
        self->value_.construct();
      } else {
        self->value_.construct(std::move(outcome).value());
      }
    } else {
      self->error_ = outcome.error();
    }
    self->frame_ = nullptr;
    frame.destroy();
    if (ok) {
      self->finish(status::value);
    } else {
      self->finish(is_cancelled_error(self->error_) ? status::cancelled : status::error);
    }
  }

  template <class Promise>
  static promise_base* root_promise_of(const future_state_base* base) noexcept {
    auto frame = root_frame<Promise>(base);
    return frame ? &frame.promise() : nullptr;
  }

  static constexpr future_ops bare_ops{&destroy, nullptr, nullptr};
  template <class Promise>
  static constexpr future_ops task_ops{&destroy, &complete_task<Promise>, &root_promise_of<Promise>};

  value_slot<T> value_;
};

}  // namespace coio::detail

#include <coio/event_loop.hpp>
