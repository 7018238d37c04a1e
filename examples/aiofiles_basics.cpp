// aiofiles_basics.cpp: write, read, process several files at once, count a big file's lines.
//
//   import asyncio, aiofiles
//
//   async def write(path, text):
//       async with aiofiles.open(path, "w") as f:
//           await f.write(text)
//
//   async def word_count(path):
//       async with aiofiles.open(path) as f:
//           return len((await f.read()).split())
//
//   async def count_lines(path):
//       n = 0
//       async with aiofiles.open(path) as f:
//           async for _ in f:                  # line by line: constant memory
//               n += 1
//       return n
//
//   async def main():
//       texts = {"a.txt": "one two three", "b.txt": "four five", "c.txt": "six"}
//       await asyncio.gather(*(write(p, t) for p, t in texts.items()))
//       counts = await asyncio.gather(*(word_count(p) for p in texts))   # three at once
//       async with aiofiles.open("big.txt", "w") as f:
//           for i in range(200_000):
//               await f.write(f"row {i}\n")
//       print(counts, await count_lines("big.txt"))
//
//   asyncio.run(main())
//
// Every call runs on the loop's thread pool (as aiofiles does), so the loop never waits on the
// disk; small writes and buffered lines are served without leaving the loop's thread.
#include <coio/coio.hpp>
#include <coio/files.hpp>

#include <fmt/core.h>

#include <cstdlib>
#include <filesystem>
#include <optional>
#include <sstream>
#include <string>
#include <tuple>

namespace {

coio::task<> write(std::string path, std::string text) {
  coio::async_file f = co_await coio::open_file(path, "w");
  co_await f.write(text);
  co_await f.close();
}

coio::task<int> word_count(std::string path) {
  coio::async_file f = co_await coio::open_file(path);
  const std::string text = co_await f.read();
  co_await f.close();
  std::istringstream words(text);
  int n = 0;
  for (std::string w; words >> w;) ++n;
  co_return n;
}

coio::task<long> count_lines(std::string path) {
  coio::async_file f = co_await coio::open_file(path);
  auto lines = f.lines();
  long n = 0;
  for (;;) {
    std::optional<std::string> line = co_await lines.next();
    if (!line) break;
    ++n;
  }
  co_return n;
}

coio::task<int> amain(std::string dir) {
  const std::string a = dir + "/a.txt", b = dir + "/b.txt", c = dir + "/c.txt";
  co_await coio::gather(write(a, "one two three"), write(b, "four five"), write(c, "six"));
  const std::string back = co_await coio::read_file(a);  // the whole file in one call
  fmt::print("a.txt holds \"{}\"\n", back);

  const auto [wa, wb, wc] = co_await coio::gather(word_count(a), word_count(b), word_count(c));
  fmt::print("word counts, read concurrently: {} {} {}\n", wa, wb, wc);

  const std::string big = dir + "/big.txt";
  {
    coio::async_file f = co_await coio::open_file(big, "w");
    for (int i = 0; i < 200'000; ++i) co_await f.write(fmt::format("row {}\n", i));  // buffered: few thread hops
    co_await f.close();
  }
  const long rows = co_await count_lines(big);
  fmt::print("big.txt: {} lines ({} bytes)\n", rows, std::filesystem::file_size(big));

  const bool ok = back == "one two three" && wa == 3 && wb == 2 && wc == 1 && rows == 200'000;
  fmt::print("{}\n", ok ? "OK: files written, read, processed concurrently and counted" : "FAIL");
  co_return ok ? 0 : 1;
}

}  // namespace

int main() {
  char pattern[] = "/tmp/coio-example-XXXXXX";
  const char* dir = ::mkdtemp(pattern);
  if (!dir) return 1;
  const int rc = coio::run(amain(dir));
  std::filesystem::remove_all(dir);
  return rc;
}
