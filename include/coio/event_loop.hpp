// coio/event_loop.hpp: the event loop (asyncio's event loop): a FIFO ready queue, a timer
// heap and a selector, driven on one thread.
#pragma once

#include <coio/config.hpp>
#include <coio/detail/future_state.hpp>
#include <coio/detail/ring_queue.hpp>
#include <coio/detail/selector.hpp>
#include <coio/detail/signals.hpp>
#include <coio/detail/timer_heap.hpp>
#include <coio/detail/unique_function.hpp>
#include <coio/errors.hpp>

#include <fmt/core.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace coio {

template <class T>
class task;
template <class T>
class future;
class thread_pool;  // thread_pool.hpp

namespace detail {
struct io_source;
/// Hands a selector event to its io_source (defined in detail/io_source.hpp).
inline void dispatch_io(void* token, std::uint32_t bits) noexcept;
}  // namespace detail

/// What the loop's exception handler is told (asyncio's context dict).
struct exception_context {
  std::string message;           // e.g. "Task exception was never retrieved"
  std::exception_ptr exception;  // may be null
  std::string task_name;         // the task concerned, or ""
};

/// Called for errors nobody else can receive. Must not throw (what it throws is dropped).
using exception_handler = std::function<void(class event_loop&, const exception_context&)>;

/// Loop settings; `coio::run` accepts the same.
struct loop_options {
  /// Debug mode: warns about steps that hold the loop longer than `slow_callback_duration`.
  /// Also turned on by the environment variable COIO_DEBUG=1.
  bool debug = false;
  std::chrono::steady_clock::duration slow_callback_duration = std::chrono::milliseconds(100);
  /// Testing aid: when non-zero, each turn runs its ready callbacks and task steps in an order
  /// shuffled from this seed instead of FIFO. Code that is correct for any interleaving keeps
  /// working; code that silently relies on FIFO order shows itself. Also set by the
  /// environment variable COIO_SHUFFLE_SEED.
  std::uint64_t shuffle_seed = 0;
};

namespace detail {

/// A callback scheduled with call_soon / call_later / add_done_callback. Shared by the loop
/// (while queued) and the user's handle, so cancelling an already-run callback is safe.
struct callback_node : timer_node, future_waiter {
  std::uint32_t refs = 1;
  bool cancelled = false;
  bool running = false;
  bool holds_subject = false;  // a done callback owns a reference once its future finished
  event_loop* loop = nullptr;
  future_state_base* subject = nullptr;  // the future a done callback watches
  unique_function fn;

  callback_node() = default;
  callback_node(const callback_node&) = delete;
  callback_node& operator=(const callback_node&) = delete;
  ~callback_node() {
    if (holds_subject) subject->release();
  }

  void add_ref() noexcept { ++refs; }
  void release() noexcept {
    if (--refs == 0) delete this;
  }

  static void* operator new(std::size_t size) { return frame_allocator::allocate(size); }
  static void operator delete(void* p, std::size_t size) noexcept { frame_allocator::deallocate(p, size); }
};

std::string describe_exception(const std::exception_ptr& e);

}  // namespace detail

/// Returned by call_soon (asyncio.Handle). Copies share the callback.
class callback_handle {
 public:
  callback_handle() = default;
  callback_handle(const callback_handle& other) noexcept : node_(other.node_) {
    if (node_) node_->add_ref();
  }
  callback_handle(callback_handle&& other) noexcept : node_(std::exchange(other.node_, nullptr)) {}
  callback_handle& operator=(callback_handle other) noexcept {
    std::swap(node_, other.node_);
    return *this;
  }
  ~callback_handle() {
    if (node_) node_->release();
  }

  /// Prevents the callback from running; harmless after it ran or when called twice.
  void cancel() noexcept;
  bool cancelled() const noexcept { return node_ && node_->cancelled; }
  explicit operator bool() const noexcept { return node_ != nullptr; }

 protected:
  friend class event_loop;
  explicit callback_handle(detail::callback_node* node) noexcept : node_(node) {}
  detail::callback_node* node_ = nullptr;
};

