#include <coio/rate_limiter.hpp>

#include "coio_test.hpp"
#include "sample_tasks.hpp"

#include <coio/create_task.hpp>
#include <coio/gather.hpp>

#include <chrono>
#include <string>
#include <vector>

using namespace std::chrono_literals;
using samples::yield_turns;
using clock_type = std::chrono::steady_clock;

namespace {

coio::task<> hammer(coio::rate_limiter& limiter, std::vector<clock_type::time_point>& stamps,
                    clock_type::time_point until) {
  for (;;) {
    co_await limiter.acquire();
    const auto now = clock_type::now();
    if (now >= until) co_return;
    stamps.push_back(now);
  }
}

coio::task<> acquire_named(coio::rate_limiter& limiter, double amount, std::vector<std::string>& order,
                           std::string name) {
  co_await limiter.acquire(amount);
  order.push_back(name);
}

}  // namespace

COIO_TEST_CASE("over a 2-second run no window of one period sees more than max_rate after the burst",
               "[rate_limiter]") {
  constexpr double max_rate = 10;
  const auto period = 200ms;
  coio::rate_limiter limiter(max_rate, period);
  std::vector<clock_type::time_point> stamps;
  const auto until = clock_type::now() + 2s;
  std::vector<coio::task<>> workers;
  for (int i = 0; i < 8; ++i) workers.push_back(hammer(limiter, stamps, until));
  co_await coio::gather(std::move(workers));
  REQUIRE(stamps.size() >= 50);  // about 10 burst + 2 s x 50/s; generous for a loaded machine
  REQUIRE(stamps.size() <= 10 + 100 + 1);
  // Skip the initial burst of max_rate, then slide a window over every acquisition.
  for (std::size_t i = static_cast<std::size_t>(max_rate); i < stamps.size(); ++i) {
    std::size_t in_window = 0;
    for (std::size_t j = i; j < stamps.size() && stamps[j] < stamps[i] + period; ++j) ++in_window;
    REQUIRE(in_window <= static_cast<std::size_t>(max_rate));
  }
}

COIO_TEST_CASE("waiters are served in FIFO order: a small request does not overtake a large one", "[rate_limiter]") {
  coio::rate_limiter limiter(4, 100ms);
  co_await limiter.acquire(4);  // the bucket is full
  std::vector<std::string> order;
  auto big = coio::create_task(acquire_named(limiter, 3, order, "big"));
  co_await yield_turns(2);
  auto small = coio::create_task(acquire_named(limiter, 1, order, "small"));
  co_await big;
  co_await small;
  REQUIRE(order == std::vector<std::string>{"big", "small"});
}

COIO_TEST_CASE("an amount above max_rate, or a bad rate, is a value_error", "[rate_limiter]") {
  coio::rate_limiter limiter(5, 1s);
  bool threw = false;
  try {
    co_await limiter.acquire(6);
  } catch (const coio::value_error&) {
    threw = true;
  }
  REQUIRE(threw);
  REQUIRE(limiter.has_capacity(5));
  REQUIRE_THROWS_AS(coio::rate_limiter(0, 1s), coio::value_error);
  REQUIRE_THROWS_AS(coio::rate_limiter(5, 0s), coio::value_error);
}

COIO_TEST_CASE("a cancelled waiter takes nothing and lets the next one through", "[rate_limiter][cancel]") {
  coio::rate_limiter limiter(2, 100ms);
  co_await limiter.acquire(2);
  std::vector<std::string> order;
  auto first = coio::create_task(acquire_named(limiter, 2, order, "first"));
  auto second = coio::create_task(acquire_named(limiter, 1, order, "second"));
  co_await yield_turns(3);
  first.cancel();
  const bool cancelled = co_await ends_cancelled(first);
  REQUIRE(cancelled);
  co_await second;
  REQUIRE(order == std::vector<std::string>{"second"});
}
