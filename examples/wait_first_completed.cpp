// wait_first_completed.cpp: download from three mirrors, keep the first answer, cancel the rest.
//
//   async def download(mirror, delay):
//       try:
//           await asyncio.sleep(delay)
//           return f"payload from {mirror}"
//       except asyncio.CancelledError:
//           print(mirror, "cancelled"); raise
//
//   async def main():
//       tasks = [asyncio.create_task(download(m, d)) for m, d in mirrors]
//       done, pending = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
//       print(done.pop().result())
//       for t in pending: t.cancel()
//       for t in pending:
//           try: await t
//           except asyncio.CancelledError: pass
//
// coio::wait takes a std::vector<coio::future<T>> and returns a coio::wait_result<T> whose
// `done` and `pending` are vectors of futures in input order (asyncio returns two sets). Like
// asyncio.wait it cancels nothing: the losers run on until we cancel them. Delays are scaled
// down (1 s -> 100 ms).
#include <coio/coio.hpp>
#include <coio/wait.hpp>

#include <fmt/core.h>

#include <chrono>
#include <memory>
#include <string>
#include <utility>
#include <vector>

using namespace std::chrono_literals;
using steady = std::chrono::steady_clock;

namespace {

coio::task<std::string> download(std::string mirror, std::chrono::milliseconds delay, std::shared_ptr<int> cancelled) {
  try {
    co_await coio::sleep(delay);
  } catch (const coio::cancelled_error&) {
    fmt::print("  {} cancelled\n", mirror);
    ++*cancelled;
    throw;
  }
  co_return "payload from " + mirror;
}

coio::task<int> amain() {
  const auto start = steady::now();
  auto cancelled = std::make_shared<int>(0);
  std::vector<coio::future<std::string>> tasks;
  tasks.push_back(coio::create_task(download("eu.mirror", 500ms, cancelled)));
  tasks.push_back(coio::create_task(download("us.mirror", 100ms, cancelled)));
  tasks.push_back(coio::create_task(download("asia.mirror", 800ms, cancelled)));

  auto waited = co_await coio::wait(std::move(tasks), coio::return_when::first_completed);
  const double first_ms = std::chrono::duration<double, std::milli>(steady::now() - start).count();
  fmt::print("{} done, {} pending after {:.0f} ms\n", waited.done.size(), waited.pending.size(), first_ms);
  const std::string payload = waited.done.at(0).result();  // rethrows if that download failed
  fmt::print("first: {}\n", payload);

  for (auto& f : waited.pending) f.cancel();
  int saw_cancelled = 0;
  for (auto& f : waited.pending) {
    try {
      const std::string late = co_await f;
      fmt::print("unexpected: {}\n", late);
    } catch (const coio::cancelled_error&) {
      ++saw_cancelled;  // awaiting a cancelled future rethrows its cancellation
    }
  }

  const bool ok = waited.done.size() == 1 && waited.pending.size() == 2 && payload == "payload from us.mirror" &&
                  first_ms >= 100 && first_ms < 450 && saw_cancelled == 2 && *cancelled == 2;
  fmt::print("{}\n", ok ? "OK: the fastest mirror won and the others were cancelled" : "FAIL");
  co_return ok ? 0 : 1;
}

}  // namespace

int main() { return coio::run(amain()); }
