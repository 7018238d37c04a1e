// coio/semaphore.hpp: coio::semaphore and bounded_semaphore (asyncio.Semaphore and
// BoundedSemaphore). FIFO-fair: a released permit goes straight to the longest waiter.
#pragma once

#include <coio/detail/wait_queue.hpp>
#include <coio/errors.hpp>

#include <coroutine>
#include <cstddef>
#include <utility>

namespace coio {

class semaphore {
 public:
  explicit semaphore(std::size_t value = 1) noexcept : value_(value) {}
  semaphore(const semaphore&) = delete;
  semaphore& operator=(const semaphore&) = delete;
  virtual ~semaphore() = default;

  /// Awaiter of acquire(): takes a permit, waiting in FIFO order when none is free.
  class acquire_awaiter {
   public:
    explicit acquire_awaiter(semaphore& s) noexcept : sem_(s), waiter_(s.waiters_, "semaphore") {}
    // Fast path: a free permit and nobody queued ahead (no barging past waiters).
    bool await_ready() noexcept {
      if (sem_.value_ > 0 && sem_.waiters_.empty()) {
        --sem_.value_;
        return true;
      }
      return false;
    }
    bool await_suspend(std::coroutine_handle<> h) { return waiter_.enqueue(h); }
    void await_resume() {
      waiter_.finish([this] { sem_.release_to_next(); });
    }

   protected:
    semaphore& sem_;
    detail::wait_queue::waiter waiter_;
  };

  /// An acquired permit, released when it goes out of scope (`async with sem:`).
  class permit {
   public:
    permit() noexcept = default;
    explicit permit(semaphore& s) noexcept : sem_(&s) {}
    permit(permit&& other) noexcept : sem_(std::exchange(other.sem_, nullptr)) {}
    permit& operator=(permit&& other) noexcept {
      if (this != &other) {
        release();
        sem_ = std::exchange(other.sem_, nullptr);
      }
      return *this;
    }
    ~permit() { release(); }
    /// Releases early; harmless when already released.
    void release() noexcept {
      if (auto* s = std::exchange(sem_, nullptr)) s->release_to_next();
    }
    explicit operator bool() const noexcept { return sem_ != nullptr; }

   private:
    semaphore* sem_ = nullptr;
  };

  class scoped_acquire_awaiter : public acquire_awaiter {
   public:
    using acquire_awaiter::acquire_awaiter;
    permit await_resume() {
      acquire_awaiter::await_resume();
      return permit(sem_);
    }
  };

  /// Takes a permit (asyncio's `await sem.acquire()`).
  /// Cancellation: a cancelled waiter leaves the queue; a permit handed to it in the same turn
  /// goes on to the next waiter. Throws: cancelled_error.
  acquire_awaiter acquire() noexcept { return acquire_awaiter(*this); }
  /// `auto p = co_await sem.scoped_acquire();` holds a permit until `p` goes away.
  /// Cancellation and Throws: as acquire().
  scoped_acquire_awaiter scoped_acquire() noexcept { return scoped_acquire_awaiter(*this); }

  /// Returns a permit: to the longest waiter if any (it resumes at a later loop turn), else to
  /// the count. Throws value_error for a bounded_semaphore released above its initial value.
  virtual void release() { release_to_next(); }

  /// True when acquire() would wait.
  bool locked() const noexcept { return value_ == 0 || !waiters_.empty(); }
  /// Free permits.
  std::size_t value() const noexcept { return value_; }
  /// Tasks waiting.
  std::size_t waiting() const noexcept { return waiters_.size(); }

 protected:
  void release_to_next() noexcept {
    if (!waiters_.grant_first()) ++value_;
  }

  std::size_t value_;
  detail::wait_queue waiters_;
};

/// A semaphore that refuses to be released more often than acquired
/// (asyncio.BoundedSemaphore).
class bounded_semaphore : public semaphore {
 public:
  explicit bounded_semaphore(std::size_t value = 1) noexcept : semaphore(value), initial_(value) {}

  /// Throws value_error when the release would raise the count above the initial value.
  void release() override {
    if (waiters_.empty() && value_ >= initial_) throw value_error("bounded_semaphore released too many times");
    release_to_next();
  }

 private:
  std::size_t initial_;
};

}  // namespace coio
