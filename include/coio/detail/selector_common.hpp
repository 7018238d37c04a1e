// coio/detail/selector_common.hpp: what every selector backend shares: readiness bits and
// small errno helpers.
#pragma once

#include <cstdint>
#include <system_error>

#include <errno.h>
#include <unistd.h>

namespace coio::detail {

/// Readiness bits reported for a registered fd.
enum io_ready : std::uint32_t {
  io_readable = 1u << 0,
  io_writable = 1u << 1,
  io_error = 1u << 2,  // error or hang-up: wake both directions, the next syscall reports it
};

[[noreturn]] inline void throw_errno(const char* what) {
  throw std::system_error(errno, std::generic_category(), what);
}

/// Writes the 8-byte wake-up token; async-signal-safe, preserves errno.
inline void signal_wake(int fd) noexcept {
  const int saved = errno;
  const std::uint64_t one = 1;
  [[maybe_unused]] auto written = ::write(fd, &one, sizeof one);
  errno = saved;
}

}  // namespace coio::detail
