/* pm_internal.h — perceus-mem internals for tests and the runtime's own .c
 * files; NOT included by pm.h and not installed. It holds the test hooks
 * that put a counter or cell at any state (to reach limits without 2^31
 * calls). Not for production use.
 */
#ifndef PM_INTERNAL_H
#define PM_INTERNAL_H

#include <stdint.h>

#include "pm_cell_borrow.h"
#include "pm_count.h"
#include "pm_debug.h"
#include "pm_rwlock.h"
#include "pm_status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------------ */
/* Test hooks                                                                */
/* ------------------------------------------------------------------------ */

/* Test hook: put a counter at any value (e.g. PM_COUNT_MAX) to reach limits
 * without 2^31 calls. Not for production use. */
static inline void pm_count_plain_set_for_test(pm_count_plain *c, uint32_t n) { c->n = n; }
static inline void pm_count_atomic_set_for_test(pm_count_atomic *c, uint32_t n) {
    atomic_store_explicit(&c->n, n, memory_order_relaxed);
}

static inline void pm_cell_borrow_set_for_test(pm_cell_borrow *c, uint32_t state) {
    c->state = state;
}

/* Test hook: set the state word directly (e.g. to PM_RW_MAX_READERS). */
static inline void pm_rwlock_set_for_test(pm_rwlock *l, uint32_t state) {
    atomic_store_explicit(&l->state, state, memory_order_relaxed);
}

#ifdef __cplusplus
}
#endif

#endif /* PM_INTERNAL_H */

/* ------------------------------------------------------------------------ */
/* Store test hooks (tests/c/test_store.c): put a slot's state word at any    */
/* owner count or generation, to reach PM_STORE_OWNERS_MAX and a slot's      */
/* retirement without 2^24 or 2^32 calls. Not for production use. Call them  */
/* only while no other thread uses the store.                                */
/* ------------------------------------------------------------------------ */
#ifndef PM_INTERNAL_STORE_HOOKS
#define PM_INTERNAL_STORE_HOOKS

#include <stdbool.h>

#include "pm_store.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Test hook: the owner bits of slot `index`'s word become `owners` (at most
 * PM_STORE_OWNERS_MAX); generation and borrows are kept. false: no such slot. */
static inline bool pm__store_test_set_owners(pm_store *s, uint32_t index, uint32_t owners) {
    pm_store_slot *slot = pm_store_slot_at(s, index);
    if (slot == NULL || owners > PM_STORE_OWNERS_MAX) {
        return false;
    }
    uint64_t mask = (uint64_t)PM_STORE_OWNERS_MAX * PM_STORE_OWNER;
    uint64_t word = __atomic_load_n(&slot->word, __ATOMIC_RELAXED);
    __atomic_store_n(&slot->word, (word & ~mask) | ((uint64_t)owners * PM_STORE_OWNER),
                     __ATOMIC_RELAXED);
    return true;
}

/* Test hook: the generation of slot `index`'s word becomes `generation`; owners
 * and borrows are kept (a live value's handles then need the new generation).
 * false: no such slot. */
static inline bool pm__store_test_set_generation(pm_store *s, uint32_t index,
                                                 uint32_t generation) {
    pm_store_slot *slot = pm_store_slot_at(s, index);
    if (slot == NULL) {
        return false;
    }
    uint64_t word = __atomic_load_n(&slot->word, __ATOMIC_RELAXED);
    __atomic_store_n(&slot->word, (word & (uint64_t)UINT32_MAX) | ((uint64_t)generation << 32),
                     __ATOMIC_RELAXED);
    return true;
}

#ifdef __cplusplus
}
#endif

#endif /* PM_INTERNAL_STORE_HOOKS */
