// coio/rate_limiter.hpp: coio::rate_limiter, aiolimiter's leaky bucket: at most `max_rate`
// acquisitions per `period`, smoothly.
#pragma once

#include <coio/errors.hpp>
#include <coio/event_loop.hpp>
#include <coio/lock.hpp>
#include <coio/sleep.hpp>
#include <coio/task.hpp>

#include <algorithm>
#include <chrono>

namespace coio {

/// A bucket of capacity `max_rate` that leaks at `max_rate / period`. An acquisition of
/// `amount` waits until the bucket has room for it: after an initial burst of up to
/// `max_rate`, no window of length `period` sees more than `max_rate` acquisitions (a waiter
/// that wakes late gets no extra credit for it, unlike a plain leaky bucket). Waiters are
/// served in FIFO order (a small acquisition cannot overtake a waiting large one).
class rate_limiter {
 public:
  using duration = std::chrono::steady_clock::duration;

  /// Throws value_error for a non-positive rate or period.
  template <class Rep, class Period>
  rate_limiter(double max_rate, std::chrono::duration<Rep, Period> period)
      : max_rate_(max_rate), period_(std::chrono::duration_cast<duration>(period)) {
    if (!(max_rate_ > 0) || period_ <= duration::zero())
      throw value_error("rate_limiter needs max_rate > 0 and period > 0");
    leak_per_second_ = max_rate_ / std::chrono::duration<double>(period_).count();
  }
  rate_limiter(const rate_limiter&) = delete;
  rate_limiter& operator=(const rate_limiter&) = delete;

  /// Waits until `amount` fits in the bucket, then takes it.
  /// Cancellation: nothing is taken; waiters behind move up. Throws: value_error when
  /// `amount` exceeds max_rate (it could never fit); cancelled_error.
  task<> acquire(double amount = 1) {
    if (amount > max_rate_) throw value_error("rate_limiter: amount exceeds max_rate");
    auto turn = co_await fifo_.scoped_acquire();  // one acquirer at a time, in arrival order
    auto& loop = get_running_loop();
    bool waited = false;
    for (;;) {
      leak(loop.now());
      if (waited) {
        // Waking late must not earn credit: the next waiter would spend it, and a window of
        // one period could then see more than max_rate. Take exactly the room waited for.
        level_ = std::max(level_, max_rate_ - amount);
      }
      if (level_ + amount <= max_rate_) break;
      const double wait_seconds = (level_ + amount - max_rate_) / leak_per_second_;
      co_await sleep(std::chrono::duration_cast<duration>(std::chrono::duration<double>(wait_seconds)) +
                     duration(1));  // never wake a hair early
      waited = true;
    }
    level_ += amount;
  }

  /// True when acquire(amount) would not wait now (no one queued and room in the bucket).
  bool has_capacity(double amount = 1) {
    leak(std::chrono::steady_clock::now());
    return !fifo_.locked() && level_ + amount <= max_rate_;
  }

  double max_rate() const noexcept { return max_rate_; }
  duration period() const noexcept { return period_; }

 private:
  void leak(std::chrono::steady_clock::time_point now) noexcept {
    if (last_leak_ != std::chrono::steady_clock::time_point{}) {
      const double elapsed = std::chrono::duration<double>(now - last_leak_).count();
      level_ = std::max(0.0, level_ - elapsed * leak_per_second_);
    }
    last_leak_ = now;
  }

  double max_rate_;
  duration period_;
  double leak_per_second_ = 0;
  double level_ = 0;
  std::chrono::steady_clock::time_point last_leak_{};
  lock fifo_;
};

}  // namespace coio
