/* region.c — what allocating 32-byte values costs in a region (Region_N_P_alloc,
 * pm_region.h) against malloc/free, in ns per value. Prints numbers; asserts
 * nothing about time.
 *
 * Each round allocates N values (N = 100,000), touches each, then frees them all:
 *   malloc        malloc each, free each at the end of the round;
 *   malloc-pair   malloc and free at once (malloc's best case: one cached block);
 *   region        Region_V32_Local_alloc into a local region, pm_region_reset at the end
 *                 (after the first round the kept chunk is reused: no pm_alloc at all
 *                 once it is large enough);
 *   region-drop   the same type with a drop hook (a 32-byte record per value, the hooks
 *                 run newest first at reset);
 *   region-shared Region_V32_Local_alloc into a shared region, one thread (a fetch_add
 *                 per value).
 * ROUNDS rounds; one line per case:
 *
 *   region  CASE  values  median_ns_per_value  min  max
 *
 * Usage: bench_region [--quick]   (--quick: 1,000 values, 3 rounds: proves it runs)
 */
#define _POSIX_C_SOURCE 200809L

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_region_types.h"
#include "bench_time.h"

#define ROUNDS 21

static size_t values = 100000;
static int rounds = ROUNDS;
static volatile int64_t sink; /* the values are used */

static void report(const char *what, double *ns, int n) {
    double mid = median(ns, n);
    qsort(ns, (size_t)n, sizeof *ns, cmp_double);
    printf("region\t%s\t%zu\t%.2f\t%.2f\t%.2f\n", what, values, mid, ns[0], ns[n - 1]);
    fflush(stdout);
}

static void bench_malloc(void) {
    double ns[ROUNDS];
    struct v32 **ptrs = malloc(values * sizeof *ptrs);
    if (ptrs == NULL) {
        return;
    }
    for (int k = 0; k < rounds; k++) {
        uint64_t t0 = now_ns();
        int64_t sum = 0;
        for (size_t i = 0; i < values; i++) {
            struct v32 *p = malloc(sizeof *p);
            if (p == NULL) {
                abort();
            }
            *p = (struct v32){(int64_t)i, 1, 2, 3};
            ptrs[i] = p;
            sum += p->a;
        }
        for (size_t i = 0; i < values; i++) {
            free(ptrs[i]);
        }
        ns[k] = (double)(now_ns() - t0) / (double)values;
        sink = sum;
    }
    free(ptrs);
    report("malloc", ns, rounds);
}

static void bench_malloc_pair(void) {
    double ns[ROUNDS];
    for (int k = 0; k < rounds; k++) {
        uint64_t t0 = now_ns();
        int64_t sum = 0;
        for (size_t i = 0; i < values; i++) {
            struct v32 *volatile p = malloc(sizeof(struct v32));
            if (p == NULL) {
                abort();
            }
            *p = (struct v32){(int64_t)i, 1, 2, 3};
            sum += p->a;
            free(p);
        }
        ns[k] = (double)(now_ns() - t0) / (double)values;
        sink = sum;
    }
    report("malloc-pair", ns, rounds);
}

#define REGION_CASE(NAME, TYPE, SHARED)                                                  \
    static void bench_##NAME(void) {                                                     \
        double ns[ROUNDS];                                                               \
        pm_region r;                                                                     \
        if (pm_region_init(&r, SHARED) != PM_OK) {                                       \
            abort();                                                                     \
        }                                                                                \
        for (int k = 0; k < rounds; k++) {                                               \
            uint64_t t0 = now_ns();                                                      \
            int64_t sum = 0;                                                             \
            for (size_t i = 0; i < values; i++) {                                        \
                struct v32 *p = NULL;                                                    \
                if (Region_##TYPE##_Local_alloc(&r, (struct v32){(int64_t)i, 1, 2, 3}, &p) \
                    != PM_OK) {                                                          \
                    abort();                                                             \
                }                                                                        \
                sum += p->a;                                                             \
            }                                                                            \
            pm_region_reset(&r);                                                         \
            ns[k] = (double)(now_ns() - t0) / (double)values;                            \
            sink = sum;                                                                  \
        }                                                                                \
        pm_region_fini(&r);                                                              \
        report(#NAME, ns, rounds);                                                       \
    }

REGION_CASE(region, V32, false)
REGION_CASE(region_drop, D32, false)
REGION_CASE(region_shared, V32, true)

int main(int argc, char **argv) {
    if (argc > 1 && strcmp(argv[1], "--quick") == 0) {
        values = 1000;
        rounds = 3;
    }
    bench_malloc();
    bench_malloc_pair();
    bench_region();
    bench_region_drop();
    bench_region_shared();
    return 0;
}
