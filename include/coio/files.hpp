// coio/files.hpp: coio::open_file and coio::async_file, coio::read_file, coio::write_file
// (what aiofiles gives Python): files read and written on the loop's thread pool.
#pragma once

#include <coio/async_generator.hpp>
#include <coio/errors.hpp>
#include <coio/task.hpp>
#include <coio/thread_pool.hpp>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstddef>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

namespace coio {

namespace detail {

/// How fopen/Python mode strings map to open(2): one of r, w, a, x, then optional '+' and one
/// of 'b' or 't' in any order.
struct file_mode {
  int flags = 0;
  bool readable = false;
  bool writable = false;
};

inline file_mode parse_file_mode(std::string_view mode) {
  file_mode m;
  int kinds = 0, plus = 0, b = 0, t = 0;
  char kind = 0;
  for (char c : mode) {
    switch (c) {
      case 'r':
      case 'w':
      case 'a':
      case 'x':
        ++kinds;
        kind = c;
        break;
      case '+':
        ++plus;
        break;
      case 'b':
        ++b;
        break;
      case 't':
        ++t;
        break;
      default:
        kinds = 99;
    }
  }
  if (kinds != 1 || plus > 1 || b + t > 1) throw value_error("invalid mode: '" + std::string(mode) + "'");
  const bool update = plus == 1;
  m.readable = kind == 'r' || update;
  m.writable = kind != 'r' || update;
  m.flags = update ? O_RDWR : (kind == 'r' ? O_RDONLY : O_WRONLY);
  if (kind == 'w') m.flags |= O_CREAT | O_TRUNC;
  if (kind == 'a') m.flags |= O_CREAT | O_APPEND;
  if (kind == 'x') m.flags |= O_CREAT | O_EXCL;
  return m;
}

/// The open file behind an async_file, shared with the calls running on the pool, so that a
/// cancelled call still running never touches a dead frame or a closed descriptor. Whoever
/// works on it holds `mutex`: a pool thread for a blocking call, the loop thread (with
/// try_lock only, never waiting) to serve a call from the buffers. The last owner closes the
/// descriptor, flushing what is buffered (errors dropped: close() reports them).
class file_state {
 public:
  static constexpr std::size_t chunk = 64 * 1024;  // read-ahead and write-buffer size

  file_state(int fd, std::string path, file_mode mode) noexcept
      : path_(std::move(path)), fd_(fd), readable_(mode.readable), writable_(mode.writable) {}
  file_state(const file_state&) = delete;
  file_state& operator=(const file_state&) = delete;
  ~file_state() {
    if (fd_ >= 0) {
      try {
        flush_writes();
      } catch (...) {
      }
      ::close(fd_);
    }
  }

  /// Opens `path` (pool thread). Throws os_error (file_not_found_error, ...) naming the path.
  static std::shared_ptr<file_state> open(const std::string& path, file_mode mode) {
    int fd;
    do {
      fd = ::open(path.c_str(), mode.flags | O_CLOEXEC, 0666);
    } while (fd < 0 && errno == EINTR);
    if (fd < 0) throw_os_error(errno, "open '" + path + "'");
    struct stat st {};
    if (::fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
      ::close(fd);
      throw_os_error(EISDIR, "open '" + path + "'");
    }
    return std::make_shared<file_state>(fd, path, mode);
  }

  std::mutex mutex;
  const std::string& path() const noexcept { return path_; }
  bool closed() const noexcept { return closed_.load(std::memory_order_acquire); }

  // --- with `mutex` held -------------------------------------------------------------------

