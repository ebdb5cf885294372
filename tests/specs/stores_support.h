/* stores_support.h — the C types and hooks behind tests/specs/stores.yaml. */
#ifndef STORES_SUPPORT_H
#define STORES_SUPPORT_H

#include <stdint.h>

#include "pm.h"

/* Obj: an id; its drop counts, logs the id and poisons it, so a test sees which
 * values were dropped, how often, and that nobody reads a dropped one. */
struct sobj {
    int64_t id;
};

#define SOBJ_LOG_CAPACITY 65536
extern PM_ATOMIC(long) sobj_drops;         /* sobj_drop calls in all */
extern int64_t sobj_log[SOBJ_LOG_CAPACITY]; /* the ids, in drop order (the first ones) */

void sobj_reset_log(void);
pm_status sobj_clone(struct sobj *dst, const struct sobj *src);
void sobj_drop(struct sobj *value);

/* Wide: aligned to 64 bytes (as C and as C++). */
#ifdef __cplusplus
#define SWIDE_ALIGN alignas(64)
#else
#define SWIDE_ALIGN _Alignas(64)
#endif
struct swide {
    SWIDE_ALIGN int64_t lanes[4];
};

#endif /* STORES_SUPPORT_H */
