/* sums_support.h — the C type and hooks behind tests/specs/sums.yaml (defined in
 * sums_support.c). */
#ifndef SUMS_SUPPORT_H
#define SUMS_SUPPORT_H

#include "pm.h"

/* Res: a resource whose live copies are counted. */
struct res {
    int id;
};

/* +1 per res_make/res_clone, -1 per res_drop: zero at the end means no leak, no double drop. */
extern PM_ATOMIC(long) res_live;
/* When true, res_clone fails (PM_ECLONE's path) and makes nothing. */
extern PM_ATOMIC(int) res_clone_fails;

struct res res_make(int id);

#endif
