// coio/condition.hpp: coio::condition (asyncio.Condition): wait for a notification while
// holding a lock.
#pragma once

#include <coio/detail/wait_queue.hpp>
#include <coio/errors.hpp>
#include <coio/lock.hpp>
#include <coio/task.hpp>

#include <coroutine>
#include <cstddef>
#include <exception>
#include <utility>

namespace coio {

class condition {
 public:
  /// A condition with a lock of its own.
  condition() noexcept : lock_(&own_lock_) {}
  /// A condition over `shared` (several conditions may share one lock, as in asyncio).
  explicit condition(coio::lock& shared) noexcept : lock_(&shared) {}
  condition(const condition&) = delete;
  condition& operator=(const condition&) = delete;

  // The underlying lock, under asyncio's names.
  lock::acquire_awaiter acquire() noexcept { return lock_->acquire(); }
  lock::scoped_acquire_awaiter scoped_acquire() noexcept { return lock_->scoped_acquire(); }
  void release() { lock_->release(); }
  bool locked() const noexcept { return lock_->locked(); }

  /// Releases the lock, waits for notify(), and re-acquires the lock before returning, also
  /// when cancelled (as asyncio): the caller holds the lock whatever happens.
  /// Cancellation: a notification handed to a waiter cancelled before it ran goes on to the
  /// next waiter. Throws: runtime_error without the lock held; cancelled_error.
  task<> wait() {
    if (!locked()) throw runtime_error("condition.wait() needs the lock held");
    lock_->release();
    std::exception_ptr cancelled;
    try {
      co_await notified();
    } catch (const cancelled_error&) {
      cancelled = std::current_exception();
    }
    for (;;) {  // take the lock back, whatever cancellations arrive meanwhile
      try {
        co_await lock_->acquire();
        break;
      } catch (const cancelled_error&) {
        cancelled = std::current_exception();
      }
    }
    if (cancelled) std::rethrow_exception(cancelled);
  }

  /// Waits until `pred()` is true, re-checking after every notification (with the lock held).
  /// Name a capturing lambda before awaiting (`auto ready = [&] {...}; co_await c.wait(ready);`):
  /// g++ 12 destroys captures of a lambda temporary inside co_await twice (docs/compilers.md).
  template <class Predicate>
  task<> wait(Predicate pred) {
    while (!pred()) co_await wait();
  }

  /// Wakes up to `n` waiters (through the loop). Throws runtime_error without the lock held.
  void notify(std::size_t n = 1) {
    if (!locked()) throw runtime_error("condition.notify() needs the lock held");
    for (std::size_t i = 0; i < n && waiters_.grant_first(); ++i) {
    }
  }
  /// Wakes every waiter. Throws runtime_error without the lock held.
  void notify_all() {
    if (!locked()) throw runtime_error("condition.notify_all() needs the lock held");
    waiters_.grant_all();
  }

 private:
  class notified_awaiter {
   public:
    explicit notified_awaiter(condition& c) noexcept : cond_(c), waiter_(c.waiters_, "condition") {}
    bool await_ready() const noexcept { return false; }
    bool await_suspend(std::coroutine_handle<> h) { return waiter_.enqueue(h); }
    void await_resume() {
      waiter_.finish([this] { cond_.waiters_.grant_first(); });  // pass the notification on
    }

   private:
    condition& cond_;
    detail::wait_queue::waiter waiter_;
  };
  notified_awaiter notified() noexcept { return notified_awaiter(*this); }

  coio::lock own_lock_;
  coio::lock* lock_;
  detail::wait_queue waiters_;
};

}  // namespace coio
