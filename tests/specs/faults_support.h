/* faults_support.h — the C type and hooks behind tests/specs/faults.yaml. */
#ifndef FAULTS_SUPPORT_H
#define FAULTS_SUPPORT_H

#include <stddef.h>

#include "pm.h"

enum { PARTS_MAX = 4 };

/* Up to PARTS_MAX strings, each in its own pm_alloc'd block. */
struct parts {
    int n;
    char *part[PARTS_MAX];
    size_t size[PARTS_MAX];
};

/* Live part blocks (+1 per block made, -1 per block freed). */
extern _Atomic long parts_live;
/* When >= 0, parts_clone fails with PM_EINVAL (reported as PM_ECLONE) after
 * copying this many parts, freeing what it made. -1: never. */
extern _Atomic int parts_fail_after;

/* A value of n parts "p0", "p1", ...; on PM_ENOMEM nothing is left allocated. */
pm_status parts_make(struct parts *out, int n);
/* Deep copy; on any failure dst holds nothing and nothing leaks. */
pm_status parts_clone(struct parts *dst, const struct parts *src);
void parts_drop(struct parts *value);
/* True if v holds n parts "p0".."p<n-1>". */
int parts_intact(const struct parts *v, int n);

#endif
