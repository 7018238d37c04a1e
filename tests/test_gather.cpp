#include <coio/gather.hpp>

#include "coio_test.hpp"
#include "sample_tasks.hpp"

#include <coio/create_task.hpp>
#include <coio/sleep.hpp>

#include <chrono>
#include <memory>
#include <stdexcept>
#include <string>
#include <tuple>
#include <variant>
#include <vector>

using namespace std::chrono_literals;

using samples::fails_after;
using samples::value_after;

using samples::yield_turns;

namespace {

coio::task<> nothing_after(std::chrono::milliseconds d) { co_await coio::sleep(d); }

coio::task<int> records_cancel(int& cancelled, std::chrono::milliseconds d = 10s) {
  bool was_cancelled = false;
  try {
    co_await coio::sleep(d);
  } catch (const coio::cancelled_error&) {
    was_cancelled = true;  // (no co_await is allowed inside a handler)
  }
  if (was_cancelled) {
    co_await coio::sleep(1ms);  // cleanup that takes a while: gather must wait for it
    ++cancelled;
    throw coio::cancelled_error();
  }
  co_return 0;
}

coio::task<std::unique_ptr<int>> boxed(int v) { co_return std::make_unique<int>(v); }

coio::task<std::string> text_after(std::chrono::milliseconds d, std::string s) {
  co_await coio::sleep(d);
  co_return s;
}

coio::task<> gather_three(int& cancelled) {
  auto results = co_await coio::gather(records_cancel(cancelled), records_cancel(cancelled), records_cancel(cancelled));
  (void)results;
}

}  // namespace

COIO_TEST_CASE("gather returns results in argument order, not completion order", "[gather]") {
  auto [a, b, c] = co_await coio::gather(value_after(30ms, 1), value_after(1ms, 2), value_after(15ms, 3));
  REQUIRE(a == 1);
  REQUIRE(b == 2);
  REQUIRE(c == 3);
}

COIO_TEST_CASE("gather mixes tasks, futures, void and move-only results", "[gather]") {
  auto f = coio::create_task(value_after(1ms, 5));
  auto [v, nothing, box] = co_await coio::gather(f, nothing_after(1ms), boxed(8));
  STATIC_REQUIRE(std::is_same_v<decltype(nothing), std::monostate>);
  REQUIRE(v == 5);
  REQUIRE(*box == 8);
}

COIO_TEST_CASE("gather over a vector, and over an empty one", "[gather]") {
  std::vector<coio::task<int>> tasks;
  for (int i = 0; i < 20; ++i) tasks.push_back(value_after(std::chrono::milliseconds(20 - i), i));
  const std::vector<int> values = co_await coio::gather(std::move(tasks));
  REQUIRE(values.size() == 20);
  for (int i = 0; i < 20; ++i) REQUIRE(values[i] == i);
  std::vector<coio::task<int>> none;
  const std::vector<int> empty = co_await coio::gather(std::move(none));
  REQUIRE(empty.empty());
  auto zero = co_await coio::gather();
  STATIC_REQUIRE(std::tuple_size_v<decltype(zero)> == 0);
}

