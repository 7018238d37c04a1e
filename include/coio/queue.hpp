// coio/queue.hpp: coio::queue, priority_queue and lifo_queue (asyncio.Queue, PriorityQueue,
// LifoQueue), with asyncio 3.13's shutdown.
#pragma once

#include <coio/detail/wait_queue.hpp>
#include <coio/errors.hpp>

#include <algorithm>
#include <coroutine>
#include <cstddef>
#include <deque>
#include <functional>
#include <limits>
#include <utility>
#include <vector>

namespace coio {

namespace detail {

template <class T>
struct fifo_storage {
  std::deque<T> items;
  void push(T&& v) { items.push_back(std::move(v)); }
  T pop() {
    T v = std::move(items.front());
    items.pop_front();
    return v;
  }
};

template <class T>
struct lifo_storage {
  std::vector<T> items;
  void push(T&& v) { items.push_back(std::move(v)); }
  T pop() {
    T v = std::move(items.back());
    items.pop_back();
    return v;
  }
};

/// Lowest first, as Python's heapq: `Compare` orders the items, the smallest comes out next.
template <class T, class Compare>
struct priority_storage {
  std::vector<T> items;
  Compare less;
  void push(T&& v) {
    items.push_back(std::move(v));
    std::push_heap(items.begin(), items.end(), greater());
  }
  T pop() {
    std::pop_heap(items.begin(), items.end(), greater());
    T v = std::move(items.back());
    items.pop_back();
    return v;
  }

 private:
  auto greater() {
    return [this](const T& a, const T& b) { return less(b, a); };
  }
};

}  // namespace detail

/// A queue between tasks of one loop. `maxsize == 0` means unbounded. Items are handed to
/// waiting getters (and free slots to waiting putters) in FIFO order of the waiters; an item
/// or slot handed to a waiter that is cancelled before it runs goes on to the next waiter, so
/// nothing is lost (bpo-23812, gh-108042). Move-only T works.
template <class T, class Storage>
class basic_queue {
  static constexpr int handed_over = 1;  // a waiter's ticket: it holds an item or a slot
  static constexpr int shut_down = 2;    // woken by shutdown(): it holds nothing

 public:
  explicit basic_queue(std::size_t maxsize = 0) noexcept : maxsize_(maxsize) {}
  basic_queue(const basic_queue&) = delete;
  basic_queue& operator=(const basic_queue&) = delete;

  class put_awaiter {
   public:
    put_awaiter(basic_queue& q, T item) : queue_(q), item_(std::move(item)), waiter_(q.putters_, "queue.put") {}
    bool await_ready() {
      if (queue_.shut_down_) return true;
      if (queue_.free_slots() > 0 && queue_.putters_.empty()) {
        queue_.push_item(std::move(item_));
        pushed_ = true;
        return true;
      }
      return false;
    }
    bool await_suspend(std::coroutine_handle<> h) { return waiter_.enqueue(h); }
    void await_resume() {
      waiter_.finish([this] { give_back(); });
      if (pushed_) return;
      if (waiter_.granted() && waiter_.ticket() == handed_over) {
        if (queue_.shut_down_) {
          give_back();
          throw queue_shut_down();
        }
        --queue_.reserved_slots_;
        queue_.push_item(std::move(item_));
        return;
      }
      throw queue_shut_down();
    }

   private:
    void give_back() noexcept {
      if (waiter_.ticket() != handed_over) return;
      --queue_.reserved_slots_;
      queue_.wake_putters();
    }
    basic_queue& queue_;
    T item_;
    detail::wait_queue::waiter waiter_;
    bool pushed_ = false;
  };

  class get_awaiter {
   public:
    explicit get_awaiter(basic_queue& q) noexcept : queue_(q), waiter_(q.getters_, "queue.get") {}
    bool await_ready() const noexcept {
      return (queue_.unreserved_items() > 0 && queue_.getters_.empty()) || queue_.shut_down_;
    }
    bool await_suspend(std::coroutine_handle<> h) { return waiter_.enqueue(h); }
    T await_resume() {
      waiter_.finish([this] { give_back(); });
      if (waiter_.granted() && waiter_.ticket() == handed_over) {
        --queue_.reserved_items_;
        if (queue_.size() > 0) return queue_.pop_item();
        throw queue_shut_down();  // shutdown(immediate) removed the item it was promised
      }
      if (queue_.unreserved_items() > 0) return queue_.pop_item();  // ready at once
      throw queue_shut_down();
    }

   private:
    void give_back() noexcept {
      if (waiter_.ticket() != handed_over) return;
      --queue_.reserved_items_;
      queue_.wake_getters();
    }
    basic_queue& queue_;
    detail::wait_queue::waiter waiter_;
  };

