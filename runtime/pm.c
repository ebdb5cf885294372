/* pm.c — status names, counter saturation and weak-count locks, the borrow
 * cell's uncommon read releases, the metrics printout. */
#define _POSIX_C_SOURCE 200809L /* sched_yield() */
#include "pm.h"

#include <sched.h>
#include <stdlib.h>

const char *pm_status_str(pm_status status) {
    switch (status) {
    case PM_OK: return "PM_OK";
    case PM_EBORROWED: return "PM_EBORROWED";
    case PM_EBUSY: return "PM_EBUSY";
    case PM_ETIMEDOUT: return "PM_ETIMEDOUT";
    case PM_EDEADLK: return "PM_EDEADLK";
    case PM_ENOMEM: return "PM_ENOMEM";
    case PM_ECLONE: return "PM_ECLONE";
    case PM_EOVERFLOW: return "PM_EOVERFLOW";
    case PM_EINVAL: return "PM_EINVAL";
    case PM_EGONE: return "PM_EGONE";
    case PM_ESHARED: return "PM_ESHARED";
    }
    return "PM_E?";
}

void pm__count_atomic_saturate(pm_count_atomic *c) {
    /* Relaxed: an immortal box is never destroyed, so nothing to order; the
     * store re-centres the count in the sticky range so it cannot wrap. */
    atomic_store_explicit(&c->n, PM_COUNT_STICKY, memory_order_relaxed);
}

bool pm__borrow_release_read_cold(pm_cell_borrow *c, uint32_t left) {
    uint32_t was = left + 1u;
    if (pm__borrow_is_free(was) || pm__borrow_is_writing(was)) {
        c->state = was; /* no read borrow to end: the cell as it was */
        PM__DEBUG_MISMATCH(c, PM_LOCK_READ);
        return false;
    }
    return pm__borrow_orphan_ended(left); /* the last reader out destroys the box */
}

uint32_t pm__count_atomic_wait_unlocked(pm_count_atomic *weak) {
    /* The lock is held for two loads by a thread that is running (or was
     * preempted right there): yield until it is gone, never sleep on it. */
    uint32_t n;
    /* Relaxed: the caller's CAS acquires. */
    while ((n = atomic_load_explicit(&weak->n, memory_order_relaxed)) == PM_COUNT_LOCKED) {
        sched_yield();
    }
    return n;
}

void pm_metrics_fprint(FILE *out, const pm_metrics *m) {
    /* Relaxed loads: a snapshot for people, not a synchronization point. */
    fprintf(out,
            "%s acquisitions=%llu contended=%llu waits=%llu timeouts=%llu copies_on_write=%llu "
            "in_place_writes=%llu saturations=%llu reused=%llu\n",
            m->name,
            (unsigned long long)atomic_load_explicit(&m->acquisitions, memory_order_relaxed),
            (unsigned long long)atomic_load_explicit(&m->contended, memory_order_relaxed),
            (unsigned long long)atomic_load_explicit(&m->waits, memory_order_relaxed),
            (unsigned long long)atomic_load_explicit(&m->timeouts, memory_order_relaxed),
            (unsigned long long)atomic_load_explicit(&m->copies_on_write, memory_order_relaxed),
            (unsigned long long)atomic_load_explicit(&m->in_place_writes, memory_order_relaxed),
            (unsigned long long)atomic_load_explicit(&m->saturations, memory_order_relaxed),
            (unsigned long long)atomic_load_explicit(&m->reused, memory_order_relaxed));
}
