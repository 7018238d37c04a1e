// coio/thread_pool.hpp: coio::thread_pool, coio::to_thread and loop.run_in_executor
// (asyncio.to_thread, loop.run_in_executor, concurrent.futures.ThreadPoolExecutor).
#pragma once

#include <coio/detail/future_state.hpp>
#include <coio/errors.hpp>
#include <coio/event_loop.hpp>
#include <coio/result.hpp>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <coroutine>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <functional>
#include <mutex>
#include <optional>
#include <thread>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

namespace coio {

namespace detail {

/// One call handed to a thread_pool. Shared, by an atomic count, by the pool (while queued or
/// running), the awaiter, and the wake-up in flight to the loop: whoever lets go last frees
/// it, so a worker never touches an awaiting frame, and a frame may go while its call runs.
///
/// `stage_` decides, once, who owns the call: a worker (queued -> running), or a cancellation
/// (queued -> cancelled: the call never runs and its captures are released at once).
class pool_job {
 public:
  enum class stage : std::uint8_t { queued, running, finished, cancelled };

  pool_job(const pool_job&) = delete;
  pool_job& operator=(const pool_job&) = delete;

  void add_ref() noexcept { refs_.fetch_add(1, std::memory_order_relaxed); }
  void release() noexcept {
    if (refs_.fetch_sub(1, std::memory_order_acq_rel) == 1) destroy_(this);
  }

  stage current() const noexcept { return stage_.load(std::memory_order_acquire); }

  /// Loop thread, before the job is queued: whom to wake when it is done.
  void attach(event_loop* loop, future_state_base* task) noexcept {
    loop_ = loop;  // published to the workers by the pool's mutex
    task_ = task;
  }
  /// Loop thread: nobody waits any more; the outcome will be dropped with the job.
  void detach() noexcept {
    task_ = nullptr;
    std::lock_guard guard(loop_mutex_);
    loop_ = nullptr;
  }

  /// Any thread: cancels the call unless it started. Returns false when it had.
  bool try_cancel() noexcept {
    if (!claim(stage::cancelled)) return false;
    drop_(this);
    return true;
  }

  /// Worker: runs the call unless it was cancelled while queued, then tells the loop.
  void execute() noexcept {
    if (!claim(stage::running)) return;
    run_(this);
    stage_.store(stage::finished, std::memory_order_release);
    notify_loop();
  }

  /// Pool shutdown: cancels the call if still queued and tells its awaiter.
  void cancel_queued() noexcept {
    if (try_cancel()) notify_loop();
  }

  pool_job* next = nullptr;  // the pool's queue, under the pool's mutex

 protected:
  using hook = void (*)(pool_job*) noexcept;
  pool_job(hook run, hook drop, hook destroy) noexcept : run_(run), drop_(drop), destroy_(destroy) {}
  ~pool_job() = default;

 private:
  // Carries a reference to the job over to the loop's thread; wakes the awaiting task there,
  // if it still waits.
  class waker {
   public:
    explicit waker(pool_job* job) noexcept : job_(job) {}
    waker(waker&& other) noexcept : job_(std::exchange(other.job_, nullptr)) {}
    waker& operator=(waker&&) = delete;
    ~waker() {
      if (job_) job_->release();
    }
    void operator()() noexcept {
      if (future_state_base* task = std::exchange(job_->task_, nullptr)) task->wake();
    }

   private:
    pool_job* job_;
  };

  bool claim(stage to) noexcept {
    stage expected = stage::queued;
    return stage_.compare_exchange_strong(expected, to, std::memory_order_acq_rel);
  }

  // Holding loop_mutex_ keeps the loop alive: detach() runs (in the awaiter's destructor)
  // before the loop that owns the awaiting frame can be gone. The caller holds a reference of
  // its own, so dropping the waker's here never frees the job (nor this mutex).
  void notify_loop() noexcept {
    std::lock_guard guard(loop_mutex_);
    if (!loop_) return;
    add_ref();
    waker wake(this);
    try {
      loop_->call_soon_threadsafe(std::move(wake));
    } catch (...) {
      // The loop is closing: its frames, this awaiter's included, are about to go.
    }
  }

