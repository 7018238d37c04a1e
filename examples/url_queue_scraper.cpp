// url_queue_scraper.cpp: three workers crawl a small fake site through a queue of URLs.
//
//   async def worker(q, visited):
//       while True:
//           url = await q.get()
//           await asyncio.sleep(1)                   # "fetch" the page
//           for link in SITE.get(url, []):           # a missing page (404) has no links
//               if link not in visited:              # mark it when queued: fetched once
//                   visited.add(link); q.put_nowait(link)
//           q.task_done()
//   async def main():
//       q, visited = asyncio.Queue(), {"/"}
//       q.put_nowait("/")
//       workers = [asyncio.create_task(worker(q, visited)) for _ in range(3)]
//       await q.join()                               # nothing queued, nothing being fetched
//       for w in workers: w.cancel()
//       await asyncio.gather(*workers, return_exceptions=True)
//
// The workers hold references to the queue and the visited set in amain's frame, which awaits
// them all. One thread runs every task, so the set needs no lock. Delays scaled: 1 s -> 100 ms.
#include <coio/coio.hpp>
#include <coio/queue.hpp>

#include <fmt/core.h>
#include <fmt/ranges.h>

#include <chrono>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

using namespace std::chrono_literals;

namespace {

// The fake site, page -> links. "/team" and "/old" are missing (404); "/admin" is unreachable.
const std::map<std::string, std::vector<std::string>> site = {
    {"/", {"/about", "/blog", "/shop"}},
    {"/about", {"/", "/team"}},
    {"/blog", {"/blog/1", "/blog/2", "/old"}},
    {"/blog/1", {"/blog/2"}},
    {"/blog/2", {"/blog/1", "/"}},
    {"/shop", {"/shop/cart"}},
    {"/shop/cart", {"/shop/pay"}},
    {"/shop/pay", {"/"}},
    {"/admin", {"/shop"}},
};

coio::task<void> worker(int id, coio::queue<std::string>& q, std::set<std::string>& visited,
                        std::vector<std::string>& fetched) {
  for (;;) {  // until cancelled
    const std::string url = co_await q.get();
    co_await coio::sleep(100ms);  // "fetch" it
    const std::vector<std::string> links = site.count(url) ? site.at(url) : std::vector<std::string>{};
    fetched.push_back(url);
    fmt::print("  worker {} fetched {:<10} links: {}\n", id, url, links);
    for (const auto& link : links) {
      if (visited.insert(link).second) q.put_nowait(link);  // new: mark it visited, then queue it
    }
    q.task_done();
  }
}

coio::task<int> amain() {
  coio::queue<std::string> q;
  std::set<std::string> visited{"/"};
  std::vector<std::string> fetched;  // every fetch, in order
  q.put_nowait("/");
  std::vector<coio::future<void>> workers;
  for (int id = 0; id < 3; ++id) workers.push_back(coio::create_task(worker(id, q, visited, fetched)));
  co_await q.join();
  for (auto& w : workers) w.cancel();
  // Like gather(..., return_exceptions=True): each slot holds the worker's cancelled_error.
  const std::vector<coio::result<void>> outcomes = co_await coio::gather(coio::return_exceptions, std::move(workers));
  // What the crawl must find, worked out by hand: every page reachable from "/".
  const std::set<std::string> reachable = {"/",       "/about", "/team", "/blog",      "/blog/1",
                                           "/blog/2", "/old",   "/shop", "/shop/cart", "/shop/pay"};
  bool all_cancelled = true;
  for (const auto& r : outcomes) all_cancelled = all_cancelled && r.has_error();
  fmt::print("fetched {} pages: {}\n", fetched.size(), visited);
  const bool ok = visited == reachable && std::set<std::string>(fetched.begin(), fetched.end()) == reachable &&
                  fetched.size() == reachable.size() && q.empty() && all_cancelled;
  fmt::print("{}\n", ok ? "OK: every reachable page fetched exactly once" : "FAIL");
  co_return ok ? 0 : 1;
}

}  // namespace

int main() { return coio::run(amain()); }
