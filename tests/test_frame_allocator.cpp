// tests/test_frame_allocator.cpp: the per-thread, slab-backed recycler behind frames and task
// states: blocks keep their contents, survive bursts, and may be freed on another thread,
// also after the allocating thread has exited.
#include "coio_test.hpp"

#include <coio/detail/frame_allocator.hpp>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <deque>
#include <stdexcept>
#include <thread>
#include <utility>
#include <vector>

using coio::detail::frame_allocator;

namespace {

struct allocation {
  void* p;
  std::size_t size;
};

// Fills a block with a pattern derived from its index, so that overlapping blocks show up.
void fill(const allocation& a, std::uint32_t index) {
  auto* bytes = static_cast<unsigned char*>(a.p);
  for (std::size_t i = 0; i < a.size; ++i) bytes[i] = static_cast<unsigned char>((index * 31u + i) & 0xff);
}

bool intact(const allocation& a, std::uint32_t index) {
  const auto* bytes = static_cast<const unsigned char*>(a.p);
  for (std::size_t i = 0; i < a.size; ++i) {
    if (bytes[i] != static_cast<unsigned char>((index * 31u + i) & 0xff)) return false;
  }
  return true;
}

std::vector<allocation> allocate_many(std::size_t n) {
  std::vector<allocation> out;
  out.reserve(n);
  for (std::size_t i = 0; i < n; ++i) {
    const std::size_t size = 1 + (i * 37) % 1200;  // every size class, and some above the limit
    out.push_back({frame_allocator::allocate(size), size});
    fill(out.back(), static_cast<std::uint32_t>(i));
  }
  return out;
}

void free_all(const std::vector<allocation>& blocks) {
  for (const auto& a : blocks) frame_allocator::deallocate(a.p, a.size);
}

bool all_intact(const std::vector<allocation>& blocks) {
  for (std::size_t i = 0; i < blocks.size(); ++i) {
    if (!intact(blocks[i], static_cast<std::uint32_t>(i))) return false;
  }
  return true;
}

coio::task<int> identity(int v) { co_return v; }

}  // namespace

TEST_CASE("frame_allocator: 100,000 live blocks of every class keep their contents", "[frame_allocator]") {
  auto blocks = allocate_many(100'000);
  REQUIRE(all_intact(blocks));
  free_all(blocks);
  auto again = allocate_many(100'000);  // now served from the recycled blocks
  REQUIRE(all_intact(again));
  free_all(again);
}

TEST_CASE("frame_allocator: blocks freed on another thread, after their thread exited, are reused safely",
          "[frame_allocator]") {
  std::vector<allocation> made_elsewhere;
  std::thread maker([&] { made_elsewhere = allocate_many(20'000); });
  maker.join();  // the allocating thread is gone; its blocks must stay valid
  REQUIRE(all_intact(made_elsewhere));

  std::thread freer([&] { free_all(made_elsewhere); });
  freer.join();  // freed on a third thread, which then exits and hands its lists back

  // Two threads at once allocate, check and free, drawing on what the others handed back.
  auto churn = [] {
    for (int round = 0; round < 5; ++round) {
      auto blocks = allocate_many(10'000);
      if (!all_intact(blocks)) throw std::runtime_error("a recycled block was shared");
      free_all(blocks);
    }
  };
  std::thread a(churn);
  std::thread b(churn);
  a.join();
  b.join();
  auto mine = allocate_many(10'000);
  REQUIRE(all_intact(mine));
  free_all(mine);
}

COIO_TEST_CASE("frame_allocator: tasks created on one thread and finished on the loop's", "[frame_allocator]") {
  // run_coroutine_threadsafe-style: frames made on a helper thread, destroyed by this loop.
  std::vector<coio::task<int>> made;
  std::thread maker([&] {
    for (int i = 0; i < 1000; ++i) {
      made.push_back(identity(i));
    }
  });
  maker.join();
  long long sum = 0;
  for (auto& t : made) {
    const int v = co_await std::move(t);
    sum += v;
  }
  REQUIRE(sum == 999LL * 1000 / 2);
}

TEST_CASE("frame_allocator: blocks are 16-byte aligned across many 2 MiB chunks", "[frame_allocator]") {
  // 64 MiB of 256-byte blocks: past the first chunk, chunks are mapped with huge pages where
  // the system offers them; either way every block is aligned, distinct and writable.
  std::vector<allocation> blocks;
  blocks.reserve(256 * 1024);
  for (std::uint32_t i = 0; i < 256 * 1024; ++i) {
    blocks.push_back({frame_allocator::allocate(256), 256});
    REQUIRE(reinterpret_cast<std::uintptr_t>(blocks.back().p) % 16 == 0);
    fill(blocks.back(), i);
  }
  REQUIRE(all_intact(blocks));
  free_all(blocks);
}

TEST_CASE("frame_allocator: pool_allocator serves a std::deque", "[frame_allocator]") {
  std::deque<std::pair<std::uint64_t, std::uint64_t>,
             coio::detail::pool_allocator<std::pair<std::uint64_t, std::uint64_t>>>
      d;
  for (std::uint64_t i = 0; i < 100'000; ++i) {
    if (i % 2) {
      d.emplace_back(i, i * 3);
    } else {
      d.emplace_front(i, i * 3);
    }
  }
  std::uint64_t sum = 0;
  for (const auto& [k, v] : d) {
    REQUIRE(v == k * 3);
    sum += k;
  }
  REQUIRE(sum == 99'999ULL * 100'000 / 2);
  REQUIRE(coio::detail::pool_allocator<int>() == coio::detail::pool_allocator<long>());
}