/// Returned by call_later / call_at (asyncio.TimerHandle).
class timer_handle : public callback_handle {
 public:
  timer_handle() = default;
  /// The deadline on the loop's clock.
  std::chrono::steady_clock::time_point when() const noexcept {
    return node_ ? node_->deadline : std::chrono::steady_clock::time_point{};
  }

 private:
  friend class event_loop;
  using callback_handle::callback_handle;
};

/// One loop per thread, run by one thread at a time. Everything except call_soon_threadsafe
/// (and run_coroutine_threadsafe, built on it) must be called on the loop's thread.
class event_loop {
 public:
  using clock = std::chrono::steady_clock;
  using duration = clock::duration;
  using time_point = clock::time_point;

  event_loop() : event_loop(loop_options{}) {}
  explicit event_loop(loop_options options) : options_(options) {
    if (const char* env = std::getenv("COIO_DEBUG"); env && *env && std::strcmp(env, "0") != 0) {
      options_.debug = true;
    }
    if (const char* env = std::getenv("COIO_SHUFFLE_SEED"); env && *env) {
      options_.shuffle_seed = std::strtoull(env, nullptr, 10);
    }
    shuffle_state_ = options_.shuffle_seed;
    shuffle_ = options_.shuffle_seed != 0;
  }
  event_loop(const event_loop&) = delete;
  event_loop& operator=(const event_loop&) = delete;

  /// Closes the loop: frames of unfinished tasks are destroyed (their RAII cleanup runs, no
  /// further code of theirs), pending callbacks and timers are dropped, signal handlers are
  /// removed. Futures that outlive the loop stay readable.
  ~event_loop() { close(); }

  // --- time -------------------------------------------------------------------------------
  /// The loop's monotonic clock in seconds (asyncio's loop.time()).
  double time() const noexcept { return std::chrono::duration<double>(now().time_since_epoch()).count(); }
  time_point now() const noexcept { return clock::now(); }

  // --- callbacks ----------------------------------------------------------------------------
  /// Runs `fn` at a later turn of the loop, after everything already scheduled (FIFO).
  template <class F>
  callback_handle call_soon(F&& fn) {
    auto* node = make_callback(std::forward<F>(fn));
    push_callback(node);
    return callback_handle(node);
  }

  /// Runs `fn` once `delay` has passed. Zero or negative delays run at the next turn; huge
  /// ones (duration::max()) never fire in practice. Equal deadlines fire in call order.
  template <class F, class Rep, class Period>
  timer_handle call_later(std::chrono::duration<Rep, Period> delay, F&& fn) {
    return call_at(deadline_after(delay), std::forward<F>(fn));
  }

  /// Runs `fn` once the loop's clock reaches `when`.
  template <class F>
  timer_handle call_at(time_point when, F&& fn) {
    auto* node = make_callback(std::forward<F>(fn));
    node->deadline = when;
    node->fire = [](detail::timer_node* t) {
      auto* n = static_cast<detail::callback_node*>(t);
      n->loop->push_callback_owned(n);  // the timer's reference moves to the ready queue
    };
    node->add_ref();  // the timer heap's
    timers_.push(node);
    return timer_handle(node);
  }

  /// Schedules `fn` from any thread and wakes the loop. The only loop method that is
  /// thread-safe. Throws runtime_error once the loop is closed.
  template <class F>
  void call_soon_threadsafe(F&& fn) {
    {
      std::lock_guard guard(remote_mutex_);
      if (closed_remote_) throw runtime_error("event loop is closed");
      remote_.emplace_back(std::forward<F>(fn));
    }
    if (!remote_pending_.exchange(true, std::memory_order_acq_rel)) selector_.wake();
  }

  // --- running --------------------------------------------------------------------------
  /// Runs until stop() is called.
  void run_forever() {
    enter();
    struct leave_guard {
      event_loop* self;
      ~leave_guard() { self->leave(); }
    } guard{this};
    while (!stop_requested_) run_once();
  }

  /// Makes run_forever() return after the current turn.
  void stop() noexcept { stop_requested_ = true; }
  bool is_running() const noexcept { return running_; }
  bool is_closed() const noexcept { return closed_; }

  /// Runs the loop until `f` is done, then returns its result (or rethrows).
  template <class T>
  T run_until_complete(future<T> f);
  template <class T>
  T run_until_complete(task<T> t);

