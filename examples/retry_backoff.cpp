// retry_backoff.cpp: fetch records from a flaky service, retrying transient errors with
// exponential backoff and jitter; an invalid id is not retried.
//
//   @backoff.on_exception(backoff.expo, TransientError, max_tries=4, jitter=backoff.full_jitter)
//   async def fetch(record_id): ...           # raises NotFound for an invalid id
//
//   async def main():
//       for record_id in (1, 2, 404, 3):
//           try:
//               print(await fetch(record_id))
//           except NotFound as e: print("not found:", e)
//           except TransientError as e: print("gave up:", e)
//
// coio::retry(fn, policy) calls fn() again while policy.retry_if accepts the error, waiting
// initial_backoff * multiplier^k between attempts (capped), jittered ("equal" jitter here:
// half the backoff plus a random half). Delays are scaled down: 1 s -> 50 ms.
#include <coio/coio.hpp>
#include <coio/retry.hpp>

#include <fmt/core.h>

#include <chrono>
#include <exception>
#include <map>
#include <stdexcept>
#include <string>

using namespace std::chrono_literals;
using std::chrono::milliseconds;

namespace {

// The service's errors: one worth retrying, one that is not.
struct transient_error : std::runtime_error {
  using std::runtime_error::runtime_error;
};
struct not_found : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// A simulated service: each id fails transiently `flaky_failures[id]` times, then answers.
// Id 404 does not exist. Id 3 is always down.
struct flaky_service {
  std::map<int, int> flaky_failures{{1, 0}, {2, 2}, {3, 100}};
  std::map<int, int> calls;

  coio::task<std::string> fetch(int id) {
    const int call = ++calls[id];
    co_await coio::sleep(5ms);  // the round trip
    if (!flaky_failures.count(id)) throw not_found(fmt::format("record {} does not exist", id));
    if (call <= flaky_failures[id]) throw transient_error(fmt::format("record {}: 503 on call {}", id, call));
    co_return fmt::format("record {} (after {} call{})", id, call, call == 1 ? "" : "s");
  }
};

std::string describe(const std::exception_ptr& error) {
  try {
    std::rethrow_exception(error);
  } catch (const std::exception& e) {
    return e.what();
  }
}

coio::task<int> amain() {
  flaky_service service;
  bool ok = true;
  for (const int id : {1, 2, 404, 3}) {
    coio::retry_policy policy;
    policy.attempts = 4;
    policy.initial_backoff = 50ms;
    policy.multiplier = 2;
    policy.max_backoff = 1s;
    policy.jitter = coio::jitter::equal;
    policy.retry_if = [](const std::exception_ptr& error) {
      try {
        std::rethrow_exception(error);
      } catch (const transient_error&) {
        return true;
      } catch (...) {
        return false;
      }
    };
    auto nominal = milliseconds(50);
    policy.on_retry = [&nominal, &ok](int attempt, const std::exception_ptr& error,
                                      coio::retry_policy::duration delay) {
      const auto ms = std::chrono::duration<double, std::milli>(delay).count();
      fmt::print("    attempt {} failed ({}); retrying in {:.0f} ms (backoff {} ms)\n", attempt, describe(error), ms,
                 nominal.count());
      // Equal jitter: somewhere in [backoff / 2, backoff].
      if (ms < static_cast<double>(nominal.count()) / 2 - 0.001 || ms > static_cast<double>(nominal.count()) + 0.001)
        ok = false;
      nominal *= 2;
    };

    fmt::print("fetch({}):\n", id);
    auto fetch_once = [&service, id] { return service.fetch(id); };
    std::string outcome;
    try {
      const std::string record = co_await coio::retry(fetch_once, policy);
      outcome = "ok";
      fmt::print("  -> {}\n", record);
    } catch (const not_found& e) {
      outcome = "not found";
      fmt::print("  -> not found, not retried: {}\n", e.what());
    } catch (const transient_error& e) {
      outcome = "gave up";
      fmt::print("  -> gave up after {} attempts: {}\n", service.calls[id], e.what());
    }
    const int calls = service.calls[id];
    const bool expected = (id == 1 && outcome == "ok" && calls == 1) || (id == 2 && outcome == "ok" && calls == 3) ||
                          (id == 404 && outcome == "not found" && calls == 1) ||
                          (id == 3 && outcome == "gave up" && calls == 4);
    if (!expected) {
      fmt::print("  unexpected: {} after {} calls\n", outcome, calls);
      ok = false;
    }
  }
  fmt::print("{}\n", ok ? "OK: transient errors retried with backoff, invalid id failed at once" : "FAIL");
  co_return ok ? 0 : 1;
}

}  // namespace

int main() { return coio::run(amain()); }
