#include <coio/files.hpp>

#include "coio_test.hpp"
#include "sample_tasks.hpp"

#include <coio/config.hpp>
#include <coio/create_task.hpp>
#include <coio/gather.hpp>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <vector>

#include <fmt/core.h>
#include <stdlib.h>

namespace {

/// A fresh directory under /tmp, removed with everything in it at the end of the test.
class temp_dir {
 public:
  temp_dir() {
    char pattern[] = "/tmp/coio-files-XXXXXX";
    const char* made = ::mkdtemp(pattern);
    if (!made) throw std::runtime_error("mkdtemp failed");
    path_ = made;
  }
  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;
  ~temp_dir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  std::string operator/(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

/// The resident set size of this process, in KiB.
long rss_kib() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::strtol(line.c_str() + 6, nullptr, 10);
  }
  return 0;
}

coio::task<std::vector<std::string>> all_lines_by_readline(std::string path) {
  coio::async_file f = co_await coio::open_file(path);
  std::vector<std::string> lines;
  for (;;) {
    std::string line = co_await f.readline();
    if (line.empty()) break;
    lines.push_back(std::move(line));
  }
  co_await f.close();
  co_return lines;
}

coio::task<std::vector<std::string>> all_lines_by_generator(std::string path) {
  coio::async_file f = co_await coio::open_file(path);
  auto lines = f.lines();
  std::vector<std::string> out;
  for (;;) {
    std::optional<std::string> line = co_await lines.next();
    if (!line) break;
    out.push_back(std::move(*line));
  }
  co_return out;
}

/// Writes `lines_per_file` numbered lines to `path`, then counts them and sums their numbers.
coio::task<long> write_and_sum(std::string path, int lines_per_file) {
  std::string text;
  for (int i = 1; i <= lines_per_file; ++i) text += std::to_string(i) + "\n";
  co_await coio::write_file(path, std::move(text));
  coio::async_file f = co_await coio::open_file(path);
  auto lines = f.lines();
  long sum = 0;
  for (;;) {
    std::optional<std::string> line = co_await lines.next();
    if (!line) break;
    sum += std::stol(*line);
  }
  co_return sum;
}

}  // namespace

