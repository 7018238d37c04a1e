// async_file_reader.cpp: an async context manager and an async iterator over a file's lines.
//
//   class AsyncFileReader:
//       def __init__(self, path):
//           self.path = path
//       async def __aenter__(self):                 # async with AsyncFileReader(p) as r:
//           self.file = await aiofiles.open(self.path)
//           return self
//       async def __aexit__(self, *exc):
//           await self.file.close()
//       def __aiter__(self):                        # async for line in r:
//           return self
//       async def __anext__(self):
//           line = await self.file.readline()
//           if not line:
//               raise StopAsyncIteration
//           return line.rstrip("\n")
//
//   async def main():
//       async with aiofiles.open("notes.txt", "w") as f:
//           for i in range(1, 6):
//               await f.write(f"note {i}\n")
//       async with AsyncFileReader("notes.txt") as reader:
//           async for line in reader:
//               print(line)
//
//   asyncio.run(main())
//
// C++ spells `async with` as coio::with_resource(acquire, body): it awaits the acquire (the
// __aenter__), runs the body, then always awaits the resource's aclose() (the __aexit__), on
// success, error and cancellation alike. The async iterator is an async_generator. Plain RAII
// works too: async_file's destructor closes the file, but blocking and dropping errors.
#include <coio/coio.hpp>
#include <coio/files.hpp>
#include <coio/with_resource.hpp>

#include <fmt/core.h>

#include <cstdlib>
#include <filesystem>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

class async_file_reader {
 public:
  // __aenter__
  static coio::task<async_file_reader> open(std::string path) {
    coio::async_file file = co_await coio::open_file(path, "r");
    co_return async_file_reader(std::move(file));
  }

  // __aexit__: awaited by with_resource whatever happened in the body.
  coio::task<> aclose() {
    ++closed_count;
    return file_.close();
  }

  // __aiter__ / __anext__: each line without its newline.
  coio::async_generator<std::string> lines() { return strip_newlines(file_.lines()); }

  static inline int closed_count = 0;

 private:
  explicit async_file_reader(coio::async_file file) : file_(std::move(file)) {}

  static coio::async_generator<std::string> strip_newlines(coio::async_generator<std::string> raw) {
    for (;;) {
      std::optional<std::string> line = co_await raw.next();
      if (!line) break;
      if (!line->empty() && line->back() == '\n') line->pop_back();
      co_yield std::move(*line);
    }
  }

  coio::async_file file_;
};

// The body of `async with AsyncFileReader(path) as reader:`.
coio::task<std::vector<std::string>> print_lines(async_file_reader& reader) {
  std::vector<std::string> seen;
  auto lines = reader.lines();
  for (;;) {  // async for line in reader:
    std::optional<std::string> line = co_await lines.next();
    if (!line) break;
    fmt::print("  {}\n", *line);
    seen.push_back(std::move(*line));
  }
  co_return seen;
}

coio::task<int> fails_halfway(async_file_reader& reader) {
  auto lines = reader.lines();
  std::optional<std::string> first = co_await lines.next();
  throw std::runtime_error("stopped after " + first.value_or("nothing"));
}

coio::task<> write_notes(coio::async_file& f) {
  for (int i = 1; i <= 5; ++i) co_await f.write(fmt::format("note {}\n", i));
}

coio::task<int> amain(std::string dir) {
  const std::string path = dir + "/notes.txt";
  coio::task<coio::async_file> creating = coio::open_file(path, "w");
  co_await coio::with_resource(std::move(creating), write_notes);  // async with aiofiles.open(...) as f:

  fmt::print("reading {} line by line:\n", path);
  coio::task<async_file_reader> opening = async_file_reader::open(path);
  const std::vector<std::string> seen = co_await coio::with_resource(std::move(opening), print_lines);

  // An error in the body: the reader is closed all the same, then the error goes on.
  std::string error;
  try {
    coio::task<async_file_reader> reopening = async_file_reader::open(path);
    co_await coio::with_resource(std::move(reopening), fails_halfway);
  } catch (const std::runtime_error& e) {
    error = e.what();
  }
  fmt::print("the body failed ({}); readers closed: {}\n", error, async_file_reader::closed_count);

  const bool ok = seen == std::vector<std::string>{"note 1", "note 2", "note 3", "note 4", "note 5"} &&
                  error == "stopped after note 1" && async_file_reader::closed_count == 2;
  fmt::print("{}\n", ok ? "OK: notes read through the context manager and the line iterator" : "FAIL");
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
