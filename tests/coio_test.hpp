// tests/coio_test.hpp: what every coio test includes: Catch2 (2.x or 3.x) and
// COIO_TEST_CASE, which runs an async test body on a fresh loop via coio::run so that it
// reads like a sync test.
#pragma once

#if __has_include(<catch2/catch_test_macros.hpp>)
#include <catch2/catch_test_macros.hpp>  // Catch2 3
#else
#include <catch2/catch.hpp>  // Catch2 2.13 (Debian 12)
#endif

#include <coio/future.hpp>
#include <coio/run.hpp>
#include <coio/task.hpp>

#define COIO_TEST_CONCAT_(a, b) a##b
#define COIO_TEST_CONCAT(a, b) COIO_TEST_CONCAT_(a, b)
#define COIO_TEST_CASE_IMPL_(body, ...)         \
  static coio::task<void> body();               \
  TEST_CASE(__VA_ARGS__) { coio::run(body()); } \
  static coio::task<void> body()

/// COIO_TEST_CASE("name", "[tag]") { ... co_await ...; REQUIRE(...); }
/// Keep co_await out of REQUIRE/CHECK: name the result first (docs/compilers.md).
#define COIO_TEST_CASE(...) COIO_TEST_CASE_IMPL_(COIO_TEST_CONCAT(coio_test_body_, __LINE__), __VA_ARGS__)

/// True when awaiting `f` ends in coio::cancelled_error (any other exception propagates).
inline coio::task<bool> ends_cancelled(coio::any_future f) {
  try {
    co_await f;
  } catch (const coio::cancelled_error&) {
    co_return true;
  }
  co_return false;
}
