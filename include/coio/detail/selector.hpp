// coio/detail/selector.hpp: the one interface between the event loop and the OS's readiness
// API. Only the backends below know the OS; the loop sees `detail::selector`.
#pragma once

#include <coio/config.hpp>
#include <coio/detail/selector_common.hpp>

#include <concepts>
#include <cstdint>

namespace coio::detail {

/// What a backend must offer. Registration is once per fd for both directions, edge-triggered
/// (EPOLLET / EV_CLEAR): no system call per operation, only when an fd opens or closes.
template <class S>
concept selector_backend = requires(S& s, int fd, void* token, std::int64_t timeout_ns) {
  s.add(fd, token);                      // start reporting readiness of fd, tagged with token
  s.remove(fd);                          // stop reporting (noexcept; before close)
  s.wake();                              // make a concurrent or future select() return (any thread)
  { s.wake_fd() } -> std::same_as<int>;  // writing 8 bytes wakes too (async-signal-safe)
  // Waits up to timeout_ns (-1: forever, 0: poll), calls on_ready(token, io_ready bits) for
  // each ready fd, and returns true when the wake-up fired (the wake is drained already).
  {
    s.select(timeout_ns, [](void*, std::uint32_t) {})
    } -> std::same_as<bool>;
};

}  // namespace coio::detail

#if defined(COIO_SELECTOR_EPOLL)
#include <coio/detail/selector_epoll.hpp>
namespace coio::detail {
using selector = epoll_selector;
}
#else
#include <coio/detail/selector_kqueue.hpp>
namespace coio::detail {
using selector = kqueue_selector;
}
#endif

static_assert(coio::detail::selector_backend<coio::detail::selector>);
