/* all_policies_support.h — the C types and hooks behind tests/specs/all_policies.yaml.
 * Its atomics are PM_ATOMIC (pm_atomic.h) so that C++ tests can include it too.
 *
 * The hooks and counters are defined in all_policies_support.c.
 */
#ifndef ALL_POLICIES_SUPPORT_H
#define ALL_POLICIES_SUPPORT_H

#include <stddef.h>
#include <stdint.h>

#include "pm.h"

/* Point: copy: trivial. */
struct point {
    int32_t x;
    int32_t y;
};

/* Wide: copy: trivial, larger than PM_SNAP_MAX_BYTES (no _load snapshot). */
struct wide {
    int64_t v[12];
};

/* Blob: owns a malloc'd buffer; clone deep-copies it, drop frees it. */
struct blob {
    char *data;
    size_t len;
};

/* Live blob buffers: +1 per successful blob_make/blob_clone, -1 per blob_drop.
 * Zero at the end of a program means no leak and no double drop (a double
 * drop drives it negative, and the sanitizers see the double free). */
extern PM_ATOMIC(long) blob_live;
/* Calls of blob_clone, successful or not. */
extern PM_ATOMIC(long) blob_clone_calls;
/* When not PM_OK, blob_clone fails with this status and allocates nothing. */
extern PM_ATOMIC(int) blob_clone_fail;

/* A fresh blob holding a copy of text (len 0 and data NULL if malloc fails). */
struct blob blob_make(const char *text);
pm_status blob_clone(struct blob *dst, const struct blob *src);
void blob_drop(struct blob *value);

#endif /* ALL_POLICIES_SUPPORT_H */
