// tests/test_compiler_traps.cpp: regression tests for the coroutine miscompilations of g++ 12
// described in docs/compilers.md. Every case is written in the SAFE spelling that document
// recommends, and checks exactly what the unsafe spelling gets wrong: a coroutine body that
// must run (side effects counted), objects that must be destroyed exactly once (lifetime
// counters, heap-owning members so that ASan sees a double destruction as a double free), and
// a native stack that must not overflow. If the compiler or coio mishandles one of these
// patterns, a count, a lifetime balance or the stack gives it away. No case depends on time:
// coio::sleep(0s) only yields.
#include <coio/create_task.hpp>
#include <coio/future.hpp>
#include <coio/sleep.hpp>
#include <coio/task.hpp>

#include "coio_test.hpp"
#include "lifetime.hpp"

#include <chrono>
#include <cstddef>
#include <string>
#include <utility>

using namespace std::chrono_literals;

namespace {

coio::task<int> trivial(int i) { co_return i; }

coio::task<int> after_a_yield(int i) {
  co_await coio::sleep(0s);  // a real suspension: the loop resumes this frame later
  co_return i;
}

// --- trap (a): co_await in a condition --------------------------------------------------------
// g++ 12.2 skips the whole body of a coroutine that has a co_await in an if/while/for/switch
// condition and no local variable (GCC PR 106188): the coroutine never finishes (its awaiter
// waits forever) or dies on SIGILL. The safe spelling names the result first; these helpers use
// it and count every statement they run. They have no locals besides the ones it needs.

coio::task<void> branch_on_named_result(int& ran) {
  ++ran;  // the body started
  const int v = co_await trivial(1);
  if (v != 2) ++ran;       // taken
  if (v == 2) ran += 100;  // not taken
}

coio::task<int> loop_on_named_result(int limit, int& ran) {
  ++ran;  // the body started
  int i = 0;
  int v = co_await trivial(i);
  while (v < limit) {
    ++ran;
    v = co_await trivial(++i);
  }
  co_return v;
}

coio::task<void> switch_on_named_result(int& ran) {
  ++ran;  // the body started
  const int v = co_await trivial(2);
  switch (v) {
    case 2:
      ++ran;
      break;
    default:
      ran += 100;
      break;
  }
}

coio::task<bool> fetch(int& calls, bool result) {
  ++calls;
  co_return result;
}

coio::task<void> branch_on_suspended_result(int& ran) {
  ++ran;  // the body started
  const int v = co_await after_a_yield(1);
  if (v != 2) ++ran;  // taken
}

// --- trap (b): temporaries inside a co_await ------------------------------------------------
// g++ 12.2 destroys an aggregate temporary or a by-value lambda capture built inside a co_await
// expression twice (GCC PR 100611, 101367, 107288). The safe spelling builds them as named
// locals first.

struct request {        // an aggregate
  tracked guard;        // counts constructions and destructions
  std::string payload;  // owns heap memory: a second destruction is a double free
  int id;
};

coio::task<int> take_by_value(request r) { co_return r.id + static_cast<int>(r.payload.size()); }

coio::task<int> take_by_reference(const request& r) {
  co_await coio::sleep(0s);  // the caller's object must outlive the suspension
  co_return r.id + static_cast<int>(r.payload.size());
}

// --- trap (c): long chains of synchronous transfers -----------------------------------------

coio::task<int> nested(int depth) {
  if (depth == 0) co_return 0;
  const int below = co_await nested(depth - 1);
  co_return below + 1;
}

}  // namespace

// (a) ------------------------------------------------------------------------------------------

COIO_TEST_CASE("a co_await result named before an if: the body runs and the branch is taken", "[compiler_traps]") {
  // As a task of its own, resumed by the loop: it completes within its first step, so one
  // yield is enough to see it done (and a skipped body fails here instead of hanging).
  int ran_as_task = 0;
  coio::future<void> f = coio::create_task(branch_on_named_result(ran_as_task));
  co_await coio::sleep(0s);
  REQUIRE(ran_as_task == 2);
  REQUIRE(f.done());
  co_await f;

  // Awaited inline, resumed by symmetric transfer.
  int ran_inline = 0;
  co_await branch_on_named_result(ran_inline);
  REQUIRE(ran_inline == 2);
}

COIO_TEST_CASE("a co_await result named before a while: the loop body runs every time", "[compiler_traps]") {
  int ran = 0;
  const int last = co_await loop_on_named_result(3, ran);
  REQUIRE(last == 3);
  REQUIRE(ran == 1 + 3);  // the start, then three iterations

  int ran_none = 0;
  const int first = co_await loop_on_named_result(0, ran_none);
  REQUIRE(first == 0);
  REQUIRE(ran_none == 1);  // the start only: the condition is false at once
}

