// coio/as_completed.hpp: coio::as_completed, results in the order they finish
// (asyncio.as_completed).
#pragma once

#include <coio/create_task.hpp>
#include <coio/event_loop.hpp>
#include <coio/future.hpp>
#include <coio/gather.hpp>
#include <coio/task.hpp>

#include <chrono>
#include <coroutine>
#include <cstddef>
#include <deque>
#include <memory>
#include <optional>
#include <utility>
#include <vector>

namespace coio {

template <class T>
class as_completed_range;

namespace detail {

template <class T>
class as_completed_state {
 public:
  as_completed_state(std::vector<future<T>> futures, std::vector<bool> started_here)
      : futures_(std::move(futures)), started_here_(std::move(started_here)), nodes_(futures_.size()) {
    for (std::size_t i = 0; i < futures_.size(); ++i) {
      node& n = nodes_[i];
      n.owner = this;
      n.index = i;
      n.notify = &on_done;
      if (futures_[i].done()) {
        finished_.push_back(i);
      } else {
        futures_[i].state()->add_waiter(&n);
      }
    }
  }
  as_completed_state(const as_completed_state&) = delete;
  as_completed_state& operator=(const as_completed_state&) = delete;
  // Whatever it started and nobody will read any more is cancelled, not left running.
  ~as_completed_state() {
    deadline_.cancel();
    for (std::size_t i = 0; i < futures_.size(); ++i) {
      futures_[i].state()->remove_waiter(&nodes_[i]);
      if (started_here_[i] && !futures_[i].done()) futures_[i].cancel("as_completed abandoned");
    }
  }

  void arm(event_loop& loop, event_loop::time_point deadline) {
    deadline_ = loop.call_at(deadline, [this] { expire(); });
  }

  class next_awaiter : private suspension {
   public:
    explicit next_awaiter(std::shared_ptr<as_completed_state> s) noexcept : state_(std::move(s)) {
      suspension::cancel = &on_cancel;
      suspension::what = "as_completed";
    }
    bool await_ready() const noexcept { return state_->ready(); }
    bool await_suspend(std::coroutine_handle<> h) {
      task_ = this_thread.task;
      if (!task_) throw runtime_error("as_completed must be awaited inside a coio task");
      if (task_->take_cancel_request()) {
        cancelled_ = true;
        return false;
      }
      state_->waiter_ = this;
      task_->suspend_at(h, this);
      return true;
    }
    /// The next result to finish (rethrows its exception).
    T await_resume() {
      state_->waiter_ = nullptr;
      if (cancelled_) throw task_->make_cancelled_error();
      return state_->take_next();
    }

   private:
    friend class as_completed_state;
    static bool on_cancel(suspension* s) noexcept {
      auto* self = static_cast<next_awaiter*>(s);
      self->state_->waiter_ = nullptr;
      self->cancelled_ = true;
      self->task_->wake();
      return true;
    }
    std::shared_ptr<as_completed_state> state_;
    future_state_base* task_ = nullptr;
    bool cancelled_ = false;
  };

 private:
  struct node : future_waiter {
    as_completed_state* owner = nullptr;
    std::size_t index = 0;
  };

  bool ready() const noexcept { return !finished_.empty() || expired_ || handed_out_ >= futures_.size(); }

  T take_next() {
    if (!finished_.empty()) {
      const std::size_t i = finished_.front();
      finished_.pop_front();
      ++handed_out_;
      future<T> f = futures_[i];
      if constexpr (std::is_void_v<T>) {
        f.result();
      } else {
        return std::move(f).result();
      }
    } else if (expired_) {
      throw timeout_error("as_completed: timed out");
    } else {
      throw invalid_state_error("as_completed: every result was handed out already");
    }
  }

  // Results that finished before the deadline are still handed out first; every later await
  // throws timeout_error. Nobody will read the rest: stop watching them, and cancel what this
  // call started so that nothing is left running unnoticed.
  void expire() {
    expired_ = true;
    for (std::size_t i = 0; i < futures_.size(); ++i) {
      if (futures_[i].done()) continue;
      futures_[i].state()->remove_waiter(&nodes_[i]);
      if (started_here_[i]) futures_[i].cancel("as_completed timed out");
    }
    wake_waiter();
  }