COIO_TEST_CASE("gather over a vector of futures (one twice), of void tasks and of move-only results", "[gather]") {
  auto shared = coio::create_task(value_after(2ms, 7));
  std::vector<coio::future<int>> futures{shared, coio::create_task(value_after(1ms, 8)), shared};
  const std::vector<int> values = co_await coio::gather(std::move(futures));
  REQUIRE(values == std::vector<int>{7, 8, 7});
  REQUIRE(shared.result() == 7);

  // A future someone else still holds is copied from, never emptied (as co_await on an
  // lvalue future); one gather owns alone is moved from.
  const std::string long_text(100, 'x');  // past the small-string buffer: a move empties it
  auto kept = coio::create_task(text_after(1ms, long_text));
  std::vector<coio::future<std::string>> texts{kept, kept};
  const auto copies = co_await coio::gather(std::move(texts));
  REQUIRE(copies == std::vector<std::string>{long_text, long_text});
  REQUIRE(kept.result() == long_text);
  auto [first, second, owned] = co_await coio::gather(kept, kept, text_after(1ms, long_text));
  REQUIRE(first == long_text);
  REQUIRE(second == long_text);
  REQUIRE(owned == long_text);
  REQUIRE(kept.result() == long_text);
  auto [ok_copy] = co_await coio::gather(coio::return_exceptions, kept);
  REQUIRE(ok_copy.value() == long_text);
  REQUIRE(kept.result() == long_text);

  std::vector<coio::task<>> voids;
  for (int i = 0; i < 3; ++i) voids.push_back(nothing_after(1ms));
  const auto monostates = co_await coio::gather(std::move(voids));
  REQUIRE(monostates.size() == 3);

  std::vector<coio::task<std::unique_ptr<int>>> boxes;
  for (int i = 0; i < 3; ++i) boxes.push_back(boxed(i));
  const auto unboxed = co_await coio::gather(std::move(boxes));
  REQUIRE(unboxed.size() == 3);
  for (int i = 0; i < 3; ++i) REQUIRE(*unboxed[i] == i);

  std::vector<coio::task<std::unique_ptr<int>>> more;
  more.push_back(boxed(5));
  const auto results = co_await coio::gather(coio::return_exceptions, std::move(more));
  REQUIRE(*results[0].value() == 5);
}

COIO_TEST_CASE("the first failure cancels the siblings, waits for their cleanup, then rethrows", "[gather]") {
  int cancelled = 0;
  std::string what;
  try {
    auto r = co_await coio::gather(records_cancel(cancelled), fails_after(2ms, "first"), records_cancel(cancelled));
    (void)r;
  } catch (const std::runtime_error& e) {
    what = e.what();
  }
  REQUIRE(what == "first");
  REQUIRE(cancelled == 2);  // both siblings finished their cleanup before gather threw
}

COIO_TEST_CASE("cancelling the gather cancels every child and waits for them", "[gather][cancel]") {
  int cancelled = 0;
  auto g = coio::create_task(gather_three(cancelled));
  co_await yield_turns(5);  // every task created above reached its first suspension
  g.cancel();
  const bool gather_cancelled = co_await ends_cancelled(g);
  REQUIRE(gather_cancelled);
  REQUIRE(cancelled == 3);
}

COIO_TEST_CASE("a child's own cancellation fails the gather with cancelled_error", "[gather][cancel]") {
  int cancelled = 0;
  auto child = coio::create_task(records_cancel(cancelled));
  auto other = coio::create_task(value_after(30ms, 1));
  auto g = coio::create_task(coio::gather(child, other));
  co_await yield_turns(5);  // every task created above reached its first suspension
  child.cancel();
  const bool gather_cancelled = co_await ends_cancelled(g);
  REQUIRE(gather_cancelled);
  REQUIRE(other.cancelled());  // a failure cancels the siblings
}

COIO_TEST_CASE("return_exceptions mixes values and errors and never throws for a child", "[gather]") {
  auto [ok, bad, fine] =
      co_await coio::gather(coio::return_exceptions, value_after(1ms, 1), fails_after(1ms, "bad"), nothing_after(2ms));
  REQUIRE(ok.ok());
  REQUIRE(ok.value() == 1);
  REQUIRE(bad.has_error());
  REQUIRE_THROWS_AS(bad.value(), std::runtime_error);
  REQUIRE(fine.ok());
  std::vector<coio::task<int>> tasks;
  tasks.push_back(value_after(1ms, 4));
  tasks.push_back(fails_after(1ms, "x"));
  tasks.push_back(value_after(3ms, 6));  // not cancelled by its sibling's failure
  const auto results = co_await coio::gather(coio::return_exceptions, std::move(tasks));
  REQUIRE(results.size() == 3);
  REQUIRE(results[0].value() == 4);
  REQUIRE(results[1].has_error());
  REQUIRE(results[2].value() == 6);
}
