// tests/net_helpers.hpp: what the socket, stream and server tests share: loopback addresses,
// a connected TCP pair, descriptor counting, RLIMIT_NOFILE and temp-dir guards, a checksum,
// and a reproducible byte pattern.
#pragma once

#include <coio/socket_address.hpp>
#include <coio/task.hpp>
#include <coio/tcp_socket.hpp>

#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <random>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

namespace net_test {

inline coio::socket_address loopback(std::uint16_t port = 0) { return *coio::socket_address::parse("127.0.0.1", port); }

/// A connected TCP pair over 127.0.0.1: {client, server}. The listener is gone afterwards.
inline coio::task<std::pair<coio::tcp_socket, coio::tcp_socket>> tcp_pair() {
  coio::tcp_acceptor acceptor = coio::tcp_acceptor::listen(loopback());
  coio::tcp_socket client = co_await coio::tcp_socket::connect(acceptor.local_address());
  coio::tcp_socket server = co_await acceptor.accept();
  co_return std::make_pair(std::move(client), std::move(server));
}

/// A port on 127.0.0.1 where nobody listens: bound (so no one else takes it) but not listening,
/// so a connect is answered with a reset (ECONNREFUSED). Closes the socket when it goes away.
class refusing_port {
 public:
  refusing_port() {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    coio::socket_address a = loopback();
    if (fd_ < 0 || ::bind(fd_, a.data(), a.size()) < 0) throw std::runtime_error("refusing_port: bind failed");
    coio::socket_address bound;
    *bound.size_ptr() = coio::socket_address::capacity();
    ::getsockname(fd_, bound.data(), bound.size_ptr());
    port_ = bound.port();
  }
  refusing_port(const refusing_port&) = delete;
  refusing_port& operator=(const refusing_port&) = delete;
  ~refusing_port() { ::close(fd_); }
  std::uint16_t port() const { return port_; }

 private:
  int fd_ = -1;
  std::uint16_t port_ = 0;
};

/// How many descriptors this process has open. (Reading /proc/self/fd takes one itself; every
/// call counts it alike, so differences are exact.)
inline int count_open_fds() {
  DIR* dir = ::opendir("/proc/self/fd");
  if (!dir) throw std::runtime_error("cannot open /proc/self/fd");
  int n = 0;
  while (const dirent* entry = ::readdir(dir)) {
    if (entry->d_name[0] != '.') ++n;
  }
  ::closedir(dir);
  return n;
}

/// The highest descriptor number open in this process.
inline int highest_open_fd() {
  DIR* dir = ::opendir("/proc/self/fd");
  if (!dir) throw std::runtime_error("cannot open /proc/self/fd");
  int highest = -1;
  while (const dirent* entry = ::readdir(dir)) {
    if (entry->d_name[0] != '.') highest = std::max(highest, std::atoi(entry->d_name));
  }
  ::closedir(dir);
  return highest;
}

/// Saves RLIMIT_NOFILE and restores it when it goes away.
class nofile_limit {
 public:
  nofile_limit() { ::getrlimit(RLIMIT_NOFILE, &saved_); }
  nofile_limit(const nofile_limit&) = delete;
  nofile_limit& operator=(const nofile_limit&) = delete;
  ~nofile_limit() { ::setrlimit(RLIMIT_NOFILE, &saved_); }

  rlim_t soft() const {
    rlimit now{};
    ::getrlimit(RLIMIT_NOFILE, &now);
    return now.rlim_cur;
  }
  rlim_t hard() const { return saved_.rlim_max; }
  bool set_soft(rlim_t n) {
    rlimit wanted = saved_;
    wanted.rlim_cur = n;
    return ::setrlimit(RLIMIT_NOFILE, &wanted) == 0;
  }
  bool raise_to_hard() { return set_soft(saved_.rlim_max); }

