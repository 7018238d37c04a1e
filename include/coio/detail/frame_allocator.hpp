// coio/detail/frame_allocator.hpp: per-thread recycling of coroutine frames and task states.
// A coroutine call allocates its frame; with malloc that is most of the cost of a small
// `co_await f()`, and of a burst of 100,000 tasks. Blocks come in size classes of 16 bytes:
// each thread keeps a free list per class and allocates from it with no locking. An empty list
// is refilled with a batch from a process-wide store, which carves new blocks from 16 KiB
// slabs; a list that grows too long hands a batch back. So the system is asked for memory once
// per 2 MiB, not once per frame, and blocks may be freed on any thread. Slabs are kept for reuse, never
// returned to the system: the memory stays at the process's peak of live frames (as a pool
// allocator does). Under ASan it is off, so that use-after-free of a frame is still reported.
//
// Slabs are cut from 2 MiB chunks. Past the first chunk, a process clearly runs many tasks at
// once, and on Linux the chunks are mapped with transparent huge pages (MADV_HUGEPAGE, as
// jemalloc and tcmalloc do): touching a fresh 4 KiB page costs a fault and ~1.7 µs on a VM,
// and a burst of 100,000 tasks touches 7,000 of them; a huge page is one fault for 512 pages,
// about three times cheaper per byte. A small program stays on its first, lazily touched
// chunk. Build with -DCOIO_HUGE_PAGES=0 to map every chunk with ordinary pages.
#pragma once

#include <coio/config.hpp>

#include <cstddef>
#include <cstdint>
#include <mutex>
#include <new>

#if defined(__linux__)
#include <sys/mman.h>
#endif

#ifndef COIO_HUGE_PAGES
#define COIO_HUGE_PAGES 1
#endif

namespace coio::detail {

class frame_allocator {
 public:
  static constexpr std::size_t granularity = 16;
  static constexpr std::size_t max_size = 1024;     // larger blocks go straight to operator new
  static constexpr std::uint32_t batch = 64;        // blocks moved between a thread and the store
  static constexpr std::uint32_t max_cached = 512;  // per class and thread, before a batch goes back
  static constexpr std::size_t slab_bytes = 16 * 1024;
  static constexpr std::size_t chunk_bytes = 2 * 1024 * 1024;  // a huge page on x86-64 and arm64

  static void* allocate(std::size_t size) {
#if !defined(COIO_ASAN)
    if (size <= max_size) {
      lists& l = this_thread_lists;
      const std::size_t c = class_of(size);
      if (!l.head[c]) refill(l, c);
      block* b = l.head[c];
      l.head[c] = b->next;
      --l.count[c];
      return b;
    }
#endif
    return ::operator new(size);
  }

  static void deallocate(void* p, [[maybe_unused]] std::size_t size) noexcept {
#if !defined(COIO_ASAN)
    if (size <= max_size) {
      lists& l = this_thread_lists;
      const std::size_t c = class_of(size);
      auto* b = static_cast<block*>(p);
      if (l.torn_down) {
        give_back(b, b, 1, c);  // a frame freed by a thread-exit destructor after our cleanup
        return;
      }
      b->next = l.head[c];
      l.head[c] = b;
      if (++l.count[c] > max_cached) release_batch(l, c);
      return;
    }
#endif
    ::operator delete(p);
  }

 private:
  struct block {
    block* next;
  };
  static constexpr std::size_t classes = max_size / granularity;

  // Trivially destructible and constant-initialised, so access is a plain TLS load; a
  // separate thread_local created on first use hands the lists back at thread exit.
  struct lists {
    block* head[classes];
    std::uint32_t count[classes];
    bool cleanup_registered;
    bool torn_down;
  };
  static inline thread_local lists this_thread_lists{};

  // The process-wide store: free blocks per class, in chains, and the slabs they come from.
  // Never destroyed (blocks may be freed during static destruction), so it lives in storage
  // that is constructed once and leaked on purpose.
  struct store {
    std::mutex mutex;
    block* head[classes] = {};
    block* tail[classes] = {};
    std::uint64_t count[classes] = {};
    char* chunk = nullptr;  // where the next slab is cut (null before the first chunk)
    std::size_t chunk_left = 0;
  };
  static store& the_store() {
    static store* s = new store;  // intentionally never deleted: see above
    return *s;
  }

