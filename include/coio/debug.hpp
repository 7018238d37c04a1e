// coio/debug.hpp: coio::dump_tasks, every live task with its async stack (Python 3.14's
// `asyncio ps` / `pstree`).
#pragma once

#include <coio/event_loop.hpp>
#include <coio/task.hpp>

#include <fmt/core.h>

#include <ostream>
#include <string>

namespace coio {

/// Writes every unfinished task of `loop`: its name, state, where it was created, and the
/// chain of coroutines it is suspended in, outermost first, ending with what it waits for.
/// Costs nothing until called: it walks the links the tasks keep anyway.
inline void dump_tasks(event_loop& loop, std::ostream& out) {
  std::size_t count = 0;
  loop.for_each_task([&](detail::future_state_base* s) {
    ++count;
    const auto& where = s->created_at();
    const bool running = detail::this_thread.task == s;
    out << fmt::format("Task '{}' [{}]", s->name(), running ? "running" : s->state_name());
    if (where.line() != 0)
      out << fmt::format(" created at {}:{} in {}", where.file_name(), where.line(), where.function_name());
    out << '\n';
    int depth = 1;
    for (const detail::promise_base* p = s->root_promise(); p; p = p->awaiting()) {
      const auto& at = p->defined_at();
      out << fmt::format("{:>{}}{} at {}:{}\n", "", 2 * depth, at.function_name(), at.file_name(), at.line());
      ++depth;
    }
    if (const detail::suspension* on = s->suspended_on())
      out << fmt::format("{:>{}}awaiting {}\n", "", 2 * depth, on->what);
  });
  if (count == 0) out << "no live tasks\n";
}

/// dump_tasks for the running loop. Throws runtime_error when none runs.
inline void dump_tasks(std::ostream& out) { dump_tasks(get_running_loop(), out); }

}  // namespace coio
