// producer_consumer.cpp: two producers and three consumers share a bounded queue.
//
//   async def producer(q, p):
//       for i in range(N):
//           await asyncio.sleep(0.1)          # make an item, then put it (waits while full)
//           await q.put(p * N + i)
//   async def consumer(q):
//       while True:                           # main cancels it
//           item = await q.get()
//           await asyncio.sleep(0.5); q.task_done()
//   async def main():
//       q = asyncio.Queue(maxsize=4)
//       consumers = [asyncio.create_task(consumer(q)) for _ in range(3)]
//       await asyncio.gather(producer(q, 0), producer(q, 1))
//       await q.join()                        # every item put has been task_done()
//       for c in consumers: c.cancel()
//       await asyncio.gather(*consumers, return_exceptions=True)
//
// coio::queue<int> has asyncio.Queue's API. Cancelling a consumer throws coio::cancelled_error
// out of the `co_await q.get()` it is parked in; awaiting its future rethrows it, so main
// catches it by name. Delays are scaled down by 10: 0.1 s -> 10 ms, 0.5 s -> 50 ms.
#include <coio/coio.hpp>
#include <coio/queue.hpp>

#include <fmt/core.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <chrono>
#include <numeric>
#include <vector>

using namespace std::chrono_literals;

namespace {

constexpr int producers = 2, consumers = 3, per_producer = 10, items = producers * per_producer;

coio::task<void> producer(coio::queue<int>& q, int p) {
  for (int i = 0; i < per_producer; ++i) {
    co_await coio::sleep(10ms);
    const int item = p * per_producer + i;  // items 0..19, each put once
    co_await q.put(item);
  }
  fmt::print("producer {} done, {} items queued\n", p, q.qsize());
}

// Loops until cancelled: cancel() throws coio::cancelled_error out of `co_await q.get()`.
coio::task<void> consumer(coio::queue<int>& q, int c, std::vector<int>& times_seen, std::vector<int>& handled) {
  for (;;) {
    const int item = co_await q.get();  // a named result, never `while (co_await ...)`
    co_await coio::sleep(50ms);
    ++times_seen[item];
    ++handled[c];
    q.task_done();
  }
}

coio::task<int> amain() {
  coio::queue<int> q(4);
  std::vector<int> times_seen(items, 0), handled(consumers, 0);  // per item, per consumer
  std::vector<coio::future<void>> workers;
  for (int c = 0; c < consumers; ++c) workers.push_back(coio::create_task(consumer(q, c, times_seen, handled)));

  co_await coio::gather(producer(q, 0), producer(q, 1));
  co_await q.join();
  fmt::print("queue joined: every item is task_done(), {} left\n", q.qsize());

  for (auto& w : workers) w.cancel();
  int cancelled = 0;
  for (auto& w : workers) {
    try {
      co_await w;
    } catch (const coio::cancelled_error&) {
      ++cancelled;
    }
  }

  // Every item consumed exactly once: each of 0..19 seen once, 20 in all.
  const bool once_each = std::all_of(times_seen.begin(), times_seen.end(), [](int n) { return n == 1; });
  const int count = std::accumulate(times_seen.begin(), times_seen.end(), 0);
  fmt::print("consumed {} items, per consumer {}, {} consumers cancelled\n", count, handled, cancelled);
  const bool ok = once_each && count == items && q.empty() && cancelled == consumers;
  fmt::print("{}\n", ok ? "OK: every item consumed exactly once, consumers cancelled" : "FAIL");
  co_return ok ? 0 : 1;
}

}  // namespace

int main() { return coio::run(amain()); }
