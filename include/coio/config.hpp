// coio/config.hpp: the one place that knows which platform and build mode we are in.
#pragma once

#if defined(__linux__)
#define COIO_SELECTOR_EPOLL 1
#elif defined(__APPLE__) || defined(__FreeBSD__) || defined(__NetBSD__) || defined(__OpenBSD__) || \
    defined(__DragonFly__)
#define COIO_SELECTOR_KQUEUE 1
#else
#error "coio needs epoll (Linux) or kqueue (macOS/BSD)"
#endif

#if defined(__SANITIZE_ADDRESS__)
#define COIO_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define COIO_ASAN 1
#endif
#endif

// Symmetric transfer (`await_suspend` returning a handle) is a tail call in optimised builds
// of GCC and Clang, but not at -O0 or under ASan on GCC 12: there every transfer nests a
// native frame, and a long loop of synchronously completing awaits overflows the stack.
// The transfer guard counts nested transfers and, past a limit, bounces through the loop's
// ready queue to unwind. Force it with -DCOIO_TRANSFER_GUARD=0/1.
#ifndef COIO_TRANSFER_GUARD
#if !defined(__OPTIMIZE__) || defined(COIO_ASAN)
#define COIO_TRANSFER_GUARD 1
#else
#define COIO_TRANSFER_GUARD 0
#endif
#endif

#define COIO_VERSION_MAJOR 0
#define COIO_VERSION_MINOR 1
#define COIO_VERSION_PATCH 0
