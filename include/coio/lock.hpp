// coio/lock.hpp: coio::lock (asyncio.Lock), with asyncio's method names: a member cannot be
// called `lock` inside a class named `lock`, so acquire/release as in asyncio.
#pragma once

#include <coio/errors.hpp>
#include <coio/semaphore.hpp>

namespace coio {

/// A mutual-exclusion lock for tasks of one loop. FIFO-fair; not reentrant.
class lock {
 public:
  lock() noexcept = default;
  lock(const lock&) = delete;
  lock& operator=(const lock&) = delete;

  using acquire_awaiter = semaphore::acquire_awaiter;
  using scoped_acquire_awaiter = semaphore::scoped_acquire_awaiter;
  /// The RAII guard scoped_acquire() gives: releases the lock when it goes away.
  using guard = semaphore::permit;

  /// Waits until the lock is free and takes it.
  /// Cancellation: a cancelled waiter leaves the queue; the lock stays usable and a hand-off
  /// that raced with the cancellation goes on to the next waiter. Throws: cancelled_error.
  acquire_awaiter acquire() noexcept { return sem_.acquire(); }
  /// `auto g = co_await l.scoped_acquire();` holds the lock until `g` goes away, including
  /// when the holder is cancelled or throws.
  scoped_acquire_awaiter scoped_acquire() noexcept { return sem_.scoped_acquire(); }

  /// Takes the lock if it is free and nobody waits; never suspends.
  bool try_acquire() noexcept {
    if (sem_.locked()) return false;
    auto taken = sem_.acquire();
    return taken.await_ready();
  }

  /// Throws runtime_error when the lock is not held (asyncio raises RuntimeError).
  void release() {
    if (!locked()) throw runtime_error("lock is not acquired");
    sem_.release();
  }

  bool locked() const noexcept { return sem_.value() == 0; }

 private:
  semaphore sem_{1};
};

}  // namespace coio
