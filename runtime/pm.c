/* pm.c — status names, counter saturation, the metrics printout. */
#include "pm.h"

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

void pm_metrics_fprint(FILE *out, const pm_metrics *m) {
    /* Relaxed loads: a snapshot for people, not a synchronization point. */
    fprintf(out,
            "%s acquisitions=%llu contended=%llu waits=%llu timeouts=%llu copies_on_write=%llu "
            "in_place_writes=%llu saturations=%llu\n",
            m->name,
            (unsigned long long)atomic_load_explicit(&m->acquisitions, memory_order_relaxed),
            (unsigned long long)atomic_load_explicit(&m->contended, memory_order_relaxed),
            (unsigned long long)atomic_load_explicit(&m->waits, memory_order_relaxed),
            (unsigned long long)atomic_load_explicit(&m->timeouts, memory_order_relaxed),
            (unsigned long long)atomic_load_explicit(&m->copies_on_write, memory_order_relaxed),
            (unsigned long long)atomic_load_explicit(&m->in_place_writes, memory_order_relaxed),
            (unsigned long long)atomic_load_explicit(&m->saturations, memory_order_relaxed));
}