COIO_TEST_CASE("a co_await result named before a switch: the matching case runs", "[compiler_traps]") {
  int ran = 0;
  co_await switch_on_named_result(ran);
  REQUIRE(ran == 2);
}

COIO_TEST_CASE("a named result of a task that really suspended drives an if", "[compiler_traps]") {
  int ran = 0;
  co_await branch_on_suspended_result(ran);
  REQUIRE(ran == 2);
}

// g++ 12.2 also evaluates a co_await in the right operand of && in a loop condition, and in the
// unselected arm of ?: in a compound assignment. Guarded by a statement, it runs only when due.
COIO_TEST_CASE("a co_await guarded by a statement runs only when the guard holds", "[compiler_traps]") {
  int calls = 0;
  bool more = false;
  while (more) {  // instead of `while (more && co_await fetch(...))`
    const bool fetched = co_await fetch(calls, false);
    more = fetched;
  }
  REQUIRE(calls == 0);

  int rounds = 0;
  more = true;
  while (more) {
    ++rounds;
    const bool fetched = co_await fetch(calls, rounds < 3);
    more = fetched;
  }
  REQUIRE(rounds == 3);
  REQUIRE(calls == 3);

  const bool wanted = false;
  bool got = false;
  if (wanted) got = co_await fetch(calls, true);  // instead of `got |= wanted ? co_await fetch(...) : false`
  REQUIRE_FALSE(got);
  REQUIRE(calls == 3);
}

// (b) ------------------------------------------------------------------------------------------

COIO_TEST_CASE("aggregates built as named locals before the co_await are destroyed exactly once", "[compiler_traps]") {
  lifetime_counter life;
  {
    request by_value{tracked(life), std::string(100, 'v'), 7};
    const int a = co_await take_by_value(std::move(by_value));
    REQUIRE(a == 107);
    // The parameter, its copy in the frame and the frame are gone; the local remains.
    REQUIRE(life.alive() == 1);

    request by_reference{tracked(life), std::string(50, 'r'), 8};
    const int b = co_await take_by_reference(by_reference);
    REQUIRE(b == 58);
    REQUIRE(life.alive() == 2);

    // Building the task first (a named task, not a temporary inside co_await) is safe too.
    coio::task<int> t = take_by_value(request{tracked(life), std::string(10, 't'), 9});
    const int c = co_await std::move(t);
    REQUIRE(c == 19);
    REQUIRE(life.alive() == 3);  // t keeps its frame, and the parameter in it, until it dies
  }
  REQUIRE(life.alive() == 0);
  REQUIRE(life.destroyed == life.constructed);
}

COIO_TEST_CASE("capturing lambdas stored in named locals before the co_await are destroyed exactly once",
               "[compiler_traps]") {
  lifetime_counter life;
  {
    tracked original(life);
    auto by_copy = [original, text = std::string(100, 'c')]() -> coio::task<std::size_t> {
      (void)original;
      co_await coio::sleep(0s);  // the closure (and its captures) must outlive the suspension
      co_return text.size();
    };
    auto by_init = [guard = tracked(life), text = std::string(40, 'i')]() -> coio::task<std::size_t> {
      (void)guard;
      co_return text.size();
    };
    REQUIRE(life.alive() == 3);  // original, its copy in by_copy, by_init's guard

    const std::size_t a = co_await by_copy();
    REQUIRE(a == 100);
    const std::size_t b = co_await by_init();
    REQUIRE(b == 40);
    REQUIRE(life.alive() == 3);  // awaiting does not copy or destroy a capture

    const std::size_t again = co_await by_copy();  // the closure is still whole
    REQUIRE(again == 100);
    REQUIRE(life.alive() == 3);
  }
  REQUIRE(life.alive() == 0);
  REQUIRE(life.destroyed == life.constructed);
}

// (c) ------------------------------------------------------------------------------------------

// Symmetric transfer is not a tail call in g++ at -O0 and -O1 or under ASan: there every transfer
// nests native frames, and without coio's transfer guard this loop overflows an 8 MiB stack
// after about 65,000 iterations at -O0 (30,000 with ASan).
COIO_TEST_CASE("5,000,000 synchronously completing awaits in a loop do not overflow the stack", "[compiler_traps]") {
  constexpr int n = 5'000'000;
  long long sum = 0;
  for (int i = 0; i < n; ++i) {
    const int v = co_await trivial(i);
    sum += v;
  }
  REQUIRE(sum == static_cast<long long>(n) * (n - 1) / 2);
}

COIO_TEST_CASE("a chain of 100,000 nested synchronous awaits unwinds without overflowing the stack",
               "[compiler_traps]") {
  const int depth = co_await nested(100'000);
  REQUIRE(depth == 100'000);
}
