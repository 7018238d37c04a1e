#include <coio/debug.hpp>

#include "coio_test.hpp"
#include "sample_tasks.hpp"

#include <coio/create_task.hpp>
#include <coio/sleep.hpp>

#include <chrono>
#include <sstream>
#include <string>

using namespace std::chrono_literals;

using samples::yield_turns;

namespace {

coio::task<> innermost_sleeper() { co_await coio::sleep(1h); }
coio::task<> middle_layer() { co_await innermost_sleeper(); }

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

}  // namespace

COIO_TEST_CASE("dump_tasks shows each task with its async stack", "[debug]") {
  auto worker = coio::create_task(middle_layer(), "worker");
  co_await yield_turns(5);  // every task created above reached its first suspension
  std::ostringstream out;
  coio::dump_tasks(out);
  const std::string text = out.str();
  INFO(text);
  REQUIRE(contains(text, "Task 'main' [running]"));
  REQUIRE(contains(text, "Task 'worker' [suspended]"));
  REQUIRE(contains(text, "test_debug.cpp"));  // creation site
  REQUIRE(contains(text, "middle_layer"));
  REQUIRE(contains(text, "innermost_sleeper"));
  REQUIRE(contains(text, "awaiting sleep"));
  REQUIRE(text.find("middle_layer") < text.find("innermost_sleeper"));  // outermost first
  worker.cancel();
}

TEST_CASE("dump_tasks of an idle loop says so", "[debug]") {
  coio::event_loop loop;
  std::ostringstream out;
  coio::dump_tasks(loop, out);
  REQUIRE(out.str() == "no live tasks\n");
}