  /// Runs one iteration: polls I/O (only when nothing is ready, or every so many steps for
  /// fairness), moves due timers to the ready queue, then runs what was ready at its start.
  void run_once();

  /// Closes the loop (see the destructor). Idempotent; not allowed while running.
  void close();

  // --- threads (defined in thread_pool.hpp) ------------------------------------------
  /// Runs `fn(args...)` on `pool`'s threads, on the loop's default pool when null, and returns
  /// an awaitable of its result (asyncio's loop.run_in_executor). See thread_pool.hpp.
  template <class F, class... Args>
  auto run_in_executor(thread_pool* pool, F&& fn, Args&&... args);
  template <class F, class... Args>
  auto run_in_executor(thread_pool& pool, F&& fn, Args&&... args);
  /// Shuts the default pool down if it was ever used: queued calls are cancelled, running ones
  /// waited for. Later uses of the default pool throw runtime_error. close() calls it.
  void shutdown_default_executor() noexcept {
    default_executor_shut_down_ = true;
    default_executor_.reset();
  }
  /// Internal (thread_pool.hpp, coio::run): the default pool, created on first use. The
  /// deleter shuts it down, so this header needs nothing of thread_pool.hpp.
  using executor_owner = std::unique_ptr<thread_pool, void (*)(thread_pool*) noexcept>;
  executor_owner& default_executor_owner() noexcept { return default_executor_; }
  bool default_executor_shut_down() const noexcept { return default_executor_shut_down_; }
  /// Hands the default pool over (coio::run shuts it down while the loop keeps running).
  executor_owner take_default_executor() noexcept {
    default_executor_shut_down_ = true;
    return std::move(default_executor_);
  }

  // --- file descriptors (the socket layer's) ------------------------------------------
  /// Registers `fd` with the selector, edge-triggered for both directions, once for its
  /// lifetime; readiness goes to `source`. Throws os_error.
  void register_fd(int fd, detail::io_source* source) {
    selector_.add(fd, source);
    ++io_sources_;
  }
  /// Unregisters `fd` (before it is closed).
  void unregister_fd(int fd) noexcept {
    selector_.remove(fd);
    --io_sources_;
  }

  // --- tasks and futures ----------------------------------------------------------------
  template <class T>
  future<T> create_task(task<T> t, std::string_view name = {}, source_location where = source_location::current());
  template <class T = void>
  future<T> create_future();

  // --- errors ---------------------------------------------------------------------------
  void set_exception_handler(exception_handler handler) { exception_handler_ = std::move(handler); }
  const exception_handler& get_exception_handler() const noexcept { return exception_handler_; }
  /// Hands `context` to the installed handler, or to the default one. Never throws.
  void call_exception_handler(const exception_context& context) noexcept {
    try {
      if (exception_handler_) {
        exception_handler_(*this, context);
        return;
      }
    } catch (...) {
      // A throwing handler must not take the loop down; fall back to the default.
    }
    default_exception_handler(context);
  }
  /// Prints the context to stderr.
  static void default_exception_handler(const exception_context& context) noexcept {
    try {
      std::string text = "coio: " + context.message;
      if (!context.task_name.empty()) text += "\n  task: " + context.task_name;
      if (context.exception) text += "\n  exception: " + detail::describe_exception(context.exception);
      fmt::print(stderr, "{}\n", text);
    } catch (...) {
    }
  }

  // --- signals --------------------------------------------------------------------------
  /// Runs `fn` on the loop (as a callback, never inside the signal handler) when `signo`
  /// arrives. Signal handling is process-wide: one loop at a time may own handlers; another
  /// loop trying throws runtime_error.
  template <class F>
  void add_signal_handler(int signo, F&& fn) {
    detail::signal_registry::instance().install(this, signo, selector_.wake_fd());
    signal_handlers_[signo] = std::function<void()>(std::forward<F>(fn));
  }
  /// Restores the signal's previous disposition. Returns false when no handler was set.
  bool remove_signal_handler(int signo) {
    if (signal_handlers_.erase(signo) == 0) return false;
    detail::signal_registry::instance().uninstall(this, signo);
    return true;
  }

