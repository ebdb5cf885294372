/* pm_count.h — reference counters: plain (one thread) and atomic (shared
 * between threads), both saturating into an immortal "sticky" count instead
 * of wrapping. Part of the runtime: include "pm.h", which includes every
 * public header. Test hooks are in pm_internal.h.
 */
#ifndef PM_COUNT_H
#define PM_COUNT_H

#include <stdbool.h>
#include <stdint.h>

#include "pm_status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------------ */
/* Reference counters                                                        */
/*                                                                           */
/* A count is a u32. 1..PM_COUNT_MAX are live owner counts. Any value above   */
/* PM_COUNT_MAX is *sticky*: the box became immortal when a dup would have    */
/* gone past the limit; it is never decremented and never freed (leaked, never */
/* freed early). Sticky counts are reset to PM_COUNT_STICKY, the middle of the */
/* sticky range, so 2^30 racing increments could not wrap it.                 */
/* ------------------------------------------------------------------------ */

#define PM_COUNT_MAX 0x7fffffffu
#define PM_COUNT_STICKY 0xc0000000u
/* What _refcount reports for an immortal (saturated) box. */
#define PM_COUNT_SATURATED UINT32_MAX

static inline uint32_t pm__count_report(uint32_t n) {
    return n > PM_COUNT_MAX ? PM_COUNT_SATURATED : n;
}

/* --- plain: single-threaded ---------------------------------------------- */
typedef struct pm_count_plain {
    uint32_t n;
} pm_count_plain;

static inline void pm_count_plain_init(pm_count_plain *c) { c->n = 1; }

static inline uint32_t pm_count_plain_get(const pm_count_plain *c) {
    return pm__count_report(c->n);
}

static inline bool pm_count_plain_is_unique(const pm_count_plain *c) { return c->n == 1; }

/* One more owner; at the limit the count turns sticky instead of wrapping. */
static inline void pm_count_plain_inc(pm_count_plain *c) {
    if (PM_LIKELY(c->n < PM_COUNT_MAX)) {
        c->n++;
    } else {
        c->n = PM_COUNT_STICKY;
    }
}

static inline pm_status pm_count_plain_try_inc(pm_count_plain *c) {
    if (PM_UNLIKELY(c->n >= PM_COUNT_MAX)) {
        return PM_EOVERFLOW;
    }
    c->n++;
    return PM_OK;
}

/* One owner fewer; true when the caller was the last and must destroy. */
static inline bool pm_count_plain_dec(pm_count_plain *c) {
    if (c->n == 1) {
        return true;
    }
    if (PM_LIKELY(c->n <= PM_COUNT_MAX)) {
        c->n--;
    }
    return false;
}

/* --- atomic: shared between threads --------------------------------------- */
typedef struct pm_count_atomic {
    PM_ATOMIC(uint32_t) n;
} pm_count_atomic;

static inline void pm_count_atomic_init(pm_count_atomic *c) {
    atomic_init(&c->n, 1u);
}

static inline uint32_t pm_count_atomic_get(const pm_count_atomic *c) {
    /* Acquire: a caller that sees 1 may then touch the value as its owner. */
    return pm__count_report(atomic_load_explicit(&((pm_count_atomic *)c)->n, memory_order_acquire));
}

static inline bool pm_count_atomic_is_unique(const pm_count_atomic *c) {
    /* Acquire pairs with the release decrement of the owners that left, so
     * their writes to the value happen-before ours (Rust's Arc::get_mut). */
    return atomic_load_explicit(&((pm_count_atomic *)c)->n, memory_order_acquire) == 1;
}

/* Out of line (pm.c): re-centres a count that went past PM_COUNT_MAX. */
void pm__count_atomic_saturate(pm_count_atomic *c);

static inline void pm_count_atomic_inc(pm_count_atomic *c) {
    /* Relaxed: a new owner is made from an existing one, which already orders
     * access to the box; nothing is published by the increment itself. */
    uint32_t old = atomic_fetch_add_explicit(&c->n, 1u, memory_order_relaxed);
    if (PM_UNLIKELY(old >= PM_COUNT_MAX)) {
        pm__count_atomic_saturate(c);
    }
}

static inline pm_status pm_count_atomic_try_inc(pm_count_atomic *c) {
    uint32_t n = atomic_load_explicit(&c->n, memory_order_relaxed);
    do {
        if (PM_UNLIKELY(n >= PM_COUNT_MAX)) {
            return PM_EOVERFLOW;
        }
        /* Relaxed for the same reason as pm_count_atomic_inc. */
    } while (!atomic_compare_exchange_weak_explicit(&c->n, &n, n + 1u, memory_order_relaxed,
                                                    memory_order_relaxed));
    return PM_OK;
}

/* One owner fewer; true when the caller was the last and must destroy. */
static inline bool pm_count_atomic_dec(pm_count_atomic *c) {
    /* Fast path: an acquire load that shows 1 proves we are the only owner
     * (nobody else can dup without an owner), so no RMW is needed; acquire
     * orders the other owners' released writes before our destruction. */
    uint32_t n = atomic_load_explicit(&c->n, memory_order_acquire);
    if (n == 1) {
        return true;
    }
    if (PM_UNLIKELY(n > PM_COUNT_MAX)) {
        return false; /* sticky: immortal */
    }
    /* Release: our writes to the value happen-before the last owner's destroy.
     * Act on the RMW's own result, never on the earlier load. */
    if (atomic_fetch_sub_explicit(&c->n, 1u, memory_order_release) == 1) {
        /* Acquire load pairs with every other owner's release decrement (our
         * RMW continues their release sequences). Not a fence: TSan cannot
         * model fences and GCC rejects them under -fsanitize=thread (Rust's
         * Arc does the same under TSan). */
        (void)atomic_load_explicit(&c->n, memory_order_acquire);
        return true;
    }
    return false;
}

#ifdef __cplusplus
}
#endif

#endif /* PM_COUNT_H */