  /// The rest of the file.
  std::string read_all() {
    check_readable("read");
    flush_writes();
    std::string out = take(rbuf_.size() - rpos_);
    struct stat st {};
    if (::fstat(fd_, &st) == 0 && S_ISREG(st.st_mode)) {
      const off_t at = ::lseek(fd_, 0, SEEK_CUR);
      if (at >= 0 && st.st_size > at) out.reserve(out.size() + static_cast<std::size_t>(st.st_size - at) + 1);
    }
    for (;;) {
      if (out.capacity() - out.size() < 4096) {
        // Most likely at the end already (the size was known): look before growing.
        char probe[4096];
        const std::size_t got = read_into(probe, sizeof probe, "read");
        if (got == 0) return out;
        out.append(probe, got);
        continue;
      }
      const std::size_t old = out.size();
      out.resize(out.capacity());
      const std::size_t got = read_into(out.data() + old, out.size() - old, "read");
      out.resize(old + got);
      if (got == 0) return out;
    }
  }

  /// Up to `n` bytes; fewer only at the end of the file.
  std::string read_n(std::size_t n) {
    check_readable("read");
    flush_writes();
    std::string out = take(std::min(n, rbuf_.size() - rpos_));
    while (out.size() < n) {
      const std::size_t want = n - out.size();
      if (want < chunk) {  // small: read ahead, keep the rest for the next call
        if (fill() == 0) break;
        out += take(std::min(want, rbuf_.size() - rpos_));
      } else {  // large: straight into the result
        const std::size_t old = out.size();
        const std::size_t step = std::min<std::size_t>(want, 1 << 20);
        out.resize(old + step);
        std::size_t got = 0;
        try {
          got = read_into(out.data() + old, step, "read");
        } catch (...) {
          out.resize(old);
          throw;
        }
        out.resize(old + got);
        if (got == 0) break;
      }
    }
    return out;
  }

  /// Through the next '\n' (kept, as is a "\r" before it), or the rest of the file when no
  /// '\n' follows; "" at the end.
  std::string readline() {
    check_readable("readline");
    flush_writes();
    std::size_t scanned = 0;  // bytes after rpos_ already searched
    for (;;) {
      const std::size_t nl = rbuf_.find('\n', rpos_ + scanned);
      if (nl != std::string::npos) return take(nl + 1 - rpos_);
      scanned = rbuf_.size() - rpos_;
      if (fill() == 0) return take(rbuf_.size() - rpos_);
    }
  }

  /// Loop thread: the next line when it is buffered already and nothing else works on the
  /// file, else nullopt (the caller goes to the pool).
  std::optional<std::string> try_readline_buffered() {
    std::unique_lock lock(mutex, std::try_to_lock);
    if (!lock || fd_ < 0 || !wbuf_.empty()) return std::nullopt;
    const std::size_t nl = rbuf_.find('\n', rpos_);
    if (nl == std::string::npos) return std::nullopt;
    return take(nl + 1 - rpos_);
  }
  /// Loop thread: `n` buffered bytes, or nullopt (as try_readline_buffered).
  std::optional<std::string> try_read_buffered(std::size_t n) {
    std::unique_lock lock(mutex, std::try_to_lock);
    if (!lock || fd_ < 0 || !wbuf_.empty() || rbuf_.size() - rpos_ < n) return std::nullopt;
    return take(n);
  }
  /// Loop thread: appends to the write buffer when `data` fits, else returns false.
  bool try_write_buffered(std::string_view data) {
    std::unique_lock lock(mutex, std::try_to_lock);
    if (!lock || fd_ < 0 || !writable_ || rpos_ != rbuf_.size() || wbuf_.size() + data.size() > chunk) return false;
    wbuf_.append(data);
    return true;
  }

  std::size_t write(std::string_view data) {
    check_open("write");
    if (!writable_) throw os_error(EBADF, "write '" + path_ + "' (not open for writing)");
    drop_read_ahead();
    if (wbuf_.size() + data.size() > chunk) flush_writes();
    if (data.size() >= chunk) {
      write_all(data);
    } else {
      wbuf_.append(data);
    }
    return data.size();
  }

  void flush() {
    check_open("flush");
    flush_writes();
  }

