/* bench_region_support.h — the 32-byte value of bench/region.yaml, and its
 * hooks (static inline: the benchmark is one translation unit besides the
 * generated source, which sees the same definitions). */
#ifndef BENCH_REGION_SUPPORT_H
#define BENCH_REGION_SUPPORT_H

#include <stdint.h>

#include "pm.h"

struct v32 {
    int64_t a, b, c, d;
};

static inline pm_status v32_clone(struct v32 *dst, const struct v32 *src) {
    *dst = *src;
    return PM_OK;
}

static inline void v32_drop(struct v32 *value) { value->d = 0; }

#endif /* BENCH_REGION_SUPPORT_H */