  void wake_waiter() noexcept {
    if (waiter_) {
      future_state_base* t = waiter_->task_;
      waiter_ = nullptr;
      t->wake();
    }
  }

  static void on_done(future_waiter* w) noexcept {
    auto* n = static_cast<node*>(w);
    n->owner->finished_.push_back(n->index);
    n->owner->wake_waiter();
  }

  std::vector<future<T>> futures_;
  std::vector<bool> started_here_;
  std::vector<node> nodes_;  // sized once: linked into the futures
  std::deque<std::size_t> finished_;
  std::size_t handed_out_ = 0;
  bool expired_ = false;
  timer_handle deadline_;
  next_awaiter* waiter_ = nullptr;
};

}  // namespace detail

/// The range as_completed returns: size() awaitables; awaiting the k-th gives the k-th result
/// to finish. Iterate it once, on the loop's thread.
template <class T>
class as_completed_range {
  using state_type = detail::as_completed_state<T>;

 public:
  using awaiter = typename state_type::next_awaiter;

  /// What the loop variable holds; `co_await next` gives the next result.
  class next {
   public:
    explicit next(std::shared_ptr<state_type> s) noexcept : state_(std::move(s)) {}
    awaiter operator co_await() const noexcept { return awaiter(state_); }

   private:
    std::shared_ptr<state_type> state_;
  };

  class iterator {
   public:
    using difference_type = std::ptrdiff_t;
    using value_type = next;
    iterator() = default;
    iterator(std::shared_ptr<state_type> s, std::size_t i) noexcept : state_(std::move(s)), index_(i) {}
    next operator*() const noexcept { return next(state_); }
    iterator& operator++() noexcept {
      ++index_;
      return *this;
    }
    void operator++(int) noexcept { ++index_; }
    friend bool operator==(const iterator& a, const iterator& b) noexcept { return a.index_ == b.index_; }

   private:
    std::shared_ptr<state_type> state_;
    std::size_t index_ = 0;
  };

  as_completed_range(std::shared_ptr<state_type> s, std::size_t n) noexcept : state_(std::move(s)), size_(n) {}

  iterator begin() const noexcept { return iterator(state_, 0); }
  iterator end() const noexcept { return iterator(state_, size_); }
  std::size_t size() const noexcept { return size_; }

 private:
  std::shared_ptr<state_type> state_;
  std::size_t size_;
};

namespace detail {

template <task_or_future A>
auto make_as_completed(std::vector<A> aws, std::optional<event_loop::time_point> deadline) {
  using T = value_of<A>;
  std::vector<future<T>> futures;
  std::vector<bool> started(aws.size(), false);
  futures.reserve(aws.size());
  for (std::size_t i = 0; i < aws.size(); ++i) {
    if constexpr (std::is_same_v<A, task<T>>) started[i] = true;
    futures.push_back(as_future(std::move(aws[i])));
  }
  const std::size_t n = futures.size();
  auto state = std::make_shared<as_completed_state<T>>(std::move(futures), std::move(started));
  if (deadline) state->arm(get_running_loop(), *deadline);
  return as_completed_range<T>(std::move(state), n);
}

}  // namespace detail

/// Schedules the tasks (futures are used as they are) and returns a range of awaitables that
/// give the results in completion order:
///
///   for (auto next : coio::as_completed(std::move(tasks))) { auto r = co_await next; }
///
/// Awaiting one rethrows that result's exception. Tasks it started and that nobody reads
/// any more (the range was dropped early, or the timeout passed) are cancelled.
/// Cancellation: cancelling the awaiting task stops the current wait only.
/// Throws: the result's exception; cancelled_error.
template <detail::task_or_future A>
auto as_completed(std::vector<A> aws) {
  return detail::make_as_completed(std::move(aws), std::nullopt);
}

/// as_completed with a timeout: past it, every further await throws coio::timeout_error and
/// the tasks it started that are still running are cancelled.
template <detail::task_or_future A, class Rep, class Period>
auto as_completed(std::vector<A> aws, std::chrono::duration<Rep, Period> timeout) {
  return detail::make_as_completed(std::move(aws), get_running_loop().deadline_after(timeout));
}

}  // namespace coio
