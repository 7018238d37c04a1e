// background_task.cpp: a download runs in the background while main keeps working.
//
//   async def download(chunks, progress):
//       for i in range(chunks):
//           await asyncio.sleep(0.1)          # waiting for the network
//           progress[0] += 1
//       return chunks * 64
//
//   async def main():
//       progress = [0]
//       job = asyncio.create_task(download(8, progress))   # starts at the next loop turn
//       for step in range(4):
//           print("main: working, download at", progress[0])
//           await asyncio.sleep(0.15)          # every await lets the download progress
//       print("main: got", await job, "KiB")
//
// create_task returns a coio::future<T> (asyncio.Task). Unlike asyncio, the loop keeps the
// task alive by itself: dropping the future would not stop or lose it.
#include <coio/coio.hpp>

#include <fmt/core.h>

#include <chrono>
#include <memory>

using namespace std::chrono_literals;
using steady = std::chrono::steady_clock;

namespace {

constexpr int chunks = 8;
constexpr int chunk_kib = 64;

// Parameters by value: the shared_ptr keeps the progress counter alive for both tasks.
coio::task<int> download(int n, std::shared_ptr<int> progress) {
  for (int i = 0; i < n; ++i) {
    co_await coio::sleep(100ms);
    ++*progress;
    fmt::print("  download: chunk {}/{}\n", *progress, n);
  }
  co_return n* chunk_kib;
}

coio::task<int> amain() {
  const auto start = steady::now();
  auto progress = std::make_shared<int>(0);
  coio::future<int> job = coio::create_task(download(chunks, progress), "download");
  for (int step = 1; step <= 4; ++step) {
    fmt::print("main: work step {}, download at {}/{} chunks\n", step, *progress, chunks);
    co_await coio::sleep(150ms);
  }
  const int seen_while_working = *progress;
  fmt::print("main: done working; download at {}/{}, now awaiting it\n", seen_while_working, chunks);
  const int kib = co_await job;
  const double ms = std::chrono::duration<double, std::milli>(steady::now() - start).count();
  fmt::print("main: downloaded {} KiB in {:.0f} ms\n", kib, ms);

  // The download made progress while main worked, and the total is the longer of the two
  // jobs (~800 ms), not their sum (~1400 ms) as it would be without a background task.
  const bool ok = kib == chunks * chunk_kib && seen_while_working > 0 && ms >= 800 && ms < 1200;
  fmt::print("{}\n", ok ? "OK: the download ran in the background" : "FAIL");
  co_return ok ? 0 : 1;
}

}  // namespace

int main() { return coio::run(amain()); }
