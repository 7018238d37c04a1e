// coio/detail/selector_epoll.hpp: the Linux backend: epoll, edge-triggered, eventfd wake-up.
#pragma once

#include <coio/detail/selector_common.hpp>

#include <cstdint>

#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

namespace coio::detail {

class epoll_selector {
 public:
  epoll_selector() {
    epoll_fd_ = ::epoll_create1(EPOLL_CLOEXEC);
    if (epoll_fd_ < 0) throw_errno("epoll_create1");
    wake_fd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (wake_fd_ < 0) {
      ::close(epoll_fd_);
      throw_errno("eventfd");
    }
    epoll_event ev{};
    ev.events = EPOLLIN;  // level-triggered: stays ready until drained
    ev.data.ptr = nullptr;
    if (::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, wake_fd_, &ev) < 0) {
      ::close(wake_fd_);
      ::close(epoll_fd_);
      throw_errno("epoll_ctl(eventfd)");
    }
  }
  epoll_selector(const epoll_selector&) = delete;
  epoll_selector& operator=(const epoll_selector&) = delete;
  ~epoll_selector() {
    ::close(wake_fd_);
    ::close(epoll_fd_);
  }

  void add(int fd, void* token) {
    epoll_event ev{};
    ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
    ev.data.ptr = token;
    if (::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &ev) < 0) throw_errno("epoll_ctl(ADD)");
  }

  void remove(int fd) noexcept { ::epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, fd, nullptr); }

  void wake() noexcept { signal_wake(wake_fd_); }
  int wake_fd() const noexcept { return wake_fd_; }

  template <class OnReady>
  bool select(std::int64_t timeout_ns, OnReady&& on_ready) {
    int timeout_ms = -1;
    if (timeout_ns >= 0) {
      // Round up: waking a little early would only spin until the timer is due.
      const std::int64_t ms = (timeout_ns + 999'999) / 1'000'000;
      timeout_ms = ms > 0x7fffffff ? 0x7fffffff : static_cast<int>(ms);
    }
    const int n = ::epoll_wait(epoll_fd_, events_, max_events, timeout_ms);
    if (n < 0) {
      if (errno == EINTR) return false;  // a signal: its handler wrote the wake fd
      throw_errno("epoll_wait");
    }
    bool woken = false;
    for (int i = 0; i < n; ++i) {
      const epoll_event& ev = events_[i];
      if (ev.data.ptr == nullptr) {
        std::uint64_t drained;
        [[maybe_unused]] auto got = ::read(wake_fd_, &drained, sizeof drained);
        woken = true;
        continue;
      }
      std::uint32_t bits = 0;
      if (ev.events & (EPOLLIN | EPOLLRDHUP | EPOLLPRI)) bits |= io_readable;
      if (ev.events & (EPOLLRDHUP | EPOLLHUP)) bits |= io_read_hangup;
      if (ev.events & EPOLLOUT) bits |= io_writable;
      if (ev.events & (EPOLLERR | EPOLLHUP)) bits |= io_error | io_readable | io_writable;
      on_ready(ev.data.ptr, bits);
    }
    return woken;
  }

 private:
  static constexpr int max_events = 256;
  int epoll_fd_ = -1;
  int wake_fd_ = -1;
  epoll_event events_[max_events];
};

}  // namespace coio::detail
