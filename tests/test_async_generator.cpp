#include <coio/async_generator.hpp>

#include "coio_test.hpp"
#include "lifetime.hpp"
#include "sample_tasks.hpp"

#include <coio/create_task.hpp>
#include <coio/sleep.hpp>

#include <chrono>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

using namespace std::chrono_literals;

using samples::yield_turns;

namespace {

coio::async_generator<int> count_to(int n) {
  for (int i = 0; i < n; ++i) co_yield i;
}

coio::async_generator<int> empty() { co_return; }

coio::async_generator<int> counted_start(int& started, int n) {
  ++started;
  for (int i = 0; i < n; ++i) co_yield i;
}

// Awaits between yields: a real suspension (sleep) and an inline task.
coio::async_generator<int> slow_squares(int n) {
  for (int i = 0; i < n; ++i) {
    co_await coio::sleep(1ms);
    const int v = co_await samples::value_after(0ms, i * i);
    co_yield v;
  }
}

coio::async_generator<int> fails_after(int good, bool async_first) {
  for (int i = 0; i < good; ++i) co_yield i;
  if (async_first) co_await coio::sleep(0s);
  throw std::runtime_error("generator failed");
}

coio::async_generator<int> holds(lifetime_counter& life, int& finished) {
  tracked guard(life);
  for (int i = 0; i < 10; ++i) {
    co_await coio::sleep(0s);
    co_yield i;
  }
  ++finished;
}

// Sleeps far longer than any test waits; counts the cancellation delivered into it.
coio::async_generator<int> sleepy(lifetime_counter& life, int& cancellations) {
  tracked guard(life);
  co_yield 1;
  try {
    co_await coio::sleep(10s);
  } catch (const coio::cancelled_error&) {
    ++cancellations;
    throw;
  }
  co_yield 2;
}

// A generator consuming another: each inner value times ten.
coio::async_generator<int> tens(coio::async_generator<int> inner) {
  for (;;) {
    std::optional<int> v = co_await inner.next();
    if (!v) break;
    co_yield *v * 10;
  }
}

coio::async_generator<std::unique_ptr<int>> boxes(int n) {
  for (int i = 0; i < n; ++i) co_yield std::make_unique<int>(i);
  auto last = std::make_unique<int>(100);
  co_yield std::move(last);
}

coio::async_generator<std::string> words(std::string& after_yield) {
  std::string word = "kept";
  co_yield word;  // an lvalue is copied out, not moved
  after_yield = word;
  co_yield "converted";  // a const char* becomes a std::string temporary
}

struct labelled {  // an aggregate: co_yield it as a named local (docs/compilers.md)
  tracked guard;
  std::string label;
};

coio::async_generator<labelled> labels(lifetime_counter& life) {
  for (int i = 0; i < 3; ++i) {
    labelled item{tracked(life), std::string(32, static_cast<char>('a' + i))};  // heap-owning
    co_yield std::move(item);
  }
}

coio::async_generator<int&> elements(std::vector<int>& v) {
  for (int& x : v) co_yield x;
}

coio::async_generator<int> whose_task(coio::any_future& seen) {
  seen = coio::current_task();
  co_await coio::sleep(0s);
  co_yield 1;
}

coio::async_generator<long long> many(int n) {
  for (int i = 0; i < n; ++i) co_yield i;
}

template <class T>
coio::task<std::vector<T>> drain(coio::async_generator<T>& gen) {
  std::vector<T> out;
  for (;;) {
    std::optional<T> v = co_await gen.next();
    if (!v) break;
    out.push_back(std::move(*v));
  }
  co_return out;
}

coio::task<int> consume_sleepy(coio::async_generator<int>& gen, int& seen) {
  for (;;) {
    std::optional<int> v = co_await gen.next();
    if (!v) break;
    seen += *v;
  }
  co_return seen;
}

coio::task<int> consume_owned(lifetime_counter& life, int& cancellations, int& seen) {
  auto gen = sleepy(life, cancellations);
  const int n = co_await consume_sleepy(gen, seen);
  co_return n;
}

coio::task<int> consume_nested(lifetime_counter& life, int& cancellations, int& seen) {
  auto gen = tens(sleepy(life, cancellations));
  const int n = co_await consume_sleepy(gen, seen);
  co_return n;
}

}  // namespace

static_assert(!std::is_copy_constructible_v<coio::async_generator<int>>);
static_assert(std::is_nothrow_move_constructible_v<coio::async_generator<int>>);
static_assert(std::is_same_v<coio::async_generator<int>::next_type, std::optional<int>>);
static_assert(std::is_same_v<coio::async_generator<int&>::next_type, int*>);
static_assert(std::is_same_v<coio::async_generator<const int&>::next_type, const int*>);