  // --- debug ----------------------------------------------------------------------------
  bool get_debug() const noexcept { return options_.debug; }
  void set_debug(bool on) noexcept { options_.debug = on; }

  /// Calls fn(state) for each live task (used by all_tasks and dump_tasks).
  template <class F>
  void for_each_task(F&& fn) const {
    for (auto* s = registry_head_; s; s = s->registry_next_) {
      if (s->is_task() && !s->done()) fn(s);
    }
  }

  // --- internal: used by coio's awaiters ------------------------------------------------
  /// Queues the next step of `task`.
  void schedule(detail::future_state_base* task) { ready_.push(reinterpret_cast<std::uintptr_t>(task) | tag_resume); }
  void schedule_start(detail::future_state_base* task) {
    ready_.push(reinterpret_cast<std::uintptr_t>(task) | tag_start);
  }
  void add_timer(detail::timer_node* node) { timers_.push(node); }
  void remove_timer(detail::timer_node* node) noexcept { timers_.remove(node); }
  void register_state(detail::future_state_base* s) noexcept {
    s->registry_next_ = registry_head_;
    if (registry_head_) registry_head_->registry_prev_ = s;
    registry_head_ = s;
    s->id_ = ++state_counter_;
  }
  void unregister_state(detail::future_state_base* s) noexcept {
    (s->registry_prev_ ? s->registry_prev_->registry_next_ : registry_head_) = s->registry_next_;
    if (s->registry_next_) s->registry_next_->registry_prev_ = s->registry_prev_;
  }
  bool closing() const noexcept { return closing_; }
  /// Queues a done callback that the loop now owns a reference to.
  void push_callback_owned(detail::callback_node* node) {
    ready_.push(reinterpret_cast<std::uintptr_t>(node) | tag_callback);
  }

  template <class Rep, class Period>
  time_point deadline_after(std::chrono::duration<Rep, Period> delay) const noexcept {
    return saturating_add(now(), delay);
  }

 private:
  // Ready-queue entries are tagged pointers: a task to resume, a task's first step, or a
  // callback. Everything pointed to is at least 8-byte aligned.
  static constexpr std::uintptr_t tag_resume = 0, tag_start = 1, tag_callback = 2, tag_mask = 3;
  // Poll I/O at least once every this many steps while tasks stay ready (tokio uses 61).
  static constexpr unsigned poll_interval = 61;

  template <class Rep, class Period>
  static time_point saturating_add(time_point base, std::chrono::duration<Rep, Period> delay) noexcept {
    if (delay <= std::chrono::duration<Rep, Period>::zero()) return base;
    // Compare in floating point first so that duration::max() of any unit saturates.
    const double room = std::chrono::duration<double>(time_point::max() - base).count();
    if (std::chrono::duration<double>(delay).count() >= room) return time_point::max();
    const auto step = std::chrono::ceil<duration>(delay);  // never wake before the delay
    return base + step;
  }

  template <class F>
  detail::callback_node* make_callback(F&& fn) {
    if (closed_) throw runtime_error("event loop is closed");
    auto* node = new detail::callback_node;
    node->loop = this;
    node->fn = detail::unique_function(std::forward<F>(fn));
    return node;
  }
  void push_callback(detail::callback_node* node) {
    node->add_ref();  // the ready queue's
    push_callback_owned(node);
  }

  void enter();
  void leave() noexcept;
  void run_entry(std::uintptr_t entry);
  void run_callback(detail::callback_node* node) noexcept;
  void drain_remote();
  void dispatch_signals();
  void report_slow(std::string task_name, duration took);
  // Fisher-Yates over the first n ready entries, with a splitmix64 stream (testing aid).
  void shuffle_ready(std::size_t n) noexcept {
    for (std::size_t i = n; i > 1; --i) {
      std::uint64_t z = (shuffle_state_ += 0x9e3779b97f4a7c15ull);
      z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
      z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
      z ^= z >> 31;
      std::swap(ready_[i - 1], ready_[static_cast<std::size_t>(z % i)]);
    }
  }

