/* weak_support.h — the C types and hooks behind tests/specs/weak.yaml. */
#ifndef WEAK_SUPPORT_H
#define WEAK_SUPPORT_H

#include <stdint.h>

#include "pm.h"

/* Obj: owns a malloc'd payload; clone copies it, drop frees it. */
struct obj {
    int64_t *payload;
};

/* Live payloads: +1 per obj_make/obj_clone, -1 per obj_drop (0 at the end:
 * every value dropped exactly once). */
extern PM_ATOMIC(long) obj_live;
/* When not PM_OK, obj_clone fails with it and allocates nothing. */
extern PM_ATOMIC(int) obj_clone_fail;

struct obj obj_make(int64_t value);
pm_status obj_clone(struct obj *dst, const struct obj *src);
void obj_drop(struct obj *value);

#endif /* WEAK_SUPPORT_H */
