// future_set_by_task.cpp: main awaits a bare future that another task completes.
//
//   async def set_after(fut, delay, value):
//       await asyncio.sleep(delay)
//       fut.set_result(value)
//
//   async def fail_after(fut, delay):
//       await asyncio.sleep(delay)
//       fut.set_exception(RuntimeError("sensor offline"))
//
//   async def main():
//       loop = asyncio.get_running_loop()
//       fut = loop.create_future()
//       loop.create_task(set_after(fut, 1, "... world"))
//       print("hello ...")
//       print(await fut)                  # suspends until set_after sets the result
//       fut2 = loop.create_future()
//       loop.create_task(fail_after(fut2, 1))
//       try: await fut2
//       except RuntimeError as e: print("caught:", e)
//
// coio::promise<T> is the producer side of such a future: it sets the result or the
// exception, and if it is destroyed without doing either the future fails with
// coio::broken_promise, so no awaiter hangs forever.
#include <coio/coio.hpp>

#include <fmt/core.h>

#include <chrono>
#include <stdexcept>
#include <string>

using namespace std::chrono_literals;
using steady = std::chrono::steady_clock;

namespace {

// The promise is moved into the task's frame (parameters by value).
coio::task<> set_after(coio::promise<std::string> p, std::chrono::milliseconds delay, std::string value) {
  co_await coio::sleep(delay);
  p.set_result(value);
}

coio::task<> fail_after(coio::promise<int> p, std::chrono::milliseconds delay) {
  co_await coio::sleep(delay);
  p.set_exception(std::runtime_error("sensor offline"));
}

coio::task<int> amain() {
  const auto start = steady::now();
  coio::promise<std::string> greeting;
  coio::future<std::string> fut = greeting.get_future();  // asyncio's loop.create_future()
  coio::create_task(set_after(std::move(greeting), 200ms, "... world"));
  fmt::print("hello ...\n");
  const std::string value = co_await fut;
  const double waited = std::chrono::duration<double, std::milli>(steady::now() - start).count();
  fmt::print("{}   (after {:.0f} ms)\n", value, waited);

  coio::promise<int> reading;
  coio::future<int> fut2 = reading.get_future();
  coio::create_task(fail_after(std::move(reading), 200ms));
  std::string caught;
  try {
    const int v = co_await fut2;
    fmt::print("unexpected reading {}\n", v);
  } catch (const std::runtime_error& e) {
    caught = e.what();
    fmt::print("caught: {}\n", caught);
  }

  const bool ok = value == "... world" && waited >= 200 && caught == "sensor offline" && fut2.done();
  fmt::print("{}\n", ok ? "OK: the futures delivered a value and an exception" : "FAIL");
  co_return ok ? 0 : 1;
}

}  // namespace

int main() { return coio::run(amain()); }
