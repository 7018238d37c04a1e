// coio/result.hpp: a value or the exception that prevented it (what gather's
// return_exceptions slots hold; also the storage behind task and future).
#pragma once

#include <coio/config.hpp>
#include <coio/detail/value_slot.hpp>
#include <coio/errors.hpp>

#include <exception>
#include <memory>
#include <new>
#include <type_traits>
#include <utility>

namespace coio {

/// Holds nothing (not finished yet), a T, or an exception. `T` may be void, a reference or a
/// move-only type.
template <class T>
class result {
  static constexpr bool nothrow_move = detail::value_slot<T>::nothrow_move;

 public:
  result() noexcept {}
  result(result&& other) noexcept(nothrow_move) { take(other); }
  result& operator=(result&& other) noexcept(nothrow_move) {
    if (this != &other) {
      reset();
      take(other);
    }
    return *this;
  }
  ~result() { reset(); }

  static result from_error(std::exception_ptr error) {
    result r;
    r.set_error(std::move(error));
    return r;
  }

  bool ok() const noexcept { return state_ == state::value; }
  bool has_error() const noexcept { return state_ == state::error; }
  bool empty() const noexcept { return state_ == state::empty; }
  explicit operator bool() const noexcept { return ok(); }

  template <class... Args>
  void set_value(Args&&... args) {
    reset();
    value_.construct(std::forward<Args>(args)...);
    state_ = state::value;
  }

  void set_error(std::exception_ptr error) noexcept {
    reset();
    ::new (static_cast<void*>(std::addressof(error_))) std::exception_ptr(std::move(error));
    state_ = state::error;
  }

  /// The stored exception, or null when there is none.
  std::exception_ptr error() const noexcept { return has_error() ? error_ : nullptr; }

  /// The value. Rethrows the stored exception; throws invalid_state_error when empty.
  decltype(auto) value() & { return get(*this); }
  decltype(auto) value() const& { return get(*this); }
  decltype(auto) value() && { return get(std::move(*this)); }

 private:
  enum class state : unsigned char { empty, value, error };

  template <class Self>
  COIO_ALWAYS_INLINE static decltype(auto) get(Self&& self) {
    if (self.state_ != state::value) [[unlikely]]
      self.throw_missing_value();
    if constexpr (std::is_rvalue_reference_v<Self&&>) {
      return self.value_.moved();
    } else {
      return self.value_.ref();
    }
  }

  [[noreturn]] COIO_COLD void throw_missing_value() const {
    if (state_ == state::error) std::rethrow_exception(error_);
    throw invalid_state_error("result is not set");
  }

  void take(result& other) {
    if (other.state_ == state::value) {
      value_.construct(other.value_.moved());
      state_ = state::value;
    } else if (other.state_ == state::error) {
      ::new (static_cast<void*>(std::addressof(error_))) std::exception_ptr(std::move(other.error_));
      state_ = state::error;
    }
  }

  void reset() noexcept {
    if (state_ == state::value) {
      value_.destroy();
    } else if (state_ == state::error) {
      error_.~exception_ptr();
    }
    state_ = state::empty;
  }

  union {
    detail::value_slot<T> value_;
    std::exception_ptr error_;
  };
  state state_ = state::empty;
};

/// `result<void>`: success or an exception.
template <>
class result<void> {
 public:
  result() noexcept = default;
  result(result&& other) noexcept : error_(std::move(other.error_)), state_(other.state_) {}
  result& operator=(result&& other) noexcept {
    error_ = std::move(other.error_);
    state_ = other.state_;
    return *this;
  }

  static result from_error(std::exception_ptr error) {
    result r;
    r.set_error(std::move(error));
    return r;
  }

  bool ok() const noexcept { return state_ == state::value; }
  bool has_error() const noexcept { return state_ == state::error; }
  bool empty() const noexcept { return state_ == state::empty; }
  explicit operator bool() const noexcept { return ok(); }

  void set_value() noexcept {
    if (error_) error_ = nullptr;  // nearly always null already: skip exception_ptr's call
    state_ = state::value;
  }
  void set_error(std::exception_ptr error) noexcept {
    error_ = std::move(error);
    state_ = state::error;
  }
  std::exception_ptr error() const noexcept { return error_; }

  /// Rethrows the stored exception; throws invalid_state_error when empty.
  void value() const {
    if (state_ == state::error) std::rethrow_exception(error_);
    if (state_ == state::empty) throw invalid_state_error("result is not set");
  }

 private:
  enum class state : unsigned char { empty, value, error };
  std::exception_ptr error_;
  state state_ = state::empty;
};

}  // namespace coio
