// semaphore_api_calls.cpp: ten API calls, at most three in flight at once.
//
//   async def call_api(i, sem):
//       async with sem:                       # wait for one of the 3 permits
//           print("call", i, "starts")
//           await asyncio.sleep(1)            # the request
//           return f"response {i}"
//
//   async def main():
//       sem = asyncio.Semaphore(3)
//       responses = await asyncio.gather(*[call_api(i, sem) for i in range(10)])
//
// `auto permit = co_await sem.scoped_acquire();` is `async with sem:`: the permit goes back
// when `permit` goes out of scope, even on an exception or a cancellation. coio's semaphore is
// FIFO-fair (a freed permit goes to the longest waiter), so the calls run in four batches of
// one delay each: 0-2, 3-5, 6-8, then 9. Delays are scaled down: 1 s -> 100 ms.
#include <coio/coio.hpp>
#include <coio/gather.hpp>
#include <coio/semaphore.hpp>

#include <fmt/core.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <string>
#include <utility>
#include <vector>

using namespace std::chrono_literals;
using steady = std::chrono::steady_clock;

namespace {

constexpr int calls = 10;
constexpr int permits = 3;
constexpr auto delay = 100ms;

double ms_since(steady::time_point start) {
  return std::chrono::duration<double, std::milli>(steady::now() - start).count();
}

// What the calls share, owned by amain's frame (which outlives them: it awaits the gather).
struct stats {
  steady::time_point start = steady::now();
  int in_flight = 0;
  int max_in_flight = 0;
};

coio::task<std::string> call_api(int id, coio::semaphore& sem, stats& st) {
  auto permit = co_await sem.scoped_acquire();  // async with sem:
  st.max_in_flight = std::max(st.max_in_flight, ++st.in_flight);
  const double started = ms_since(st.start);
  fmt::print("  call {} starts at {:4.0f} ms (batch {}, {} in flight)\n", id, started,
             std::lround(started / static_cast<double>(delay.count())) + 1, st.in_flight);
  co_await coio::sleep(delay);  // the request
  --st.in_flight;
  co_return fmt::format("response {}", id);
}  // `permit` is released here: the next waiting call gets it

coio::task<int> amain() {
  coio::semaphore sem(permits);
  stats st;
  std::vector<coio::task<std::string>> tasks;
  for (int i = 0; i < calls; ++i) tasks.push_back(call_api(i, sem, st));
  const std::vector<std::string> responses = co_await coio::gather(std::move(tasks));
  const double took = ms_since(st.start);
  fmt::print("{} calls took {:.0f} ms, at most {} in flight (4 batches x {} ms)\n", calls, took, st.max_in_flight,
             delay.count());

  bool values_ok = responses.size() == static_cast<std::size_t>(calls);  // in input order, as asyncio.gather
  for (int i = 0; values_ok && i < calls; ++i) values_ok = responses[i] == fmt::format("response {}", i);
  const double d = static_cast<double>(delay.count());
  const bool ok = values_ok && st.max_in_flight == permits && st.in_flight == 0 && took >= 4 * d && took < 8 * d;
  fmt::print("{}\n", ok ? "OK: never more than 3 calls at once, 4 batches" : "FAIL");
  co_return ok ? 0 : 1;
}

}  // namespace

int main() { return coio::run(amain()); }
