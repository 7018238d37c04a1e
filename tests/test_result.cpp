#include <coio/result.hpp>

#include "coio_test.hpp"

#include <memory>
#include <stdexcept>
#include <string>

TEST_CASE("result holds a value, an error, or nothing", "[result]") {
  coio::result<std::string> r;
  REQUIRE(r.empty());
  REQUIRE_FALSE(r.ok());
  REQUIRE_THROWS_AS(r.value(), coio::invalid_state_error);
  r.set_value("hi");
  REQUIRE(r.ok());
  REQUIRE(r.value() == "hi");
  REQUIRE(r.error() == nullptr);
  r.set_error(std::make_exception_ptr(std::runtime_error("bad")));
  REQUIRE(r.has_error());
  REQUIRE_FALSE(r);
  REQUIRE_THROWS_AS(r.value(), std::runtime_error);
  REQUIRE(r.error() != nullptr);
}

TEST_CASE("result of a move-only type, a reference, and void", "[result]") {
  coio::result<std::unique_ptr<int>> boxed;
  boxed.set_value(std::make_unique<int>(3));
  coio::result<std::unique_ptr<int>> moved = std::move(boxed);
  std::unique_ptr<int> p = std::move(moved).value();
  REQUIRE(*p == 3);

  int x = 1;
  coio::result<int&> ref;
  ref.set_value(x);
  ref.value() = 5;
  REQUIRE(x == 5);

  coio::result<void> v;
  REQUIRE(v.empty());
  v.set_value();
  REQUIRE(v.ok());
  v.value();
  auto failed = coio::result<void>::from_error(std::make_exception_ptr(std::runtime_error("x")));
  REQUIRE_THROWS_AS(failed.value(), std::runtime_error);
}
