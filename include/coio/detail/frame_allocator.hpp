// coio/detail/frame_allocator.hpp: per-thread recycling of coroutine frames and task states.
// A coroutine call allocates its frame; with malloc that is most of the cost of a small
// `co_await f()`. Freed blocks go to a per-thread free list of their size class and are reused
// by the next allocation of that class, with no locking. Under ASan it is off, so that
// use-after-free of a frame is still reported.
#pragma once

#include <coio/config.hpp>

#include <cstddef>
#include <cstdint>
#include <new>

namespace coio::detail {

class frame_allocator {
 public:
  static constexpr std::size_t granularity = 32;
  static constexpr std::size_t max_size = 1024;     // larger blocks go straight to operator new
  static constexpr std::uint32_t max_cached = 512;  // per class: bounds memory kept after a burst

  static void* allocate(std::size_t size) {
#if !defined(COIO_ASAN)
    if (size <= max_size) {
      lists& l = this_thread_lists;
      const std::size_t c = class_of(size);
      if (block* b = l.head[c]) {
        l.head[c] = b->next;
        --l.count[c];
        return b;
      }
      if (!l.cleanup_registered) register_cleanup();
      return ::operator new(round_up(size));
    }
#endif
    return ::operator new(size);
  }

  static void deallocate(void* p, [[maybe_unused]] std::size_t size) noexcept {
#if !defined(COIO_ASAN)
    if (size <= max_size) {
      lists& l = this_thread_lists;
      const std::size_t c = class_of(size);
      if (l.count[c] < max_cached && !l.torn_down) {
        auto* b = static_cast<block*>(p);
        b->next = l.head[c];
        l.head[c] = b;
        ++l.count[c];
        return;
      }
      ::operator delete(p);  // unsized: clang 14 declares no sized global delete by default
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

  // Trivially destructible and constant-initialised, so access is a plain TLS load; the
  // memory is returned by a separate thread_local created on first use.
  struct lists {
    block* head[classes];
    std::uint32_t count[classes];
    bool cleanup_registered;
    bool torn_down;
  };
  static inline thread_local lists this_thread_lists{};

  struct cleanup {
    ~cleanup() {
      lists& l = this_thread_lists;
      l.torn_down = true;
      for (std::size_t c = 0; c < classes; ++c) {
        while (block* b = l.head[c]) {
          l.head[c] = b->next;
          ::operator delete(b);
        }
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
  static constexpr std::size_t round_up(std::size_t size) noexcept { return (class_of(size) + 1) * granularity; }
};

}  // namespace coio::detail
