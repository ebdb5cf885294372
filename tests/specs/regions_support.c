/* regions_support.c — the hooks of tests/specs/regions.yaml (regions_support.h). */
#include "regions_support.h"

PM_ATOMIC(long) robj_drops;
int64_t robj_log[ROBJ_LOG_CAPACITY];

void robj_reset_log(void) { atomic_store_explicit(&robj_drops, 0, memory_order_relaxed); }

pm_status robj_clone(struct robj *dst, const struct robj *src) {
    *dst = *src;
    return PM_OK;
}

void robj_drop(struct robj *value) {
    long at = atomic_fetch_add_explicit(&robj_drops, 1, memory_order_relaxed);
    if (at < ROBJ_LOG_CAPACITY) {
        robj_log[at] = value->id;
    }
    value->id = -1;
}
