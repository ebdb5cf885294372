/* store.c — what the generational stores (Store_V32_P_*, pm_store.h) cost per
 * operation on a 32-byte value, against a mutex-protected C slot array and
 * malloc/free, in ns per operation. Prints numbers; asserts nothing about time.
 *
 * Two operations, each timed over OPS (1,000,000) operations per round:
 *   churn  alloc + release of a 32-byte value (the slot goes back on the free
 *          stack and is taken again by the next alloc);
 *   get    get + read of one field + release_get of a live handle: LIVE (10,000)
 *          handles allocated before the rounds, visited in a fixed pseudo-random
 *          order (xorshift32 from 2463534242, index = x % LIVE; the Rust peers
 *          bench/store_slotmap.rs and bench/store_sharded_slab.rs use the same).
 * Contenders (IMPL):
 *   SingleThreaded  Store_V32_SingleThreaded (plain word, no atomics), 1 thread;
 *   ThreadSafe      Store_V32_ThreadSafe (one CAS per call), 1 and 2 threads;
 *   Frozen          Store_V32_Frozen (atomic counter, no cell), 1 and 2 threads;
 *   mutex-array     a plain array of {generation, next free, value} slots with a free
 *                   list, behind one pthread_mutex, 1 and 2 threads;
 *   malloc          malloc + free of 32 bytes (churn only), for scale.
 * With 2 threads, both share one store (one array) and run the same phase at
 * once (a barrier starts it), each on its own LIVE handles; ns/op is per thread
 * (each thread's time ÷ its operations, the mean of the two) and Mops/s is the
 * total (all operations ÷ the wall time from the first start to the last end).
 * ROUNDS rounds; one line per contender, operation and thread count:
 *
 *   store  IMPL  OP  threads  median_ns_per_op  min  max  median_total_Mops_per_s
 *
 * Usage: bench_store [--quick]   (--quick: 1,000 handles, 20,000 ops, 3 rounds)
 */
#define _POSIX_C_SOURCE 200809L

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_store_types.h"
#include "bench_time.h"

#define ROUNDS 11
#define MAX_THREADS 2

static size_t live = 10000;
static size_t ops = 1000000;
static int rounds = ROUNDS;
static uint32_t *seq; /* ops indices into a thread's live handles */
static volatile int64_t sink;

static void die(const char *what) {
    fprintf(stderr, "bench_store: %s failed\n", what);
    abort();
}

/* ------------------------------------------------------------------------ */
/* The contenders' three calls                                               */
/* ------------------------------------------------------------------------ */

#define STORE_OPS(P)                                                                         \
    static inline void P##_alloc(Store_V32_##P *s, size_t i, StoreHandle_V32_##P *h) {       \
        if (Store_V32_##P##_alloc(s, (struct v32){(int64_t)i, 1, 2, 3}, h) != PM_OK) {       \
            die(#P "_alloc");                                                                \
        }                                                                                    \
    }                                                                                        \
    static inline void P##_release(Store_V32_##P *s, StoreHandle_V32_##P h) {                \
        if (Store_V32_##P##_release(s, h, NULL) != PM_OK) {                                  \
            die(#P "_release");                                                              \
        }                                                                                    \
    }                                                                                        \
    static inline int64_t P##_get(Store_V32_##P *s, StoreHandle_V32_##P h) {                 \
        const struct v32 *p = NULL;                                                          \
        if (Store_V32_##P##_get(s, h, &p) != PM_OK) {                                        \
            die(#P "_get");                                                                  \
        }                                                                                    \
        int64_t a = p->a;                                                                    \
        Store_V32_##P##_release_get(s, h);                                                   \
        return a;                                                                            \
    }                                                                                        \
    static inline bool P##_open(Store_V32_##P *s) { return Store_V32_##P##_init(s) == PM_OK; } \
    static inline void P##_close(Store_V32_##P *s) { Store_V32_##P##_fini(s); }

STORE_OPS(SingleThreaded)
STORE_OPS(ThreadSafe)
STORE_OPS(Frozen)

/* The hand-written peer: slots in one array, a free list through them,
 * generations against stale handles, everything behind one mutex. */
typedef struct {
    uint32_t index, generation;
} mhandle;

struct mslot {
    uint32_t generation; /* odd: live */
    uint32_t next_free;  /* the next free slot's index + 1 (0: none) */
    struct v32 value;
};

