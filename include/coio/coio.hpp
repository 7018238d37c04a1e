// coio/coio.hpp: everything in coio's core (what `import asyncio` gives).
#pragma once

#include <coio/as_completed.hpp>
#include <coio/condition.hpp>
#include <coio/config.hpp>
#include <coio/create_task.hpp>
#include <coio/debug.hpp>
#include <coio/errors.hpp>
#include <coio/event.hpp>
#include <coio/event_loop.hpp>
#include <coio/future.hpp>
#include <coio/gather.hpp>
#include <coio/lock.hpp>
#include <coio/queue.hpp>
#include <coio/rate_limiter.hpp>
#include <coio/result.hpp>
#include <coio/retry.hpp>
#include <coio/run.hpp>
#include <coio/semaphore.hpp>
#include <coio/shield.hpp>
#include <coio/sleep.hpp>
#include <coio/task.hpp>
#include <coio/task_group.hpp>
#include <coio/threadsafe.hpp>
#include <coio/wait.hpp>
#include <coio/wait_for.hpp>
