// tests/subprocess.hpp: runs a helper program (a Python asyncio peer) from a coio test without
// blocking the loop: posix_spawn with its stdout on a pipe, the pipe read without blocking, and
// waitpid(WNOHANG) polled between coio::sleep()s.
#pragma once

#include <coio/errors.hpp>
#include <coio/event_loop.hpp>
#include <coio/sleep.hpp>
#include <coio/task.hpp>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;

namespace net_test {

/// Writes `contents` to `path` (a script for the child to run).
inline void write_file(const std::string& path, std::string_view contents) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << contents;
  if (!out.flush()) throw std::runtime_error("cannot write " + path);
}

/// A child process whose stdout is a pipe to us. Destroying it kills (SIGKILL) and reaps the
/// child if it is still running, so a failing test leaves no process behind.
class subprocess {
 public:
  /// Starts argv[0] (a full path) with argv; stdin and stderr are inherited.
  static subprocess spawn(const std::vector<std::string>& argv) {
    int out[2];
    if (::pipe2(out, O_CLOEXEC) < 0) throw std::runtime_error("pipe2 failed");
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, out[1], STDOUT_FILENO);  // dup2 clears CLOEXEC
    std::vector<char*> args;
    for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    subprocess p;
    const int rc = ::posix_spawn(&p.pid_, args[0], &actions, nullptr, args.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    ::close(out[1]);
    if (rc != 0) {
      ::close(out[0]);
      p.pid_ = -1;
      throw std::runtime_error("posix_spawn " + argv[0] + " failed");
    }
    p.stdout_ = out[0];
    ::fcntl(p.stdout_, F_SETFL, ::fcntl(p.stdout_, F_GETFL) | O_NONBLOCK);
    return p;
  }

  subprocess(subprocess&& other) noexcept
      : pid_(std::exchange(other.pid_, -1)),
        stdout_(std::exchange(other.stdout_, -1)),
        pending_(std::move(other.pending_)) {}
  subprocess& operator=(subprocess&&) = delete;
  ~subprocess() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      int status = 0;
      while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
      }
    }
    if (stdout_ >= 0) ::close(stdout_);
  }

  /// The next line the child printed (without its "\n"). Throws coio::timeout_error when none
  /// came within `timeout`, runtime_error when the child closed its stdout first.
  coio::task<std::string> read_line(std::chrono::milliseconds timeout) {
    const auto deadline = coio::get_running_loop().now() + timeout;
    for (;;) {
      const std::size_t nl = pending_.find('\n');
      if (nl != std::string::npos) {
        std::string line = pending_.substr(0, nl);
        pending_.erase(0, nl + 1);
        co_return line;
      }
      char buf[512];
      const ssize_t n = ::read(stdout_, buf, sizeof buf);
      if (n > 0) {
        pending_.append(buf, static_cast<std::size_t>(n));
        continue;
      }
      if (n == 0) throw std::runtime_error("the child closed its stdout before a full line: '" + pending_ + "'");
      if (errno != EAGAIN && errno != EINTR) throw std::runtime_error("read from the child's stdout failed");
      if (coio::get_running_loop().now() > deadline) throw coio::timeout_error("no line from the child");
      co_await coio::sleep(std::chrono::milliseconds(5));
    }
  }

  /// Waits for the child to exit and returns its exit code (128 + n when killed by signal n).
  /// Throws coio::timeout_error (and kills the child) when it runs longer than `timeout`.
  coio::task<int> wait(std::chrono::milliseconds timeout) {
    const auto deadline = coio::get_running_loop().now() + timeout;
    for (;;) {
      int status = 0;
      const pid_t r = ::waitpid(pid_, &status, WNOHANG);
      if (r == pid_) {
        pid_ = -1;
        co_return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      }
      if (r < 0 && errno != EINTR) throw std::runtime_error("waitpid failed");
      if (coio::get_running_loop().now() > deadline) throw coio::timeout_error("the child did not exit in time");
      co_await coio::sleep(std::chrono::milliseconds(5));
    }
  }

 private:
  subprocess() = default;

  pid_t pid_ = -1;
  int stdout_ = -1;
  std::string pending_;
};

/// The Python interpreter the interop tests run, or "" when there is none.
inline std::string find_python3() {
  for (const char* candidate : {"/usr/bin/python3", "/usr/local/bin/python3"}) {
    if (::access(candidate, X_OK) == 0) return candidate;
  }
  return {};
}

}  // namespace net_test