typedef struct {
    pthread_mutex_t lock;
    struct mslot *slots;
    uint32_t len, cap, free_head;
} marray;

static bool marray_open(marray *m) {
    memset(m, 0, sizeof *m);
    return pthread_mutex_init(&m->lock, NULL) == 0;
}

static void marray_close(marray *m) {
    pthread_mutex_destroy(&m->lock);
    free(m->slots);
}

static inline void marray_alloc(marray *m, size_t i, mhandle *h) {
    pthread_mutex_lock(&m->lock);
    uint32_t index;
    if (m->free_head != 0) {
        index = m->free_head - 1u;
        m->free_head = m->slots[index].next_free;
    } else {
        if (m->len == m->cap) {
            uint32_t cap = m->cap ? m->cap * 2u : 64u;
            struct mslot *grown = realloc(m->slots, (size_t)cap * sizeof *grown);
            if (grown == NULL) {
                die("realloc");
            }
            m->slots = grown;
            m->cap = cap;
        }
        index = m->len++;
        m->slots[index].generation = 0;
    }
    struct mslot *slot = &m->slots[index];
    slot->generation++;
    slot->value = (struct v32){(int64_t)i, 1, 2, 3};
    h->index = index;
    h->generation = slot->generation;
    pthread_mutex_unlock(&m->lock);
}

static inline void marray_release(marray *m, mhandle h) {
    pthread_mutex_lock(&m->lock);
    if (h.index >= m->len || m->slots[h.index].generation != h.generation) {
        die("marray_release");
    }
    struct mslot *slot = &m->slots[h.index];
    slot->generation++;
    slot->next_free = m->free_head;
    m->free_head = h.index + 1u;
    pthread_mutex_unlock(&m->lock);
}

static inline int64_t marray_get(marray *m, mhandle h) {
    pthread_mutex_lock(&m->lock);
    if (h.index >= m->len || m->slots[h.index].generation != h.generation) {
        die("marray_get");
    }
    int64_t a = m->slots[h.index].value.a;
    pthread_mutex_unlock(&m->lock);
    return a;
}

/* ------------------------------------------------------------------------ */
/* Workers                                                                   */
/* ------------------------------------------------------------------------ */

struct job {
    void *store;
    pthread_barrier_t *barrier;
    uint64_t t0[2][ROUNDS], t1[2][ROUNDS]; /* [churn, get][round] */
};

#define WORKER(P, STORE, HANDLE)                                                            \
    static void *P##_worker(void *arg) {                                                    \
        struct job *j = arg;                                                                \
        STORE *s = j->store;                                                                \
        HANDLE *h = malloc(live * sizeof *h);                                               \
        if (h == NULL) {                                                                    \
            die("malloc");                                                                  \
        }                                                                                   \
        for (size_t i = 0; i < live; i++) {                                                 \
            P##_alloc(s, i, &h[i]);                                                         \
        }                                                                                   \
        int64_t sum = 0;                                                                    \
        for (int k = 0; k < rounds; k++) {                                                  \
            pthread_barrier_wait(j->barrier);                                               \
            j->t0[0][k] = now_ns();                                                         \
            for (size_t i = 0; i < ops; i++) {                                              \
                HANDLE x;                                                                   \
                P##_alloc(s, i, &x);                                                        \
                P##_release(s, x);                                                          \
            }                                                                               \
            j->t1[0][k] = now_ns();                                                         \
            pthread_barrier_wait(j->barrier);                                               \
            j->t0[1][k] = now_ns();                                                         \
            for (size_t i = 0; i < ops; i++) {                                              \
                sum += P##_get(s, h[seq[i]]);                                               \
            }                                                                               \
            j->t1[1][k] = now_ns();                                                         \
        }                                                                                   \
        sink = sum;                                                                         \
        for (size_t i = 0; i < live; i++) {                                                 \
            P##_release(s, h[i]);                                                           \
        }                                                                                   \
        free(h);                                                                            \
        return NULL;                                                                        \
    }

WORKER(SingleThreaded, Store_V32_SingleThreaded, StoreHandle_V32_SingleThreaded)
WORKER(ThreadSafe, Store_V32_ThreadSafe, StoreHandle_V32_ThreadSafe)
WORKER(Frozen, Store_V32_Frozen, StoreHandle_V32_Frozen)
WORKER(marray, marray, mhandle)

