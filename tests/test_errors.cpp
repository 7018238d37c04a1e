#include <coio/errors.hpp>

#include "coio_test.hpp"

#include <exception>
#include <type_traits>

TEST_CASE("coio errors derive from coio::error and std::runtime_error", "[errors]") {
  STATIC_REQUIRE(std::is_base_of_v<std::runtime_error, coio::error>);
  STATIC_REQUIRE(std::is_base_of_v<coio::error, coio::runtime_error>);
  STATIC_REQUIRE(std::is_base_of_v<coio::error, coio::invalid_state_error>);
  STATIC_REQUIRE(std::is_base_of_v<coio::error, coio::timeout_error>);
  STATIC_REQUIRE(std::is_base_of_v<coio::error, coio::value_error>);
  STATIC_REQUIRE(std::is_base_of_v<coio::error, coio::broken_promise>);
}

TEST_CASE("cancelled_error is not a std::exception, so generic handlers cannot swallow it", "[errors]") {
  STATIC_REQUIRE_FALSE(std::is_base_of_v<std::exception, coio::cancelled_error>);
  bool swallowed = false, propagated = false;
  try {
    try {
      throw coio::cancelled_error("why");
    } catch (const std::exception&) {
      swallowed = true;
    }
  } catch (const coio::cancelled_error& e) {
    propagated = e.message() == "why" && std::string(e.what()) == "why";
  }
  REQUIRE_FALSE(swallowed);
  REQUIRE(propagated);
  REQUIRE(std::string(coio::cancelled_error().what()) == "cancelled");
}