  /// Flushes and closes; idempotent. The descriptor is closed even when the flush fails.
  void close() {
    if (fd_ < 0) return;
    std::exception_ptr failure;
    try {
      flush_writes();
    } catch (...) {
      failure = std::current_exception();
      wbuf_.clear();
    }
    const int rc = ::close(std::exchange(fd_, -1));
    const int code = errno;
    closed_.store(true, std::memory_order_release);
    if (failure) std::rethrow_exception(failure);
    if (rc != 0 && code != EINTR) throw_os_error(code, "close '" + path_ + "'");
  }

 private:
  void check_open(const char* op) const {
    if (fd_ < 0) throw value_error(std::string(op) + ": I/O operation on closed file '" + path_ + "'");
  }
  void check_readable(const char* op) const {
    check_open(op);
    if (!readable_) throw os_error(EBADF, std::string(op) + " '" + path_ + "' (not open for reading)");
  }

  std::string take(std::size_t n) {
    std::string out(rbuf_, rpos_, n);
    rpos_ += n;
    if (rpos_ == rbuf_.size()) {
      rbuf_.clear();  // keeps its capacity: the buffer is reused, memory stays constant
      rpos_ = 0;
    }
    return out;
  }

  // Reads up to one chunk more into the read-ahead buffer; 0 at the end of the file.
  std::size_t fill() {
    if (rpos_ > 0) {
      rbuf_.erase(0, rpos_);
      rpos_ = 0;
    }
    const std::size_t old = rbuf_.size();
    rbuf_.resize(old + chunk);
    std::size_t got = 0;
    try {
      got = read_into(rbuf_.data() + old, chunk, "read");
    } catch (...) {
      rbuf_.resize(old);
      throw;
    }
    rbuf_.resize(old + got);
    return got;
  }

  std::size_t read_into(char* to, std::size_t n, const char* op) {
    for (;;) {
      const ssize_t got = ::read(fd_, to, n);
      if (got >= 0) return static_cast<std::size_t>(got);
      if (errno != EINTR) throw_os_error(errno, std::string(op) + " '" + path_ + "'");
    }
  }

  void write_all(std::string_view data) {
    std::size_t done = 0;
    while (done < data.size()) {
      const ssize_t put = ::write(fd_, data.data() + done, data.size() - done);
      if (put >= 0) {
        done += static_cast<std::size_t>(put);
      } else if (errno != EINTR) {
        throw_os_error(errno, "write '" + path_ + "'");
      }
    }
  }

  void flush_writes() {
    if (wbuf_.empty()) return;
    std::size_t done = 0;
    try {
      while (done < wbuf_.size()) {
        const ssize_t put = ::write(fd_, wbuf_.data() + done, wbuf_.size() - done);
        if (put >= 0) {
          done += static_cast<std::size_t>(put);
        } else if (errno != EINTR) {
          throw_os_error(errno, "write '" + path_ + "'");
        }
      }
    } catch (...) {
      wbuf_.erase(0, done);
      throw;
    }
    wbuf_.clear();
  }

  // Before writing: the file position is where the reader got to, not where read-ahead went.
  void drop_read_ahead() {
    if (rpos_ < rbuf_.size()) {
      ::lseek(fd_, -static_cast<off_t>(rbuf_.size() - rpos_), SEEK_CUR);  // not seekable: nothing to undo
    }
    rbuf_.clear();
    rpos_ = 0;
  }

