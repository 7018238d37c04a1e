// gather_return_exceptions.cpp: one child of gather fails, with and without return_exceptions.
//
//   async def fetch(name, delay, fail=False):
//       try: await asyncio.sleep(delay)
//       except asyncio.CancelledError: print(name, "cancelled"); raise
//       if fail: raise RuntimeError(f"{name}: HTTP 503")
//       return len(name)
//
//   async def main():
//       rs = await asyncio.gather(fetch("alpha", .1), fetch("beta", .05, True),
//                                 fetch("gamma", .2), return_exceptions=True)
//       print(rs)                          # [5, RuntimeError('beta: HTTP 503'), 5]
//       try: await asyncio.gather(fetch("alpha", .1), fetch("beta", .05, True), fetch("gamma", .2))
//       except RuntimeError as e: print("caught", e)   # alpha and gamma keep running!
//
// With coio::return_exceptions every slot is a coio::result<T>: ok(), value() (rethrows a
// stored failure), error() (a std::exception_ptr). Without it coio differs from asyncio on
// purpose: the first failure cancels the siblings, gather waits until they have finished, then
// rethrows. No child is left running behind a failed gather.
#include <coio/coio.hpp>
#include <coio/gather.hpp>

#include <fmt/core.h>

#include <chrono>
#include <exception>
#include <memory>
#include <stdexcept>
#include <string>
#include <tuple>

using namespace std::chrono_literals;

namespace {

coio::task<int> fetch(std::string name, std::chrono::milliseconds delay, bool fail, std::shared_ptr<int> cancelled) {
  try {
    co_await coio::sleep(delay);
  } catch (const coio::cancelled_error&) {
    fmt::print("  {} cancelled\n", name);
    ++*cancelled;
    throw;  // a cancelled task must let the cancellation through (or return a value)
  }
  if (fail) throw std::runtime_error(name + ": HTTP 503");
  co_return static_cast<int>(name.size());
}

std::string message_of(const std::exception_ptr& e) {
  try {
    std::rethrow_exception(e);
  } catch (const std::exception& ex) {
    return ex.what();
  }
}

coio::task<int> amain() {
  auto cancelled = std::make_shared<int>(0);
  fmt::print("gather(coio::return_exceptions, ...):\n");
  auto rs = co_await coio::gather(coio::return_exceptions, fetch("alpha", 100ms, false, cancelled),
                                  fetch("beta", 50ms, true, cancelled), fetch("gamma", 200ms, false, cancelled));
  auto& [alpha, beta, gamma] = rs;  // three coio::result<int>
  fmt::print("  alpha ok={} value={}; gamma ok={} value={}\n", alpha.ok(), alpha.value(), gamma.ok(), gamma.value());
  fmt::print("  beta  ok={} error=\"{}\"\n", beta.ok(), message_of(beta.error()));
  const bool first_ok = alpha.ok() && alpha.value() == 5 && beta.has_error() &&
                        message_of(beta.error()) == "beta: HTTP 503" && gamma.ok() && gamma.value() == 5 &&
                        *cancelled == 0;

  fmt::print("plain gather(...):\n");
  std::string caught;
  int cancelled_when_caught = -1;
  const auto start = std::chrono::steady_clock::now();
  try {
    auto values = co_await coio::gather(fetch("alpha", 100ms, false, cancelled), fetch("beta", 50ms, true, cancelled),
                                        fetch("gamma", 200ms, false, cancelled));
    fmt::print("  unexpected success: {}\n", std::get<0>(values));
  } catch (const std::runtime_error& e) {
    caught = e.what();
    cancelled_when_caught = *cancelled;  // the siblings' cleanup ran before gather rethrew
  }
  const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  fmt::print("  caught \"{}\" after {:.0f} ms (gamma alone needs 200)\n", caught, ms);
  const bool ok = first_ok && caught == "beta: HTTP 503" && cancelled_when_caught == 2 && ms >= 50 && ms < 180;
  fmt::print("{}\n", ok ? "OK: return_exceptions collected the failure; plain gather cancelled the rest" : "FAIL");
  co_return ok ? 0 : 1;
}

}  // namespace

int main() { return coio::run(amain()); }
