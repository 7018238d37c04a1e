// as_completed_search.cpp: ask three search engines at once, show each answer as it arrives.
//
//   async def search(engine, delay, query):
//       await asyncio.sleep(delay)               # the engines answer at different speeds
//       return f"{engine}: 10 results for {query!r}"
//
//   async def main():
//       tasks = [search("Google", 0.3, q), search("Bing", 0.1, q), search("DuckDuckGo", 0.2, q)]
//       for next in asyncio.as_completed(tasks):
//           r = await next                        # the fastest engine's answer first
//           print(f"{time.perf_counter() - t0:.1f}s  {r}")
//
// coio::as_completed takes a std::vector of tasks (or futures), schedules them, and returns a
// range of awaitables: awaiting the k-th one gives the k-th result to finish (a failure would
// be rethrown there). If the loop is left early, the tasks it started and nobody will read are
// cancelled. The engines are simulated; delays are scaled down: 0.1 s -> 100 ms.
#include <coio/as_completed.hpp>
#include <coio/coio.hpp>

#include <fmt/core.h>
#include <fmt/ranges.h>

#include <chrono>
#include <string>
#include <utility>
#include <vector>

using namespace std::chrono_literals;
using steady = std::chrono::steady_clock;

namespace {

coio::task<std::string> search(std::string engine, std::chrono::milliseconds delay, std::string query) {
  co_await coio::sleep(delay);
  co_return engine + ": 10 results for '" + query + "'";
}

coio::task<int> amain() {
  const std::string query = "coroutines";
  const auto start = steady::now();
  std::vector<coio::task<std::string>> tasks;
  tasks.push_back(search("Google", 300ms, query));
  tasks.push_back(search("Bing", 100ms, query));
  tasks.push_back(search("DuckDuckGo", 200ms, query));

  std::vector<std::string> arrived;
  std::vector<double> arrived_ms;
  for (auto next : coio::as_completed(std::move(tasks))) {
    auto r = co_await next;
    const double ms = std::chrono::duration<double, std::milli>(steady::now() - start).count();
    fmt::print("{:4.0f} ms  {}\n", ms, r);
    arrived.push_back(r.substr(0, r.find(':')));
    arrived_ms.push_back(ms);
  }

  // Fastest first, each no earlier than its delay, and the first shown long before the last
  // engine answered (as it arrived, not all at the end).
  const bool ok = arrived == std::vector<std::string>{"Bing", "DuckDuckGo", "Google"} && arrived_ms.size() == 3 &&
                  arrived_ms[0] >= 100 && arrived_ms[1] >= 200 && arrived_ms[2] >= 300 && arrived_ms[0] < 250;
  fmt::print("arrival order: {}\n", arrived);
  fmt::print("{}\n", ok ? "OK: results arrived fastest first" : "FAIL");
  co_return ok ? 0 : 1;
}

}  // namespace

int main() { return coio::run(amain()); }
