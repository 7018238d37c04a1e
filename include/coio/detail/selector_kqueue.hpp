// coio/detail/selector_kqueue.hpp: the macOS/BSD backend: kqueue with EV_CLEAR (edge
// semantics, as the epoll backend), a non-blocking pipe as the wake-up.
#pragma once

#include <coio/detail/selector_common.hpp>

#include <cstdint>

#include <fcntl.h>
#include <sys/event.h>
#include <sys/time.h>
#include <unistd.h>

namespace coio::detail {

class kqueue_selector {
 public:
  kqueue_selector() {
    kq_ = ::kqueue();
    if (kq_ < 0) throw_errno("kqueue");
    if (::pipe(wake_pipe_) < 0) {
      ::close(kq_);
      throw_errno("pipe");
    }
    for (int fd : {kq_, wake_pipe_[0], wake_pipe_[1]}) ::fcntl(fd, F_SETFD, FD_CLOEXEC);
    for (int fd : wake_pipe_) ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
    struct kevent change;
    EV_SET(&change, wake_pipe_[0], EVFILT_READ, EV_ADD, 0, 0, nullptr);  // level: until drained
    if (::kevent(kq_, &change, 1, nullptr, 0, nullptr) < 0) {
      close_all();
      throw_errno("kevent(wake pipe)");
    }
  }
  kqueue_selector(const kqueue_selector&) = delete;
  kqueue_selector& operator=(const kqueue_selector&) = delete;
  ~kqueue_selector() { close_all(); }

  void add(int fd, void* token) {
    struct kevent changes[2];
    EV_SET(&changes[0], fd, EVFILT_READ, EV_ADD | EV_CLEAR, 0, 0, token);
    EV_SET(&changes[1], fd, EVFILT_WRITE, EV_ADD | EV_CLEAR, 0, 0, token);
    if (::kevent(kq_, changes, 2, nullptr, 0, nullptr) < 0) throw_errno("kevent(EV_ADD)");
  }

  void remove(int fd) noexcept {
    struct kevent changes[2];
    EV_SET(&changes[0], fd, EVFILT_READ, EV_DELETE, 0, 0, nullptr);
    EV_SET(&changes[1], fd, EVFILT_WRITE, EV_DELETE, 0, 0, nullptr);
    ::kevent(kq_, changes, 2, nullptr, 0, nullptr);
  }

  void wake() noexcept { signal_wake(wake_pipe_[1]); }
  int wake_fd() const noexcept { return wake_pipe_[1]; }

  template <class OnReady>
  bool select(std::int64_t timeout_ns, OnReady&& on_ready) {
    timespec ts{};
    timespec* timeout = nullptr;
    if (timeout_ns >= 0) {
      ts.tv_sec = static_cast<time_t>(timeout_ns / 1'000'000'000);
      ts.tv_nsec = static_cast<long>(timeout_ns % 1'000'000'000);
      timeout = &ts;
    }
    const int n = ::kevent(kq_, nullptr, 0, events_, max_events, timeout);
    if (n < 0) {
      if (errno == EINTR) return false;
      throw_errno("kevent");
    }
    bool woken = false;
    for (int i = 0; i < n; ++i) {
      const struct kevent& ev = events_[i];
      if (ev.udata == nullptr) {
        char drain[256];
        while (::read(wake_pipe_[0], drain, sizeof drain) > 0) {
        }
        woken = true;
        continue;
      }
      std::uint32_t bits = ev.filter == EVFILT_WRITE ? io_writable : io_readable;
      if (ev.flags & (EV_EOF | EV_ERROR)) bits |= io_error | io_read_hangup | io_readable | io_writable;
      on_ready(ev.udata, bits);
    }
    return woken;
  }

 private:
  void close_all() noexcept {
    ::close(wake_pipe_[0]);
    ::close(wake_pipe_[1]);
    ::close(kq_);
  }

  static constexpr int max_events = 256;
  int kq_ = -1;
  int wake_pipe_[2] = {-1, -1};
  struct kevent events_[max_events];
};

}  // namespace coio::detail
