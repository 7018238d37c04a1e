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

// Symmetric transfer (`await_suspend` returning a handle) is a tail call in Clang at every
// optimisation level, but in GCC only where it optimises sibling calls (-O2, -Os) and no
// sanitizer instruments function exits: at -O0, -O1, -Og, under ASan or TSan every transfer
// nests a native frame, and a long loop of synchronously completing awaits overflows the
// stack. The transfer guard measures how far the stack has grown within the current loop
// step and, past a limit, bounces the next transfer through the ready queue so the native
// stack unwinds. Where transfers are tail calls the stack does not grow and the guard never
// fires, but the check costs about 2 ns per await, so it is off for Clang, which always
// tail-calls (checked at -O0, -O1, -O2 and under ASan, UBSan and TSan, clang 14 and 19).
// Override with -DCOIO_TRANSFER_GUARD=0 or 1.
#ifndef COIO_TRANSFER_GUARD
#if defined(__clang__)
#define COIO_TRANSFER_GUARD 0
#else
#define COIO_TRANSFER_GUARD 1
#endif
#endif

// For the few tiny functions on every await's path that GCC otherwise leaves as calls
// (measured with callgrind on await_direct).
#if defined(__GNUC__) || defined(__clang__)
#define COIO_ALWAYS_INLINE [[gnu::always_inline]] inline
#define COIO_COLD [[gnu::cold, gnu::noinline]]
#else
#define COIO_ALWAYS_INLINE inline
#define COIO_COLD
#endif

#define COIO_VERSION_MAJOR 0
#define COIO_VERSION_MINOR 1
#define COIO_VERSION_PATCH 0
