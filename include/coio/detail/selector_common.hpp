// coio/detail/selector_common.hpp: what every selector backend shares: readiness bits and
// small errno helpers.
#pragma once

#include <coio/errors.hpp>

#include <cstdint>

#include <errno.h>
#include <unistd.h>

namespace coio::detail {

/// Readiness bits reported for a registered fd.
enum io_ready : std::uint32_t {
  io_readable = 1u << 0,
  io_writable = 1u << 1,
  io_error = 1u << 2,        // error or hang-up: wake both directions, the next syscall reports it
  io_read_hangup = 1u << 3,  // the peer sent end of stream: no further read edge will come
};

[[noreturn]] inline void throw_errno(const char* what) { throw_os_error(errno, what); }

/// Writes the 8-byte wake-up token; async-signal-safe, preserves errno.
inline void signal_wake(int fd) noexcept {
  const int saved = errno;
  const std::uint64_t one = 1;
  [[maybe_unused]] auto written = ::write(fd, &one, sizeof one);
  errno = saved;
}

}  // namespace coio::detail
