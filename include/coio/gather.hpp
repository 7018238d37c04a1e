// coio/gather.hpp: coio::gather, running awaitables concurrently and collecting their results
// in input order (asyncio.gather).
#pragma once

#include <coio/create_task.hpp>
#include <coio/detail/join.hpp>
#include <coio/future.hpp>
#include <coio/result.hpp>
#include <coio/task.hpp>

#include <cstddef>
#include <exception>
#include <tuple>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

namespace coio {

/// Tag: `gather(coio::return_exceptions, ...)` collects failures as coio::result slots
/// (asyncio's return_exceptions=True).
struct return_exceptions_t {
  explicit return_exceptions_t() = default;
};
inline constexpr return_exceptions_t return_exceptions{};

namespace detail {

template <class A>
struct awaitable_kind : std::false_type {};
template <class T>
struct awaitable_kind<task<T>> : std::true_type {
  using value_type = T;
};
template <class T>
struct awaitable_kind<future<T>> : std::true_type {
  using value_type = T;
};

/// A lazy task or a future: what the combinators accept.
template <class A>
concept task_or_future = awaitable_kind<A>::value;

template <task_or_future A>
using value_of = typename awaitable_kind<A>::value_type;

/// A task is scheduled (it starts at the loop's next turn); a future is used as it is.
template <class T>
future<T> as_future(task<T> t) {
  return create_task(std::move(t));
}
template <class T>
future<T> as_future(future<T> f) {
  return f;
}

/// Schedules every task of `aws` (futures are used as they are), in order, as children of
/// `set`. The set holds the only handle: no second vector of futures per gather.
template <task_or_future A>
void start_all(join_set& set, std::vector<A> aws) {
  for (auto& a : aws) set.add(as_future(std::move(a)));
}

/// gather's slot for a T: void results become std::monostate.
template <class T>
using gather_slot = std::conditional_t<std::is_void_v<T>, std::monostate, T>;

/// A finished child's value (rethrows its error). Moved out when the set holds the only
/// handle (a task gather started, or a future handed over with std::move); copied when
/// someone else still holds the future, as `co_await` on an lvalue future copies.
template <class T>
gather_slot<T> take_child_value(any_future& child) {
  auto* state = static_cast<future_state<T>*>(child.state());
  if constexpr (std::is_void_v<T>) {
    state->check_result();
    return {};
  } else if constexpr (std::is_reference_v<T>) {
    return state->value_ref();
  } else {
    if constexpr (std::is_copy_constructible_v<T>) {
      if (state->shared()) return T(state->value_ref());
    }
    return T(state->value_moved());
  }
}

/// The same as a coio::result: the value, or the child's exception (or cancelled_error).
template <class T>
result<T> take_child_result(any_future& child) {
  future_state_base* state = child.state();
  result<T> r;
  if (state->cancelled() || state->failed()) {
    r.set_error(state->take_error());
  } else if constexpr (std::is_void_v<T>) {
    r.set_value();
  } else {
    r.set_value(take_child_value<T>(child));
  }
  return r;
}

/// The variadic gathers' tuples, from the set's children in argument order.
template <class... T, std::size_t... I>
std::tuple<gather_slot<T>...> take_child_values(join_set& set, std::index_sequence<I...>) {
  return std::tuple<gather_slot<T>...>(take_child_value<T>(set.child_future(I))...);
}
template <class... T, std::size_t... I>
std::tuple<result<T>...> take_child_results(join_set& set, std::index_sequence<I...>) {
  return std::tuple<result<T>...>(take_child_result<T>(set.child_future(I))...);
}

inline constexpr join_set::policy gather_policy{join_set::until::all_done, true, true, true};
inline constexpr join_set::policy gather_all_policy{join_set::until::all_done, false, true, true};

}  // namespace detail

/// Runs every awaitable concurrently (tasks are scheduled, futures awaited as they are) and
/// returns their results as a tuple in argument order; void results are std::monostate.
/// Unlike asyncio, the first failure cancels the other children, waits until they have all
/// finished, then rethrows it: no child is left running behind a failed gather.
/// Cancellation: cancelling the awaiting task cancels every child and waits for them.
/// Throws: the first child failure (a child's own cancellation counts as one); cancelled_error.
template <detail::task_or_future... A>
task<std::tuple<detail::gather_slot<detail::value_of<A>>...>> gather(A... aws) {
  detail::join_set set(detail::gather_policy);
  (set.add(detail::as_future(std::move(aws))), ...);  // in argument order
  co_await set.wait();
  if (auto error = set.first_error()) std::rethrow_exception(error);
  co_return detail::take_child_values<detail::value_of<A>...>(set, std::index_sequence_for<A...>{});
}

/// gather over a range: a vector of tasks or of futures of the same type; results in input
/// order. An empty vector completes at once with an empty result.
/// Cancellation and Throws: as the variadic gather.
template <detail::task_or_future A>
task<std::vector<detail::gather_slot<detail::value_of<A>>>> gather(std::vector<A> aws) {
  using T = detail::value_of<A>;
  static_assert(!std::is_reference_v<T>, "gather over a range needs value results");
  detail::join_set set(detail::gather_policy);
  detail::start_all(set, std::move(aws));
  co_await set.wait();
  if (auto error = set.first_error()) std::rethrow_exception(error);
  std::vector<detail::gather_slot<T>> values;
  values.reserve(set.size());
  set.for_each_child([&values](any_future& child) { values.push_back(detail::take_child_value<T>(child)); });
  co_return values;
}

/// gather(return_exceptions, ...): every slot is a coio::result<T> holding the value or the
/// child's exception (or its cancelled_error); a child's failure never throws here and does
/// not cancel the others.
/// Cancellation: cancelling the awaiting task cancels every child, waits, and throws
/// cancelled_error.
template <detail::task_or_future... A>
task<std::tuple<result<detail::value_of<A>>...>> gather(return_exceptions_t, A... aws) {
  detail::join_set set(detail::gather_all_policy);
  (set.add(detail::as_future(std::move(aws))), ...);  // in argument order
  co_await set.wait();
  co_return detail::take_child_results<detail::value_of<A>...>(set, std::index_sequence_for<A...>{});
}

/// gather(return_exceptions, range): a vector of coio::result<T> in input order.
template <detail::task_or_future A>
task<std::vector<result<detail::value_of<A>>>> gather(return_exceptions_t, std::vector<A> aws) {
  using T = detail::value_of<A>;
  detail::join_set set(detail::gather_all_policy);
  detail::start_all(set, std::move(aws));
  co_await set.wait();
  std::vector<result<T>> results;
  results.reserve(set.size());
  set.for_each_child([&results](any_future& child) { results.push_back(detail::take_child_result<T>(child)); });
  co_return results;
}

}  // namespace coio
