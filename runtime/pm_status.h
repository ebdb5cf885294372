/* pm_status.h — the perceus-mem runtime's foundation: version, compiler
 * attribute macros, status codes, and the monotonic clock the _wait forms
 * measure deadlines with. Every other runtime header includes this one.
 * Part of the runtime: include "pm.h", which includes every public header.
 */
#ifndef PM_STATUS_H
#define PM_STATUS_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Runtime version. Generated headers check PM_VERSION_MAJOR/MINOR with #error. */
#define PM_VERSION_MAJOR 0
#define PM_VERSION_MINOR 1
#define PM_VERSION_PATCH 0

#if defined(__GNUC__) || defined(__clang__)
#define PM_LIKELY(x) __builtin_expect(!!(x), 1)
#define PM_UNLIKELY(x) __builtin_expect(!!(x), 0)
#define PM_NOINLINE __attribute__((noinline))
#define PM_ALWAYS_INLINE inline __attribute__((always_inline))
#define PM_COLD __attribute__((cold, noinline))
#define PM_CLEANUP(fn) __attribute__((cleanup(fn)))
#else
#define PM_LIKELY(x) (x)
#define PM_UNLIKELY(x) (x)
#define PM_NOINLINE
#define PM_COLD
#define PM_ALWAYS_INLINE inline
#endif

/* ------------------------------------------------------------------------ */
/* Status codes                                                              */
/* ------------------------------------------------------------------------ */

typedef enum pm_status {
    PM_OK = 0,
    PM_EBORROWED, /* single-threaded cell already borrowed the other way */
    PM_EBUSY,     /* lock held (or a writer waits); try again */
    PM_ETIMEDOUT, /* a blocking form reached its deadline */
    PM_EDEADLK,   /* this thread would wait on a lock it holds (PM_DEBUG) */
    PM_ENOMEM,    /* allocation failed */
    PM_ECLONE,    /* the type's clone hook failed */
    PM_EOVERFLOW, /* a count (owners, readers) is at its limit */
    PM_EINVAL,    /* empty handle or bad argument */
    PM_EGONE,     /* the value no longer exists (a weak reference, a stale store handle) */
    PM_ESHARED    /* the call needs the only owner, and there are others */
} pm_status;

#define PM_STATUS_COUNT 11

/* "PM_OK", "PM_EBUSY", ...; "PM_E?" for a value outside the enum. */
const char *pm_status_str(pm_status status);

/* ------------------------------------------------------------------------ */
/* Time (pm_rwlock.c)                                                        */
/* ------------------------------------------------------------------------ */

/* Timeout meaning "wait as long as it takes" for the _wait forms. */
#define PM_FOREVER UINT64_MAX

/* Absolute CLOCK_MONOTONIC deadline timeout_ns from now (PM_FOREVER stays). */
uint64_t pm_deadline_after(uint64_t timeout_ns);
uint64_t pm_monotonic_ns(void);

#ifdef __cplusplus
}
#endif

#endif /* PM_STATUS_H */