static void report(const char *impl, const char *op, int threads, double *ns, double *mops) {
    double mid = median(ns, rounds), mid_mops = median(mops, rounds);
    qsort(ns, (size_t)rounds, sizeof *ns, cmp_double);
    printf("store\t%s\t%s\t%d\t%.2f\t%.2f\t%.2f\t%.1f\n", impl, op, threads, mid, ns[0],
           ns[rounds - 1], mid_mops);
    fflush(stdout);
}

/* Runs `worker` on `threads` threads (the calling one among them) over `store`. */
static void run(const char *impl, void *(*worker)(void *), void *store, int threads) {
    struct job jobs[MAX_THREADS];
    pthread_barrier_t barrier;
    pthread_t tid[MAX_THREADS];
    if (pthread_barrier_init(&barrier, NULL, (unsigned)threads) != 0) {
        die("pthread_barrier_init");
    }
    for (int t = 0; t < threads; t++) {
        jobs[t].store = store;
        jobs[t].barrier = &barrier;
    }
    for (int t = 1; t < threads; t++) {
        if (pthread_create(&tid[t], NULL, worker, &jobs[t]) != 0) {
            die("pthread_create");
        }
    }
    worker(&jobs[0]);
    for (int t = 1; t < threads; t++) {
        pthread_join(tid[t], NULL);
    }
    pthread_barrier_destroy(&barrier);
    static const char *const names[2] = {"churn", "get"};
    for (int op = 0; op < 2; op++) {
        double ns[ROUNDS], mops[ROUNDS];
        for (int k = 0; k < rounds; k++) {
            double per_thread = 0;
            uint64_t start = jobs[0].t0[op][k], end = jobs[0].t1[op][k];
            for (int t = 0; t < threads; t++) {
                per_thread += (double)(jobs[t].t1[op][k] - jobs[t].t0[op][k]) / (double)ops;
                start = jobs[t].t0[op][k] < start ? jobs[t].t0[op][k] : start;
                end = jobs[t].t1[op][k] > end ? jobs[t].t1[op][k] : end;
            }
            ns[k] = per_thread / threads;
            mops[k] = (double)ops * threads / (double)(end - start) * 1e3;
        }
        report(impl, names[op], threads, ns, mops);
    }
}

#define RUN(P, STORE, NAME, THREADS)                \
    do {                                            \
        STORE s_;                                   \
        if (!P##_open(&s_)) {                       \
            die(#P "_init");                        \
        }                                           \
        run(NAME, P##_worker, &s_, THREADS);        \
        P##_close(&s_);                             \
    } while (0)

static void bench_malloc(void) {
    double ns[ROUNDS], mops[ROUNDS];
    for (int k = 0; k < rounds; k++) {
        uint64_t t0 = now_ns();
        int64_t sum = 0;
        for (size_t i = 0; i < ops; i++) {
            struct v32 *volatile p = malloc(sizeof(struct v32));
            if (p == NULL) {
                die("malloc");
            }
            *p = (struct v32){(int64_t)i, 1, 2, 3};
            sum += p->a;
            free(p);
        }
        uint64_t t = now_ns() - t0;
        ns[k] = (double)t / (double)ops;
        mops[k] = (double)ops / (double)t * 1e3;
        sink = sum;
    }
    report("malloc", "churn", 1, ns, mops);
}

int main(int argc, char **argv) {
    if (argc > 1 && strcmp(argv[1], "--quick") == 0) {
        live = 1000;
        ops = 20000;
        rounds = 3;
    }
    seq = malloc(ops * sizeof *seq);
    if (seq == NULL) {
        die("malloc");
    }
    uint32_t x = 2463534242u;
    for (size_t i = 0; i < ops; i++) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        seq[i] = x % (uint32_t)live;
    }
    RUN(SingleThreaded, Store_V32_SingleThreaded, "SingleThreaded", 1);
    RUN(ThreadSafe, Store_V32_ThreadSafe, "ThreadSafe", 1);
    RUN(ThreadSafe, Store_V32_ThreadSafe, "ThreadSafe", 2);
    RUN(Frozen, Store_V32_Frozen, "Frozen", 1);
    RUN(Frozen, Store_V32_Frozen, "Frozen", 2);
    RUN(marray, marray, "mutex-array", 1);
    RUN(marray, marray, "mutex-array", 2);
    bench_malloc();
    free(seq);
    return 0;
}
