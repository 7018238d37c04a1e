// coio/detail/io_source.hpp: one fd registered with the loop's selector, and the awaiter a
// task parks on until the fd is readable or writable.
//
// The fd is registered once, edge-triggered, for both directions: no epoll_ctl per
// operation. `readable`/`writable` mean "may be ready": an operation tries its system call
// first and only waits after EAGAIN (or after a short read or write, which means the kernel
// buffer was drained or filled: the next change of state brings a new edge). That keeps an
// echo at one read and one write per message, with no EAGAIN round trips.
#pragma once

#include <coio/detail/future_state.hpp>
#include <coio/detail/selector_common.hpp>
#include <coio/errors.hpp>

#include <coroutine>
#include <utility>

namespace coio::detail {

class io_waiter;

struct io_source {
  int fd = -1;
  bool readable = true;
  bool writable = true;
  bool read_hangup = false;     // sticky: after the peer's FIN (or an error) no new read edge comes
  io_waiter* reader = nullptr;  // at most one task waits per direction
  io_waiter* writer = nullptr;

  inline void on_ready(std::uint32_t bits) noexcept;
  /// The fd is going away: waiting operations wake and find it closed.
  inline void abort_waiters() noexcept;
};

/// What a read or write operation awaits when its system call said EAGAIN. Resumes when the
/// selector reports the direction ready, the source is aborted, or the task is cancelled
/// (then it throws cancelled_error).
class io_waiter : private suspension {
 public:
  enum direction : bool { read = false, write = true };

  io_waiter(io_source& source, direction dir) noexcept : source_(&source), dir_(dir) {
    suspension::cancel = &on_cancel;
    suspension::what = dir == read ? "wait readable" : "wait writable";
  }
  io_waiter(const io_waiter&) = delete;
  io_waiter& operator=(const io_waiter&) = delete;
  ~io_waiter() { detach(); }

  bool await_ready() const noexcept { return false; }

  bool await_suspend(std::coroutine_handle<> h) {
    task_ = this_thread.task;
    if (!task_) throw runtime_error("coio socket operations must be awaited inside a coio task");
    if (task_->take_cancel_request()) {
      cancelled_ = true;
      return false;
    }
    io_waiter*& slot = dir_ == read ? source_->reader : source_->writer;
    if (slot) {
      throw runtime_error(dir_ == read ? "another task is already waiting to read from this socket"
                                       : "another task is already waiting to write to this socket");
    }
    slot = this;
    task_->suspend_at(h, this);
    return true;
  }

  void await_resume() {
    detach();
    if (cancelled_ || task_->take_cancel_request()) throw task_->make_cancelled_error();
  }

 private:
  friend struct io_source;

  void detach() noexcept {
    if (!source_) return;
    io_waiter*& slot = dir_ == read ? source_->reader : source_->writer;
    if (slot == this) slot = nullptr;
  }
  void wake() noexcept {
    detach();
    source_ = nullptr;  // the operation re-reads the source's state after resuming
    task_->wake();
  }
  static bool on_cancel(suspension* s) noexcept {
    auto* self = static_cast<io_waiter*>(s);
    self->cancelled_ = true;
    self->wake();
    return true;
  }

  io_source* source_;
  future_state_base* task_ = nullptr;
  direction dir_;
  bool cancelled_ = false;
};

inline void io_source::on_ready(std::uint32_t bits) noexcept {
  if (bits & (io_read_hangup | io_error)) read_hangup = true;
  if (bits & io_readable) {
    readable = true;
    if (reader) reader->wake();
  }
  if (bits & io_writable) {
    writable = true;
    if (writer) writer->wake();
  }
}

inline void io_source::abort_waiters() noexcept {
  if (reader) reader->wake();
  if (writer) writer->wake();
}

inline void dispatch_io(void* token, std::uint32_t bits) noexcept { static_cast<io_source*>(token)->on_ready(bits); }

}  // namespace coio::detail
