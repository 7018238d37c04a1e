// coio/detail/ring_queue.hpp: a growable FIFO ring of trivially copyable items (the ready queue).
#pragma once

#include <coio/config.hpp>

#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <new>
#include <type_traits>

namespace coio::detail {

/// FIFO with amortised O(1) push and pop and no allocation once warm. Capacity is a power of
/// two so that wrapping is a mask.
template <class T>
class ring_queue {
  static_assert(std::is_trivially_copyable_v<T>);

 public:
  ring_queue() = default;
  ring_queue(const ring_queue&) = delete;
  ring_queue& operator=(const ring_queue&) = delete;
  ~ring_queue() { std::free(items_); }

  bool empty() const noexcept { return head_ == tail_; }
  std::size_t size() const noexcept { return tail_ - head_; }

  COIO_ALWAYS_INLINE void push(T item) {
    if (size() == capacity_) [[unlikely]]
      grow();
    items_[tail_++ & (capacity_ - 1)] = item;
  }

  /// Precondition: !empty().
  T pop() noexcept { return items_[head_++ & (capacity_ - 1)]; }

  /// Precondition: index < size().
  T& operator[](std::size_t index) noexcept { return items_[(head_ + index) & (capacity_ - 1)]; }

  void clear() noexcept { head_ = tail_ = 0; }

 private:
  COIO_COLD void grow() {
    const std::size_t new_capacity = capacity_ ? capacity_ * 2 : 256;
    auto* fresh = static_cast<T*>(std::malloc(new_capacity * sizeof(T)));
    if (!fresh) throw std::bad_alloc();
    const std::size_t n = size();
    for (std::size_t i = 0; i < n; ++i) fresh[i] = (*this)[i];
    std::free(items_);
    items_ = fresh;
    capacity_ = new_capacity;
    head_ = 0;
    tail_ = n;
  }

  T* items_ = nullptr;
  std::size_t capacity_ = 0;  // a power of two, or 0
  std::size_t head_ = 0;      // monotonically increasing; masked on access
  std::size_t tail_ = 0;
};

}  // namespace coio::detail
