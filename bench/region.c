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
 *                 per value);
 *   region-shared-2t  a shared region, 2 threads allocating 5N values each at once
 *                 (a barrier starts them; pm_region_reset after both are done; 5N so
 *                 that a round outlasts a thread's wake-up): ns per value per thread
 *                 (each thread's time ÷ 5N, the mean of the two), and the total
 *                 throughput (10N ÷ wall time from the first start to the last end)
 *                 in a seventh column, and the threads' CPU time per value (mean of
 *                 the two, CLOCK_THREAD_CPUTIME_ID) in an eighth: a CPU time well below
 *                 the ns per value means the threads took turns on one CPU; the two
 *                 equal, that they ran at once and each value costs that much.
 * ROUNDS rounds; one line per case:
 *
 *   region  CASE  values  median_ns_per_value  min  max  [Mvalues_per_s  cpu_ns_per_value]
 *
 * Usage: bench_region [--quick]   (--quick: 1,000 values, 3 rounds: proves it runs)
 */
#define _POSIX_C_SOURCE 200809L

#include <pthread.h>
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

/* region-shared-2t: two threads allocating from one shared region at once. */
struct region_job {
    pm_region *r;
    pthread_barrier_t *barrier;
    uint64_t t0[ROUNDS], t1[ROUNDS], cpu[ROUNDS]; /* cpu: the thread's CPU time, ns */
};

static uint64_t thread_cpu_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

#define SHARED_2T_FACTOR 5 /* values per thread: SHARED_2T_FACTOR * values */

static void *region_worker(void *arg) {
    struct region_job *j = arg;
    size_t n = SHARED_2T_FACTOR * values;
    int64_t sum = 0;
    for (int k = 0; k < rounds; k++) {
        pthread_barrier_wait(j->barrier); /* the reset of the round before is done */
        uint64_t c0 = thread_cpu_ns();
        j->t0[k] = now_ns();
        for (size_t i = 0; i < n; i++) {
            struct v32 *p = NULL;
            if (Region_V32_Local_alloc(j->r, (struct v32){(int64_t)i, 1, 2, 3}, &p) != PM_OK) {
                abort();
            }
            sum += p->a;
        }
        j->t1[k] = now_ns();
        j->cpu[k] = thread_cpu_ns() - c0;
        pthread_barrier_wait(j->barrier); /* both done: the main thread resets */
        pthread_barrier_wait(j->barrier);
    }
    sink = sum;
    return NULL;
}

static void bench_region_shared_2t(void) {
    double ns[ROUNDS], mvalues[ROUNDS], cpu[ROUNDS];
    size_t n = SHARED_2T_FACTOR * values;
    pm_region r;
    pthread_barrier_t barrier;
    struct region_job jobs[2];
    pthread_t tid[2];
    if (pm_region_init(&r, true) != PM_OK || pthread_barrier_init(&barrier, NULL, 3) != 0) {
        abort();
    }
    for (int t = 0; t < 2; t++) {
        jobs[t].r = &r;
        jobs[t].barrier = &barrier;
        if (pthread_create(&tid[t], NULL, region_worker, &jobs[t]) != 0) {
            abort();
        }
    }
    for (int k = 0; k < rounds; k++) {
        pthread_barrier_wait(&barrier);
        pthread_barrier_wait(&barrier);
        pm_region_reset(&r);
        pthread_barrier_wait(&barrier);
        uint64_t start = jobs[0].t0[k] < jobs[1].t0[k] ? jobs[0].t0[k] : jobs[1].t0[k];
        uint64_t end = jobs[0].t1[k] > jobs[1].t1[k] ? jobs[0].t1[k] : jobs[1].t1[k];
        ns[k] = ((double)(jobs[0].t1[k] - jobs[0].t0[k]) + (double)(jobs[1].t1[k] - jobs[1].t0[k])) /
                (2.0 * (double)n);
        mvalues[k] = 2.0 * (double)n / (double)(end - start) * 1e3;
        cpu[k] = ((double)jobs[0].cpu[k] + (double)jobs[1].cpu[k]) / (2.0 * (double)n);
    }
    for (int t = 0; t < 2; t++) {
        pthread_join(tid[t], NULL);
    }
    pthread_barrier_destroy(&barrier);
    pm_region_fini(&r);
    double mid = median(ns, rounds), mid_mv = median(mvalues, rounds),
           mid_cpu = median(cpu, rounds);
    qsort(ns, (size_t)rounds, sizeof *ns, cmp_double);
    printf("region\tregion_shared_2t\t%zu\t%.2f\t%.2f\t%.2f\t%.1f\t%.2f\n", n, mid,
           ns[0], ns[rounds - 1], mid_mv, mid_cpu);
    fflush(stdout);
}

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
    bench_region_shared_2t();
    return 0;
}
