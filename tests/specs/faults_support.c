/* faults_support.c: the Parts hooks that tests/specs/faults.yaml names. */
#include "faults_support.h"

#include <stdio.h>
#include <string.h>

_Atomic long parts_live;
_Atomic int parts_fail_after = -1;

static char *part_copy(const char *text, size_t *size) {
    *size = strlen(text) + 1;
    char *p = pm_alloc(*size);
    if (p != NULL) {
        memcpy(p, text, *size);
        parts_live++;
    }
    return p;
}

static void parts_free_first(struct parts *v, int n) {
    for (int i = 0; i < n; i++) {
        pm_free(v->part[i], v->size[i]);
        parts_live--;
        v->part[i] = NULL;
    }
    v->n = 0;
}

pm_status parts_make(struct parts *out, int n) {
    struct parts v = {0};
    for (int i = 0; i < n && i < PARTS_MAX; i++) {
        char text[16];
        snprintf(text, sizeof text, "p%d", i);
        v.part[i] = part_copy(text, &v.size[i]);
        if (v.part[i] == NULL) {
            parts_free_first(&v, i);
            return PM_ENOMEM;
        }
        v.n = i + 1;
    }
    *out = v;
    return PM_OK;
}

pm_status parts_clone(struct parts *dst, const struct parts *src) {
    struct parts v = {0};
    for (int i = 0; i < src->n; i++) {
        if (parts_fail_after == i) {
            parts_free_first(&v, i);
            return PM_EINVAL; /* not PM_ENOMEM: the generated code reports PM_ECLONE */
        }
        v.part[i] = part_copy(src->part[i], &v.size[i]);
        if (v.part[i] == NULL) {
            parts_free_first(&v, i);
            return PM_ENOMEM;
        }
        v.n = i + 1;
    }
    *dst = v;
    return PM_OK;
}

void parts_drop(struct parts *value) { parts_free_first(value, value->n); }

int parts_intact(const struct parts *v, int n) {
    if (v->n != n) {
        return 0;
    }
    for (int i = 0; i < n; i++) {
        char text[16];
        snprintf(text, sizeof text, "p%d", i);
        if (v->part[i] == NULL || strcmp(v->part[i], text) != 0) {
            return 0;
        }
    }
    return 1;
}
