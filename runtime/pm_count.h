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

/* A static initializer of either counter: a count that is immortal from the start,
 * such as the one box every value of a nullary variant shares. A plain count
 * never writes a sticky count, so such a box is never written by its counter. */
#define PM_COUNT_IMMORTAL {PM_COUNT_STICKY}

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

/* One more owner; at the limit the count turns sticky instead of wrapping. A count
 * already sticky is not written (an immortal box may be shared by several threads). */
static inline void pm_count_plain_inc(pm_count_plain *c) {
    if (PM_LIKELY(c->n < PM_COUNT_MAX)) {
        c->n++;
    } else if (c->n == PM_COUNT_MAX) {
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

/* --- plain, for a box with weak references (weak: true) -------------------- */
/* The owner count must really reach 0 (weak references test it), and the weak
 * count (weak references, plus one for all the owners together) says when the
 * memory may go. */

/* A count of 0: a box whose first owner comes later (_new_cyclic). */
static inline void pm_count_plain_init_zero(pm_count_plain *c) { c->n = 0; }

/* One owner fewer, down to 0; true when the caller was the last. */
static inline bool pm_count_plain_release(pm_count_plain *c) {
    if (PM_UNLIKELY(c->n > PM_COUNT_MAX)) {
        return false; /* sticky: immortal */
    }
    return --c->n == 0;
}

/* A weak reference's upgrade: one more owner, unless none is left. */
static inline bool pm_count_plain_upgrade(pm_count_plain *c) {
    if (c->n == 0) {
        return false;
    }
    pm_count_plain_inc(c);
    return true;
}

/* One owner and no weak reference (one thread: nothing can change meanwhile). */
static inline bool pm_count_plain_is_unique_weak(const pm_count_plain *c,
                                                 const pm_count_plain *weak) {
    return c->n == 1 && weak->n == 1;
}

/* The owner count as 1 -> 0 when it is 1 (the value leaves its last owner). */
static inline bool pm_count_plain_retire(pm_count_plain *c) {
    if (c->n != 1) {
        return false;
    }
    c->n = 0;
    return true;
}

/* Weak references besides the owners' one, as a user counts them. */
static inline uint32_t pm_count_plain_weak_report(const pm_count_plain *weak) {
    return weak->n > PM_COUNT_MAX ? PM_COUNT_SATURATED : weak->n - 1u;
}

/* A new weak reference (a downgrade or a dup): saturates like an owner. */
static inline void pm_count_plain_inc_weak(pm_count_plain *weak) { pm_count_plain_inc(weak); }

/* A weak count becomes an owner count: the owners' weak reference is kept. */
static inline void pm_count_plain_publish(pm_count_plain *c) { c->n = 1; }

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

/* --- atomic, for a box with weak references (weak: true) ------------------- */
/* As Rust's Arc: the owner count really reaches 0, an upgrade never brings it
 * back from there, and the weak count is briefly locked (PM_COUNT_LOCKED) by
 * the uniqueness test, so a downgrade cannot slip in between its two loads. */

/* The weak count while is_unique_weak checks the owner count. Unreachable
 * otherwise: a sticky count stays far above it (PM_COUNT_STICKY). */
#define PM_COUNT_LOCKED (PM_COUNT_MAX + 1u)

/* A count of 0: a box whose first owner comes later (_new_cyclic). */
static inline void pm_count_atomic_init_zero(pm_count_atomic *c) { atomic_init(&c->n, 0u); }

/* One owner fewer, down to 0; true when the caller was the last. Always an
 * RMW: an owner count seen as 1 may be raised by an upgrade meanwhile. */
static inline bool pm_count_atomic_release(pm_count_atomic *c) {
    /* Relaxed: a hint only, a sticky count never changes. */
    if (PM_UNLIKELY(atomic_load_explicit(&c->n, memory_order_relaxed) > PM_COUNT_MAX)) {
        return false;
    }
    /* Release: our writes happen-before the destroy (as pm_count_atomic_dec). */
    if (atomic_fetch_sub_explicit(&c->n, 1u, memory_order_release) == 1) {
        /* Acquire: pairs with the other owners' release decrements. */
        (void)atomic_load_explicit(&c->n, memory_order_acquire);
        return true;
    }
    return false;
}

/* A weak reference's upgrade: one more owner, never from 0 (the value is gone). */
static inline bool pm_count_atomic_upgrade(pm_count_atomic *c) {
    uint32_t n = atomic_load_explicit(&c->n, memory_order_relaxed);
    do {
        if (n == 0) {
            return false;
        }
        if (PM_UNLIKELY(n > PM_COUNT_MAX)) {
            return true; /* sticky: immortal, one more owner changes nothing */
        }
        /* Acquire: pairs with _new_cyclic's release of the first owner, so the
         * value init filled in happens-before our reads. */
    } while (!atomic_compare_exchange_weak_explicit(&c->n, &n, n == PM_COUNT_MAX ? PM_COUNT_STICKY
                                                                                : n + 1u,
                                                    memory_order_acquire, memory_order_relaxed));
    return true;
}

/* One owner and no weak reference. The weak count is locked (1 -> LOCKED)
 * while the owner count is read, so no downgrade of another owner can happen
 * in between (Rust's Arc::is_unique). */
static inline bool pm_count_atomic_is_unique_weak(pm_count_atomic *c, pm_count_atomic *weak) {
    uint32_t one = 1u;
    /* Acquire: pairs with the release of Weak drops, so an upgrade made before
     * one happens-before our load of the owner count. */
    if (!atomic_compare_exchange_strong_explicit(&weak->n, &one, PM_COUNT_LOCKED,
                                                 memory_order_acquire, memory_order_relaxed)) {
        return false;
    }
    /* Acquire: the other owners' release decrements happen-before our writes. */
    bool unique = atomic_load_explicit(&c->n, memory_order_acquire) == 1u;
    /* Release: unlocks; a downgrade spinning on the lock goes on from here. */
    atomic_store_explicit(&weak->n, 1u, memory_order_release);
    return unique;
}

/* The owner count 1 -> 0, when it is 1: from then on no upgrade succeeds and
 * the caller alone has the value (Arc::make_mut's first step). */
static inline bool pm_count_atomic_retire(pm_count_atomic *c) {
    uint32_t one = 1u;
    /* Acquire: the other owners' and upgraders' releases happen-before. */
    return atomic_compare_exchange_strong_explicit(&c->n, &one, 0u, memory_order_acquire,
                                                   memory_order_relaxed);
}

/* Weak references besides the owners' one, as a user counts them. */
static inline uint32_t pm_count_atomic_weak_report(const pm_count_atomic *weak) {
    /* Acquire: as pm_count_atomic_get. */
    uint32_t n = atomic_load_explicit(&((pm_count_atomic *)weak)->n, memory_order_acquire);
    if (n == PM_COUNT_LOCKED) {
        return 0u; /* locked only while it is 1: no weak reference */
    }
    return n > PM_COUNT_MAX ? PM_COUNT_SATURATED : n - 1u;
}

/* Out of line (pm.c): waits out a uniqueness test's lock of a weak count. */
uint32_t pm__count_atomic_wait_unlocked(pm_count_atomic *weak);

/* A new weak reference (a downgrade or a dup): saturates like an owner, and
 * waits out the brief lock of a uniqueness test. */
static inline void pm_count_atomic_inc_weak(pm_count_atomic *weak) {
    uint32_t n = atomic_load_explicit(&weak->n, memory_order_relaxed);
    do {
        if (PM_UNLIKELY(n == PM_COUNT_LOCKED)) {
            n = pm__count_atomic_wait_unlocked(weak);
        }
        if (PM_UNLIKELY(n > PM_COUNT_MAX)) {
            return; /* sticky: the memory is never freed */
        }
        /* Acquire: pairs with the unlock of is_unique_weak (Rust's downgrade). */
    } while (!atomic_compare_exchange_weak_explicit(&weak->n, &n, n == PM_COUNT_MAX ? PM_COUNT_STICKY
                                                                                   : n + 1u,
                                                    memory_order_acquire, memory_order_relaxed));
}

/* A weak count becomes an owner count (_new_cyclic): the first owner. */
static inline void pm_count_atomic_publish(pm_count_atomic *c) {
    /* Release: the value init wrote happens-before an upgrade's acquire. */
    atomic_store_explicit(&c->n, 1u, memory_order_release);
}

#ifdef __cplusplus
}
#endif

#endif /* PM_COUNT_H */