COIO_TEST_CASE("async_generator yields its values in order, then the end", "[async_generator]") {
  auto gen = count_to(3);
  std::vector<int> got;
  for (;;) {
    std::optional<int> v = co_await gen.next();
    if (!v) break;
    got.push_back(*v);
  }
  REQUIRE(got == std::vector<int>{0, 1, 2});
  REQUIRE(gen.done());
  // next() after the end keeps giving the end.
  const std::optional<int> again = co_await gen.next();
  REQUIRE_FALSE(again);
  const std::optional<int> and_again = co_await gen.next();
  REQUIRE_FALSE(and_again);
}

COIO_TEST_CASE("async_generator is lazy: the body starts at the first next()", "[async_generator]") {
  int started = 0;
  auto gen = counted_start(started, 2);
  REQUIRE(started == 0);
  REQUIRE_FALSE(gen.done());
  const std::optional<int> first = co_await gen.next();
  REQUIRE(started == 1);
  REQUIRE(first == 0);
  { auto never = counted_start(started, 2); }
  REQUIRE(started == 1);
}

COIO_TEST_CASE("an empty async_generator ends at once", "[async_generator]") {
  auto gen = empty();
  const std::optional<int> v = co_await gen.next();
  REQUIRE_FALSE(v);
  REQUIRE(gen.done());
  auto none = co_await coio::collect(empty());
  REQUIRE(none.empty());
}

COIO_TEST_CASE("async_generator awaits between its yields", "[async_generator]") {
  auto gen = slow_squares(4);
  const auto got = co_await drain(gen);
  REQUIRE(got == std::vector<int>{0, 1, 4, 9});
}

COIO_TEST_CASE("collect gathers every value of a generator", "[async_generator]") {
  const auto got = co_await coio::collect(slow_squares(3));
  REQUIRE(got == std::vector<int>{0, 1, 4});
}

COIO_TEST_CASE("an exception in the body comes out of next(), then the generator is over", "[async_generator]") {
  const bool modes[] = {false, true};
  for (const bool async_first : modes) {
    auto gen = fails_after(2, async_first);
    std::vector<int> got;
    std::string error;
    try {
      for (;;) {
        std::optional<int> v = co_await gen.next();
        if (!v) break;
        got.push_back(*v);
      }
    } catch (const std::runtime_error& e) {
      error = e.what();
    }
    REQUIRE(got == std::vector<int>{0, 1});
    REQUIRE(error == "generator failed");
    REQUIRE(gen.done());
    const std::optional<int> after = co_await gen.next();
    REQUIRE_FALSE(after);
  }
}

COIO_TEST_CASE("abandoning a generator at a co_yield destroys its frame and runs its cleanup", "[async_generator]") {
  lifetime_counter life;
  int finished = 0;
  {
    auto gen = holds(life, finished);
    const std::optional<int> a = co_await gen.next();
    const std::optional<int> b = co_await gen.next();
    REQUIRE(a == 0);
    REQUIRE(b == 1);
    REQUIRE(life.alive() == 1);
  }
  REQUIRE(life.constructed == 1);
  REQUIRE(life.alive() == 0);
  REQUIRE(finished == 0);  // none of its code ran after the abandonment
  { auto never_started = holds(life, finished); }
  REQUIRE(life.constructed == 1);
}

COIO_TEST_CASE("a generator can consume another generator", "[async_generator]") {
  auto gen = tens(slow_squares(4));
  const auto got = co_await drain(gen);
  REQUIRE(got == std::vector<int>{0, 10, 40, 90});
}

COIO_TEST_CASE("the body runs as part of the consuming task", "[async_generator]") {
  coio::any_future seen;
  auto gen = whose_task(seen);
  const std::optional<int> v = co_await gen.next();
  REQUIRE(v == 1);
  REQUIRE(seen == coio::current_task());
}

COIO_TEST_CASE("cancelling the consumer while the generator sleeps is delivered into the generator",
               "[async_generator][cancel]") {
  lifetime_counter life;
  int cancellations = 0, seen = 0;
  auto consumer = coio::create_task(consume_owned(life, cancellations, seen));
  co_await yield_turns(3);  // the consumer has read 1 and sleeps inside the generator
  REQUIRE(seen == 1);
  REQUIRE(life.alive() == 1);
  consumer.cancel("stop");
  const bool cancelled = co_await ends_cancelled(consumer);
  REQUIRE(cancelled);
  REQUIRE(cancellations == 1);  // the sleep inside the body threw
  REQUIRE(life.alive() == 0);   // and the generator's cleanup ran
  REQUIRE(seen == 1);
}

COIO_TEST_CASE("cancellation reaches a generator nested inside another", "[async_generator][cancel]") {
  lifetime_counter life;
  int cancellations = 0, seen = 0;
  auto consumer = coio::create_task(consume_nested(life, cancellations, seen));
  co_await yield_turns(3);
  REQUIRE(seen == 10);
  consumer.cancel();
  const bool cancelled = co_await ends_cancelled(consumer);
  REQUIRE(cancelled);
  REQUIRE(cancellations == 1);
  REQUIRE(life.alive() == 0);
}

