/* all_policies_support.c: the Blob hooks and counters that
 * tests/specs/all_policies.yaml names (declared in all_policies_support.h). */
#include "all_policies_support.h"

#include <stdlib.h>
#include <string.h>

_Atomic long blob_live;
_Atomic long blob_clone_calls;
_Atomic int blob_clone_fail = PM_OK;

struct blob blob_make(const char *text) {
    struct blob b = {NULL, 0};
    size_t len = strlen(text);
    b.data = malloc(len + 1);
    if (b.data != NULL) {
        memcpy(b.data, text, len + 1);
        b.len = len;
        blob_live++;
    }
    return b;
}

pm_status blob_clone(struct blob *dst, const struct blob *src) {
    blob_clone_calls++;
    if (blob_clone_fail != PM_OK) {
        return (pm_status)blob_clone_fail;
    }
    dst->data = malloc(src->len + 1);
    if (dst->data == NULL) {
        return PM_ENOMEM;
    }
    memcpy(dst->data, src->data, src->len + 1);
    dst->len = src->len;
    blob_live++;
    return PM_OK;
}

void blob_drop(struct blob *value) {
    if (value->data != NULL) {
        blob_live--;
    }
    free(value->data);
    value->data = NULL;
    value->len = 0;
}
