// wait_for_timeout.cpp: give an operation a deadline; on expiry it is cancelled and cleaned up.
//
//   async def slow_op(state):
//       try:
//           await asyncio.sleep(3600)            # an hour: far too slow
//           return 42
//       finally:
//           state["cleaned_up"] = True          # runs when the cancellation unwinds the task
//
//   async def main():
//       try:
//           await asyncio.wait_for(slow_op(state), timeout=0.1)
//       except TimeoutError:
//           print("timeout! cleaned up:", state["cleaned_up"])    # True already
//       print(await asyncio.wait_for(fast_op(), timeout=0.5))     # in time: 7
//
// coio::wait_for(work, timeout) schedules the work and, when the deadline passes, cancels it,
// waits until it has really finished, and only then throws coio::timeout_error. The cleanup is
// an RAII guard here (C++'s `finally`); catching coio::cancelled_error and rethrowing works too.
#include <coio/coio.hpp>
#include <coio/wait_for.hpp>

#include <fmt/core.h>

#include <chrono>
#include <memory>
#include <utility>

using namespace std::chrono_literals;
using steady = std::chrono::steady_clock;

namespace {

// Sets the flag when the frame unwinds, however it ends (value, exception or cancellation).
class cleanup_guard {
 public:
  explicit cleanup_guard(std::shared_ptr<bool> flag) : flag_(std::move(flag)) {}
  cleanup_guard(const cleanup_guard&) = delete;
  cleanup_guard& operator=(const cleanup_guard&) = delete;
  ~cleanup_guard() {
    *flag_ = true;
    fmt::print("  slow_op: cleaned up\n");
  }

 private:
  std::shared_ptr<bool> flag_;
};

coio::task<int> slow_op(std::shared_ptr<bool> cleaned_up) {
  cleanup_guard guard(cleaned_up);
  co_await coio::sleep(1h);  // coio::cancelled_error comes out of here on the deadline
  co_return 42;
}

coio::task<int> fast_op() {
  co_await coio::sleep(20ms);
  co_return 7;
}

coio::task<int> amain() {
  auto cleaned_up = std::make_shared<bool>(false);
  bool timed_out = false;
  bool cleaned_before_throw = false;
  const auto start = steady::now();
  try {
    const int v = co_await coio::wait_for(slow_op(cleaned_up), 100ms);
    fmt::print("unexpected: slow_op returned {}\n", v);
  } catch (const coio::timeout_error& e) {
    timed_out = true;
    cleaned_before_throw = *cleaned_up;
    fmt::print("timeout! ({}), cleaned up: {}\n", e.what(), cleaned_before_throw);
  }
  const double took = std::chrono::duration<double, std::milli>(steady::now() - start).count();
  fmt::print("gave up after {:.0f} ms\n", took);

  const int fast = co_await coio::wait_for(fast_op(), 500ms);  // in time: the value comes back
  fmt::print("fast_op returned {} in time\n", fast);

  const bool ok = timed_out && cleaned_before_throw && took >= 100 && took < 1000 && fast == 7;
  fmt::print("{}\n", ok ? "OK: the slow operation was cancelled and cleaned up before the timeout" : "FAIL");
  co_return ok ? 0 : 1;
}

}  // namespace

int main() { return coio::run(amain()); }