COIO_TEST_CASE("the cancellation comes out of next() in the consumer", "[async_generator][cancel]") {
  lifetime_counter life;
  int cancellations = 0;
  auto gen = sleepy(life, cancellations);
  const std::optional<int> first = co_await gen.next();
  REQUIRE(first == 1);
  coio::current_task().cancel("from myself");  // pending: the generator's sleep throws
  std::string message;
  try {
    const std::optional<int> second = co_await gen.next();
    (void)second;
  } catch (const coio::cancelled_error& e) {
    message = e.message();
  }
  REQUIRE(message == "from myself");
  REQUIRE(cancellations == 1);
  REQUIRE(gen.done());
  REQUIRE(life.alive() == 0);
}

COIO_TEST_CASE("next() while another next() is pending throws runtime_error", "[async_generator]") {
  lifetime_counter life;
  int cancellations = 0, seen = 0;
  auto gen = sleepy(life, cancellations);
  auto consumer = coio::create_task(consume_sleepy(gen, seen));
  co_await yield_turns(3);  // the consumer sleeps inside the generator's body
  bool threw = false;
  try {
    const std::optional<int> v = co_await gen.next();
    (void)v;
  } catch (const coio::runtime_error&) {
    threw = true;
  }
  REQUIRE(threw);
  consumer.cancel();
  const bool cancelled = co_await ends_cancelled(consumer);
  REQUIRE(cancelled);
  REQUIRE(cancellations == 1);
}

COIO_TEST_CASE("next() on a moved-from generator throws invalid_state_error", "[async_generator]") {
  auto gen = count_to(2);
  auto other = std::move(gen);
  REQUIRE_FALSE(gen.valid());  // NOLINT(bugprone-use-after-move): checking the moved-from state
  bool threw = false;
  try {
    const std::optional<int> v = co_await gen.next();
    (void)v;
  } catch (const coio::invalid_state_error&) {
    threw = true;
  }
  REQUIRE(threw);
  const std::optional<int> v = co_await other.next();
  REQUIRE(v == 0);
}

COIO_TEST_CASE("moving a generator mid-way carries on where it was", "[async_generator]") {
  auto gen = count_to(4);
  const std::optional<int> a = co_await gen.next();
  coio::async_generator<int> moved;
  moved = std::move(gen);
  const auto rest = co_await drain(moved);
  REQUIRE(a == 0);
  REQUIRE(rest == std::vector<int>{1, 2, 3});
}

COIO_TEST_CASE("async_generator of a move-only type moves its values out", "[async_generator]") {
  auto gen = boxes(3);
  const auto got = co_await drain(gen);
  REQUIRE(got.size() == 4);
  for (int i = 0; i < 3; ++i) REQUIRE(*got[static_cast<std::size_t>(i)] == i);
  REQUIRE(*got[3] == 100);
}

COIO_TEST_CASE("a yielded lvalue is copied, a convertible value is converted", "[async_generator]") {
  std::string after_yield;
  auto gen = words(after_yield);
  const auto got = co_await drain(gen);
  REQUIRE(got == std::vector<std::string>{"kept", "converted"});
  REQUIRE(after_yield == "kept");
}

COIO_TEST_CASE("a named aggregate co_yielded by move is handed out once and destroyed once", "[async_generator]") {
  lifetime_counter life;
  {
    auto gen = labels(life);
    const auto got = co_await drain(gen);
    REQUIRE(got.size() == 3);
    REQUIRE(got[2].label == std::string(32, 'c'));
    REQUIRE(life.alive() == 3);  // the three in `got`
  }
  REQUIRE(life.alive() == 0);
}

COIO_TEST_CASE("async_generator<T&> gives pointers to the yielded objects", "[async_generator]") {
  std::vector<int> v{1, 2, 3};
  auto gen = elements(v);
  for (;;) {
    int* x = co_await gen.next();
    if (!x) break;
    *x *= 10;
  }
  REQUIRE(v == std::vector<int>{10, 20, 30});
}

// Symmetric transfer is not a tail call at -O0 or under ASan on GCC 12: without the transfer
// guard (which next() and co_yield go through) this loop overflows the stack there.
COIO_TEST_CASE("1,000,000 synchronous yields do not grow the stack", "[async_generator]") {
  auto gen = many(1'000'000);
  long long sum = 0, count = 0;
  for (;;) {
    std::optional<long long> v = co_await gen.next();
    if (!v) break;
    sum += *v;
    ++count;
  }
  REQUIRE(count == 1'000'000);
  REQUIRE(sum == 499'999'500'000LL);
}
