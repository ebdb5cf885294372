/* bench_xcore.h — how far apart the cores of a contention run are: the time one cache line
 * takes to move between two threads pinned to two CPUs, from a ping-pong (bench/bench.c;
 * bench/seed/seed.rs has the same probe).
 *
 * On a virtual machine the host places the vCPUs and moves them: on the 2-vCPU EPYC of
 * bench/notes.md this reads about 27 ns for a while, then about 165 ns. Every contended
 * lock pays that transfer, so the contention rows print it beside their figures. */
#ifndef BENCH_XCORE_H
#define BENCH_XCORE_H

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>

#include "bench_time.h"

typedef struct xcore_probe {
    _Alignas(64) _Atomic uint64_t ball; /* odd: the partner's turn; UINT64_MAX: stop */
    int cpu;                            /* the partner's CPU */
} xcore_probe;

/* The first two CPUs this thread may run on; false if it may run on only one. */
static inline bool xcore_two_cpus(cpu_set_t *mine, int *a, int *b) {
    *a = *b = -1;
    if (sched_getaffinity(0, sizeof *mine, mine) != 0) {
        return false;
    }
    for (int c = 0; c < CPU_SETSIZE && *b < 0; c++) {
        if (CPU_ISSET(c, mine)) {
            *(*a < 0 ? a : b) = c;
        }
    }
    return *b >= 0;
}

static inline bool xcore_pin(int cpu) {
    cpu_set_t one;
    CPU_ZERO(&one);
    CPU_SET(cpu, &one);
    return sched_setaffinity(0, sizeof one, &one) == 0; /* 0: the calling thread */
}

static void *xcore_partner(void *arg) {
    xcore_probe *p = arg;
    (void)xcore_pin(p->cpu);
    for (;;) {
        /* Acquire/release: as in xcore_trips. */
        uint64_t v = atomic_load_explicit(&p->ball, memory_order_acquire);
        if (v == UINT64_MAX) {
            return NULL;
        }
        if (v & 1u) {
            atomic_store_explicit(&p->ball, v + 1, memory_order_release);
        }
    }
}

/* n round trips of the ball: each side's store is what the other waits for. */
static inline void xcore_trips(xcore_probe *p, int n) {
    for (int i = 0; i < n; i++) {
        uint64_t v = atomic_load_explicit(&p->ball, memory_order_relaxed) + 1;
        atomic_store_explicit(&p->ball, v, memory_order_release);
        while (atomic_load_explicit(&p->ball, memory_order_acquire) == v) {
        }
    }
}

/* ns for one cache-line transfer (half a round trip) between the first two CPUs this
 * thread may use, over about duration_ns; 0 if not measured (one CPU, no thread). The
 * calling thread's CPU mask is as it was after the call. */
static inline double xcore_ns(uint64_t duration_ns) {
    static xcore_probe probe;
    cpu_set_t mine;
    int a, b;
    if (!xcore_two_cpus(&mine, &a, &b) || !xcore_pin(a)) {
        return 0;
    }
    pthread_t partner;
    probe.cpu = b;
    atomic_store_explicit(&probe.ball, 0, memory_order_relaxed);
    double ns = 0;
    if (pthread_create(&partner, NULL, xcore_partner, &probe) == 0) {
        /* Untimed first trips: the partner starts, moves to its CPU, and wakes that vCPU. */
        xcore_trips(&probe, 256);
        uint64_t trips = 0, t0 = now_ns(), elapsed;
        do {
            xcore_trips(&probe, 256);
            trips += 256;
            elapsed = now_ns() - t0;
        } while (elapsed < duration_ns);
        atomic_store_explicit(&probe.ball, UINT64_MAX, memory_order_release);
        (void)pthread_join(partner, NULL);
        ns = (double)elapsed / (double)trips / 2;
    }
    (void)sched_setaffinity(0, sizeof mine, &mine);
    return ns;
}

#endif /* BENCH_XCORE_H */
