// coio/detail/unique_function.hpp: a move-only `void()` callable (std::move_only_function
// is C++23), with room for small captures inline so that most callbacks cost one allocation.
#pragma once

#include <cstddef>
#include <new>
#include <type_traits>
#include <utility>

namespace coio::detail {

class unique_function {
  static constexpr std::size_t inline_size = 3 * sizeof(void*);

  struct ops {
    void (*call)(void* self);
    void (*move_to)(void* from, void* to) noexcept;  // move-constructs at `to`, destroys `from`
    void (*destroy)(void* self) noexcept;
  };

  template <class F>
  static constexpr bool fits_inline =
      sizeof(F) <= inline_size && alignof(F) <= alignof(std::max_align_t) && std::is_nothrow_move_constructible_v<F>;

  template <class F>
  static const ops* ops_for() noexcept {
    if constexpr (fits_inline<F>) {
      static constexpr ops table{[](void* self) { (*std::launder(static_cast<F*>(self)))(); },
                                 [](void* from, void* to) noexcept {
                                   F* f = std::launder(static_cast<F*>(from));
                                   ::new (to) F(std::move(*f));
                                   f->~F();
                                 },
                                 [](void* self) noexcept { std::launder(static_cast<F*>(self))->~F(); }};
      return &table;
    } else {
      static constexpr ops table{[](void* self) { (**static_cast<F**>(self))(); },
                                 [](void* from, void* to) noexcept { ::new (to) F*(*static_cast<F**>(from)); },
                                 [](void* self) noexcept { delete *static_cast<F**>(self); }};
      return &table;
    }
  }

 public:
  unique_function() noexcept = default;
  unique_function(std::nullptr_t) noexcept {}

  template <class F, class D = std::decay_t<F>>
  requires(!std::is_same_v<D, unique_function> && std::is_invocable_v<D&>) unique_function(F&& f)
      : ops_(ops_for<D>()) {  // NOLINT: implicit like std::function
    if constexpr (fits_inline<D>) {
      ::new (static_cast<void*>(storage_)) D(std::forward<F>(f));
    } else {
      ::new (static_cast<void*>(storage_)) D*(new D(std::forward<F>(f)));
    }
  }

  unique_function(unique_function&& other) noexcept : ops_(other.ops_) {
    if (ops_) ops_->move_to(other.storage_, storage_);
    other.ops_ = nullptr;
  }
  unique_function& operator=(unique_function&& other) noexcept {
    if (this != &other) {
      reset();
      ops_ = other.ops_;
      if (ops_) ops_->move_to(other.storage_, storage_);
      other.ops_ = nullptr;
    }
    return *this;
  }
  unique_function& operator=(std::nullptr_t) noexcept {
    reset();
    return *this;
  }
  ~unique_function() { reset(); }

  explicit operator bool() const noexcept { return ops_ != nullptr; }
  void operator()() { ops_->call(storage_); }

 private:
  void reset() noexcept {
    if (ops_) {
      const ops* o = std::exchange(ops_, nullptr);
      o->destroy(storage_);
    }
  }

  alignas(std::max_align_t) unsigned char storage_[inline_size];
  const ops* ops_ = nullptr;
};

}  // namespace coio::detail
