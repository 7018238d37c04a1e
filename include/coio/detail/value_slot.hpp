// coio/detail/value_slot.hpp: raw storage for a T whose owner knows whether it holds one (a
// T& is kept as a pointer, void as nothing). The value half of coio::result, and the value of
// a finished future's state, which keeps its status and exception elsewhere.
#pragma once

#include <memory>
#include <new>
#include <type_traits>
#include <utility>

namespace coio::detail {

template <class T>
class value_slot {
  using stored = std::conditional_t<std::is_reference_v<T>, std::remove_reference_t<T>*, T>;

 public:
  static constexpr bool nothrow_move = std::is_nothrow_move_constructible_v<stored>;

  value_slot() noexcept {}
  value_slot(const value_slot&) = delete;
  value_slot& operator=(const value_slot&) = delete;
  ~value_slot() {}  // the owner calls destroy() when it holds a value

  template <class... Args>
  void construct(Args&&... args) {
    if constexpr (std::is_reference_v<T>) {
      static_assert(sizeof...(Args) == 1);
      value_ = std::addressof(args...);
    } else {
      ::new (static_cast<void*>(std::addressof(value_))) stored(std::forward<Args>(args)...);
    }
  }
  void destroy() noexcept {
    if constexpr (!std::is_reference_v<T>) value_.~stored();
  }
  decltype(auto) ref() noexcept {
    if constexpr (std::is_reference_v<T>) {
      return static_cast<T>(*value_);
    } else {
      return (value_);
    }
  }
  decltype(auto) ref() const noexcept {
    if constexpr (std::is_reference_v<T>) {
      return static_cast<T>(*value_);
    } else {
      return (value_);
    }
  }
  decltype(auto) moved() noexcept {
    if constexpr (std::is_reference_v<T>) {
      return static_cast<T>(*value_);
    } else {
      return std::move(value_);
    }
  }

 private:
  union {
    stored value_;
  };
};

template <>
class value_slot<void> {
 public:
  void construct() noexcept {}
  void destroy() noexcept {}
  void ref() const noexcept {}
  void moved() noexcept {}
};

}  // namespace coio::detail