  static void refill(lists& l, std::size_t c) {
    if (!l.cleanup_registered) register_cleanup();
    store& s = the_store();
    {
      std::lock_guard guard(s.mutex);
      if (s.head[c]) {
        // Take up to one batch off the front of the store's chain.
        block* first = s.head[c];
        block* last = first;
        std::uint32_t n = 1;
        while (n < batch && last->next) {
          last = last->next;
          ++n;
        }
        s.head[c] = last->next;
        if (!s.head[c]) s.tail[c] = nullptr;
        s.count[c] -= n;
        last->next = l.head[c];
        l.head[c] = first;
        l.count[c] += n;
        return;
      }
    }
    // The store is empty for this class: carve a new slab.
    const std::size_t block_size = (c + 1) * granularity;
    const std::size_t n = slab_bytes / block_size;
    char* slab = new_slab(s);
    for (std::size_t i = n; i-- > 0;) {
      auto* b = reinterpret_cast<block*>(slab + i * block_size);
      b->next = l.head[c];
      l.head[c] = b;
    }
    l.count[c] += static_cast<std::uint32_t>(n);
  }

  // Cuts the next slab from the current chunk, mapping a new chunk when it is used up.
  static char* new_slab(store& s) {
    std::lock_guard guard(s.mutex);
    if (s.chunk_left < slab_bytes) {
      s.chunk = new_chunk(/*huge=*/s.chunk != nullptr);  // the first chunk keeps small pages
      s.chunk_left = chunk_bytes;
    }
    char* slab = s.chunk;
    s.chunk += slab_bytes;
    s.chunk_left -= slab_bytes;
    return slab;
  }

  // A chunk_bytes block aligned to chunk_bytes (so that it can be one huge page), backed by
  // huge pages when asked and available; operator new where mmap is not used.
  static char* new_chunk([[maybe_unused]] bool huge) {
#if defined(__linux__)
    // Map twice the size and trim, to get the alignment.
    void* raw = ::mmap(nullptr, 2 * chunk_bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (raw == MAP_FAILED) throw std::bad_alloc();
    const auto start = reinterpret_cast<std::uintptr_t>(raw);
    const std::uintptr_t aligned = (start + chunk_bytes - 1) & ~std::uintptr_t{chunk_bytes - 1};
    if (aligned > start) ::munmap(raw, aligned - start);
    const std::uintptr_t end = start + 2 * chunk_bytes;
    if (end > aligned + chunk_bytes)
      ::munmap(reinterpret_cast<void*>(aligned + chunk_bytes), end - aligned - chunk_bytes);
    auto* chunk = reinterpret_cast<char*>(aligned);
#if COIO_HUGE_PAGES && defined(MADV_HUGEPAGE)
    if (huge) ::madvise(chunk, chunk_bytes, MADV_HUGEPAGE);  // a hint: failure is harmless
#endif
    return chunk;
#else
    return static_cast<char*>(::operator new(chunk_bytes));
#endif
  }

  // Moves the newest `batch` blocks of this thread's list to the store.
  static void release_batch(lists& l, std::size_t c) noexcept {
    block* first = l.head[c];
    block* last = first;
    for (std::uint32_t i = 1; i < batch; ++i) last = last->next;
    l.head[c] = last->next;
    l.count[c] -= batch;
    give_back(first, last, batch, c);
  }

  static void give_back(block* first, block* last, std::uint64_t n, std::size_t c) noexcept {
    store& s = the_store();
    std::lock_guard guard(s.mutex);
    last->next = nullptr;
    if (s.tail[c]) {
      s.tail[c]->next = first;
    } else {
      s.head[c] = first;
    }
    s.tail[c] = last;
    s.count[c] += n;
  }

  struct cleanup {
    ~cleanup() {
      lists& l = this_thread_lists;
      l.torn_down = true;
      for (std::size_t c = 0; c < classes; ++c) {
        block* first = l.head[c];
        if (!first) continue;
        block* last = first;
        std::uint64_t n = 1;
        while (last->next) {
          last = last->next;
          ++n;
        }
        give_back(first, last, n, c);
        l.head[c] = nullptr;
        l.count[c] = 0;
      }
    }
  };

  static void register_cleanup() {
    static thread_local cleanup on_thread_exit;
    (void)on_thread_exit;
    this_thread_lists.cleanup_registered = true;
  }

  static constexpr std::size_t class_of(std::size_t size) noexcept { return size == 0 ? 0 : (size - 1) / granularity; }
};

/// A standard allocator over frame_allocator, for containers of small nodes that live and die
/// with tasks (gather's per-child waiter nodes): they share the recycled, huge-page-backed slabs.
template <class T>
struct pool_allocator {
  using value_type = T;
  static_assert(alignof(T) <= frame_allocator::granularity);

  pool_allocator() noexcept = default;
  template <class U>
  pool_allocator(const pool_allocator<U>&) noexcept {}

  T* allocate(std::size_t n) { return static_cast<T*>(frame_allocator::allocate(n * sizeof(T))); }
  void deallocate(T* p, std::size_t n) noexcept { frame_allocator::deallocate(p, n * sizeof(T)); }

  template <class U>
  bool operator==(const pool_allocator<U>&) const noexcept {
    return true;
  }
};

}  // namespace coio::detail