  const std::string path_;
  int fd_;
  const bool readable_;
  const bool writable_;
  std::atomic<bool> closed_{false};
  std::string rbuf_;  // read-ahead: rbuf_[rpos_..] is not consumed yet
  std::size_t rpos_ = 0;
  std::string wbuf_;  // written, not flushed yet
};

// What a call served from the buffers returns: a task that is done as soon as it starts.
template <class T>
task<T> ready_task(T value) {
  co_return std::move(value);
}
inline task<void> done_task() { co_return; }

inline task<std::string> file_read_all(std::shared_ptr<file_state> state) {
  auto work = [state] {
    std::lock_guard lock(state->mutex);
    return state->read_all();
  };
  std::string data = co_await to_thread(std::move(work));
  co_return data;
}

inline task<std::string> file_read_n(std::shared_ptr<file_state> state, std::size_t n) {
  auto work = [state, n] {
    std::lock_guard lock(state->mutex);
    return state->read_n(n);
  };
  std::string data = co_await to_thread(std::move(work));
  co_return data;
}

inline task<std::string> file_readline(std::shared_ptr<file_state> state) {
  auto work = [state] {
    std::lock_guard lock(state->mutex);
    return state->readline();
  };
  std::string line = co_await to_thread(std::move(work));
  co_return line;
}

inline task<std::size_t> file_write(std::shared_ptr<file_state> state, std::string data) {
  auto work = [state, data = std::move(data)] {
    std::lock_guard lock(state->mutex);
    return state->write(data);
  };
  const std::size_t n = co_await to_thread(std::move(work));
  co_return n;
}

inline task<void> file_flush(std::shared_ptr<file_state> state) {
  auto work = [state] {
    std::lock_guard lock(state->mutex);
    state->flush();
  };
  co_await to_thread(std::move(work));
}

inline task<void> file_close(std::shared_ptr<file_state> state) {
  auto work = [state] {
    std::lock_guard lock(state->mutex);
    state->close();
  };
  co_await to_thread(std::move(work));
}

inline async_generator<std::string> file_lines(std::shared_ptr<file_state> state) {
  for (;;) {
    std::optional<std::string> line = state->try_readline_buffered();
    if (!line) {
      auto work = [state] {
        std::lock_guard lock(state->mutex);
        return state->readline();
      };
      std::string fetched = co_await to_thread(work);
      if (fetched.empty()) co_return;
      line = std::move(fetched);
    }
    co_yield std::move(*line);
  }
}

}  // namespace detail

/// An open file (what aiofiles.open gives): reads and writes run on the loop's default thread
/// pool, so the loop never blocks on the disk. Bytes are read and written as they are: text
/// and binary modes are the same, with no newline translation and no encoding (as Python's
/// binary mode, or text mode with newline=''), so a "\r\n" line ends in "\r\n".
///
/// Buffered, as Python's files: reads go through a 64 KiB read-ahead and small writes through
/// a 64 KiB buffer; a call that the buffers can serve (a buffered line, a small write)
/// completes without leaving the loop's thread. Move-only. The destructor closes the file,
/// flushing what is buffered, blocking and dropping errors (as Python's file finaliser):
/// `co_await f.close()` closes off the loop and reports them.
///
/// One call at a time per file: await each before the next (calls from several tasks at once
/// are safe but run in no particular order).
///
/// Cancellation (every call): the task gets cancelled_error at once; a call that already runs
/// on its thread finishes there and its result is dropped (a cancelled read may have consumed
/// data, a cancelled write may have written it), a call still queued never runs.
/// Throws (every call): os_error (its subclasses file_not_found_error, permission_error, ...)
/// naming the call and the path, e.g. "read '/tmp/x': Input/output error"; value_error on a
/// closed file.
class async_file {
 public:
  /// A closed file. Files come from open_file.
  async_file() noexcept = default;
  async_file(async_file&&) noexcept = default;
  async_file& operator=(async_file&&) noexcept = default;
  ~async_file() = default;  // the last owner of the shared state closes the descriptor

  /// The path it was opened with (Python's `f.name`).
  const std::string& name() const noexcept {
    static const std::string none;
    return state_ ? state_->path() : none;
  }
  bool closed() const noexcept { return !state_ || state_->closed(); }