  loop_options options_;
  detail::selector selector_;
  detail::ring_queue<std::uintptr_t> ready_;
  detail::timer_heap timers_;
  unsigned steps_since_poll_ = 0;
  bool shuffle_ = false;  // FIFO unless loop_options::shuffle_seed is set
  std::uint64_t shuffle_state_ = 0;
  std::size_t io_sources_ = 0;  // fds registered with the selector besides its wake-up
  bool running_ = false;
  bool stop_requested_ = false;
  bool closing_ = false;
  bool closed_ = false;
  detail::thread_context saved_context_{};

  detail::future_state_base* registry_head_ = nullptr;
  std::uint64_t state_counter_ = 0;

  std::mutex remote_mutex_;
  std::vector<detail::unique_function> remote_;
  std::vector<detail::unique_function> remote_swap_;
  std::atomic<bool> remote_pending_{false};
  bool closed_remote_ = false;

  std::map<int, std::function<void()>> signal_handlers_;
  exception_handler exception_handler_;
  executor_owner default_executor_{nullptr, nullptr};
  bool default_executor_shut_down_ = false;

  friend class callback_handle;
  friend class detail::future_state_base;
};

/// The loop running on this thread. Throws runtime_error when none is.
inline event_loop& get_running_loop() {
  event_loop* loop = detail::this_thread.loop;
  if (!loop) throw runtime_error("no running event loop");
  return *loop;
}

// ---------------------------------------------------------------------------------------
// Definitions that need both the loop and the future state.

inline void callback_handle::cancel() noexcept {
  if (!node_ || node_->cancelled) return;
  node_->cancelled = true;
  if (!node_->running) node_->fn = nullptr;  // drop captures now, as asyncio does
  if (node_->queued()) {
    node_->loop->remove_timer(node_);
    node_->release();  // the timer heap's reference; ours keeps the node alive
  }
}

inline void event_loop::enter() {
  if (detail::this_thread.loop) throw runtime_error("another event loop is already running on this thread");
  if (running_) throw runtime_error("this event loop is already running");
  if (closed_) throw runtime_error("event loop is closed");
  saved_context_ = detail::this_thread;
  detail::this_thread = {this, nullptr, nullptr};
  running_ = true;
  stop_requested_ = false;
}

inline void event_loop::leave() noexcept {
  running_ = false;
  stop_requested_ = false;
  detail::this_thread = saved_context_;
}

inline void event_loop::run_once() {
  // With tasks ready, poll only for fairness to I/O, and only when fds are registered:
  // remote wake-ups and signals are noticed through their atomic flags without a syscall.
  if (ready_.empty() || (io_sources_ > 0 && steps_since_poll_ >= poll_interval)) {
    std::int64_t timeout_ns = -1;
    if (!ready_.empty() || stop_requested_) {
      timeout_ns = 0;
    } else if (!timers_.empty()) {
      const auto until = timers_.top()->deadline - now();
      timeout_ns = until.count() <= 0 ? 0 : std::chrono::duration_cast<std::chrono::nanoseconds>(until).count();
    }
    steps_since_poll_ = 0;
    selector_.select(timeout_ns, [](void* token, std::uint32_t bits) { detail::dispatch_io(token, bits); });
  }
  if (!signal_handlers_.empty()) dispatch_signals();
  if (remote_pending_.load(std::memory_order_acquire)) drain_remote();

  if (!timers_.empty()) {
    const time_point current = now();
    while (!timers_.empty() && timers_.top()->deadline <= current) {
      detail::timer_node* due = timers_.pop();
      due->fire(due);
    }
  }

  // Only what is ready now runs in this turn; what it schedules waits for the next one.
  const std::size_t n = ready_.size();
  if (shuffle_) shuffle_ready(n);
  steps_since_poll_ += static_cast<unsigned>(n);
  if (!options_.debug) {
    for (std::size_t i = 0; i < n; ++i) run_entry(ready_.pop());
  } else {
    for (std::size_t i = 0; i < n; ++i) {
      const std::uintptr_t entry = ready_.pop();
      // Name the task before its step runs: a finishing step frees it.
      std::string task_name;
      if ((entry & tag_mask) != tag_callback)
        task_name = reinterpret_cast<detail::future_state_base*>(entry & ~tag_mask)->name();
      const time_point started = now();
      run_entry(entry);
      const duration took = now() - started;
      if (took >= options_.slow_callback_duration) report_slow(std::move(task_name), took);
    }
  }
}

