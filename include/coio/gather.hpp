// coio/gather.hpp: coio::gather, running awaitables concurrently and collecting their results
// in input order (asyncio.gather).
#pragma once

#include <coio/create_task.hpp>
#include <coio/detail/join.hpp>
#include <coio/future.hpp>
#include <coio/result.hpp>
#include <coio/task.hpp>

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

/// Schedules every task of `aws` (futures are kept as they are), in order.
template <task_or_future A>
std::vector<future<value_of<A>>> start_all(std::vector<A> aws) {
  std::vector<future<value_of<A>>> futures;
  futures.reserve(aws.size());
  for (auto& a : aws) futures.push_back(as_future(std::move(a)));
  return futures;
}

/// gather's slot for a T: void results become std::monostate.
template <class T>
using gather_slot = std::conditional_t<std::is_void_v<T>, std::monostate, T>;

template <class T>
gather_slot<T> take_value(future<T>& f) {
  if constexpr (std::is_void_v<T>) {
    f.result();
    return {};
  } else {
    return std::move(f).result();
  }
}

template <class T>
result<T> take_result(future<T>& f) {
  result<T> r;
  if (f.cancelled() || f.state()->failed()) {
    r.set_error(f.state()->take_error());
  } else if constexpr (std::is_void_v<T>) {
    r.set_value();
  } else {
    r.set_value(std::move(f).result());
  }
  return r;
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
  std::tuple<future<detail::value_of<A>>...> futures{detail::as_future(std::move(aws))...};
  detail::join_set set(detail::gather_policy);
  std::apply([&set](auto&... f) { (set.add(f), ...); }, futures);
  co_await set.wait();
  if (auto error = set.first_error()) std::rethrow_exception(error);
  auto values = std::apply(
      [](auto&... f) { return std::tuple<detail::gather_slot<detail::value_of<A>>...>(detail::take_value(f)...); },
      futures);
  co_return values;
}

/// gather over a range: a vector of tasks or of futures of the same type; results in input
/// order. An empty vector completes at once with an empty result.
/// Cancellation and Throws: as the variadic gather.
template <detail::task_or_future A>
task<std::vector<detail::gather_slot<detail::value_of<A>>>> gather(std::vector<A> aws) {
  using T = detail::value_of<A>;
  static_assert(!std::is_reference_v<T>, "gather over a range needs value results");
  std::vector<future<T>> futures = detail::start_all(std::move(aws));
  detail::join_set set(detail::gather_policy);
  for (auto& f : futures) set.add(f);
  co_await set.wait();
  if (auto error = set.first_error()) std::rethrow_exception(error);
  std::vector<detail::gather_slot<T>> values;
  values.reserve(futures.size());
  for (auto& f : futures) values.push_back(detail::take_value(f));
  co_return values;
}

/// gather(return_exceptions, ...): every slot is a coio::result<T> holding the value or the
/// child's exception (or its cancelled_error); a child's failure never throws here and does
/// not cancel the others.
/// Cancellation: cancelling the awaiting task cancels every child, waits, and throws
/// cancelled_error.
template <detail::task_or_future... A>
task<std::tuple<result<detail::value_of<A>>...>> gather(return_exceptions_t, A... aws) {
  std::tuple<future<detail::value_of<A>>...> futures{detail::as_future(std::move(aws))...};
  detail::join_set set(detail::gather_all_policy);
  std::apply([&set](auto&... f) { (set.add(f), ...); }, futures);
  co_await set.wait();
  auto results = std::apply(
      [](auto&... f) { return std::tuple<result<detail::value_of<A>>...>(detail::take_result(f)...); }, futures);
  co_return results;
}

/// gather(return_exceptions, range): a vector of coio::result<T> in input order.
template <detail::task_or_future A>
task<std::vector<result<detail::value_of<A>>>> gather(return_exceptions_t, std::vector<A> aws) {
  using T = detail::value_of<A>;
  std::vector<future<T>> futures = detail::start_all(std::move(aws));
  detail::join_set set(detail::gather_all_policy);
  for (auto& f : futures) set.add(f);
  co_await set.wait();
  std::vector<result<T>> results;
  results.reserve(futures.size());
  for (auto& f : futures) results.push_back(detail::take_result(f));
  co_return results;
}

}  // namespace coio
