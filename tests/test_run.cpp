#include <coio/run.hpp>

#include "coio_test.hpp"
#include "lifetime.hpp"

#include <coio/create_task.hpp>
#include <coio/sleep.hpp>

#include <chrono>
#include <stdexcept>
#include <string>
#include <thread>

#include <signal.h>
#include <unistd.h>

using namespace std::chrono_literals;

namespace {

coio::task<int> answer() {
  co_await coio::sleep(1ms);
  co_return 42;
}

coio::task<int> failing() {
  co_await coio::sleep(0s);
  throw std::logic_error("main failed");
}

coio::task<int> nested_run() { co_return coio::run(answer()); }

coio::task<> linger(lifetime_counter& life, bool& cancelled) {
  tracked guard(life);
  try {
    co_await coio::sleep(1h);
  } catch (const coio::cancelled_error&) {
    cancelled = true;
    throw;
  }
}

coio::task<int> leaves_tasks_behind(lifetime_counter& life, bool& cancelled) {
  coio::create_task(linger(life, cancelled));
  co_await coio::sleep(1ms);
  co_return 1;
}

coio::task<> interrupted(bool& cleaned_up) {
  ::kill(::getpid(), SIGINT);
  try {
    co_await coio::sleep(30s);
  } catch (const coio::cancelled_error&) {
    cleaned_up = true;
    throw;
  }
}

coio::task<std::string> move_only_main() { co_return std::string("moved"); }

}  // namespace

TEST_CASE("run returns the main task's value", "[run]") {
  REQUIRE(coio::run(answer()) == 42);
  REQUIRE(coio::run(move_only_main()) == "moved");
}

TEST_CASE("run rethrows the main task's exception", "[run]") {
  REQUIRE_THROWS_AS(coio::run(failing()), std::logic_error);
}

TEST_CASE("run inside run throws runtime_error", "[run]") {
  REQUIRE_THROWS_AS(coio::run(nested_run()), coio::runtime_error);
}

TEST_CASE("run cancels and awaits tasks left behind", "[run]") {
  lifetime_counter life;
  bool cancelled = false;
  REQUIRE(coio::run(leaves_tasks_behind(life, cancelled)) == 1);
  REQUIRE(cancelled);  // its catch block ran: it was cancelled, not just destroyed
  REQUIRE(life.alive() == 0);
}

TEST_CASE("a SIGINT cancels the main task and its cleanup runs", "[run][signal]") {
  // Catch2 installs its own SIGINT handler; coio::run only takes over the default one.
  struct sigaction previous {
  }, fresh{};
  fresh.sa_handler = SIG_DFL;
  sigemptyset(&fresh.sa_mask);
  ::sigaction(SIGINT, &fresh, &previous);
  bool cleaned_up = false;
  bool cancelled = false;
  try {
    coio::run(interrupted(cleaned_up));
  } catch (const coio::cancelled_error& e) {
    cancelled = std::string(e.message()) == "interrupted by SIGINT";
  }
  struct sigaction after {};
  ::sigaction(SIGINT, &previous, &after);
  REQUIRE(cancelled);
  REQUIRE(cleaned_up);
  REQUIRE(after.sa_handler == SIG_DFL);  // coio::run restored the disposition
}

TEST_CASE("two threads each run their own loop at the same time", "[run][threads]") {
  int a = 0, b = 0;
  std::thread other([&] { a = coio::run(answer()); });
  b = coio::run(answer());
  other.join();
  REQUIRE(a == 42);
  REQUIRE(b == 42);
}

TEST_CASE("run in debug mode through the environment", "[run]") {
  ::setenv("COIO_DEBUG", "1", 1);
  bool debug = false;
  coio::event_loop probe;
  debug = probe.get_debug();
  ::unsetenv("COIO_DEBUG");
  REQUIRE(debug);
  REQUIRE(coio::run(answer(), {.debug = true}) == 42);
}