  std::atomic<std::uint32_t> refs_{1};
  std::atomic<stage> stage_{stage::queued};
  hook run_;
  hook drop_;
  hook destroy_;
  std::mutex loop_mutex_;
  event_loop* loop_ = nullptr;         // guarded by loop_mutex_
  future_state_base* task_ = nullptr;  // loop thread only
};

/// A job with a result slot of type R: what the awaiter reads.
template <class R>
class pool_result : public pool_job {
 public:
  /// Loop thread, once the job finished: the value, or the call's exception rethrown.
  R take() {
    if (out_.has_error()) {
      // Move the exception out, so that only this thread ever touches its reference count:
      // the job may be freed on the worker, and libstdc++ counts exception references with
      // atomics that TSan cannot see (it reported a race on the exception object otherwise).
      std::exception_ptr error = out_.error();
      out_ = result<R>();
      std::rethrow_exception(error);
    }
    if constexpr (std::is_void_v<R> || std::is_reference_v<R>) {
      return out_.value();
    } else {
      return std::move(out_).value();
    }
  }

 protected:
  using pool_job::pool_job;
  ~pool_result() = default;
  result<R> out_;
};

/// The typed job: the callable and its arguments (decay-copied when the call is made, as
/// std::thread does), then the result.
template <class R, class Fn, class... Args>
class pool_call final : public pool_result<R> {
 public:
  template <class F, class... A>
  explicit pool_call(F&& fn, A&&... args)
      : pool_result<R>(&run, &drop, &destroy), call_(std::in_place, std::forward<F>(fn), std::forward<A>(args)...) {}

 private:
  static void run(pool_job* base) noexcept {
    auto* self = static_cast<pool_call*>(base);
    const auto call = [](Fn&& fn, Args&&... args) -> R { return std::invoke(std::move(fn), std::move(args)...); };
    try {
      if constexpr (std::is_void_v<R>) {
        std::apply(call, std::move(*self->call_));
        self->out_.set_value();
      } else {
        self->out_.set_value(std::apply(call, std::move(*self->call_)));
      }
    } catch (...) {
      self->out_.set_error(std::current_exception());
    }
    self->call_.reset();  // the captures go on the worker, before the loop hears of it
  }
  static void drop(pool_job* base) noexcept { static_cast<pool_call*>(base)->call_.reset(); }
  static void destroy(pool_job* base) noexcept { delete static_cast<pool_call*>(base); }

  std::optional<std::tuple<Fn, Args...>> call_;
};

}  // namespace detail

/// A pool of worker threads for blocking or CPU-bound calls (asyncio's default executor, a
/// concurrent.futures.ThreadPoolExecutor). Calls are awaited with `loop.run_in_executor(pool,
/// fn, args...)` or, on the loop's default pool, `coio::to_thread(fn, args...)`.
///
/// Threads start on demand, up to `max_threads`, when a call finds no idle thread (as
/// ThreadPoolExecutor does), and live until shutdown. Calls run in FIFO order. Unlike
/// Python's threads, they run truly in parallel: CPU-bound work scales with the cores.
///
/// The destructor shuts the pool down: calls still queued are cancelled (their awaiters get
/// coio::cancelled_error), calls already running are waited for. All members are thread-safe;
/// shutting a pool down from one of its own threads is not allowed. An awaitable made for a
/// pool (run_in_executor) must be awaited before the pool is destroyed, or not at all.
class thread_pool {
 public:
  /// Throws value_error when `max_threads` is 0.
  explicit thread_pool(std::size_t max_threads) : max_threads_(max_threads) {
    if (max_threads == 0) throw value_error("thread_pool needs at least one thread");
  }
  thread_pool(const thread_pool&) = delete;
  thread_pool& operator=(const thread_pool&) = delete;
  ~thread_pool() { shutdown(); }

  std::size_t max_threads() const noexcept { return max_threads_; }
  /// How many threads have started so far (at most max_threads()).
  std::size_t thread_count() const {
    std::lock_guard lock(mutex_);
    return threads_.size();
  }

