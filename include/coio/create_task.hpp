// coio/create_task.hpp: coio::create_task, current_task and all_tasks (asyncio's
// create_task, current_task, all_tasks).
#pragma once

#include <coio/event_loop.hpp>
#include <coio/future.hpp>
#include <coio/task.hpp>

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace coio {

template <class T>
future<T> event_loop::create_task(task<T> t, std::string_view name, source_location where) {
  if (closed_) throw runtime_error("event loop is closed");
  if (!t.valid()) throw invalid_state_error("create_task: the task is empty (moved from?)");
  auto* state = new detail::future_state<T>(this);
  auto frame = t.release();
  state->adopt_task(frame);
  state->created_at_ = where;
  if (!name.empty()) state->set_name(std::string(name));
  state->add_ref();  // the loop's, until the task finishes
  schedule_start(state);
  return future<T>::adopt(state);
}

/// Schedules `t` on the running loop: it starts at the loop's next turn and runs
/// concurrently with the caller. The loop keeps it alive until it finishes, so dropping the
/// returned future does not stop it (unlike asyncio, no reference needs to be kept).
/// Throws runtime_error when no loop runs on this thread.
template <class T>
future<T> create_task(task<T> t, std::string_view name = {}, source_location where = source_location::current()) {
  return get_running_loop().create_task(std::move(t), name, where);
}

/// The task whose step is running, or an empty any_future outside any task.
inline any_future current_task() {
  detail::future_state_base* s = detail::this_thread.task;
  if (!s) return {};
  s->add_ref();
  return detail::adopt_any_future(s);
}

/// Every unfinished task of the running loop (asyncio.all_tasks).
inline std::vector<any_future> all_tasks() {
  std::vector<any_future> tasks;
  get_running_loop().for_each_task([&](detail::future_state_base* s) {
    s->add_ref();
    tasks.push_back(detail::adopt_any_future(s));
  });
  return tasks;
}

template <class T>
T event_loop::run_until_complete(task<T> t) {
  return run_until_complete(create_task(std::move(t)));
}

}  // namespace coio
