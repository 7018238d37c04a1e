// coio/detail/timer_heap.hpp: the loop's timers, an indexed binary min-heap.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace coio::detail {

using clock = std::chrono::steady_clock;

/// A timer lives inside whoever waits for it (a sleeping frame, a call_later handle): the heap
/// only points at it. It knows its own heap slot, so cancelling is an O(log n) removal with no
/// tombstones left behind and no lookup by address.
struct timer_node {
  static constexpr std::size_t not_queued = static_cast<std::size_t>(-1);

  clock::time_point deadline{};
  std::uint64_t sequence = 0;           // ties on deadline fire in the order they were armed
  std::size_t slot = not_queued;        // index in the heap, or not_queued
  void (*fire)(timer_node*) = nullptr;  // called once when the deadline passes

  bool queued() const noexcept { return slot != not_queued; }
};

class timer_heap {
 public:
  bool empty() const noexcept { return heap_.empty(); }
  std::size_t size() const noexcept { return heap_.size(); }

  /// Precondition: !empty().
  timer_node* top() const noexcept { return heap_.front(); }

  void push(timer_node* node) {
    node->sequence = next_sequence_++;
    node->slot = heap_.size();
    heap_.push_back(node);
    sift_up(node->slot);
  }

  /// Removes `node` if it is queued; a no-op otherwise (so cancelling twice is harmless).
  void remove(timer_node* node) noexcept {
    if (!node->queued()) return;
    const std::size_t slot = node->slot;
    node->slot = timer_node::not_queued;
    timer_node* last = heap_.back();
    heap_.pop_back();
    if (last == node) return;
    place(slot, last);
    if (slot > 0 && earlier(heap_[slot], heap_[(slot - 1) / 2])) {
      sift_up(slot);
    } else {
      sift_down(slot);
    }
  }

  /// Precondition: !empty().
  timer_node* pop() noexcept {
    timer_node* node = heap_.front();
    remove(node);
    return node;
  }

  /// Forgets every timer without firing it (used when the loop is torn down).
  void clear() noexcept {
    for (timer_node* node : heap_) node->slot = timer_node::not_queued;
    heap_.clear();
  }

 private:
  static bool earlier(const timer_node* a, const timer_node* b) noexcept {
    return a->deadline < b->deadline || (a->deadline == b->deadline && a->sequence < b->sequence);
  }

  void place(std::size_t slot, timer_node* node) noexcept {
    heap_[slot] = node;
    node->slot = slot;
  }

  void sift_up(std::size_t slot) noexcept {
    timer_node* node = heap_[slot];
    while (slot > 0) {
      const std::size_t parent = (slot - 1) / 2;
      if (!earlier(node, heap_[parent])) break;
      place(slot, heap_[parent]);
      slot = parent;
    }
    place(slot, node);
  }

  void sift_down(std::size_t slot) noexcept {
    timer_node* node = heap_[slot];
    const std::size_t n = heap_.size();
    for (;;) {
      std::size_t child = 2 * slot + 1;
      if (child >= n) break;
      if (child + 1 < n && earlier(heap_[child + 1], heap_[child])) ++child;
      if (!earlier(heap_[child], node)) break;
      place(slot, heap_[child]);
      slot = child;
    }
    place(slot, node);
  }

  std::vector<timer_node*> heap_;
  std::uint64_t next_sequence_ = 0;
};

}  // namespace coio::detail
