#include <coio/queue.hpp>

#include "coio_test.hpp"
#include "sample_tasks.hpp"

#include <coio/create_task.hpp>
#include <coio/sleep.hpp>
#include <coio/wait_for.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

using namespace std::chrono_literals;
using samples::yield_turns;

namespace {

coio::task<int> get_one(coio::queue<int>& q) {
  const int v = co_await q.get();
  co_return v;
}

coio::task<> put_one(coio::queue<int>& q, int v) { co_await q.put(v); }

// Puts 0..n-1 at an uneven pace, so that items arrive while getters wait, and sometimes in
// the very loop turn their timeout fires. Every 100th item it pauses 1 ms, longer than any
// getter's timeout: each pause times out at least one getter however fast or slow the build
// (-O0 with ASan is slow enough that the short pauses alone rarely let a timeout win).
coio::task<> produce(coio::queue<int>& q, int n) {
  std::uint32_t x = 12345;
  for (int i = 0; i < n; ++i) {
    co_await q.put(i);
    x = (x * 1103515245u + 12345u) & 0x7fffffffu;
    if (i % 100 == 99) {
      co_await coio::sleep(std::chrono::milliseconds(1));
    } else if (x % 4 == 0) {
      co_await coio::sleep(std::chrono::microseconds(x % 40));
    } else {
      co_await coio::sleep(0s);
    }
  }
}

coio::task<> consume_all(coio::queue<int>& q, std::vector<int>& seen) {
  for (;;) {
    const int v = co_await q.get();
    seen.push_back(v);
    q.task_done();
  }
}

coio::task<> get_into(coio::queue<int>& q, std::vector<std::string>& log) {
  try {
    const int v = co_await q.get();
    log.push_back(std::to_string(v));
  } catch (const coio::queue_shut_down&) {
    log.push_back("shut down");
  }
}

}  // namespace

COIO_TEST_CASE("10,000 wait_for(get) with a tiny timeout racing a producer lose no item (bpo-23812)", "[queue]") {
  coio::queue<int> q;
  constexpr int n = 10'000;
  auto producer = coio::create_task(produce(q, n));
  std::vector<int> received;
  int timeouts = 0;
  for (int attempt = 0; static_cast<int>(received.size()) < n; ++attempt) {
    try {
      const int v = co_await coio::wait_for(get_one(q), std::chrono::microseconds(attempt % 30));
      received.push_back(v);
    } catch (const coio::timeout_error&) {
      ++timeouts;
    }
  }
  co_await producer;
  REQUIRE(q.empty());
  REQUIRE(timeouts >= n / 100);                           // the race was really exercised
  for (int i = 0; i < n; ++i) REQUIRE(received[i] == i);  // none lost, none reordered
}

COIO_TEST_CASE("an item handed to a getter cancelled before it runs goes to the next getter", "[queue]") {
  coio::queue<int> q;
  std::vector<std::string> log;
  auto first = coio::create_task(get_into(q, log));
  auto second = coio::create_task(get_into(q, log));
  co_await yield_turns(3);
  q.put_nowait(7);  // handed to `first`...
  first.cancel();   // ...which is cancelled before it runs
  const bool cancelled = co_await ends_cancelled(first);
  REQUIRE(cancelled);
  co_await second;  // woken with the item
  REQUIRE(log == std::vector<std::string>{"7"});
}

COIO_TEST_CASE("a cancelled putter on a full queue passes the free slot to the next putter (gh-108042)", "[queue]") {
  coio::queue<int> q(1);
  q.put_nowait(0);
  auto first = coio::create_task(put_one(q, 1));
  auto second = coio::create_task(put_one(q, 2));
  co_await yield_turns(3);
  const int head = q.get_nowait();  // frees the slot: handed to `first`...
  REQUIRE(head == 0);
  first.cancel();  // ...which is cancelled before it runs
  const bool cancelled = co_await ends_cancelled(first);
  REQUIRE(cancelled);
  co_await second;  // the slot went on to `second`
  const int next = q.get_nowait();
  REQUIRE(next == 2);
  REQUIRE(q.empty());
}