  /// Cancels the calls still queued (their awaiters get cancelled_error, promptly), waits for
  /// the running ones to finish and joins the threads. Idempotent. Later calls submitted to
  /// the pool throw runtime_error.
  void shutdown() noexcept {
    std::lock_guard once(shutdown_mutex_);
    detail::pool_job* queued = nullptr;
    std::vector<std::thread> threads;
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
      queued = std::exchange(head_, nullptr);
      tail_ = nullptr;
      queued_ = 0;
      threads.swap(threads_);
    }
    wake_.notify_all();
    while (queued) {
      detail::pool_job* job = std::exchange(queued, queued->next);
      job->cancel_queued();
      job->release();  // the queue's reference
    }
    for (auto& t : threads) t.join();
  }

  /// The awaitable of a call (what to_thread and run_in_executor return). The call is queued
  /// when the awaitable is first awaited, and runs on one of the pool's threads; the awaiting
  /// task is resumed on its own loop's thread.
  ///
  /// Cancellation: a call still queued is removed (it never runs; its captures are released
  /// at once); a running call finishes on its thread and its result or exception is dropped.
  /// Either way the awaiting task gets cancelled_error at once, as asyncio's does.
  /// Throws: what the call threw; cancelled_error when the pool was shut down before the call
  /// started; runtime_error when the pool is shut down already, or when awaited outside a task.
  template <class R>
  class [[nodiscard]] run_awaiter;

 private:
  // Queues `job` (taking a reference), starting a thread when none is idle for it.
  void submit(detail::pool_job* job) {
    {
      std::lock_guard lock(mutex_);
      if (stopping_) throw runtime_error("thread pool is shut down");
      if (queued_ + 1 > idle_ && threads_.size() < max_threads_) {
        try {
          threads_.emplace_back([this] { work(); });
        } catch (...) {
          if (threads_.empty()) throw;  // nothing would ever run the call
        }
      }
      job->add_ref();
      job->next = nullptr;
      (tail_ ? tail_->next : head_) = job;
      tail_ = job;
      ++queued_;
    }
    wake_.notify_one();
  }

  void work() noexcept {
    std::unique_lock lock(mutex_);
    for (;;) {
      while (!head_ && !stopping_) {
        ++idle_;
        wake_.wait(lock);
        --idle_;
      }
      if (!head_) return;  // stopping, and nothing left
      detail::pool_job* job = head_;
      head_ = job->next;
      if (!head_) tail_ = nullptr;
      --queued_;
      lock.unlock();
      job->execute();
      job->release();  // the queue's reference
      lock.lock();
    }
  }

  const std::size_t max_threads_;
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  detail::pool_job* head_ = nullptr;  // FIFO of queued calls (cancelled ones are skipped)
  detail::pool_job* tail_ = nullptr;
  std::size_t queued_ = 0;
  std::size_t idle_ = 0;  // threads waiting for a call
  bool stopping_ = false;
  std::vector<std::thread> threads_;
  std::mutex shutdown_mutex_;  // a second shutdown() waits for the first to finish
};

template <class R>
class [[nodiscard]] thread_pool::run_awaiter : private detail::suspension {
 public:
  /// Internal (made by to_thread and run_in_executor): takes over `job`'s reference.
  run_awaiter(detail::pool_result<R>* job, thread_pool* pool) noexcept : job_(job), pool_(pool) {
    suspension::cancel = &on_cancel;
    suspension::what = "to_thread";
  }
  run_awaiter(const run_awaiter&) = delete;
  run_awaiter& operator=(const run_awaiter&) = delete;
  run_awaiter(run_awaiter&& other) noexcept
      : detail::suspension(other), job_(std::exchange(other.job_, nullptr)), pool_(other.pool_) {}
  run_awaiter& operator=(run_awaiter&&) = delete;
  ~run_awaiter() {
    if (!job_) return;
    job_->try_cancel();  // never awaited, or its frame goes while the call waits in the queue
    job_->detach();
    job_->release();
  }

  bool await_ready() const noexcept { return false; }

  bool await_suspend(std::coroutine_handle<> h) {
    task_ = detail::this_thread.task;
    if (!task_) throw runtime_error("a thread pool call must be awaited inside a coio task");
    if (task_->take_cancel_request()) {
      cancelled_ = true;
      return false;
    }
    thread_pool& pool = pool_ ? *pool_ : default_pool(*task_->loop());
    job_->attach(task_->loop(), task_);
    pool.submit(job_);
    task_->suspend_at(h, this);
    return true;
  }

