/* pm_internal.h — perceus-mem internals for tests and the runtime's own .c
 * files; NOT included by pm.h and not installed. It holds the test hooks
 * that put a counter or cell at any state (to reach limits without 2^31
 * calls), and the pm__debug_* declarations that only the runtime's .c files
 * need (without PM_DEBUG; with it, pm_debug.h declares them for the inline
 * lock paths). Not for production use.
 */
#ifndef PM_INTERNAL_H
#define PM_INTERNAL_H

#include <stdatomic.h>
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

/* ------------------------------------------------------------------------ */
/* PM_DEBUG bookkeeping (pm_rwlock.c): which locks each thread holds, and   */
/* the order in which any two locks were ever taken together. Defined in    */
/* every build; only PM_DEBUG builds call them. Under PM_DEBUG pm_debug.h   */
/* declares them (the inline lock paths call them), so they are declared    */
/* here only otherwise: once in either build, and each build checks its     */
/* declarations against the definitions in pm_rwlock.c.                     */
/* ------------------------------------------------------------------------ */

#ifndef PM_DEBUG
/* `lock` taken for `mode` by this thread; checks the order against every lock it holds. */
void pm__debug_note_acquire(const void *lock, const char *name, enum pm_lock_mode mode);
void pm__debug_note_release(const void *lock, enum pm_lock_mode mode);
/* `lock` is going away (its address may be reused): drop its recorded pairs. */
void pm__debug_forget_lock(const void *lock);
/* `lock` was named after this thread took it: rename its held entries. */
void pm__debug_rename(const void *lock, const char *name);
/* PM_EDEADLK if waiting for `mode` on `lock` could never end for this thread. */
pm_status pm__debug_check_wait(const void *lock, enum pm_lock_mode mode);
#endif

#ifdef __cplusplus
}
#endif

#endif /* PM_INTERNAL_H */
