// coio/detail/signals.hpp: the process-wide signal table behind loop.add_signal_handler.
// Signal dispositions belong to the process, so this is the one piece of global state coio
// keeps besides the thread-local running loop. The handler only records the signal and
// writes the owning loop's wake fd (both async-signal-safe); the loop runs the user's
// callback on its own thread.
#pragma once

#include <coio/detail/selector_common.hpp>
#include <coio/errors.hpp>

#include <atomic>
#include <cstdint>
#include <mutex>

#include <signal.h>

namespace coio {
class event_loop;
}

namespace coio::detail {

class signal_registry {
 public:
  static constexpr int max_signal = 64;

  static signal_registry& instance() {
    static signal_registry registry;
    return registry;
  }

  void install(const event_loop* loop, int signo, int wake_fd) {
    if (signo <= 0 || signo >= max_signal || signo == SIGKILL || signo == SIGSTOP) {
      throw value_error("invalid signal number " + std::to_string(signo));
    }
    std::lock_guard guard(mutex_);
    const event_loop* owner = owner_.load(std::memory_order_relaxed);
    if (owner && owner != loop) throw runtime_error("signal handlers are owned by another event loop");
    if (!installed_[signo]) {
      struct sigaction action {};
      action.sa_handler = &on_signal;
      sigemptyset(&action.sa_mask);
      action.sa_flags = SA_RESTART;  // other code's blocking calls are not interrupted
      if (::sigaction(signo, &action, &previous_[signo]) < 0) throw_errno("sigaction");
      installed_[signo] = true;
      ++count_;
    }
    owner_.store(loop, std::memory_order_relaxed);
    wake_fd_.store(wake_fd, std::memory_order_release);
  }

  void uninstall(const event_loop* loop, int signo) noexcept {
    std::lock_guard guard(mutex_);
    if (owner_.load(std::memory_order_relaxed) != loop || signo <= 0 || signo >= max_signal || !installed_[signo])
      return;
    ::sigaction(signo, &previous_[signo], nullptr);
    installed_[signo] = false;
    pending_.fetch_and(~(std::uint64_t{1} << signo), std::memory_order_acq_rel);
    if (--count_ == 0) {
      owner_.store(nullptr, std::memory_order_relaxed);
      wake_fd_.store(-1, std::memory_order_release);
    }
  }

  /// The signals that arrived since the last call, as a bit mask (owner only).
  std::uint64_t take_pending(const event_loop* loop) noexcept {
    if (owner_.load(std::memory_order_relaxed) != loop || pending_.load(std::memory_order_relaxed) == 0)
      return 0;  // no RMW per turn
    return pending_.exchange(0, std::memory_order_acq_rel);
  }

 private:
  static void on_signal(int signo) {
    signal_registry& self = instance();
    self.pending_.fetch_or(std::uint64_t{1} << signo, std::memory_order_acq_rel);
    const int fd = self.wake_fd_.load(std::memory_order_acquire);
    if (fd >= 0) signal_wake(fd);
  }

  static_assert(std::atomic<std::uint64_t>::is_always_lock_free, "needed in a signal handler");

  std::mutex mutex_;
  std::atomic<const event_loop*> owner_{nullptr};  // written under mutex_, read each loop turn
  int count_ = 0;
  bool installed_[max_signal] = {};
  struct sigaction previous_[max_signal] = {};
  std::atomic<int> wake_fd_{-1};
  std::atomic<std::uint64_t> pending_{0};
};

}  // namespace coio::detail