 private:
  rlimit saved_{};
};

/// Opens /dev/null until the process runs out of descriptors (EMFILE), and closes them all when
/// it goes away (or on release()). Lower the soft RLIMIT_NOFILE first so that this is quick.
class fd_exhauster {
 public:
  fd_exhauster() = default;
  fd_exhauster(const fd_exhauster&) = delete;
  fd_exhauster& operator=(const fd_exhauster&) = delete;
  ~fd_exhauster() { release(); }

  /// Returns the errno that stopped it (EMFILE expected).
  int fill(std::size_t at_most = 100'000) {
    while (fds_.size() < at_most) {
      const int fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
      if (fd < 0) return errno;
      fds_.push_back(fd);
    }
    return 0;
  }
  /// Frees one descriptor.
  void release_one() {
    if (fds_.empty()) return;
    ::close(fds_.back());
    fds_.pop_back();
  }
  void release() {
    for (const int fd : fds_) ::close(fd);
    fds_.clear();
  }
  std::size_t held() const { return fds_.size(); }

 private:
  std::vector<int> fds_;
};

/// A fresh directory under $TMPDIR (or /tmp), removed with its contents when it goes away.
class temp_dir {
 public:
  temp_dir() {
    const char* base = std::getenv("TMPDIR");
    std::string pattern = std::string(base && *base ? base : "/tmp") + "/coio-test-XXXXXX";
    if (!::mkdtemp(pattern.data())) throw std::runtime_error("mkdtemp failed");
    path_ = pattern;
  }
  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;
  ~temp_dir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  const std::string& path() const { return path_; }
  std::string file(std::string_view name) const { return path_ + "/" + std::string(name); }

 private:
  std::string path_;
};

/// 64-bit FNV-1a over a byte stream, fed in pieces.
struct fnv1a {
  std::uint64_t value = 14695981039346656037ull;
  void update(std::string_view bytes) noexcept {
    std::uint64_t h = value;
    for (const char c : bytes) {
      h ^= static_cast<unsigned char>(c);
      h *= 1099511628211ull;
    }
    value = h;
  }
};

/// Pseudo-random bytes to send: chunk(i) is a window into one random block, at an offset that
/// depends on i, so that a long stream does not repeat with a short period.
class byte_pattern {
 public:
  explicit byte_pattern(std::size_t chunk_size, std::uint64_t seed = 42) : chunk_size_(chunk_size) {
    std::mt19937_64 random(seed);
    block_.resize(block_size + chunk_size);
    for (char& c : block_) c = static_cast<char>(random());
  }
  std::string_view chunk(std::uint64_t i) const {
    const std::size_t offset = static_cast<std::size_t>((i * 7919u) % block_size);
    return std::string_view(block_).substr(offset, chunk_size_);
  }
  std::size_t chunk_size() const { return chunk_size_; }

 private:
  static constexpr std::size_t block_size = 1 << 20;
  std::size_t chunk_size_;
  std::string block_;
};

/// CPU time this process has used (all threads), in seconds.
inline double process_cpu_seconds() {
  timespec ts{};
  ::clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

/// Lets SIGPIPE kill the process while it exists (default disposition, unblocked), so that a
/// test that survives proves no SIGPIPE was raised; restores the previous state after.
class sigpipe_kills {
 public:
  sigpipe_kills() {
    struct sigaction dfl {};
    dfl.sa_handler = SIG_DFL;
    sigemptyset(&dfl.sa_mask);
    ::sigaction(SIGPIPE, &dfl, &saved_action_);
    sigset_t pipe_only;
    sigemptyset(&pipe_only);
    sigaddset(&pipe_only, SIGPIPE);
    ::pthread_sigmask(SIG_UNBLOCK, &pipe_only, &saved_mask_);
  }
  sigpipe_kills(const sigpipe_kills&) = delete;
  sigpipe_kills& operator=(const sigpipe_kills&) = delete;
  ~sigpipe_kills() {
    ::pthread_sigmask(SIG_SETMASK, &saved_mask_, nullptr);
    ::sigaction(SIGPIPE, &saved_action_, nullptr);
  }

 private:
  struct sigaction saved_action_ {};
  sigset_t saved_mask_{};
};

}  // namespace net_test