inline void event_loop::run_entry(std::uintptr_t entry) {
  const std::uintptr_t tag = entry & tag_mask;
  if (tag == tag_callback) {
    run_callback(reinterpret_cast<detail::callback_node*>(entry & ~tag_mask));
    return;
  }
  auto* task = reinterpret_cast<detail::future_state_base*>(entry & ~tag_mask);
  if (tag == tag_start) {
    if (task->take_cancel_request()) {
      // Cancelled before its first step: the body never runs.
      task->error_ = std::make_exception_ptr(task->make_cancelled_error());
      auto frame = std::exchange(task->frame_, nullptr);
      frame.destroy();
      task->finish(detail::future_state_base::status::cancelled);
      task->release();  // the loop's reference to a running task
      return;
    }
    task->started_ = true;
  }
  detail::this_thread.task = task;
  detail::this_thread.stack_base = static_cast<const char*>(__builtin_frame_address(0));
  task->resume_point_.resume();
  detail::this_thread.task = nullptr;
  detail::this_thread.stack_base = nullptr;
  // The loop holds a reference until the task finishes, so `task` is still alive here.
  if (task->frame_.done()) {
    task->ops_->complete_task(task);
    task->release();
  }
}

inline void event_loop::run_callback(detail::callback_node* node) noexcept {
  if (!node->cancelled && node->fn) {
    node->running = true;
    try {
      node->fn();
    } catch (...) {
      call_exception_handler({"Exception in callback", std::current_exception(), {}});
    }
    node->running = false;
    node->fn = nullptr;  // the callback ran: release what it captured
  }
  node->release();
}

inline void event_loop::drain_remote() {
  {
    std::lock_guard guard(remote_mutex_);
    remote_pending_.store(false, std::memory_order_release);
    remote_swap_.swap(remote_);
  }
  for (auto& fn : remote_swap_) {
    auto* node = make_callback(std::move(fn));
    push_callback_owned(node);
  }
  remote_swap_.clear();
}

inline void event_loop::dispatch_signals() {
  const std::uint64_t pending = detail::signal_registry::instance().take_pending(this);
  if (pending == 0) return;
  for (int signo = 1; signo < detail::signal_registry::max_signal; ++signo) {
    if (!(pending & (std::uint64_t{1} << signo))) continue;
    if (auto it = signal_handlers_.find(signo); it != signal_handlers_.end()) {
      call_soon(it->second);
    }
  }
}

inline void event_loop::report_slow(std::string task_name, duration took) {
  const double seconds = std::chrono::duration<double>(took).count();
  const std::string what = task_name.empty() ? "a callback" : "a step of task '" + task_name + "'";
  call_exception_handler(
      {fmt::format("Executing {} took {:.3f} seconds", what, seconds), nullptr, std::move(task_name)});
}

inline void event_loop::close() {
  if (closed_) return;
  if (running_) throw runtime_error("cannot close a running event loop");
  closing_ = true;
  {
    std::lock_guard guard(remote_mutex_);
    closed_remote_ = true;
    remote_.clear();
  }
  for (auto it = signal_handlers_.begin(); it != signal_handlers_.end(); it = signal_handlers_.erase(it)) {
    detail::signal_registry::instance().uninstall(this, it->first);
  }

  // Destroy the frames of unfinished tasks. The awaiters in them unregister themselves, and
  // frames may drop the last reference to other states, so hold ours until all are gone.
  std::vector<detail::future_state_base*> unfinished;
  for_each_task([&](detail::future_state_base* s) {
    s->add_ref();
    unfinished.push_back(s);
  });
  const detail::thread_context saved = detail::this_thread;
  detail::this_thread = {this, nullptr, nullptr};  // destructors may still ask for the loop
  for (auto* s : unfinished) {
    if (auto frame = std::exchange(s->frame_, nullptr)) frame.destroy();
    s->suspended_on_ = nullptr;
    if (!s->done()) {
      s->error_ = std::make_exception_ptr(cancelled_error("event loop closed"));
      s->finish(detail::future_state_base::status::cancelled);
    }
  }
  // Drop what is still queued: callbacks hold a reference each; tasks are covered above.
  while (!ready_.empty()) {
    const std::uintptr_t entry = ready_.pop();
    if ((entry & tag_mask) == tag_callback) reinterpret_cast<detail::callback_node*>(entry & ~tag_mask)->release();
  }
  while (!timers_.empty()) {
    detail::timer_node* t = timers_.pop();
    // Only call_later/call_at timers can remain: sleeping frames are gone.
    static_cast<detail::callback_node*>(t)->release();
  }
  for (auto* s : unfinished) {
    s->release();  // ours
    s->release();  // the loop's reference to a running task
  }
  // Futures may outlive the loop: forget it, and drop done callbacks that can never run now.
  for (auto* s = registry_head_; s; s = s->registry_next_) {
    s->drop_waiters();
    s->loop_ = nullptr;
  }
  registry_head_ = nullptr;
  detail::this_thread = saved;
  // Last: awaiters are gone, so the pool's running calls finish and report to no one.
  shutdown_default_executor();
  closed_ = true;
}

