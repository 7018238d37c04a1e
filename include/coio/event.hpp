// coio/event.hpp: coio::event (asyncio.Event): tasks wait until it is set.
#pragma once

#include <coio/detail/wait_queue.hpp>

#include <coroutine>

namespace coio {

class event {
 public:
  event() noexcept = default;
  event(const event&) = delete;
  event& operator=(const event&) = delete;

  class wait_awaiter {
   public:
    explicit wait_awaiter(event& e) noexcept : event_(e), waiter_(e.waiters_, "event") {}
    bool await_ready() const noexcept { return event_.set_; }
    bool await_suspend(std::coroutine_handle<> h) { return waiter_.enqueue(h); }
    void await_resume() {
      waiter_.finish([] {});  // every waiter was woken: nothing to hand on
    }

   private:
    event& event_;
    detail::wait_queue::waiter waiter_;
  };

  /// Waits until the event is set; returns at once when it is.
  /// Cancellation: the waiter leaves the queue and throws cancelled_error.
  wait_awaiter wait() noexcept { return wait_awaiter(*this); }

  /// Sets the flag and wakes every waiter (through the loop, at a later turn).
  void set() noexcept {
    if (set_) return;
    set_ = true;
    waiters_.grant_all();
  }
  void clear() noexcept { set_ = false; }
  bool is_set() const noexcept { return set_; }

 private:
  bool set_ = false;
  detail::wait_queue waiters_;
};

}  // namespace coio
