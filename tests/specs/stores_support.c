/* stores_support.c — the hooks of tests/specs/stores.yaml (stores_support.h). */
#include "stores_support.h"

PM_ATOMIC(long) sobj_drops;
int64_t sobj_log[SOBJ_LOG_CAPACITY];

void sobj_reset_log(void) { atomic_store_explicit(&sobj_drops, 0, memory_order_relaxed); }

pm_status sobj_clone(struct sobj *dst, const struct sobj *src) {
    *dst = *src;
    return PM_OK;
}

void sobj_drop(struct sobj *value) {
    long at = atomic_fetch_add_explicit(&sobj_drops, 1, memory_order_relaxed);
    if (at < SOBJ_LOG_CAPACITY) {
        sobj_log[at] = value->id;
    }
    value->id = -1;
}
