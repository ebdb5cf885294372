/* weak_support.c — the hooks of tests/specs/weak.yaml (weak_support.h). */
#include "weak_support.h"

#include <stdlib.h>

PM_ATOMIC(long) obj_live;
PM_ATOMIC(int) obj_clone_fail;

struct obj obj_make(int64_t value) {
    struct obj o = {malloc(sizeof(int64_t))};
    if (o.payload != NULL) {
        *o.payload = value;
        obj_live++;
    }
    return o;
}

pm_status obj_clone(struct obj *dst, const struct obj *src) {
    if (obj_clone_fail != PM_OK) {
        return (pm_status)obj_clone_fail;
    }
    *dst = obj_make(*src->payload);
    return dst->payload == NULL ? PM_ENOMEM : PM_OK;
}

void obj_drop(struct obj *value) {
    if (value->payload != NULL) {
        free(value->payload);
        value->payload = NULL;
        obj_live--;
    }
}
