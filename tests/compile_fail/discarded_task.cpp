// Must NOT compile with -Werror: coio::task is [[nodiscard]], so a forgotten co_await (the
// bug asyncio reports at run time as "coroutine was never awaited") is a compile-time error.
#include <coio/task.hpp>

coio::task<int> compute() { co_return 1; }

coio::task<> caller() {
#ifdef COIO_CONTROL
  co_await compute();  // the control build: same file, awaited, must compile
#else
  compute();  // discarded: the warning this test expects
  co_return;
#endif
}
