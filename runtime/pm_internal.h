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
