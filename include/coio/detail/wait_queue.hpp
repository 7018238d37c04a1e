// coio/detail/wait_queue.hpp: the FIFO waiter list every synchronisation primitive is built
// on (as tokio builds Semaphore, Mutex and RwLock on one batch semaphore). Permits are handed
// directly to the first waiter, so a newcomer can never barge in ahead of it; waking goes
// through the loop's ready queue, never inline; and a waiter that is cancelled after it was
// handed a permit but before it ran gives the permit back to the next waiter, so no wake-up
// is ever lost (CPython gh-90155).
#pragma once

#include <coio/detail/future_state.hpp>
#include <coio/errors.hpp>
#include <coio/event_loop.hpp>

#include <coroutine>
#include <cstddef>
#include <utility>

namespace coio::detail {

class wait_queue {
 public:
  /// A waiting task; the node lives in the awaiter, in the waiting coroutine's frame.
  class waiter : private suspension {
   public:
    explicit waiter(wait_queue& q, const char* what) noexcept : queue_(&q) {
      suspension::cancel = &on_cancel;
      suspension::what = what;
    }
    waiter(const waiter&) = delete;
    waiter& operator=(const waiter&) = delete;
    ~waiter() { queue_->unlink(this); }

    /// Suspends the current task in the queue. Returns false (do not suspend) when a
    /// cancellation was already pending: await_resume then throws.
    bool enqueue(std::coroutine_handle<> h) {
      task_ = this_thread.task;
      if (!task_) throw runtime_error("coio primitives must be awaited inside a coio task");
      if (task_->take_cancel_request()) {
        cancelled_ = true;
        return false;
      }
      queue_->push_back(this);
      task_->suspend_at(h, this);
      return true;
    }

    bool granted() const noexcept { return granted_; }
    /// What the primitive handed over with the grant (grant_first's `ticket`).
    int ticket() const noexcept { return ticket_; }
    /// After resumption: throws cancelled_error if the wait was cancelled. When a grant raced
    /// with a cancellation, `give_back` returns the grant to the primitive first.
    template <class GiveBack>
    void finish(GiveBack&& give_back) {
      if (cancelled_) throw task_->make_cancelled_error();
      if (task_ && task_->take_cancel_request()) {
        if (granted_) give_back();  // hand the permit to the next waiter: nothing is lost
        throw task_->make_cancelled_error();
      }
    }

   private:
    friend class wait_queue;
    static bool on_cancel(suspension* s) noexcept {
      auto* self = static_cast<waiter*>(s);
      self->queue_->unlink(self);
      self->cancelled_ = true;
      self->task_->wake();
      return true;
    }

    wait_queue* queue_;
    waiter* prev_ = nullptr;
    waiter* next_ = nullptr;
    bool linked_ = false;
    bool granted_ = false;
    bool cancelled_ = false;
    int ticket_ = 0;
    future_state_base* task_ = nullptr;
  };

  wait_queue() = default;
  wait_queue(const wait_queue&) = delete;
  wait_queue& operator=(const wait_queue&) = delete;

  bool empty() const noexcept { return head_ == nullptr; }
  std::size_t size() const noexcept { return size_; }

  /// Removes the first waiter, marks it granted with `ticket` (what it was handed, for
  /// primitives that hand over different things) and schedules it. False when none waits.
  bool grant_first(int ticket = 1) noexcept {
    waiter* w = head_;
    if (!w) return false;
    unlink(w);
    w->granted_ = true;
    w->ticket_ = ticket;
    w->task_->wake();
    return true;
  }

  /// Grants every waiter (event.set, notify_all, queue shutdown).
  void grant_all(int ticket = 1) noexcept {
    while (grant_first(ticket)) {
    }
  }

 private:
  void push_back(waiter* w) noexcept {
    w->prev_ = tail_;
    w->next_ = nullptr;
    (tail_ ? tail_->next_ : head_) = w;
    tail_ = w;
    w->linked_ = true;
    ++size_;
  }
  void unlink(waiter* w) noexcept {
    if (!w->linked_) return;
    (w->prev_ ? w->prev_->next_ : head_) = w->next_;
    (w->next_ ? w->next_->prev_ : tail_) = w->prev_;
    w->prev_ = w->next_ = nullptr;
    w->linked_ = false;
    --size_;
  }

  waiter* head_ = nullptr;
  waiter* tail_ = nullptr;
  std::size_t size_ = 0;
};

}  // namespace coio::detail
