/* The example's own C types and the hooks the spec names. */
#ifndef ITEMS_SUPPORT_H
#define ITEMS_SUPPORT_H

#include "pm.h"

#include <stddef.h>
#include <stdint.h>

struct item {
    int64_t id;
    int64_t value;
};

struct item_vec {
    size_t len;
    struct item *data;
};

pm_status item_vec_clone(struct item_vec *dst, const struct item_vec *src);
void item_vec_free(struct item_vec *v);

#endif
