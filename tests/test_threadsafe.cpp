#include <coio/threadsafe.hpp>

#include "coio_test.hpp"

#include <coio/sleep.hpp>

#include <chrono>
#include <future>
#include <stdexcept>
#include <thread>
#include <vector>

using namespace std::chrono_literals;

namespace {

coio::task<int> doubled(int x) {
  co_await coio::sleep(1ms);
  co_return 2 * x;
}

coio::task<int> throws_on_loop() {
  co_await coio::sleep(0s);
  throw std::runtime_error("from the loop");
}

coio::task<> serve(coio::future<> stop) { co_await stop; }

}  // namespace

TEST_CASE("run_coroutine_threadsafe submits tasks from other threads", "[threadsafe][threads]") {
  coio::event_loop loop;
  auto stop = loop.create_future<void>();
  std::vector<std::thread> clients;
  std::vector<int> results(8, 0);
  bool failure_seen = false;
  std::thread client_of_failure;
  for (int i = 0; i < 8; ++i) {
    clients.emplace_back([&loop, &results, i] {
      std::future<int> r = coio::run_coroutine_threadsafe(doubled(i), loop);
      results[i] = r.get();
    });
  }
  client_of_failure = std::thread([&] {
    std::future<int> r = coio::run_coroutine_threadsafe(throws_on_loop(), loop);
    try {
      r.get();
    } catch (const std::runtime_error&) {
      failure_seen = true;
    }
  });
  std::thread stopper([&] {
    for (auto& c : clients) c.join();
    client_of_failure.join();
    loop.call_soon_threadsafe([&] { stop.set_result(); });
  });
  loop.run_until_complete(serve(stop));
  stopper.join();
  for (int i = 0; i < 8; ++i) REQUIRE(results[i] == 2 * i);
  REQUIRE(failure_seen);
}

TEST_CASE("run_coroutine_threadsafe on a loop that closes first breaks the std::future", "[threadsafe][threads]") {
  std::future<int> r;
  {
    coio::event_loop loop;
    r = coio::run_coroutine_threadsafe(doubled(1), loop);
  }
  REQUIRE_THROWS_AS(r.get(), std::future_error);
}
