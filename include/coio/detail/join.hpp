// coio/detail/join.hpp: waiting for a set of futures, the core under gather, wait and
// task_group. One waiter node per child (no allocation per wake-up); children can be added
// while waiting (task_group).
#pragma once

#include <coio/detail/frame_allocator.hpp>
#include <coio/detail/future_state.hpp>
#include <coio/event_loop.hpp>
#include <coio/future.hpp>

#include <coroutine>
#include <cstddef>
#include <deque>
#include <exception>
#include <utility>

namespace coio::detail {

class join_set {
 public:
  /// When the waiting task resumes.
  enum class until { all_done, first_done, first_error };

  struct policy {
    until wake = until::all_done;
    bool cancel_rest_on_error = false;       // gather, task_group: the first failure cancels the rest
    bool cancel_children_on_cancel = false;  // gather, task_group: cancelling the waiter reaches every child
    bool child_cancel_is_failure = true;     // gather: yes; task_group: a cancelled child is no error
  };

  explicit join_set(policy p) noexcept : policy_(p) {}
  join_set(const join_set&) = delete;
  join_set& operator=(const join_set&) = delete;
  ~join_set() {
    for (auto& c : children_) c.future.state()->remove_waiter(&c);
  }

  /// Starts watching `f`. May be called while a task waits on this set.
  void add(any_future f) {
    child& c = children_.emplace_back();
    c.owner = this;
    c.future = std::move(f);
    c.notify = &on_child_done;
    ++pending_;
    if (c.future.done()) {
      child_done(c);
    } else {
      c.future.state()->add_waiter(&c);
    }
  }

  std::size_t size() const noexcept { return children_.size(); }
  /// The i-th child added. Precondition: i < size().
  any_future& child_future(std::size_t i) noexcept { return children_[i].future; }
  /// Calls fn(any_future&) for every child, in the order added.
  template <class F>
  void for_each_child(F&& fn) {
    for (auto& c : children_) fn(c.future);
  }
  std::size_t pending() const noexcept { return pending_; }
  /// The first child failure (an exception, or the cancellation of a child that the set did
  /// not cancel itself), in completion order; null when none.
  std::exception_ptr first_error() const noexcept { return first_error_; }
  bool cancelling() const noexcept { return cancelling_; }

  /// Ends the wait now, whatever the children do (a timeout of coio::wait).
  void expire() noexcept {
    expired_ = true;
    if (waiter_ && satisfied()) {
      future_state_base* t = waiter_->task_;
      waiter_ = nullptr;
      t->wake();
    }
  }
  bool expired() const noexcept { return expired_; }

  /// Cancels every child still pending.
  void cancel_pending(const std::string& message = {}) {
    cancelling_ = true;
    for (auto& c : children_) {
      if (!c.future.done()) c.future.cancel(message);
    }
  }

  class awaiter : private suspension {
   public:
    explicit awaiter(join_set& set) noexcept : set_(set) {
      suspension::cancel = &on_cancel;
      suspension::what = "a set of futures";
    }
    bool await_ready() const noexcept { return set_.satisfied(); }
    bool await_suspend(std::coroutine_handle<> h) {
      task_ = this_thread.task;
      if (!task_) throw runtime_error("a coio combinator must be awaited inside a coio task");
      if (task_->take_cancel_request()) {
        cancel_now();
        if (!set_.policy_.cancel_children_on_cancel || set_.satisfied()) return false;
      }
      set_.waiter_ = this;
      task_->suspend_at(h, this);
      return true;
    }
    /// Throws cancelled_error when the waiting task was cancelled.
    void await_resume() {
      set_.waiter_ = nullptr;
      if (cancelled_) throw task_->make_cancelled_error();
    }

   private:
    friend class join_set;
    void cancel_now() {
      cancelled_ = true;
      if (set_.policy_.cancel_children_on_cancel) {
        set_.wait_for_all_ = true;
        set_.cancel_pending(task_->cancel_message());
      }
    }
    // gather/task_group: cancel every child and keep waiting until all have finished.
    // wait: stop waiting at once; the children carry on.
    static bool on_cancel(suspension* s) noexcept {
      auto* self = static_cast<awaiter*>(s);
      try {
        self->cancel_now();
      } catch (...) {
      }
      if (!self->set_.policy_.cancel_children_on_cancel || self->set_.satisfied()) {
        self->set_.waiter_ = nullptr;
        self->task_->wake();
      }
      return true;
    }

    join_set& set_;
    future_state_base* task_ = nullptr;
    bool cancelled_ = false;
  };

  /// Suspends until the policy's condition holds.
  awaiter wait() noexcept { return awaiter(*this); }

 private:
  struct child : future_waiter {
    join_set* owner = nullptr;
    any_future future;
  };

  bool satisfied() const noexcept {
    if (pending_ == 0) return true;
    if (wait_for_all_) return false;
    if (expired_) return true;
    switch (policy_.wake) {
      case until::all_done:
        return false;
      case until::first_done:
        return done_ > 0;
      case until::first_error:
        return first_error_ != nullptr;
    }
    return false;
  }

  static void on_child_done(future_waiter* w) noexcept {
    auto* c = static_cast<child*>(w);
    c->owner->child_done(*c);
  }

  void child_done(child& c) noexcept {
    --pending_;
    ++done_;
    const bool failed =
        c.future.state()->failed() || (c.future.cancelled() && !cancelling_ && policy_.child_cancel_is_failure);
    if (failed && !first_error_) {
      first_error_ = c.future.state()->take_error();
      if (policy_.cancel_rest_on_error) {
        wait_for_all_ = true;
        try {
          cancel_pending();
        } catch (...) {
        }
      }
    }
    if (waiter_ && satisfied()) {
      future_state_base* t = waiter_->task_;
      waiter_ = nullptr;
      t->wake();
    }
  }

  policy policy_;
  // Stable addresses: the nodes are linked into the children.
  std::deque<child, pool_allocator<child>> children_;
  std::size_t pending_ = 0;
  std::size_t done_ = 0;
  std::exception_ptr first_error_;
  bool cancelling_ = false;    // the set cancels its children: their cancellation is no failure
  bool wait_for_all_ = false;  // after a failure or a cancellation, every child must finish
  bool expired_ = false;
  awaiter* waiter_ = nullptr;
};

}  // namespace coio::detail
