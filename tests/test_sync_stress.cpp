// Stress: the synchronisation primitives' invariants under shuffled interleavings. The loop's
// shuffle_seed runs each turn's ready steps in a seeded random order, so these runs explore
// orders FIFO scheduling never produces; every invariant must hold for every seed.
#include "coio_test.hpp"

#include <coio/condition.hpp>
#include <coio/create_task.hpp>
#include <coio/event.hpp>
#include <coio/gather.hpp>
#include <coio/lock.hpp>
#include <coio/queue.hpp>
#include <coio/semaphore.hpp>
#include <coio/sleep.hpp>
#include <coio/wait_for.hpp>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <vector>

using namespace std::chrono_literals;

namespace {

struct counters {
  int in_semaphore = 0;
  int peak_semaphore = 0;
  int in_lock = 0;
  int lock_overlaps = 0;
  int lock_entries = 0;
};

coio::task<> semaphore_user(coio::semaphore& s, counters& c) {
  for (int i = 0; i < 20; ++i) {
    auto permit = co_await s.scoped_acquire();
    c.peak_semaphore = std::max(c.peak_semaphore, ++c.in_semaphore);
    co_await coio::sleep(0s);
    --c.in_semaphore;
  }
}

coio::task<> lock_user(coio::lock& l, counters& c) {
  for (int i = 0; i < 20; ++i) {
    auto guard = co_await l.scoped_acquire();
    if (c.in_lock++ != 0) ++c.lock_overlaps;
    ++c.lock_entries;
    co_await coio::sleep(0s);
    --c.in_lock;
  }
}

coio::task<int> get_one(coio::queue<int>& q) {
  const int v = co_await q.get();
  co_return v;
}

coio::task<> producer(coio::queue<int>& q, int from, int count) {
  for (int i = from; i < from + count; ++i) co_await q.put(i);
}

coio::task<> impatient_consumer(coio::queue<int>& q, std::vector<int>& got, int total) {
  for (int attempt = 0; static_cast<int>(got.size()) < total; ++attempt) {
    try {
      const int v = co_await coio::wait_for(get_one(q), std::chrono::microseconds(attempt % 7));
      got.push_back(v);
    } catch (const coio::timeout_error&) {
    }
  }
}

coio::task<> waiter(coio::condition& cond, const int& stage, int& woken) {
  auto guard = co_await cond.scoped_acquire();
  auto ready = [&stage] { return stage >= 1; };
  co_await cond.wait(ready);
  ++woken;
}

coio::task<> workload(std::uint64_t seed) {
  counters c;
  coio::semaphore sem(3);
  coio::lock l;
  std::vector<coio::future<>> tasks;
  for (int i = 0; i < 8; ++i) tasks.push_back(coio::create_task(semaphore_user(sem, c)));
  for (int i = 0; i < 8; ++i) tasks.push_back(coio::create_task(lock_user(l, c)));

  coio::queue<int> q(4);
  std::vector<int> got;
  constexpr int per_producer = 200;
  for (int p = 0; p < 3; ++p) tasks.push_back(coio::create_task(producer(q, p * per_producer, per_producer)));
  tasks.push_back(coio::create_task(impatient_consumer(q, got, 3 * per_producer)));

  coio::condition cond;
  int stage = 0, woken = 0;
  for (int i = 0; i < 5; ++i) tasks.push_back(coio::create_task(waiter(cond, stage, woken)));
  co_await coio::sleep(0s);
  {
    auto guard = co_await cond.scoped_acquire();
    stage = 1;
    cond.notify_all();
  }
  for (auto& t : tasks) co_await t;

  INFO("seed " << seed);
  REQUIRE(c.peak_semaphore <= 3);
  REQUIRE(c.in_semaphore == 0);
  REQUIRE(sem.value() == 3);
  REQUIRE(c.lock_overlaps == 0);
  REQUIRE(c.lock_entries == 160);
  REQUIRE_FALSE(l.locked());
  std::sort(got.begin(), got.end());
  REQUIRE(got.size() == 3 * per_producer);
  for (int i = 0; i < 3 * per_producer; ++i) REQUIRE(got[i] == i);  // nothing lost or duplicated
  REQUIRE(q.empty());
  REQUIRE(woken == 5);
}

}  // namespace

TEST_CASE("primitives keep their invariants under shuffled schedules", "[sync][stress]") {
  for (std::uint64_t seed : {1u, 2u, 3u, 42u, 1234567u}) {
    coio::run(workload(seed), {.shuffle_seed = seed});
  }
  coio::run(workload(0));  // and in plain FIFO order
}