  class join_awaiter {
   public:
    explicit join_awaiter(basic_queue& q) noexcept : queue_(q), waiter_(q.joiners_, "queue.join") {}
    bool await_ready() const noexcept { return queue_.unfinished_ == 0; }
    bool await_suspend(std::coroutine_handle<> h) { return waiter_.enqueue(h); }
    void await_resume() {
      waiter_.finish([] {});
    }

   private:
    basic_queue& queue_;
    detail::wait_queue::waiter waiter_;
  };

  /// Puts `item`, waiting while the queue is full.
  /// Cancellation: the item is not put; a free slot handed over meanwhile goes to the next
  /// putter. Throws: queue_shut_down; cancelled_error.
  put_awaiter put(T item) { return put_awaiter(*this, std::move(item)); }
  /// Takes the next item, waiting while the queue is empty.
  /// Cancellation: no item is taken; one handed over meanwhile goes to the next getter.
  /// Throws: queue_shut_down once shut down and drained; cancelled_error.
  get_awaiter get() noexcept { return get_awaiter(*this); }
  /// Waits until every item put has been marked task_done().
  /// Cancellation: stops waiting. Throws: cancelled_error.
  join_awaiter join() noexcept { return join_awaiter(*this); }

  /// Throws queue_full when no slot is free, queue_shut_down after shutdown().
  void put_nowait(T item) {
    if (shut_down_) throw queue_shut_down();
    if (free_slots() == 0) throw queue_full();
    push_item(std::move(item));
  }
  /// Throws queue_empty when no item is available, queue_shut_down once shut down and drained.
  T get_nowait() {
    if (unreserved_items() == 0) {
      if (shut_down_) throw queue_shut_down();
      throw queue_empty();
    }
    return pop_item();
  }

  /// Marks one item taken with get() as processed. Throws value_error when called more
  /// often than items were put.
  void task_done() {
    if (unfinished_ == 0) throw value_error("task_done() called too many times");
    if (--unfinished_ == 0) joiners_.grant_all();
  }

  /// Shuts the queue down (asyncio 3.13): put() throws queue_shut_down from now on, waiting
  /// putters are woken with it; get() keeps returning what is left, then throws it. With
  /// `immediate`, the items left are dropped (counted as done for join()) and every waiting
  /// getter throws at once.
  void shutdown(bool immediate = false) {
    shut_down_ = true;
    if (immediate) {
      const std::size_t dropped = size();
      storage_.items.clear();
      unfinished_ = unfinished_ > dropped ? unfinished_ - dropped : 0;
      if (unfinished_ == 0) joiners_.grant_all();
    }
    getters_.grant_all(shut_down);
    putters_.grant_all(shut_down);
  }

  std::size_t qsize() const noexcept { return size(); }
  bool empty() const noexcept { return size() == 0; }
  bool full() const noexcept { return maxsize_ > 0 && size() >= maxsize_; }
  std::size_t maxsize() const noexcept { return maxsize_; }
  bool is_shut_down() const noexcept { return shut_down_; }

 private:
  std::size_t size() const noexcept { return storage_.items.size(); }
  std::size_t unreserved_items() const noexcept { return size() - reserved_items_; }
  std::size_t free_slots() const noexcept {
    if (maxsize_ == 0) return std::numeric_limits<std::size_t>::max();
    const std::size_t used = size() + reserved_slots_;
    return used >= maxsize_ ? 0 : maxsize_ - used;
  }

  void push_item(T&& item) {
    storage_.push(std::move(item));
    ++unfinished_;
    wake_getters();
  }
  T pop_item() {
    T item = storage_.pop();
    wake_putters();
    return item;
  }
  // Hand each unreserved item / free slot to the longest waiter.
  void wake_getters() noexcept {
    while (unreserved_items() > 0 && getters_.grant_first(handed_over)) ++reserved_items_;
  }
  void wake_putters() noexcept {
    while (free_slots() > 0 && putters_.grant_first(handed_over)) ++reserved_slots_;
  }

  Storage storage_;
  std::size_t maxsize_;
  std::size_t reserved_items_ = 0;  // items promised to woken getters that have not run yet
  std::size_t reserved_slots_ = 0;  // slots promised to woken putters that have not run yet
  std::size_t unfinished_ = 0;      // put but not yet task_done()
  bool shut_down_ = false;
  detail::wait_queue getters_;
  detail::wait_queue putters_;
  detail::wait_queue joiners_;
};

/// FIFO queue (asyncio.Queue).
template <class T>
using queue = basic_queue<T, detail::fifo_storage<T>>;
/// Lowest item first, by `Compare` (asyncio.PriorityQueue).
template <class T, class Compare = std::less<T>>
using priority_queue = basic_queue<T, detail::priority_storage<T, Compare>>;
/// Last in, first out (asyncio.LifoQueue).
template <class T>
using lifo_queue = basic_queue<T, detail::lifo_storage<T>>;

}  // namespace coio
