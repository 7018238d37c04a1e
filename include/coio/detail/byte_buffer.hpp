// coio/detail/byte_buffer.hpp: a growable FIFO of bytes for the stream reader and writer:
// append at the back, consume from the front, read from the kernel straight into the spare
// capacity (no zero-filling, unlike std::string::resize).
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <memory>
#include <span>
#include <string>
#include <string_view>

namespace coio::detail {

class byte_buffer {
 public:
  std::size_t size() const noexcept { return end_ - begin_; }
  bool empty() const noexcept { return begin_ == end_; }
  const char* data() const noexcept { return data_.get() + begin_; }
  std::string_view view() const noexcept { return {data(), size()}; }

  /// Room for at least `n` more bytes at the back; write into it, then commit().
  std::span<char> prepare(std::size_t n) {
    if (capacity_ - end_ < n) make_room(n);
    return {data_.get() + end_, capacity_ - end_};
  }
  void commit(std::size_t n) noexcept { end_ += n; }

  void append(std::string_view bytes) {
    prepare(bytes.size());
    std::memcpy(data_.get() + end_, bytes.data(), bytes.size());
    end_ += bytes.size();
  }

  void consume(std::size_t n) noexcept {
    begin_ += std::min(n, size());
    if (begin_ == end_) begin_ = end_ = 0;  // empty: start over at the front, for free
  }

  /// Removes and returns the first `n` bytes.
  std::string take(std::size_t n) {
    n = std::min(n, size());
    std::string out(data(), n);
    consume(n);
    return out;
  }

  void clear() noexcept { begin_ = end_ = 0; }

 private:
  void make_room(std::size_t n) {
    const std::size_t used = size();
    if (begin_ > 0 && capacity_ - used >= n && used <= capacity_ / 2) {
      std::memmove(data_.get(), data(), used);  // enough room once the consumed front is reused
    } else {
      const std::size_t wanted = std::max({capacity_ * 2, used + n, std::size_t{4096}});
      auto bigger = std::make_unique_for_overwrite<char[]>(wanted);
      if (used) std::memcpy(bigger.get(), data(), used);
      data_ = std::move(bigger);
      capacity_ = wanted;
    }
    begin_ = 0;
    end_ = used;
  }

  std::unique_ptr<char[]> data_;
  std::size_t capacity_ = 0;
  std::size_t begin_ = 0;
  std::size_t end_ = 0;
};

}  // namespace coio::detail
