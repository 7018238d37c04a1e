// coio/run.hpp: coio::run, the program's entry into async code (asyncio.run).
#pragma once

#include <coio/create_task.hpp>
#include <coio/event_loop.hpp>
#include <coio/future.hpp>
#include <coio/task.hpp>

#include <atomic>
#include <cstddef>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

#include <signal.h>

namespace coio {

/// Options of coio::run: the loop's options (`{.debug = true}`).
using run_options = loop_options;

namespace detail {

/// Cancels every unfinished task of `loop` and runs the loop until all have finished (tasks
/// started during the cleanup included). Failures other than the cancellation go to the
/// exception handler, as asyncio.run reports them.
inline void cancel_all_tasks(event_loop& loop) {
  for (;;) {
    std::vector<any_future> tasks;
    loop.for_each_task([&](future_state_base* s) {
      s->add_ref();
      tasks.push_back(adopt_any_future(s));
    });
    if (tasks.empty()) return;
    std::size_t remaining = tasks.size();
    for (auto& t : tasks) {
      t.cancel();
      t.add_done_callback([&loop, &remaining] {
        if (--remaining == 0) loop.stop();
      });
    }
    loop.run_forever();
    for (auto& t : tasks) {
      if (t.done() && !t.cancelled()) {
        if (auto e = t.exception()) {
          loop.call_exception_handler({"unhandled exception during coio::run() shutdown", e, t.name()});
        }
      }
    }
  }
}

/// Shuts the loop's default thread pool down (asyncio's loop.shutdown_default_executor):
/// queued calls are cancelled, and another thread waits for the running ones while this loop
/// keeps running, so a call that needs the loop (call_soon_threadsafe,
/// run_coroutine_threadsafe) cannot deadlock the shutdown.
inline void shutdown_default_executor(event_loop& loop) {
  event_loop::executor_owner pool = loop.take_default_executor();
  if (!pool) return;
  std::atomic<bool> joined{false};
  std::thread joiner;
  try {
    joiner = std::thread([&] {
      pool.reset();
      joined.store(true, std::memory_order_release);
      loop.call_soon_threadsafe([&loop] { loop.stop(); });
    });
  } catch (const std::system_error&) {
    pool.reset();  // no thread to spare: wait here
    return;
  }
  struct join_guard {
    std::thread& thread;
    ~join_guard() { thread.join(); }
  } guard{joiner};
  while (!joined.load(std::memory_order_acquire)) loop.run_forever();
}

/// Turns the first SIGINT into cancellation of the main task while coio::run runs, so Ctrl-C
/// unwinds through the program's cleanup. A second SIGINT gets the default disposition
/// (terminates). Does nothing when the program set its own SIGINT disposition, or another
/// loop owns signal handling.
class sigint_cancels_main {
 public:
  sigint_cancels_main(event_loop& loop, any_future main) : loop_(loop) {
    struct sigaction current {};
    if (::sigaction(SIGINT, nullptr, &current) != 0 || current.sa_handler != SIG_DFL) return;
    try {
      loop.add_signal_handler(SIGINT, [&loop, main]() mutable {
        loop.remove_signal_handler(SIGINT);
        main.cancel("interrupted by SIGINT");
      });
      installed_ = true;
    } catch (const runtime_error&) {
      // Another loop on another thread handles signals; leave SIGINT alone.
    }
  }
  sigint_cancels_main(const sigint_cancels_main&) = delete;
  sigint_cancels_main& operator=(const sigint_cancels_main&) = delete;
  ~sigint_cancels_main() {
    if (installed_ && !loop_.is_closed()) loop_.remove_signal_handler(SIGINT);
  }

 private:
  event_loop& loop_;
  bool installed_ = false;
};

}  // namespace detail

/// Runs `main` on a new event loop on this thread and returns its result or rethrows its
/// exception (asyncio.run). Afterwards it cancels every task still pending and waits for
/// them, shuts the default thread pool down (waiting for the calls still running), then
/// closes the loop. The first SIGINT cancels `main` (Ctrl-C unwinds cleanly; run
/// then throws coio::cancelled_error unless `main` handles it).
/// Throws runtime_error when a loop already runs on this thread.
template <class T>
T run(task<T> main, run_options options = {}) {
  if (detail::this_thread.loop)
    throw runtime_error("coio::run() cannot be called while an event loop is running on this thread");
  event_loop loop(options);
  future<T> main_future = loop.create_task(std::move(main), "main");
  {
    detail::sigint_cancels_main sigint(loop, main_future);
    main_future.add_done_callback([&loop] { loop.stop(); });
    while (!main_future.done()) loop.run_forever();
    detail::cancel_all_tasks(loop);
    detail::shutdown_default_executor(loop);
  }
  loop.close();
  if constexpr (std::is_void_v<T>) {
    main_future.result();
  } else {
    return std::move(main_future).result();
  }
}

}  // namespace coio
