// coio/errors.hpp: the exceptions coio raises (asyncio's CancelledError, TimeoutError,
// InvalidStateError, RuntimeError, ...).
#pragma once

#include <cerrno>
#include <cstddef>
#include <cstring>
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

/// A system call failed (Python's OSError): `code()` is the errno; the message names the call
/// and its object (a path, a peer) and ends with strerror's text.
class os_error : public error {
 public:
  os_error(int code, const std::string& what) : error(what + ": " + std::strerror(code)), code_(code) {}
  int code() const noexcept { return code_; }

 private:
  int code_;
};

/// A connection failed or broke (Python's ConnectionError); the subclasses below name the
/// usual causes. Other socket failures are plain os_error.
class connection_error : public os_error {
 public:
  using os_error::os_error;
};
/// ECONNREFUSED: nobody listens at the address.
class connection_refused_error : public connection_error {
 public:
  using connection_error::connection_error;
};
/// ECONNRESET: the peer reset the connection (e.g. it closed with unread data, or SO_LINGER 0).
class connection_reset_error : public connection_error {
 public:
  using connection_error::connection_error;
};
/// ECONNABORTED, or the socket was closed while this operation waited on it.
class connection_aborted_error : public connection_error {
 public:
  using connection_error::connection_error;
};
/// EPIPE / ESHUTDOWN: writing after the peer (or this side) shut the connection down.
class broken_pipe_error : public connection_error {
 public:
  using connection_error::connection_error;
};

/// ENOENT: no such file or directory (Python's FileNotFoundError).
class file_not_found_error : public os_error {
 public:
  using os_error::os_error;
};
/// EEXIST: the file exists, e.g. open_file(path, "x") (Python's FileExistsError).
class file_exists_error : public os_error {
 public:
  using os_error::os_error;
};
/// EACCES / EPERM (Python's PermissionError).
class permission_error : public os_error {
 public:
  using os_error::os_error;
};
/// EISDIR: a file operation on a directory (Python's IsADirectoryError).
class is_a_directory_error : public os_error {
 public:
  using os_error::os_error;
};

/// Throws the os_error subclass that matches `code` (errno), e.g. connection_reset_error for
/// ECONNRESET, with the message "`what`: strerror(code)".
[[noreturn]] inline void throw_os_error(int code, const std::string& what) {
  switch (code) {
    case ECONNREFUSED:
      throw connection_refused_error(code, what);
    case ECONNRESET:
      throw connection_reset_error(code, what);
    case ECONNABORTED:
      throw connection_aborted_error(code, what);
    case EPIPE:
    case ESHUTDOWN:
      throw broken_pipe_error(code, what);
    case ENOENT:
      throw file_not_found_error(code, what);
    case EEXIST:
      throw file_exists_error(code, what);
    case EACCES:
    case EPERM:
      throw permission_error(code, what);
    case EISDIR:
      throw is_a_directory_error(code, what);
    default:
      throw os_error(code, what);
  }
}

/// The stream ended before readexactly(n) or readuntil(sep) got what it needed
/// (asyncio.IncompleteReadError). `partial()` holds the bytes that did arrive (they are
/// consumed); `expected()` is n, or 0 for readuntil.
class incomplete_read_error : public error {
 public:
  incomplete_read_error(std::string partial, std::size_t expected)
      : error(std::to_string(partial.size()) + " bytes read on a total of " +
              (expected ? std::to_string(expected) : std::string("undefined")) + " expected bytes"),
        partial_(std::move(partial)),
        expected_(expected) {}
  const std::string& partial() const noexcept { return partial_; }
  std::size_t expected() const noexcept { return expected_; }

 private:
  std::string partial_;
  std::size_t expected_;
};

/// readuntil() (or readline()) would have to buffer more than the reader's limit
/// (asyncio.LimitOverrunError). `consumed()`: how many buffered bytes the search covered.
class limit_overrun_error : public error {
 public:
  limit_overrun_error(const std::string& message, std::size_t consumed) : error(message), consumed_(consumed) {}
  std::size_t consumed() const noexcept { return consumed_; }

 private:
  std::size_t consumed_;
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
