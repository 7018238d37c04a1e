// coio/sleep.hpp: coio::sleep and sleep_until (asyncio.sleep).
#pragma once

#include <coio/detail/future_state.hpp>
#include <coio/detail/timer_heap.hpp>
#include <coio/event_loop.hpp>

#include <chrono>
#include <coroutine>

namespace coio {

/// Awaiter returned by sleep() and sleep_until(). The timer node lives in the awaiting frame.
class sleep_awaiter : private detail::suspension, private detail::timer_node {
 public:
  sleep_awaiter(std::chrono::steady_clock::time_point deadline, bool yield_only) noexcept : yield_only_(yield_only) {
    timer_node::deadline = deadline;
    timer_node::fire = &on_due;
    suspension::cancel = &on_cancel;
    suspension::what = yield_only ? "sleep(0)" : "sleep";
  }
  sleep_awaiter(const sleep_awaiter&) = delete;
  sleep_awaiter& operator=(const sleep_awaiter&) = delete;
  ~sleep_awaiter() {
    if (queued()) task_->loop()->remove_timer(this);
  }

  bool await_ready() const noexcept { return false; }

  bool await_suspend(std::coroutine_handle<> h) {
    task_ = detail::this_thread.task;
    if (!task_) throw runtime_error("coio::sleep must be awaited inside a coio task");
    if (task_->take_cancel_request()) {
      cancelled_ = true;
      return false;
    }
    task_->suspend_at(h, this);
    if (yield_only_) {
      task_->wake();  // to the back of the ready queue: everyone ready runs once first
    } else {
      task_->loop()->add_timer(this);
    }
    return true;
  }

  void await_resume() {
    if (cancelled_) throw task_->make_cancelled_error();
    if (task_->take_cancel_request()) throw task_->make_cancelled_error();
  }

 private:
  static void on_due(detail::timer_node* t) { static_cast<sleep_awaiter*>(t)->task_->wake(); }
  static bool on_cancel(detail::suspension* s) noexcept {
    auto* self = static_cast<sleep_awaiter*>(s);
    if (self->queued()) self->task_->loop()->remove_timer(self);
    self->cancelled_ = true;
    // A yield is already queued; waking twice would resume the frame twice.
    if (!self->yield_only_) {
      self->task_->wake();
    }
    return true;
  }

  detail::future_state_base* task_ = nullptr;
  bool yield_only_;
  bool cancelled_ = false;
};

/// Suspends the calling task for `delay` (asyncio.sleep). A zero or negative delay yields:
/// every other ready task runs once before this one resumes. Huge delays saturate.
/// Cancellation: the timer is removed and cancelled_error is thrown here.
template <class Rep, class Period>
sleep_awaiter sleep(std::chrono::duration<Rep, Period> delay) {
  auto& loop = get_running_loop();
  if (delay <= std::chrono::duration<Rep, Period>::zero()) return sleep_awaiter({}, true);  // a yield reads no clock
  return sleep_awaiter(loop.deadline_after(delay), false);
}

/// Suspends the calling task until the loop's clock reaches `deadline`.
/// Cancellation: as sleep().
inline sleep_awaiter sleep_until(std::chrono::steady_clock::time_point deadline) {
  return sleep_awaiter(deadline, false);
}

}  // namespace coio