namespace detail {

inline std::string describe_exception(const std::exception_ptr& e) {
  try {
    std::rethrow_exception(e);
  } catch (const cancelled_error& c) {
    return std::string("coio::cancelled_error: ") + c.what();
  } catch (const std::exception& x) {
    return x.what();
  } catch (...) {
    return "unknown exception";
  }
}

inline future_state_base::future_state_base(event_loop* loop, const future_ops* ops) noexcept : loop_(loop), ops_(ops) {
  if (loop_) loop_->register_state(this);
}

inline void future_state_base::finish(status s) noexcept {
  status_ = s;
  suspended_on_ = nullptr;
  // One at a time off the ring, so a notification may unlink other waiters safely.
  while (future_waiter* w = waiters_) {
    remove_waiter(w);
    w->notify(w);
  }
}

inline void future_state_base::wake() noexcept {
  suspended_on_ = nullptr;
  if (loop_ && !loop_->closing()) loop_->schedule(this);
}

inline void future_state_base::reschedule(std::coroutine_handle<> h) noexcept {
  resume_point_ = h;
  suspended_on_ = nullptr;
  if (loop_ && !loop_->closing()) loop_->schedule(this);
}

inline void future_state_base::set_error(std::exception_ptr e) {
  if (done()) throw invalid_state_error("future is already done");
  if (is_task_) throw runtime_error("a task's exception is set by its coroutine");
  error_ = std::move(e);
  finish(status::error);
}

inline bool future_state_base::cancel(std::string message) {
  if (done()) return false;
  if (!is_task_) {
    error_ = std::make_exception_ptr(cancelled_error(std::move(message)));
    finish(status::cancelled);
    return true;
  }
  if (extras_ || !message.empty()) extras().cancel_message = std::move(message);
  if (suspended_on_ && suspended_on_->cancel(suspended_on_)) return true;
  // Running, queued to run, or not started: the next suspension point (or the start) throws.
  cancel_requested_ = true;
  return true;
}

inline void future_state_base::last_ref_gone() noexcept {
  if (status_ == status::error && !error_retrieved_) {
    exception_context context{is_task_ ? "Task exception was never retrieved" : "Future exception was never retrieved",
                              error_, is_task_ ? name() : std::string()};
    if (loop_) {
      loop_->call_exception_handler(context);
    } else {
      event_loop::default_exception_handler(context);
    }
  }
  drop_waiters();  // done callbacks of a future that now can never finish
  if (loop_) loop_->unregister_state(this);
  ops_->destroy(this);
}

inline std::string future_state_base::name() const {
  if (extras_ && extras_->name) return *extras_->name;
  return is_task_ ? "Task-" + std::to_string(id_) : std::string();
}

inline const char* future_state_base::state_name() const noexcept {
  switch (status_) {
    case status::pending:
      return !started_ ? "scheduled" : (suspended_on_ ? "suspended" : "ready");
    case status::value:
      return "finished";
    case status::error:
      return "failed";
    case status::cancelled:
      return "cancelled";
  }
  return "?";
}

}  // namespace detail
}  // namespace coio

#include <coio/future.hpp>

#include <coio/detail/io_source.hpp>
