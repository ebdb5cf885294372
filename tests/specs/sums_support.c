/* sums_support.c — the hooks of tests/specs/sums.yaml's Res. */
#include "sums.h"

PM_ATOMIC(long) res_live;
PM_ATOMIC(int) res_clone_fails;

struct res res_make(int id) {
    res_live++;
    struct res r = {id};
    return r;
}

pm_status res_clone(struct res *dst, const struct res *src) {
    if (res_clone_fails) {
        return PM_EINVAL; /* reported as PM_ECLONE */
    }
    *dst = res_make(src->id);
    return PM_OK;
}

void res_drop(struct res *value) {
    res_live--;
    value->id = -1;
}
