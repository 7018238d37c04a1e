#include <coio/source_location.hpp>

#include "coio_test.hpp"

#include <string>

TEST_CASE("source_location names the calling function and line", "[source_location]") {
  const coio::source_location here = coio::source_location::current();
  REQUIRE(here.line() == __LINE__ - 1);
  REQUIRE(std::string(here.file_name()).find("test_source_location.cpp") != std::string::npos);
}
