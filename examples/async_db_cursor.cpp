// async_db_cursor.cpp: a database cursor that fetches rows a page at a time and yields them
// one by one; the consumer never sees the pages.
//
//   async def fetch_page(offset, limit):       # one round trip to the database
//       await asyncio.sleep(0.05)
//       return TABLE[offset:offset + limit]
//
//   async def cursor(page_size):
//       offset = 0
//       while True:
//           page = await fetch_page(offset, page_size)
//           if not page:
//               return
//           for row in page:
//               yield row
//           offset += len(page)
//
//   async def main():
//       async for row in cursor(page_size=5):  # 23 rows: 5 pages and one empty fetch
//           total += row.amount
//       async for row in cursor(page_size=5):  # stop early: only the pages needed are fetched
//           if row.id == 7: break
//
// The generator is lazy: a page is fetched only when the consumer asks for a row past the
// ones it has. Stopping early destroys the generator (its frame and the page it held); no
// further page is fetched. Delays are scaled down: 0.05 s -> 5 ms.
#include <coio/async_generator.hpp>
#include <coio/coio.hpp>

#include <fmt/core.h>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <utility>
#include <vector>

using namespace std::chrono_literals;

namespace {

struct row {
  int id;
  std::string customer;
  int amount;
};

// The simulated database: a table and a counter of round trips.
class database {
 public:
  explicit database(int rows) {
    for (int i = 1; i <= rows; ++i) table_.push_back(row{i, fmt::format("customer-{}", i), i * 10});
  }

  // SELECT * FROM orders LIMIT limit OFFSET offset, with a network round trip.
  coio::task<std::vector<row>> fetch_page(std::size_t offset, std::size_t limit) {
    ++round_trips_;
    co_await coio::sleep(5ms);
    const std::size_t begin = std::min(offset, table_.size());
    const std::size_t end = std::min(offset + limit, table_.size());
    co_return std::vector<row>(table_.begin() + static_cast<std::ptrdiff_t>(begin),
                               table_.begin() + static_cast<std::ptrdiff_t>(end));
  }

  int round_trips() const { return round_trips_; }

 private:
  std::vector<row> table_;
  int round_trips_ = 0;
};

// `db` lives in amain's frame, which outlives every cursor.
coio::async_generator<row> cursor(database& db, std::size_t page_size) {
  std::size_t offset = 0;
  for (;;) {
    std::vector<row> page = co_await db.fetch_page(offset, page_size);
    if (page.empty()) co_return;
    offset += page.size();
    for (row& r : page) co_yield std::move(r);  // moved out: the page is not needed again
  }
}

coio::task<int> amain() {
  database db(23);

  int rows = 0, total = 0;
  auto all = cursor(db, 5);
  for (;;) {
    std::optional<row> r = co_await all.next();
    if (!r) break;
    ++rows;
    total += r->amount;
  }
  const int full_scan_trips = db.round_trips();
  fmt::print("full scan: {} rows, total amount {}, {} round trips\n", rows, total, full_scan_trips);

  std::string found;
  {
    auto search = cursor(db, 5);
    for (;;) {
      std::optional<row> r = co_await search.next();
      if (!r) break;
      if (r->id == 7) {
        found = r->customer;
        break;  // `search` is destroyed at the end of this block: no more pages are fetched
      }
    }
  }
  const int search_trips = db.round_trips() - full_scan_trips;
  fmt::print("found {} after {} round trips\n", found, search_trips);

  // 23 rows in pages of 5: 5 pages, then an empty page ends the scan. Row 7 is on page 2.
  const bool ok =
      rows == 23 && total == 10 * 23 * 24 / 2 && full_scan_trips == 6 && found == "customer-7" && search_trips == 2;
  fmt::print("{}\n", ok ? "OK: rows streamed page by page, and only the pages needed were fetched" : "FAIL");
  co_return ok ? 0 : 1;
}

}  // namespace

int main() { return coio::run(amain()); }
