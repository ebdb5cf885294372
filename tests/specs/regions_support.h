/* regions_support.h — the C types and hooks behind tests/specs/regions.yaml. */
#ifndef REGIONS_SUPPORT_H
#define REGIONS_SUPPORT_H

#include <stdint.h>

#include "pm.h"

/* Obj: an id; its drop logs the id (and counts), so a test sees which values were
 * dropped, how often and in which order. */
struct robj {
    int64_t id;
};

#define ROBJ_LOG_CAPACITY 65536
extern PM_ATOMIC(long) robj_drops;        /* robj_drop calls in all */
extern int64_t robj_log[ROBJ_LOG_CAPACITY]; /* the ids, in drop order (the first ones) */

void robj_reset_log(void);
pm_status robj_clone(struct robj *dst, const struct robj *src);
void robj_drop(struct robj *value);

#endif /* REGIONS_SUPPORT_H */