COIO_TEST_CASE("a bounded queue applies back-pressure to put", "[queue]") {
  coio::queue<int> q(2);
  co_await q.put(1);
  co_await q.put(2);
  REQUIRE(q.full());
  auto blocked = coio::create_task(put_one(q, 3));
  co_await yield_turns(3);
  REQUIRE_FALSE(blocked.done());
  REQUIRE(q.qsize() == 2);
  REQUIRE_THROWS_AS(q.put_nowait(9), coio::queue_full);
  const int v = co_await q.get();
  REQUIRE(v == 1);
  co_await blocked;
  REQUIRE(q.qsize() == 2);
  REQUIRE(q.maxsize() == 2);
}

COIO_TEST_CASE("join waits until every item is task_done; too many task_done throw value_error", "[queue]") {
  coio::queue<int> q;
  std::vector<int> seen;
  for (int i = 0; i < 100; ++i) q.put_nowait(i);
  auto consumer = coio::create_task(consume_all(q, seen));
  co_await q.join();
  REQUIRE(seen.size() == 100);
  consumer.cancel();
  const bool cancelled = co_await ends_cancelled(consumer);
  REQUIRE(cancelled);
  REQUIRE_THROWS_AS(q.task_done(), coio::value_error);
  REQUIRE_THROWS_AS(q.get_nowait(), coio::queue_empty);
}

COIO_TEST_CASE("shutdown wakes every waiting getter and putter", "[queue]") {
  coio::queue<int> empty_q;
  std::vector<std::string> log;
  auto g1 = coio::create_task(get_into(empty_q, log));
  auto g2 = coio::create_task(get_into(empty_q, log));
  co_await yield_turns(3);
  empty_q.shutdown();
  co_await g1;
  co_await g2;
  REQUIRE(log == std::vector<std::string>{"shut down", "shut down"});

  coio::queue<int> full_q(1);
  full_q.put_nowait(1);
  auto p = coio::create_task(put_one(full_q, 2));
  co_await yield_turns(3);
  full_q.shutdown();
  bool putter_shut = false;
  try {
    co_await p;
  } catch (const coio::queue_shut_down&) {
    putter_shut = true;
  }
  REQUIRE(putter_shut);
  const int left = co_await full_q.get();  // what is left can still be taken...
  REQUIRE(left == 1);
  REQUIRE_THROWS_AS(full_q.get_nowait(), coio::queue_shut_down);  // ...then it is over
  REQUIRE_THROWS_AS(full_q.put_nowait(3), coio::queue_shut_down);
}

COIO_TEST_CASE("shutdown(immediate) drops the items and releases join", "[queue]") {
  coio::queue<int> q;
  for (int i = 0; i < 5; ++i) q.put_nowait(i);
  q.shutdown(true);
  REQUIRE(q.empty());
  co_await q.join();  // the dropped items count as done
  REQUIRE_THROWS_AS(q.get_nowait(), coio::queue_shut_down);
}

COIO_TEST_CASE("priority_queue gives the lowest first; lifo_queue the newest", "[queue]") {
  coio::priority_queue<int> pq;
  for (int v : {5, 1, 4, 2, 3}) pq.put_nowait(v);
  std::vector<int> out;
  while (!pq.empty()) out.push_back(pq.get_nowait());
  REQUIRE(out == std::vector<int>{1, 2, 3, 4, 5});

  coio::priority_queue<int, std::greater<int>> highest_first;
  for (int v : {5, 1, 4}) highest_first.put_nowait(v);
  const int top = co_await highest_first.get();
  REQUIRE(top == 5);

  coio::lifo_queue<std::unique_ptr<std::string>> stack;  // move-only items
  stack.put_nowait(std::make_unique<std::string>("first"));
  co_await stack.put(std::make_unique<std::string>("second"));
  auto newest = co_await stack.get();
  REQUIRE(*newest == "second");
}