  /// The rest of the file.
  task<std::string> read() { return detail::file_read_all(state()); }
  /// Up to `n` bytes: fewer only at the end of the file, "" there.
  task<std::string> read(std::size_t n) {
    if (std::optional<std::string> data = state()->try_read_buffered(n)) return detail::ready_task(std::move(*data));
    return detail::file_read_n(state_, n);
  }
  /// The next line with its '\n' (and a "\r" before it, kept); the last line of a file that
  /// does not end in '\n' comes without one; "" at the end of the file.
  task<std::string> readline() {
    if (std::optional<std::string> line = state()->try_readline_buffered()) return detail::ready_task(std::move(*line));
    return detail::file_readline(state_);
  }
  /// Writes `data` (copied now), buffered; gives data.size().
  task<std::size_t> write(std::string_view data) {
    if (state()->try_write_buffered(data)) return detail::ready_task(data.size());
    return detail::file_write(state_, std::string(data));
  }
  /// Writes what is buffered to the OS (not fsync).
  task<void> flush() { return detail::file_flush(state()); }
  /// Flushes and closes the file; does nothing when it is closed already.
  task<void> close() {
    if (!state_) return detail::done_task();
    return detail::file_close(state_);
  }
  /// close() under the name coio::with_resource awaits, so that
  /// `co_await coio::with_resource(coio::open_file(path), body)` is `async with
  /// aiofiles.open(path) as f:`.
  task<void> aclose() { return close(); }
  /// The lines of the rest of the file, each as readline() gives it (Python's `async for line
  /// in f`). Reads 64 KiB at a time: memory stays constant however large the file (a single
  /// line is held whole). The generator shares the file: it stays open while the generator
  /// lives.
  async_generator<std::string> lines() { return detail::file_lines(state()); }

 private:
  friend task<async_file> open_file(std::string path, std::string mode);
  explicit async_file(std::shared_ptr<detail::file_state> state) noexcept : state_(std::move(state)) {}

  const std::shared_ptr<detail::file_state>& state() const {
    if (!state_) throw value_error("I/O operation on closed file");
    return state_;
  }

  std::shared_ptr<detail::file_state> state_;
};

/// Opens `path` on the loop's thread pool (aiofiles.open). `mode` as fopen and Python: "r",
/// "w", "a", "x", each with an optional '+' (read and write) and 'b' or 't' (the same here).
/// Cancellation: as async_file's calls (a file opened after the cancellation is closed).
/// Throws: value_error for an invalid mode; os_error (file_not_found_error,
/// permission_error, file_exists_error for "x", is_a_directory_error) naming the path, e.g.
/// "open '/tmp/missing': No such file or directory".
inline task<async_file> open_file(std::string path, std::string mode = "r") {
  const detail::file_mode parsed = detail::parse_file_mode(mode);
  auto work = [path = std::move(path), parsed] { return detail::file_state::open(path, parsed); };
  std::shared_ptr<detail::file_state> state = co_await to_thread(std::move(work));
  co_return async_file(std::move(state));
}

/// The whole file at `path`, in one call on the thread pool (Python's Path.read_bytes).
/// Cancellation: as async_file's calls. Throws: os_error naming the path.
inline task<std::string> read_file(std::string path) {
  auto work = [path = std::move(path)] {
    const std::shared_ptr<detail::file_state> file = detail::file_state::open(path, detail::parse_file_mode("r"));
    std::lock_guard lock(file->mutex);
    std::string data = file->read_all();
    file->close();
    return data;
  };
  std::string data = co_await to_thread(std::move(work));
  co_return data;
}

/// Replaces the file at `path` with `data` (created if missing), in one call on the thread
/// pool (Python's Path.write_bytes). Cancellation: as async_file's calls. Throws: os_error
/// naming the path.
inline task<void> write_file(std::string path, std::string data) {
  auto work = [path = std::move(path), data = std::move(data)] {
    const std::shared_ptr<detail::file_state> file = detail::file_state::open(path, detail::parse_file_mode("w"));
    std::lock_guard lock(file->mutex);
    file->write(data);
    file->close();
  };
  co_await to_thread(std::move(work));
}

}  // namespace coio
