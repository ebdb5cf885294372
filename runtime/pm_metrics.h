/* pm_metrics.h — contention metrics (-DPM_METRICS): the per-handle-type
 * counters and the hooks generated code calls, which expand to nothing
 * without PM_METRICS. Part of the runtime: include "pm.h", which includes
 * every public header.
 */
#ifndef PM_METRICS_H
#define PM_METRICS_H

#include <stdint.h>
#include <stdio.h>

#include "pm_count.h"
#include "pm_status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------------ */
/* Contention metrics (-DPM_METRICS)                                         */
/*                                                                           */
/* Each generated Managed_N_P has a `pm_metrics Managed_N_P_metrics` when the */
/* build defines PM_METRICS, and each module a `<module>_metrics()` listing   */
/* them. Counters are relaxed atomics: they order nothing, they only count.  */
/* ------------------------------------------------------------------------ */

typedef struct pm_metrics {
    const char *name;                 /* the handle type, e.g. "Managed_Item_ThreadSafe" */
    PM_ATOMIC(uint64_t) acquisitions;    /* borrows a cell granted (read, write, write_shared) */
    PM_ATOMIC(uint64_t) contended;       /* borrows refused by another borrow (EBUSY, EBORROWED) */
    PM_ATOMIC(uint64_t) waits;           /* blocking calls whose first try failed, so they waited */
    PM_ATOMIC(uint64_t) timeouts;        /* blocking calls that ended in PM_ETIMEDOUT */
    PM_ATOMIC(uint64_t) copies_on_write; /* _write calls that copied a shared box */
    PM_ATOMIC(uint64_t) in_place_writes; /* _write calls that wrote a unique box in place */
    PM_ATOMIC(uint64_t) saturations;     /* dups that left the count saturated (box immortal) */
    PM_ATOMIC(uint64_t) reused;          /* boxes made in a reuse token's memory (_new_reuse) */
} pm_metrics;

/* One line: "<name> acquisitions=N contended=N ...". */
void pm_metrics_fprint(FILE *out, const pm_metrics *m);

static inline pm_status pm__metric_borrow(pm_metrics *m, pm_status status) {
    switch (status) {
    case PM_OK: atomic_fetch_add_explicit(&m->acquisitions, 1u, memory_order_relaxed); break;
    case PM_EBUSY:
    case PM_EBORROWED: atomic_fetch_add_explicit(&m->contended, 1u, memory_order_relaxed); break;
    case PM_ETIMEDOUT: atomic_fetch_add_explicit(&m->timeouts, 1u, memory_order_relaxed); break;
    default: break;
    }
    return status;
}

#ifdef PM_METRICS
#define PM_METRIC(m, counter) ((void)atomic_fetch_add_explicit(&(m).counter, 1u, memory_order_relaxed))
/* The status of a borrow attempt, counted. */
#define PM_METRIC_BORROW(m, status) pm__metric_borrow(&(m), (status))
/* A blocking borrow: try first, and count a wait only when that fails. */
#define PM_METRIC_WAIT(m, try_status, wait_status) \
    ((try_status) == PM_OK ? PM_OK : (PM_METRIC(m, waits), (wait_status)))
#define PM_METRIC_SATURATION(m, count) \
    ((count) == PM_COUNT_SATURATED ? PM_METRIC(m, saturations) : (void)0)
/* A type's metrics, for its descriptor (pm_box_type.metrics). */
#define PM_METRICS_REF(m) (&(m))
#else /* off: no code, no data, the arguments are not even evaluated */
#define PM_METRIC(m, counter) ((void)0)
#define PM_METRIC_BORROW(m, status) (status)
#define PM_METRIC_WAIT(m, try_status, wait_status) (wait_status)
#define PM_METRIC_SATURATION(m, count) ((void)0)
#define PM_METRICS_REF(m) NULL
#endif

#ifdef __cplusplus
}
#endif

#endif /* PM_METRICS_H */
