#include <coio/config.hpp>

#include "coio_test.hpp"

TEST_CASE("config selects exactly one selector backend and a transfer-guard mode", "[config]") {
#if defined(COIO_SELECTOR_EPOLL) == defined(COIO_SELECTOR_KQUEUE)
  FAIL("exactly one selector backend must be selected");
#endif
  STATIC_REQUIRE((COIO_TRANSFER_GUARD == 0 || COIO_TRANSFER_GUARD == 1));
#if !defined(__clang__)
  STATIC_REQUIRE(COIO_TRANSFER_GUARD == 1);  // GCC needs it at -O0/-O1/-Og and under sanitizers
#endif
}
