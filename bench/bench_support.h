/* bench_support.h — the value type of the benchmark (bench/bench.yaml). */
#ifndef BENCH_SUPPORT_H
#define BENCH_SUPPORT_H

#include <stdint.h>

/* 32 bytes: the value copied on write and read by _load. */
struct bench_val {
    int64_t a, b, c, d;
};

#endif /* BENCH_SUPPORT_H */
