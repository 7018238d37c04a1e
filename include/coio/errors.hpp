// coio/errors.hpp: the exceptions coio raises (asyncio's CancelledError, TimeoutError,
// InvalidStateError, RuntimeError, ...).
#pragma once

#include <exception>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace coio {

/// Base of every coio error except cancellation. Catch this to handle "something went
/// wrong in coio" without also swallowing a cancellation.
class error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// Misuse of the runtime: no running loop, a loop already running, a closed loop
/// (asyncio's RuntimeError).
class runtime_error : public error {
 public:
  using error::error;
};

/// An operation not allowed in the object's current state, e.g. `result()` of a pending
/// future or `set_result` on a finished one (asyncio.InvalidStateError).
class invalid_state_error : public error {
 public:
  using error::error;
};

/// A deadline passed (asyncio.TimeoutError / TimeoutError).
class timeout_error : public error {
 public:
  timeout_error() : error("operation timed out") {}
  using error::error;
};

/// An argument outside its allowed range (Python's ValueError).
class value_error : public error {
 public:
  using error::error;
};

/// A coio::promise was destroyed without setting a result; its future carries this.
class broken_promise : public error {
 public:
  broken_promise() : error("promise destroyed without a result") {}
};

/// put_nowait on a full queue (asyncio.QueueFull).
class queue_full : public error {
 public:
  queue_full() : error("queue is full") {}
};

/// get_nowait on an empty queue (asyncio.QueueEmpty).
class queue_empty : public error {
 public:
  queue_empty() : error("queue is empty") {}
};

/// put on a shut-down queue, or get on one that is shut down and drained
/// (asyncio.QueueShutDown, Python 3.13).
class queue_shut_down : public error {
 public:
  queue_shut_down() : error("queue is shut down") {}
};

/// Every failure of a coio::task_group's children, in the order they happened (Python's
/// ExceptionGroup). Thrown even for a single failure, so that handling code has one shape.
class exception_group : public error {
 public:
  explicit exception_group(std::vector<std::exception_ptr> errors)
      : error(summary(errors)), exceptions_(std::move(errors)) {}

  const std::vector<std::exception_ptr>& exceptions() const noexcept { return exceptions_; }

 private:
  static std::string summary(const std::vector<std::exception_ptr>& errors) {
    std::string text =
        std::to_string(errors.size()) + (errors.size() == 1 ? " failure" : " failures") + " in task group";
    if (!errors.empty()) {
      try {
        std::rethrow_exception(errors.front());
      } catch (const std::exception& e) {
        text += std::string(": ") + e.what();
      } catch (...) {
      }
    }
    return text;
  }
  std::vector<std::exception_ptr> exceptions_;
};

/// Thrown out of the `co_await` a cancelled task is suspended in (asyncio.CancelledError).
///
/// Deliberately *not* derived from std::exception: like Python's CancelledError, which is a
/// BaseException, a cancellation must not be swallowed by a generic
/// `catch (const std::exception&)`. Catch it by name, clean up, and rethrow it (or return a
/// value to refuse the cancellation, as asyncio allows).
class cancelled_error {
 public:
  cancelled_error() = default;
  explicit cancelled_error(std::string message) : message_(std::move(message)) {}

  /// The message given to `cancel(msg)`, or "" when none was.
  const std::string& message() const noexcept { return message_; }
  const char* what() const noexcept { return message_.empty() ? "cancelled" : message_.c_str(); }

 private:
  std::string message_;
};

}  // namespace coio
