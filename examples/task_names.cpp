// task_names.cpp: naming tasks, asking a task for its own name, listing the live tasks.
//
//   async def worker(rename_to=None):
//       if rename_to: asyncio.current_task().set_name(rename_to)
//       await asyncio.sleep(0.1)
//       return asyncio.current_task().get_name()
//
//   async def main():
//       a = asyncio.create_task(worker(), name="fetcher")
//       b = asyncio.create_task(worker())              # gets a default name, "Task-N"
//       b.set_name("parser")
//       c = asyncio.create_task(worker("indexer"))      # renames itself
//       await asyncio.sleep(0)                          # let them start
//       print(sorted(t.get_name() for t in asyncio.all_tasks()))
//       # `python -m asyncio pstree PID` (3.14) shows what each task is waiting in
//
// coio's `coio::run` names the main task "main"; coio::dump_tasks prints the live tasks
// with their async call stacks.
#include <coio/coio.hpp>

#include <fmt/core.h>

#include <algorithm>
#include <chrono>
#include <iostream>
#include <string>
#include <vector>

using namespace std::chrono_literals;

namespace {

coio::task<> nap() { co_await coio::sleep(100ms); }  // one level deeper, for dump_tasks

coio::task<std::string> worker(std::string rename_to) {
  if (!rename_to.empty()) coio::current_task().set_name(rename_to);
  co_await nap();
  co_return coio::current_task().name();
}

coio::task<int> amain() {
  fmt::print("main runs as '{}'\n", coio::current_task().name());
  auto a = coio::create_task(worker(""), "fetcher");
  auto b = coio::create_task(worker(""));
  fmt::print("b's default name: '{}'\n", b.name());
  const bool default_name_ok = b.name().rfind("Task-", 0) == 0;
  b.set_name("parser");
  auto c = coio::create_task(worker("indexer"));
  co_await coio::sleep(0ms);  // yield once: every worker starts and goes to sleep

  std::vector<std::string> names;
  for (const coio::any_future& t : coio::all_tasks()) names.push_back(t.name());
  std::sort(names.begin(), names.end());
  fmt::print("all_tasks:");
  for (const std::string& n : names) fmt::print(" '{}'", n);
  fmt::print("\n");
  fmt::print("dump_tasks:\n");
  coio::dump_tasks(std::cout);

  // Each worker reports the name it saw for itself, from inside.
  const std::string na = co_await a;
  const std::string nb = co_await b;
  const std::string nc = co_await c;
  fmt::print("the workers called themselves '{}', '{}', '{}'\n", na, nb, nc);

  const std::vector<std::string> expected = {"fetcher", "indexer", "main", "parser"};
  const bool ok = default_name_ok && names == expected && na == "fetcher" && nb == "parser" && nc == "indexer";
  fmt::print("{}\n", ok ? "OK: every task had the expected name" : "FAIL");
  co_return ok ? 0 : 1;
}

}  // namespace

int main() { return coio::run(amain()); }
