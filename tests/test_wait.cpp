#include <coio/wait.hpp>

#include "coio_test.hpp"
#include "sample_tasks.hpp"

#include <coio/create_task.hpp>
#include <coio/sleep.hpp>

#include <chrono>
#include <stdexcept>
#include <vector>

using namespace std::chrono_literals;

using samples::fails_after;
using samples::value_after;

using samples::yield_turns;

namespace {

std::vector<coio::future<int>> start(std::initializer_list<int> delays_ms) {
  std::vector<coio::future<int>> fs;
  for (int d : delays_ms) fs.push_back(coio::create_task(value_after(std::chrono::milliseconds(d), d)));
  return fs;
}

}  // namespace

COIO_TEST_CASE("wait(first_completed) returns the first to finish; the rest keep running", "[wait]") {
  auto fs = start({400, 2, 300});
  auto r = co_await coio::wait(fs, coio::return_when::first_completed);
  REQUIRE(r.done.size() == 1);
  REQUIRE(r.done[0].result() == 2);
  REQUIRE(r.pending.size() == 2);
  REQUIRE(r.pending[0] == fs[0]);  // input order
  REQUIRE(r.pending[1] == fs[2]);
  REQUIRE_FALSE(r.pending[0].cancelled());
  auto all = co_await coio::wait(fs);
  REQUIRE(all.done.size() == 3);
  REQUIRE(all.pending.empty());
}

COIO_TEST_CASE("wait(first_exception) returns at the first failure, or when all are done", "[wait]") {
  std::vector<coio::future<int>> fs;
  fs.push_back(coio::create_task(value_after(300ms, 1)));
  fs.push_back(coio::create_task(fails_after(2ms)));
  fs.push_back(coio::create_task(value_after(1ms, 3)));
  auto r = co_await coio::wait(fs, coio::return_when::first_exception);
  REQUIRE(r.done.size() == 2);  // the quick value and the failure, in input order
  REQUIRE(r.done[0] == fs[1]);
  REQUIRE(r.done[1] == fs[2]);
  REQUIRE(r.done[0].exception() != nullptr);
  REQUIRE(r.pending.size() == 1);
  auto no_failures = start({1, 2});
  auto r2 = co_await coio::wait(no_failures, coio::return_when::first_exception);
  REQUIRE(r2.done.size() == 2);
  co_await fs[0];
}

COIO_TEST_CASE("wait(all_completed) with a timeout that passes before anything is done", "[wait]") {
  auto fs = start({300, 350});
  auto r = co_await coio::wait(fs, coio::return_when::all_completed, 5ms);
  REQUIRE(r.done.empty());
  REQUIRE(r.pending.size() == 2);
  REQUIRE_FALSE(fs[0].cancelled());  // not cancelled: wait never cancels
  auto rest = co_await coio::wait(fs, coio::return_when::all_completed, 10s);
  REQUIRE(rest.done.size() == 2);
}

COIO_TEST_CASE("wait on an empty vector returns at once", "[wait]") {
  auto r = co_await coio::wait(std::vector<coio::future<int>>{});
  REQUIRE(r.done.empty());
  REQUIRE(r.pending.empty());
}

COIO_TEST_CASE("cancelling a wait stops waiting but leaves the futures running", "[wait][cancel]") {
  auto fs = start({300});
  coio::current_task().cancel();
  bool cancelled = false;
  try {
    auto r = co_await coio::wait(fs);
    (void)r;
  } catch (const coio::cancelled_error&) {
    cancelled = true;
  }
  REQUIRE(cancelled);
  REQUIRE_FALSE(fs[0].done());
  const int v = co_await fs[0];
  REQUIRE(v == 300);
}