  R await_resume() {
    if (cancelled_) throw task_->make_cancelled_error();
    if (job_->current() == detail::pool_job::stage::cancelled) throw cancelled_error("thread pool shut down");
    // A cancellation that came after the wake-up is left pending for the task's next
    // suspension point: throwing here would drop a result whose work is done.
    return job_->take();
  }

 private:
  static thread_pool& default_pool(event_loop& loop);

  static bool on_cancel(detail::suspension* s) noexcept {
    auto* self = static_cast<run_awaiter*>(s);
    self->job_->try_cancel();  // still queued: it never runs
    self->job_->detach();      // running or done: its outcome is dropped
    self->cancelled_ = true;
    self->task_->wake();
    return true;
  }

  detail::pool_result<R>* job_;
  thread_pool* pool_;  // null: the awaiting task's loop's default pool
  detail::future_state_base* task_ = nullptr;
  bool cancelled_ = false;
};

namespace detail {

/// The default pool's size: asyncio's min(32, cpus + 4). The default pool mostly waits
/// (files, name lookups), so it has more threads than cores; give CPU-bound work a pool of
/// its own, sized to the cores, through run_in_executor.
inline std::size_t default_pool_size() noexcept {
  const std::size_t cpus = std::max(1u, std::thread::hardware_concurrency());
  return std::min<std::size_t>(32, cpus + 4);
}

/// The loop's default pool, created on first use (loop thread only).
inline thread_pool& default_thread_pool(event_loop& loop) {
  event_loop::executor_owner& owner = loop.default_executor_owner();
  if (!owner) {
    if (loop.default_executor_shut_down()) throw runtime_error("the loop's default thread pool is shut down");
    owner = event_loop::executor_owner(new thread_pool(default_pool_size()),
                                       [](thread_pool* pool) noexcept { delete pool; });
  }
  return *owner;
}

}  // namespace detail

template <class R>
thread_pool& thread_pool::run_awaiter<R>::default_pool(event_loop& loop) {
  return detail::default_thread_pool(loop);
}

namespace detail {

/// Wraps `fn(args...)` for `pool` (null: the awaiting task's loop's default pool).
template <class F, class... Args>
auto make_pool_call(thread_pool* pool, F&& fn, Args&&... args) {
  static_assert(std::is_invocable_v<std::decay_t<F>, std::decay_t<Args>...>,
                "the call must be invocable with its (decay-copied) arguments");
  using R = std::invoke_result_t<std::decay_t<F>, std::decay_t<Args>...>;
  auto* job =
      new pool_call<R, std::decay_t<F>, std::decay_t<Args>...>(std::forward<F>(fn), std::forward<Args>(args)...);
  return thread_pool::run_awaiter<R>(job, pool);
}

}  // namespace detail

/// Runs `fn(args...)` on the default thread pool of the loop that awaits it, without blocking
/// that loop, and gives its result (asyncio.to_thread). `fn` and `args` are decay-copied now
/// (wrap references in std::ref); the call is queued when the result is awaited. The default
/// pool has min(32, cpus + 4) threads, started on demand; coio::run shuts it down at exit.
/// Cancellation: see thread_pool::run_awaiter (a running call finishes; its result is
/// dropped).
/// Throws: what `fn` threw; cancelled_error; runtime_error once the loop's pool is shut down.
template <class F, class... Args>
auto to_thread(F&& fn, Args&&... args) {
  return detail::make_pool_call(nullptr, std::forward<F>(fn), std::forward<Args>(args)...);
}

template <class F, class... Args>
auto event_loop::run_in_executor(thread_pool* pool, F&& fn, Args&&... args) {
  thread_pool& target = pool ? *pool : detail::default_thread_pool(*this);
  return detail::make_pool_call(&target, std::forward<F>(fn), std::forward<Args>(args)...);
}

template <class F, class... Args>
auto event_loop::run_in_executor(thread_pool& pool, F&& fn, Args&&... args) {
  return detail::make_pool_call(&pool, std::forward<F>(fn), std::forward<Args>(args)...);
}

}  // namespace coio
