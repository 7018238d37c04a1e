// Compiles the kqueue selector on Linux against tests/kqueue_shim (declarations only), so the
// backend that Linux CI cannot run is at least type-checked against the same concept as epoll.
#include <coio/detail/selector_common.hpp>
#include <coio/detail/selector_kqueue.hpp>

#include <coio/detail/selector.hpp>

static_assert(coio::detail::selector_backend<coio::detail::kqueue_selector>);
static_assert(coio::detail::selector_backend<coio::detail::epoll_selector>);

// Instantiate select() with a real callback type, as the loop does.
[[maybe_unused]] static bool instantiate_select(coio::detail::kqueue_selector& s) {
  return s.select(0, [](void*, std::uint32_t) {});
}