COIO_TEST_CASE("write_file then read_file, and the same through async_file", "[files]") {
  temp_dir dir;
  std::string binary("a\0b\nc", 5);
  co_await coio::write_file(dir / "one", binary);
  const std::string back = co_await coio::read_file(dir / "one");
  REQUIRE(back == binary);

  coio::async_file out = co_await coio::open_file(dir / "two", "w");
  REQUIRE(out.name() == dir / "two");
  REQUIRE_FALSE(out.closed());
  const std::size_t n1 = co_await out.write("hello ");
  const std::size_t n2 = co_await out.write(std::string(100'000, 'x'));  // larger than the buffer
  const std::size_t n3 = co_await out.write("world");
  REQUIRE(n1 == 6);
  REQUIRE(n2 == 100'000);
  REQUIRE(n3 == 5);
  co_await out.flush();
  co_await out.close();
  REQUIRE(out.closed());

  coio::async_file in = co_await coio::open_file(dir / "two", "rb");
  const std::string head = co_await in.read(6);
  REQUIRE(head == "hello ");
  const std::string xs = co_await in.read(100'000);
  REQUIRE(xs == std::string(100'000, 'x'));
  const std::string rest = co_await in.read();
  REQUIRE(rest == "world");
  const std::string after = co_await in.read(10);
  REQUIRE(after.empty());
  const std::string after_all = co_await in.read();
  REQUIRE(after_all.empty());
  co_await in.close();
}

COIO_TEST_CASE("read(n) gives fewer bytes only at the end of the file", "[files]") {
  temp_dir dir;
  co_await coio::write_file(dir / "f", "0123456789");
  coio::async_file f = co_await coio::open_file(dir / "f");
  const std::string a = co_await f.read(4);
  const std::string b = co_await f.read(4);
  const std::string c = co_await f.read(4);
  const std::string d = co_await f.read(4);
  REQUIRE(a == "0123");
  REQUIRE(b == "4567");
  REQUIRE(c == "89");
  REQUIRE(d.empty());
}

COIO_TEST_CASE("readline: last line without a newline, empty lines, CRLF kept", "[files]") {
  temp_dir dir;
  co_await coio::write_file(dir / "no-newline", "first\n\nlast");
  const std::vector<std::string> a = co_await all_lines_by_readline(dir / "no-newline");
  REQUIRE(a == std::vector<std::string>{"first\n", "\n", "last"});

  co_await coio::write_file(dir / "empty", "");
  const std::vector<std::string> b = co_await all_lines_by_readline(dir / "empty");
  REQUIRE(b.empty());

  co_await coio::write_file(dir / "crlf", "one\r\ntwo\r\n");
  const std::vector<std::string> c = co_await all_lines_by_readline(dir / "crlf");
  REQUIRE(c == std::vector<std::string>{"one\r\n", "two\r\n"});

  // A line longer than the read-ahead buffer.
  const std::string long_line = std::string(200'000, 'y') + "\n";
  co_await coio::write_file(dir / "long", long_line + "short");
  const std::vector<std::string> d = co_await all_lines_by_readline(dir / "long");
  REQUIRE(d == std::vector<std::string>{long_line, "short"});
}

COIO_TEST_CASE("lines() gives what readline() gives", "[files]") {
  temp_dir dir;
  co_await coio::write_file(dir / "mixed", "a\r\nbb\n\nccc");
  const std::vector<std::string> lines = co_await all_lines_by_generator(dir / "mixed");
  REQUIRE(lines == std::vector<std::string>{"a\r\n", "bb\n", "\n", "ccc"});
  co_await coio::write_file(dir / "empty", "");
  const std::vector<std::string> none = co_await all_lines_by_generator(dir / "empty");
  REQUIRE(none.empty());
}

COIO_TEST_CASE("modes: append, exclusive create, read-write, invalid", "[files]") {
  temp_dir dir;
  co_await coio::write_file(dir / "log", "1\n");
  coio::async_file a = co_await coio::open_file(dir / "log", "a");
  co_await a.write("2\n");
  co_await a.close();
  const std::string log = co_await coio::read_file(dir / "log");
  REQUIRE(log == "1\n2\n");

  bool exists = false;
  try {
    co_await coio::open_file(dir / "log", "x");
  } catch (const coio::file_exists_error& e) {
    exists = e.code() == EEXIST;
  }
  REQUIRE(exists);
  coio::async_file x = co_await coio::open_file(dir / "new", "x");
  co_await x.write("fresh");
  co_await x.close();
  const std::string fresh = co_await coio::read_file(dir / "new");
  REQUIRE(fresh == "fresh");

  // r+: writing after a read lands where the reader got to, not where the read-ahead went.
  co_await coio::write_file(dir / "rw", "line1\nline2\n");
  coio::async_file rw = co_await coio::open_file(dir / "rw", "r+");
  const std::string first = co_await rw.readline();
  REQUIRE(first == "line1\n");
  co_await rw.write("LINE2\n");
  co_await rw.close();
  const std::string rewritten = co_await coio::read_file(dir / "rw");
  REQUIRE(rewritten == "line1\nLINE2\n");

  bool invalid = false;
  try {
    co_await coio::open_file(dir / "log", "rw");
  } catch (const coio::value_error&) {
    invalid = true;
  }
  REQUIRE(invalid);

  coio::async_file ro = co_await coio::open_file(dir / "log", "r");
  bool not_writable = false;
  try {
    co_await ro.write("no");
  } catch (const coio::os_error& e) {
    not_writable = e.code() == EBADF;
  }
  REQUIRE(not_writable);
}

COIO_TEST_CASE("a missing file: file_not_found_error naming the path", "[files]") {
  temp_dir dir;
  const std::string missing = dir / "missing.txt";
  std::string message;
  int code = 0;
  try {
    co_await coio::open_file(missing);
  } catch (const coio::file_not_found_error& e) {
    message = e.what();
    code = e.code();
  }
  REQUIRE(code == ENOENT);
  REQUIRE(message.find(missing) != std::string::npos);
  REQUIRE(message.find("No such file or directory") != std::string::npos);

  bool caught_as_os_error = false;
  try {
    co_await coio::read_file(missing);
  } catch (const coio::os_error& e) {  // the base catches it too
    caught_as_os_error = std::string(e.what()).find(missing) != std::string::npos;
  }
  REQUIRE(caught_as_os_error);

  bool directory = false;
  try {
    co_await coio::open_file(dir / "");
  } catch (const coio::is_a_directory_error&) {
    directory = true;
  }
  REQUIRE(directory);
}

COIO_TEST_CASE("a closed file refuses calls with value_error; close is idempotent", "[files]") {
  temp_dir dir;
  co_await coio::write_file(dir / "f", "data");
  coio::async_file f = co_await coio::open_file(dir / "f");
  co_await f.close();
  co_await f.close();
  bool refused = false;
  try {
    co_await f.read();
  } catch (const coio::value_error&) {
    refused = true;
  }
  REQUIRE(refused);

  coio::async_file never_opened;
  REQUIRE(never_opened.closed());
  bool refused_too = false;
  try {
    co_await never_opened.readline();
  } catch (const coio::value_error&) {
    refused_too = true;
  }
  REQUIRE(refused_too);
}

COIO_TEST_CASE("dropping an async_file flushes and closes it", "[files]") {
  temp_dir dir;
  {
    coio::async_file f = co_await coio::open_file(dir / "f", "w");
    co_await f.write("buffered");  // small: still in the buffer
  }
  const std::string data = co_await coio::read_file(dir / "f");
  REQUIRE(data == "buffered");
}

COIO_TEST_CASE("a cancelled read leaves the file usable", "[files]") {
  temp_dir dir;
  co_await coio::write_file(dir / "big", std::string(4 << 20, 'z'));
  coio::async_file f = co_await coio::open_file(dir / "big");
  auto reader = [](coio::async_file& file) -> coio::task<std::size_t> {
    const std::string all = co_await file.read();
    co_return all.size();
  };
  coio::future<std::size_t> pending = coio::create_task(reader(f));
  co_await samples::yield_turns(1);  // the read is queued or running on the pool
  pending.cancel();
  const bool cancelled = co_await ends_cancelled(pending);
  REQUIRE(cancelled);
  co_await f.close();  // waits its turn behind the cancelled read, if it still runs
  REQUIRE(f.closed());
}

COIO_TEST_CASE("lines() over a 50 MB file in constant memory", "[files]") {
  temp_dir dir;
  const std::string path = dir / "big.txt";
  constexpr long line_count = 800'000;  // 64 bytes a line: 51.2 MB
  {
    coio::async_file out = co_await coio::open_file(path, "w");
    std::string block;
    for (long i = 0; i < line_count; ++i) {
      block += fmt::format("{:08} {:054}\n", i, 0);  // 64 bytes
      if (block.size() >= (1 << 20)) {
        co_await out.write(block);
        block.clear();
      }
    }
    co_await out.write(block);
    co_await out.close();
  }
  REQUIRE(std::filesystem::file_size(path) == static_cast<std::uintmax_t>(64 * line_count));

  const long rss_before = rss_kib();
  long peak = rss_before;
  coio::async_file in = co_await coio::open_file(path);
  auto lines = in.lines();
  long count = 0;
  bool in_order = true;
  for (;;) {
    std::optional<std::string> line = co_await lines.next();
    if (!line) break;
    if (line->size() != 64 || std::strtol(line->c_str(), nullptr, 10) != count) in_order = false;
    if (++count % 50'000 == 0) peak = std::max(peak, rss_kib());
  }
  peak = std::max(peak, rss_kib());
  REQUIRE(count == line_count);
  REQUIRE(in_order);
#if !defined(COIO_ASAN)  // ASan's quarantine keeps freed lines resident on purpose
  INFO("RSS grew by " << (peak - rss_before) << " KiB");
  REQUIRE(peak - rss_before < 20 * 1024);
#endif
}

COIO_TEST_CASE("50 files written and read concurrently with gather", "[files]") {
  temp_dir dir;
  std::vector<coio::task<long>> jobs;
  for (int i = 0; i < 50; ++i) jobs.push_back(write_and_sum(dir / ("file" + std::to_string(i)), 1000 + i));
  const std::vector<long> sums = co_await coio::gather(std::move(jobs));
  REQUIRE(sums.size() == 50);
  for (int i = 0; i < 50; ++i) {
    const long n = 1000 + i;
    REQUIRE(sums[static_cast<std::size_t>(i)] == n * (n + 1) / 2);
  }
}
