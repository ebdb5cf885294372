/* pm_status.h — the perceus-mem runtime's foundation: version, compiler
 * attribute macros, the atomics' spelling in C and C++ (PM_ATOMIC), status
 * codes, and the monotonic clock the _wait forms measure deadlines with.
 * Every other runtime header includes this one.
 * Part of the runtime: include "pm.h", which includes every public header.
 */
#ifndef PM_STATUS_H
#define PM_STATUS_H

#include <stdint.h>

/* ------------------------------------------------------------------------ */
/* Atomics: C11 <stdatomic.h> in C, and the same spelling in C++, so that    */
/* pm.h and every generated header compile in a C++ translation unit         */
/* unchanged (g++ and clang++, C++17 and later).                             */
/*                                                                           */
/* Every atomic object is declared PM_ATOMIC(T): `_Atomic(T)` in C. In C++ it */
/* is pm_atomic<T>, a trivial struct of one T with _Atomic(T)'s size and      */
/* alignment, accessed only through atomic_init, atomic_load_explicit,        */
/* atomic_store_explicit, atomic_fetch_add_explicit, atomic_fetch_sub_explicit */
/* and atomic_compare_exchange_{weak,strong}_explicit overloads defined here  */
/* on the GCC/Clang __atomic builtins (what C11 atomics compile to), with the */
/* memory orders of <atomic>. Not std::atomic<T>: it has constructors, and    */
/* g++ refuses a member with a constructor in the anonymous struct that a box */
/* holding handles overlays with its destroy-list link (pm_box.h); and the   */
/* layout must stay the one the C-compiled runtime and descriptors see.      */
/* Outside extern "C": <atomic> and the templates need C++ linkage.          */
/* ------------------------------------------------------------------------ */

#ifndef __cplusplus

#include <stdatomic.h>
#define PM_ATOMIC(T) _Atomic(T)

#else /* C++ */

#if !defined(__GNUC__) && !defined(__clang__)
#error "perceus-mem from C++ needs GCC or Clang (the __atomic builtins)"
#endif

#include <atomic> /* std::memory_order */

template <class T> struct pm_atomic {
    alignas(sizeof(T)) T value; /* as _Atomic(T): aligned to its size (4 or 8 here) */
};
#define PM_ATOMIC(T) pm_atomic<T>

/* T, not deduced from a value argument: `atomic_init(&size_t_word, 0u)` as in C. */
template <class T> struct pm_atomic_value {
    typedef T type;
};

using std::memory_order_acq_rel;
using std::memory_order_acquire;
using std::memory_order_relaxed;
using std::memory_order_release;
using std::memory_order_seq_cst;

/* std::memory_order's values are the __ATOMIC_* constants (GCC's and Clang's
 * standard libraries define them so). */
#define PM__ORDER(order) static_cast<int>(order)

template <class T>
inline void atomic_init(pm_atomic<T> *a, typename pm_atomic_value<T>::type value) {
    a->value = value;
}

template <class T> inline T atomic_load_explicit(const pm_atomic<T> *a, std::memory_order order) {
    return __atomic_load_n(&a->value, PM__ORDER(order));
}

template <class T>
inline void atomic_store_explicit(pm_atomic<T> *a, typename pm_atomic_value<T>::type value,
                                  std::memory_order order) {
    __atomic_store_n(&a->value, value, PM__ORDER(order));
}

template <class T>
inline T atomic_fetch_add_explicit(pm_atomic<T> *a, typename pm_atomic_value<T>::type operand,
                                   std::memory_order order) {
    return __atomic_fetch_add(&a->value, operand, PM__ORDER(order));
}

template <class T>
inline T atomic_fetch_sub_explicit(pm_atomic<T> *a, typename pm_atomic_value<T>::type operand,
                                   std::memory_order order) {
    return __atomic_fetch_sub(&a->value, operand, PM__ORDER(order));
}

template <class T>
inline bool atomic_compare_exchange_weak_explicit(pm_atomic<T> *a, T *expected,
                                                  typename pm_atomic_value<T>::type desired,
                                                  std::memory_order success,
                                                  std::memory_order failure) {
    return __atomic_compare_exchange_n(&a->value, expected, desired, true, PM__ORDER(success),
                                       PM__ORDER(failure));
}

template <class T>
inline bool atomic_compare_exchange_strong_explicit(pm_atomic<T> *a, T *expected,
                                                    typename pm_atomic_value<T>::type desired,
                                                    std::memory_order success,
                                                    std::memory_order failure) {
    return __atomic_compare_exchange_n(&a->value, expected, desired, false, PM__ORDER(success),
                                       PM__ORDER(failure));
}

#endif /* __cplusplus */


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

/* The alignment of type T, in C and in C++. */
#ifdef __cplusplus
#define PM_ALIGNOF(T) alignof(T)
#else
#define PM_ALIGNOF(T) _Alignof(T)
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
