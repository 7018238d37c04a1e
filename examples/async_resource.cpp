// async_resource.cpp: an async context manager: acquire, use, and an async release that runs
// even when the body fails or is cancelled.
//
//   class Connection:
//       async def __aenter__(self):
//           await asyncio.sleep(0.1)              # connecting takes a round trip
//           OPEN.add(self); return self
//       async def __aexit__(self, exc_type, exc, tb):
//           await asyncio.sleep(0.1)              # so does saying goodbye
//           OPEN.discard(self)
//       async def query(self, sql):
//           await asyncio.sleep(0.1); return 42
//
//   async def main():
//       async with Connection() as conn:          # success: the value comes out
//           print(await conn.query("SELECT 42"))
//       try:
//           async with Connection() as conn:      # error: released, then the error goes on
//               raise ValueError("bad query")
//       except ValueError: pass
//       try:                                      # cancelled (timeout): released all the same
//           await asyncio.wait_for(slow_use(), timeout=0.5)
//       except TimeoutError: pass
//       assert not OPEN
//
// C++ destructors cannot co_await, so a resource whose close must await gets an `aclose()`
// returning a task, and coio::with_resource(acquire, body, args...) plays `async with`: it
// always awaits aclose() to the end (shielded from the cancellation), then returns the body's
// value or rethrows its exception. A resource whose close is synchronous needs nothing: its
// destructor runs on success, on an exception and on a cancellation alike (`scratch_file`
// below). Delays are scaled down: 0.1 s -> 10 ms.
#include <coio/coio.hpp>
#include <coio/with_resource.hpp>

#include <fmt/core.h>

#include <chrono>
#include <stdexcept>
#include <string>
#include <vector>

using namespace std::chrono_literals;

namespace {

struct stats {
  int open = 0;     // connections acquired and not yet closed
  int closed = 0;   // aclose() calls that ran to the end
  int scratch = 0;  // scratch files alive
};

class connection {
 public:
  explicit connection(stats& s) : stats_(&s) {}

  coio::task<int> query(std::string sql) {
    co_await coio::sleep(10ms);
    fmt::print("  query: {}\n", sql);
    co_return 42;
  }

  // What __aexit__ awaits. with_resource calls it exactly once.
  coio::task<> aclose() {
    co_await coio::sleep(10ms);
    --stats_->open;
    ++stats_->closed;
    fmt::print("  connection closed\n");
  }

 private:
  stats* stats_;
};

coio::task<connection> connect(stats& s) {  // __aenter__
  co_await coio::sleep(10ms);
  ++s.open;
  fmt::print("  connection open\n");
  co_return connection(s);
}

// The synchronous kind: plain RAII is the whole of `with`.
class scratch_file {
 public:
  explicit scratch_file(stats& s) : stats_(&s) { ++stats_->scratch; }
  scratch_file(const scratch_file&) = delete;
  scratch_file& operator=(const scratch_file&) = delete;
  ~scratch_file() { --stats_->scratch; }

 private:
  stats* stats_;
};

// The bodies are named functions (or captureless lambdas); data goes in through with_resource's
// extra arguments, which it copies into its frame.
coio::task<int> ask(connection& conn, std::string sql) {
  const int answer = co_await conn.query(std::move(sql));
  co_return answer;
}

coio::task<int> bad_query(connection& conn, stats& s) {
  scratch_file tmp(s);  // removed by its destructor while the exception unwinds
  co_await conn.query("SELECT oops");
  throw std::invalid_argument("bad query");
}

coio::task<int> slow_use(connection& conn, stats& s) {
  scratch_file tmp(s);
  co_await coio::sleep(1h);  // the timeout cancels this; the connection still closes
  const int v = co_await conn.query("never");
  co_return v;
}

coio::task<int> amain() {
  stats s;
  std::reference_wrapper<stats> st(s);

  fmt::print("success:\n");
  std::string sql = "SELECT 42";
  const int answer = co_await coio::with_resource(connect(s), ask, sql);
  fmt::print("  answer {} (open connections: {})\n", answer, s.open);

  fmt::print("error:\n");
  std::string error;
  try {
    const int v = co_await coio::with_resource(connect(s), bad_query, st);
    (void)v;
  } catch (const std::invalid_argument& e) {
    error = e.what();
  }
  fmt::print("  caught '{}' (open connections: {})\n", error, s.open);

  fmt::print("cancelled by a timeout:\n");
  bool timed_out = false;
  try {
    const int v = co_await coio::wait_for(coio::with_resource(connect(s), slow_use, st), 50ms);
    (void)v;
  } catch (const coio::timeout_error&) {
    timed_out = true;
  }
  fmt::print("  timed out: {} (open connections: {})\n", timed_out, s.open);

  const bool ok = answer == 42 && error == "bad query" && timed_out && s.open == 0 && s.closed == 3 && s.scratch == 0;
  fmt::print("{}\n", ok ? "OK: every connection was closed, on success, on error and on cancellation" : "FAIL");
  co_return ok ? 0 : 1;
}

}  // namespace

int main() { return coio::run(amain()); }
