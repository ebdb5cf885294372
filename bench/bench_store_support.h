/* bench_store_support.h — the 32-byte value of bench/store.yaml (the same
 * struct v32 as bench/region.c's), copied bytewise. */
#ifndef BENCH_STORE_SUPPORT_H
#define BENCH_STORE_SUPPORT_H

#include <stdint.h>

#include "pm.h"

struct v32 {
    int64_t a, b, c, d;
};

#endif /* BENCH_STORE_SUPPORT_H */
