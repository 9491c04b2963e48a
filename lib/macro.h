/* SPDX-License-Identifier: GPL-2.0-or-later */
/* macro.h — cleanup attributes and small helpers shared by every module */
#pragma once

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define _cleanup_(f) __attribute__((cleanup(f)))
#define _unused_ __attribute__((unused))
#define _printf_(a, b) __attribute__((format(printf, a, b)))
#define _warn_unused_ __attribute__((warn_unused_result))

#define ELEMENTSOF(x) (sizeof(x) / sizeof((x)[0]))
#define STRINGIFY_(x) #x
#define STRINGIFY(x) STRINGIFY_(x)      /* the value of a macro as a string literal */
#define MIN(a, b) ((a) < (b) ? (a) : (b))
#define MAX(a, b) ((a) > (b) ? (a) : (b))

/* Hand an owned pointer or fd over to someone else: the cleanup of the
 * local then sees NULL / -1 and does nothing. */
#define TAKE_PTR(p) ({ __typeof__(p) _p_ = (p); (p) = NULL; _p_; })
#define TAKE_FD(fd) ({ int _fd_ = (fd); (fd) = -1; _fd_; })

static inline void freep(void *p) { free(*(void **) p); }
#define _cleanup_free_ _cleanup_(freep)

static inline void closep(int *fd) {
        if (*fd >= 0) {
                int saved = errno;
                close(*fd);
                errno = saved;
        }
}
#define _cleanup_close_ _cleanup_(closep)

static inline void fclosep(FILE **f) { if (*f) fclose(*f); }
#define _cleanup_fclose_ _cleanup_(fclosep)

/* Define a cleanup function foop(T **p) for a destructor foo(T *) that
 * accepts NULL. */
#define DEFINE_TRIVIAL_CLEANUP_FUNC(type, func)                 \
        static inline void func##p(type *p) {                   \
                if (*p)                                         \
                        func(*p);                               \
        }

/* errno as a negative return value, never 0 even if a library forgot to set it. */
static inline int negative_errno(void) { return errno > 0 ? -errno : -EIO; }

static inline bool streq_ptr(const char *a, const char *b) {
        if (!a || !b)
                return a == b;
        return strcmp(a, b) == 0;
}
#define UID_INVALID ((uid_t) -1)

static inline void *memdup(const void *p, size_t n) {
        void *q = malloc(n ?: 1);

        return q ? memcpy(q, p, n) : NULL;
}

/* The time on @clock. */
static inline uint64_t now_nsec(clockid_t clock) {
        struct timespec ts;

        (void) clock_gettime(clock, &ts);
        return (uint64_t) ts.tv_sec * 1000000000ULL + (uint64_t) ts.tv_nsec;
}

static inline uint64_t now_usec(clockid_t clock) {
        return now_nsec(clock) / 1000;
}

#define _fallthrough_ __attribute__((__fallthrough__))
#define streq(a, b) (strcmp((a), (b)) == 0)

/* memcpy()/memcmp() with a zero length may still not take NULL (the C
 * standard says so, and UBSan checks it): empty arrays are often NULL. */
static inline void *memcpy_safe(void *dst, const void *src, size_t n) {
        return n ? memcpy(dst, src, n) : dst;
}

static inline int memcmp_safe(const void *a, const void *b, size_t n) {
        return n ? memcmp(a, b, n) : 0;
}
