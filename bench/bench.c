/* bench.c — perceus-mem against its peers, side by side in one process.
 *
 * Every workload runs our generated code and each peer interleaved (the order
 * rotates every repetition), repeats, and prints medians and ratios as
 * tab-separated records on stdout, which bench/run turns into
 * docs/PERFORMANCE.md and its chart:
 *
 *   peer     NAME  yes|skipped  why
 *   op       WORKLOAD  CONTENDER  median_ns  ratio_ours_to_this
 *   mt       MIX  THREADS  CONTENDER  ns_per_op  mops  writer_p50_ns  writer_p99_ns  writer_max_ns
 *   xcore    MIX  THREADS  CONTENDER  transfer_ns  (after its mt record: bench_xcore.h's
 *            cache-line transfer, the median of one probe before each run; 0: not measured)
 *   optread  CONTENDER  reader_mops  writer_kops
 *   timeout  WHO  requested_ns  median_ns  p99_ns  max_ns
 *
 * "ratio" is the median over repetitions of (ours / this) measured in the same
 * repetition, so drift of the machine cancels out. Peers: a hand-written inline
 * baseline (plain counter + borrow int; raw C11 atomics), pthread_rwlock, and
 * when found at build time GLib (GRWLock, g_atomic_rc_box) and Concurrency
 * Kit (ck_rwlock).
 *
 * Policies: SingleThreaded (ST), ThreadSafe (TS) and the lock-free Frozen ({atomic, none},
 * only its _write rows: the counterpart of the seed's Arc::make_mut). Threads: 1, 2, 4, 8.
 *
 * Usage: bench [--quick] [--only single|optread|threads|timeouts] [--impl NAME,...]
 *   --quick: a few milliseconds per measurement, for CI; --only: one part; --impl: the
 *   threads part runs only these contenders (names as in the mt records, comma-separated;
 *   a name may itself hold ", " as "ours, no snapshot" does: the longest known name wins).
 */
#define _GNU_SOURCE /* pthread_rwlock_clockrdlock */

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench_time.h"
#include "bench_xcore.h"
#include "bench_types.h"

#ifdef BENCH_HAVE_GLIB
#include <glib.h>
#endif
#ifdef BENCH_HAVE_CK
#include <ck_rwlock.h>
#endif

/* Keep the compiler from folding or hoisting operations across iterations:
 * the same barriers sit in our loops and in every peer's. */
#define CLOBBER() __asm__ volatile("" ::: "memory")
#define ESCAPE(p) __asm__ volatile("" : : "g"(p) : "memory")

static bool quick;
static volatile int64_t sink; /* results land here so no loop is dead code */

static const struct bench_val VAL0 = {1, 2, 3, 4};

/* ======================================================================== */
/* Single-threaded workloads: each contender is a loop of n operations.     */
/* ======================================================================== */

typedef void (*loop_fn)(size_t n);

typedef struct contender {
    const char *name;
    loop_fn fn;
} contender;

typedef Managed_Val_SingleThreaded HS;
typedef Managed_Val_ThreadSafe HT;

/* The hand-written baselines: what a careful C programmer writes inline. */
typedef struct hand_box {
    uint32_t rc;
    int32_t borrow; /* -1: writing; >0: readers */
    struct bench_val v;
} hand_box;

typedef struct raw_box {
    _Atomic uint32_t rc;
    struct bench_val v;
} raw_box;

static hand_box *hand_new(void) {
    hand_box *b = malloc(sizeof *b);
    if (b != NULL) {
        b->rc = 1;
        b->borrow = 0;
        b->v = VAL0;
    }
    return b;
}

static void hand_drop(hand_box *b) {
    if (--b->rc == 0) {
        free(b);
    }
}

static raw_box *raw_new(void) {
    raw_box *b = malloc(sizeof *b);
    if (b != NULL) {
        atomic_init(&b->rc, 1u);
        b->v = VAL0;
    }
    return b;
}

static void raw_drop(raw_box *b) {
    if (atomic_fetch_sub_explicit(&b->rc, 1u, memory_order_release) == 1u) {
        atomic_thread_fence(memory_order_acquire);
        free(b);
    }
}

/* Our box for a loop. The loop works on `h`, a copy of the owner whose
 * address is never taken, so it can live in a register like the peers'
 * pointers; the owner is dropped at the end (OURS_END). */
#define OURS_BEGIN(H, h)                    \
    H h##_owner = {0};                      \
    if (H##_new(&h##_owner, VAL0) != PM_OK) { \
        return;                             \
    }                                       \
    H h = h##_owner
#define OURS_END(H, h) H##_drop(&h##_owner)
#define HAND_BEGIN(b)      \
    hand_box *b = hand_new(); \
    if (b == NULL) {       \
        return;            \
    }
#define RAW_BEGIN(b)      \
    raw_box *b = raw_new(); \
    if (b == NULL) {      \
        return;           \
    }

/* --- dup + drop ----------------------------------------------------------- */

#define DUP_DROP_LOOP(H)                        \
    static void dupdrop_##H(size_t n) {         \
        OURS_BEGIN(H, h);                       \
        for (size_t i = 0; i < n; i++) {        \
            H h2 = H##_dup(h);                  \
            ESCAPE(h2.box);                     \
            H##_drop(&h2);                      \
            CLOBBER();                          \
        }                                       \
        OURS_END(H, h);                         \
    }
DUP_DROP_LOOP(Managed_Val_SingleThreaded)
DUP_DROP_LOOP(Managed_Val_ThreadSafe)

static void dupdrop_hand(size_t n) {
    HAND_BEGIN(b);
    for (size_t i = 0; i < n; i++) {
        hand_box *b2 = b;
        b2->rc++;
        ESCAPE(b2);
        hand_drop(b2);
        CLOBBER();
    }
    hand_drop(b);
}

static void dupdrop_raw(size_t n) {
    RAW_BEGIN(b);
    for (size_t i = 0; i < n; i++) {
        raw_box *b2 = b;
        atomic_fetch_add_explicit(&b2->rc, 1u, memory_order_relaxed);
        ESCAPE(b2);
        raw_drop(b2);
        CLOBBER();
    }
    raw_drop(b);
}

#ifdef BENCH_HAVE_GLIB
static void dupdrop_glib(size_t n) {
    struct bench_val *v = g_atomic_rc_box_new(struct bench_val);
    *v = VAL0;
    for (size_t i = 0; i < n; i++) {
        struct bench_val *v2 = g_atomic_rc_box_acquire(v);
        ESCAPE(v2);
        g_atomic_rc_box_release(v2);
        CLOBBER();
    }
    g_atomic_rc_box_release(v);
}
#endif

/* --- the last owner's drop: the count is 1 ----------------------------------- */

static void lastdrop_ours(size_t n) {
    pm_count_atomic c;
    int64_t acc = 0;
    for (size_t i = 0; i < n; i++) {
        pm_count_atomic_init(&c);
        ESCAPE(&c);
        acc += pm_count_atomic_dec(&c); /* an acquire load shows 1: no RMW */
        CLOBBER();
    }
    sink += acc;
}

static void lastdrop_rmw(size_t n) {
    _Atomic uint32_t c;
    int64_t acc = 0;
    for (size_t i = 0; i < n; i++) {
        atomic_init(&c, 1u);
        ESCAPE(&c);
        if (atomic_fetch_sub_explicit(&c, 1u, memory_order_release) == 1u) {
            atomic_thread_fence(memory_order_acquire);
            acc++;
        }
        CLOBBER();
    }
    sink += acc;
}

static void newdrop_ours(size_t n) {
    for (size_t i = 0; i < n; i++) {
        HT h = {0};
        if (Managed_Val_ThreadSafe_new(&h, VAL0) == PM_OK) {
            ESCAPE(h.box);
            Managed_Val_ThreadSafe_drop(&h);
        }
        CLOBBER();
    }
}

static void newdrop_raw(size_t n) {
    for (size_t i = 0; i < n; i++) {
        raw_box *b = raw_new();
        if (b != NULL) {
            ESCAPE(b);
            raw_drop(b);
        }
        CLOBBER();
    }
}

#ifdef BENCH_HAVE_GLIB
static void newdrop_glib(size_t n) {
    for (size_t i = 0; i < n; i++) {
        struct bench_val *v = g_atomic_rc_box_new(struct bench_val);
        *v = VAL0;
        ESCAPE(v);
        g_atomic_rc_box_release(v);
        CLOBBER();
    }
}
#endif

/* --- read + release ------------------------------------------------------- */

#define READ_LOOP(name, H, ACQUIRE)                                   \
    static void name(size_t n) {                                      \
        OURS_BEGIN(H, h);                                             \
        int64_t acc = 0;                                              \
        for (size_t i = 0; i < n; i++) {                              \
            const struct bench_val *p = NULL;                         \
            if (ACQUIRE == PM_OK) {                                   \
                ESCAPE(p);                                            \
                acc += p->a;                                          \
                H##_release_read(h);                                  \
            }                                                         \
            CLOBBER();                                                \
        }                                                             \
        sink += acc;                                                  \
        OURS_END(H, h);                                               \
    }
READ_LOOP(read_st, Managed_Val_SingleThreaded, Managed_Val_SingleThreaded_read(h, &p))
READ_LOOP(read_ts, Managed_Val_ThreadSafe, Managed_Val_ThreadSafe_read(h, &p))
READ_LOOP(read_ts_wait, Managed_Val_ThreadSafe, Managed_Val_ThreadSafe_read_wait(h, &p, PM_FOREVER))

static void load_ts(size_t n) {
    OURS_BEGIN(Managed_Val_ThreadSafe, h);
    int64_t acc = 0;
    for (size_t i = 0; i < n; i++) {
        struct bench_val v;
        if (Managed_Val_ThreadSafe_load(h, &v) == PM_OK) {
            ESCAPE(&v);
            acc += v.a;
        }
        CLOBBER();
    }
    sink += acc;
    OURS_END(Managed_Val_ThreadSafe, h);
}

static void read_hand(size_t n) {
    HAND_BEGIN(b);
    int64_t acc = 0;
    for (size_t i = 0; i < n; i++) {
        if (b->borrow >= 0) {
            b->borrow++;
            const struct bench_val *p = &b->v;
            ESCAPE(p);
            acc += p->a;
            b->borrow--;
        }
        CLOBBER();
    }
    sink += acc;
    hand_drop(b);
}

/* Lock peers: one macro for each, around a raw_box-like struct. */
#define LOCK_READ_LOOP(name, LOCK_T, INIT, RDLOCK, RDUNLOCK, FINI) \
    static void name(size_t n) {                                   \
        static LOCK_T lock;                                        \
        static struct bench_val v;                                 \
        INIT;                                                      \
        v = VAL0;                                                  \
        int64_t acc = 0;                                           \
        for (size_t i = 0; i < n; i++) {                           \
            RDLOCK;                                                \
            const struct bench_val *p = &v;                        \
            ESCAPE(p);                                             \
            acc += p->a;                                           \
            RDUNLOCK;                                              \
            CLOBBER();                                             \
        }                                                          \
        sink += acc;                                               \
        FINI;                                                      \
    }
#define LOCK_WRITE_LOOP(name, LOCK_T, INIT, WRLOCK, WRUNLOCK, FINI) \
    static void name(size_t n) {                                    \
        static LOCK_T lock;                                         \
        static struct bench_val v;                                  \
        INIT;                                                       \
        v = VAL0;                                                   \
        for (size_t i = 0; i < n; i++) {                            \
            WRLOCK;                                                 \
            struct bench_val *p = &v;                               \
            ESCAPE(p);                                              \
            p->a++;                                                 \
            WRUNLOCK;                                               \
            CLOBBER();                                              \
        }                                                           \
        sink += v.a;                                                \
        FINI;                                                       \
    }

LOCK_READ_LOOP(read_pthread, pthread_rwlock_t, pthread_rwlock_init(&lock, NULL),
               pthread_rwlock_rdlock(&lock), pthread_rwlock_unlock(&lock),
               pthread_rwlock_destroy(&lock))
LOCK_WRITE_LOOP(write_pthread, pthread_rwlock_t, pthread_rwlock_init(&lock, NULL),
                pthread_rwlock_wrlock(&lock), pthread_rwlock_unlock(&lock),
                pthread_rwlock_destroy(&lock))
#ifdef BENCH_HAVE_GLIB
LOCK_READ_LOOP(read_glib, GRWLock, g_rw_lock_init(&lock), g_rw_lock_reader_lock(&lock),
               g_rw_lock_reader_unlock(&lock), g_rw_lock_clear(&lock))
LOCK_WRITE_LOOP(write_glib, GRWLock, g_rw_lock_init(&lock), g_rw_lock_writer_lock(&lock),
                g_rw_lock_writer_unlock(&lock), g_rw_lock_clear(&lock))
#endif
#ifdef BENCH_HAVE_CK
LOCK_READ_LOOP(read_ck, ck_rwlock_t, ck_rwlock_init(&lock), ck_rwlock_read_lock(&lock),
               ck_rwlock_read_unlock(&lock), (void)0)
LOCK_WRITE_LOOP(write_ck, ck_rwlock_t, ck_rwlock_init(&lock), ck_rwlock_write_lock(&lock),
                ck_rwlock_write_unlock(&lock), (void)0)
#endif

/* --- exclusive borrows: write_shared, _write (unique), copy on write ------- */

#define WRITE_LOOP(name, H, ACQUIRE)                            \
    static void name(size_t n) {                                \
        OURS_BEGIN(H, h);                                       \
        for (size_t i = 0; i < n; i++) {                        \
            struct bench_val *p = NULL;                         \
            if (ACQUIRE == PM_OK) {                             \
                ESCAPE(p);                                      \
                p->a++;                                         \
                H##_release_write(h);                           \
            }                                                   \
            CLOBBER();                                          \
        }                                                       \
        OURS_END(H, h);                                         \
    }
WRITE_LOOP(wshared_st, Managed_Val_SingleThreaded, Managed_Val_SingleThreaded_write_shared(h, &p))
WRITE_LOOP(wunique_st, Managed_Val_SingleThreaded, Managed_Val_SingleThreaded_write(&h, &p))
WRITE_LOOP(wshared_ts, Managed_Val_ThreadSafe, Managed_Val_ThreadSafe_write_shared(h, &p))
WRITE_LOOP(wshared_ts_wait, Managed_Val_ThreadSafe, Managed_Val_ThreadSafe_write_shared_wait(h, &p, PM_FOREVER))
WRITE_LOOP(wunique_ts, Managed_Val_ThreadSafe, Managed_Val_ThreadSafe_write(&h, &p))
/* Frozen ({counter: atomic, cell: none}, bench.yaml): the lock-free policy, our counterpart
 * of the seed's `Arc::make_mut` (bench/seed/seed.rs). _write is a count check, no lock. */
WRITE_LOOP(wunique_fz, Managed_Val_Frozen, Managed_Val_Frozen_write(&h, &p))
WRITE_LOOP(wshared_unpublished, Managed_ValUnpublished_ThreadSafe,
           Managed_ValUnpublished_ThreadSafe_write_shared(h, &p))
WRITE_LOOP(wunique_unpublished, Managed_ValUnpublished_ThreadSafe,
           Managed_ValUnpublished_ThreadSafe_write(&h, &p))

/* The body of a hand-written exclusive borrow, then its release. */
static inline void hand_bump_and_release(hand_box *b) {
    struct bench_val *p = &b->v;
    ESCAPE(p);
    p->a++;
    b->borrow = 0;
}

static void wshared_hand(size_t n) {
    HAND_BEGIN(b);
    for (size_t i = 0; i < n; i++) {
        if (b->borrow == 0) {
            b->borrow = -1;
            hand_bump_and_release(b);
        }
        CLOBBER();
    }
    hand_drop(b);
}

/* Hand-written FBIP write: in place when unique and unborrowed, else a copy. */
static __attribute__((noinline)) int hand_write_copy(hand_box **bp) {
    hand_box *c = malloc(sizeof *c);
    if (c == NULL) {
        return -1;
    }
    *c = **bp;
    c->rc = 1;
    c->borrow = -1;
    hand_drop(*bp);
    *bp = c;
    return 0;
}

static void wunique_hand(size_t n) {
    HAND_BEGIN(b);
    for (size_t i = 0; i < n; i++) {
        int ok = 0;
        /* Loaded apart: gcc merges `b->rc == 1 && b->borrow == 0` into one 8-byte load, which
         * the last iteration's 4-byte store to borrow cannot forward (5.7 ns, not 0.7). */
        int32_t borrow = b->borrow;
        if (borrow == 0 && b->rc == 1) {
            b->borrow = -1;
        } else if (b->rc == 1 || hand_write_copy(&b) != 0) {
            ok = -1;
        }
        if (ok == 0) {
            hand_bump_and_release(b);
        }
        CLOBBER();
    }
    hand_drop(b);
}

/* Hand-written lock-free FBIP write (raw C11 atomics): in place when the count is 1, else a
 * copy. The baseline of Frozen's _write. */
static __attribute__((noinline)) int raw_write_copy(raw_box **bp) {
    raw_box *c = malloc(sizeof *c);
    if (c == NULL) {
        return -1;
    }
    atomic_init(&c->rc, 1u);
    c->v = (*bp)->v;
    raw_drop(*bp);
    *bp = c;
    return 0;
}

static void wunique_raw(size_t n) {
    RAW_BEGIN(b);
    for (size_t i = 0; i < n; i++) {
        if (atomic_load_explicit(&b->rc, memory_order_acquire) == 1u || raw_write_copy(&b) == 0) {
            struct bench_val *p = &b->v;
            ESCAPE(p);
            p->a++;
        }
        CLOBBER();
    }
    raw_drop(b);
}

/* Copy on write: _write on one of COW_BATCH owners of a shared box copies it;
 * the copy is released and dropped. Making the owners (dup) is not timed. */
enum { COW_BATCH = 256 };
static uint64_t excluded_ns; /* untimed setup inside a loop */

#define COW_LOOP(name, H)                                                    \
    static void name(size_t n) {                                             \
        OURS_BEGIN(H, h);                                                    \
        H hs[COW_BATCH];                                                     \
        for (size_t done = 0; done < n; done += COW_BATCH) {                 \
            size_t k = n - done < COW_BATCH ? n - done : COW_BATCH;          \
            uint64_t t0 = now_ns();                                          \
            for (size_t i = 0; i < k; i++) {                                 \
                hs[i] = H##_dup(h);                                          \
            }                                                                \
            excluded_ns += now_ns() - t0;                                    \
            for (size_t i = 0; i < k; i++) {                                 \
                struct bench_val *p = NULL;                                  \
                if (H##_write(&hs[i], &p) == PM_OK) {                        \
                    ESCAPE(p);                                               \
                    p->a++;                                                  \
                    H##_release_write(hs[i]);                                \
                }                                                            \
                H##_drop(&hs[i]);                                            \
                CLOBBER();                                                   \
            }                                                                \
        }                                                                    \
        OURS_END(H, h);                                                      \
    }
COW_LOOP(cow_st, Managed_Val_SingleThreaded)
COW_LOOP(cow_ts, Managed_Val_ThreadSafe)
COW_LOOP(cow_fz, Managed_Val_Frozen)

static void cow_malloc(size_t n) {
    static struct bench_val v;
    v = VAL0;
    for (size_t i = 0; i < n; i++) {
        struct bench_val *c = malloc(sizeof *c);
        if (c != NULL) {
            memcpy(c, &v, sizeof *c);
            ESCAPE(c);
            c->a++;
            free(c);
        }
        CLOBBER();
    }
}

/* --- the harness ----------------------------------------------------------- */

enum { MAX_CONTENDERS = 8, MAX_REPS = 31 };

static double time_loop(loop_fn fn, size_t n) {
    excluded_ns = 0;
    uint64_t t0 = now_ns();
    fn(n);
    return (double)(now_ns() - t0 - excluded_ns) / (double)n;
}

/* Enough iterations for one sample to last target_ns. */
static size_t calibrate(loop_fn fn, double target_ns) {
    size_t n = 1000;
    for (;;) {
        double per = time_loop(fn, n);
        if (per * (double)n >= target_ns / 8 || n >= ((size_t)1 << 28)) {
            double want = target_ns / (per > 0.05 ? per : 0.05);
            return want < 1000 ? 1000 : (size_t)want;
        }
        n *= 4;
    }
}

static void run_workload(const char *workload, const contender *cs, int nc) {
    int reps = quick ? 3 : 31;
    double target = quick ? 2e5 : 3e6; /* ns per sample */
    size_t n = calibrate(cs[0].fn, target);
    double t[MAX_CONTENDERS][MAX_REPS], ratio[MAX_REPS];
    for (int c = 0; c < nc; c++) {
        (void)time_loop(cs[c].fn, n / 4 + 1); /* warm up */
    }
    for (int r = 0; r < reps; r++) {
        for (int k = 0; k < nc; k++) {
            int c = (k + r) % nc; /* rotate who goes first */
            t[c][r] = time_loop(cs[c].fn, n);
        }
    }
    for (int c = 0; c < nc; c++) {
        for (int r = 0; r < reps; r++) {
            ratio[r] = t[0][r] / t[c][r];
        }
        printf("op\t%s\t%s\t%.3f\t%.3f\n", workload, cs[c].name, median(t[c], reps),
               median(ratio, reps));
    }
    fflush(stdout);
}

#define W(name, ...)                                                          \
    do {                                                                      \
        const contender cs_[] = {__VA_ARGS__};                                \
        run_workload(name, cs_, (int)(sizeof cs_ / sizeof cs_[0]));           \
    } while (0)

#ifdef BENCH_HAVE_GLIB
#define GLIB(name, fn) , {name, fn}
#else
#define GLIB(name, fn)
#endif
#ifdef BENCH_HAVE_CK
#define CK(name, fn) , {name, fn}
#else
#define CK(name, fn)
#endif

static void single_threaded(void) {
    W("ST dup+drop", {"ours", dupdrop_Managed_Val_SingleThreaded}, {"hand-written", dupdrop_hand});
    W("ST read+release", {"ours", read_st}, {"hand-written", read_hand});
    W("ST write_shared+release", {"ours", wshared_st}, {"hand-written", wshared_hand});
    W("ST _write unique", {"ours", wunique_st}, {"hand-written", wunique_hand});
    W("ST copy on write 32B", {"ours", cow_st}, {"malloc+memcpy+free", cow_malloc});
    W("TS dup+drop", {"ours", dupdrop_Managed_Val_ThreadSafe},
      {"raw atomics", dupdrop_raw} GLIB("g_atomic_rc_box", dupdrop_glib));
    W("TS last-owner drop", {"ours (load shows 1)", lastdrop_ours},
      {"always RMW", lastdrop_rmw});
    W("TS new+drop", {"ours", newdrop_ours},
      {"raw atomics", newdrop_raw} GLIB("g_atomic_rc_box", newdrop_glib));
    W("TS read+release", {"ours", read_ts}, {"ours _read_wait", read_ts_wait},
      {"ours _load", load_ts}, {"pthread_rwlock", read_pthread} GLIB("GRWLock", read_glib)
      CK("ck_rwlock", read_ck));
    W("TS write_shared+release", {"ours", wshared_ts}, {"ours _write_shared_wait", wshared_ts_wait},
      {"ours, no snapshot", wshared_unpublished},
      {"pthread_rwlock", write_pthread} GLIB("GRWLock", write_glib) CK("ck_rwlock", write_ck));
    W("TS _write unique", {"ours", wunique_ts}, {"ours _write_shared", wshared_ts},
      {"ours, no snapshot", wunique_unpublished});
    W("TS copy on write 32B", {"ours", cow_ts}, {"malloc+memcpy+free", cow_malloc});
    W("Frozen _write unique", {"ours", wunique_fz}, {"raw atomics", wunique_raw});
    W("Frozen copy on write 32B", {"ours", cow_fz}, {"malloc+memcpy+free", cow_malloc});
}

/* ======================================================================== */
/* Threads: one shared value, read/write mixes with the blocking forms      */
/* ======================================================================== */

/* A contender: the shared object, a per-thread view of it, a read, a write. */
typedef struct mt_impl {
    const char *name;
    void *(*create)(void);
    void (*destroy)(void *shared);
    void *(*attach)(void *shared); /* per thread (ours: a dup of the handle) */
    void (*detach)(void *local);
    int64_t (*read)(void *local);
    void (*write)(void *local);
} mt_impl;

/* An mt_impl of ours over the ThreadSafe handle type H: create, destroy,
 * attach (a dup per thread), read (_read_wait) and write (_write_shared_wait). */
#define MT_OURS(prefix, H)                                                        \
    static void *prefix##_create(void) {                                          \
        H *h = calloc(1, sizeof *h);                                              \
        if (h != NULL && H##_new(h, VAL0) != PM_OK) {                             \
            free(h);                                                              \
            h = NULL;                                                             \
        }                                                                         \
        return h;                                                                 \
    }                                                                             \
    static void prefix##_destroy(void *shared) {                                  \
        H##_drop(shared);                                                         \
        free(shared);                                                             \
    }                                                                             \
    static void *prefix##_attach(void *shared) {                                  \
        H *h = malloc(sizeof *h);                                                 \
        if (h != NULL) {                                                          \
            *h = H##_dup(*(H *)shared);                                           \
        }                                                                         \
        return h;                                                                 \
    }                                                                             \
    static int64_t prefix##_read(void *local) {                                   \
        const struct bench_val *p = NULL;                                         \
        int64_t r = 0;                                                            \
        H h = *(H *)local;                                                        \
        if (H##_read_wait(h, &p, PM_FOREVER) == PM_OK) {                          \
            r = p->a + p->b + p->c + p->d;                                        \
            H##_release_read(h);                                                  \
        }                                                                         \
        return r;                                                                 \
    }                                                                             \
    static void prefix##_write(void *local) {                                     \
        struct bench_val *p = NULL;                                               \
        H h = *(H *)local;                                                        \
        if (H##_write_shared_wait(h, &p, PM_FOREVER) == PM_OK) {                  \
            p->a++;                                                               \
            p->d--;                                                               \
            H##_release_write(h);                                                 \
        }                                                                         \
    }
/* Val publishes its _load snapshot at each write release; ValUnpublished has none;
 * ValAligned neither, and its box starts a cache line (box_align: 64). */
MT_OURS(ours, Managed_Val_ThreadSafe)
MT_OURS(unpub, Managed_ValUnpublished_ThreadSafe)
MT_OURS(aligned, Managed_ValAligned_ThreadSafe)

static int64_t ours_load(void *local) {
    struct bench_val v;
    if (Managed_Val_ThreadSafe_load(*(HT *)local, &v) != PM_OK) {
        return 0;
    }
    return v.a + v.b + v.c + v.d;
}

static void *same(void *shared) { return shared; }
static void nothing(void *local) { (void)local; }

#define LOCK_PEER(prefix, LOCK_T, INIT, FINI, RDLOCK, RDUNLOCK, WRLOCK, WRUNLOCK) \
    typedef struct prefix##_obj {                                                \
        LOCK_T lock;                                                             \
        struct bench_val v;                                                      \
    } prefix##_obj;                                                              \
    static void *prefix##_create(void) {                                         \
        prefix##_obj *o = calloc(1, sizeof *o);                                  \
        if (o != NULL) {                                                         \
            INIT(&o->lock);                                                      \
            o->v = VAL0;                                                         \
        }                                                                        \
        return o;                                                                \
    }                                                                            \
    static void prefix##_destroy(void *shared) {                                 \
        prefix##_obj *o = shared;                                                \
        FINI(&o->lock);                                                          \
        free(o);                                                                 \
    }                                                                            \
    static int64_t prefix##_read(void *local) {                                  \
        prefix##_obj *o = local;                                                 \
        RDLOCK(&o->lock);                                                        \
        int64_t r = o->v.a + o->v.b + o->v.c + o->v.d;                           \
        RDUNLOCK(&o->lock);                                                      \
        return r;                                                                \
    }                                                                            \
    static void prefix##_write(void *local) {                                    \
        prefix##_obj *o = local;                                                 \
        WRLOCK(&o->lock);                                                        \
        o->v.a++;                                                                \
        o->v.d--;                                                                \
        WRUNLOCK(&o->lock);                                                      \
    }

static void pth_init(pthread_rwlock_t *l) { (void)pthread_rwlock_init(l, NULL); }
static void pth_fini(pthread_rwlock_t *l) { (void)pthread_rwlock_destroy(l); }
static void pth_rd(pthread_rwlock_t *l) { (void)pthread_rwlock_rdlock(l); }
static void pth_wr(pthread_rwlock_t *l) { (void)pthread_rwlock_wrlock(l); }
static void pth_un(pthread_rwlock_t *l) { (void)pthread_rwlock_unlock(l); }
LOCK_PEER(pth, pthread_rwlock_t, pth_init, pth_fini, pth_rd, pth_un, pth_wr, pth_un)
#ifdef BENCH_HAVE_GLIB
LOCK_PEER(glib, GRWLock, g_rw_lock_init, g_rw_lock_clear, g_rw_lock_reader_lock,
          g_rw_lock_reader_unlock, g_rw_lock_writer_lock, g_rw_lock_writer_unlock)
#endif
#ifdef BENCH_HAVE_CK
static void ck_fini(ck_rwlock_t *l) { (void)l; }
LOCK_PEER(ckl, ck_rwlock_t, ck_rwlock_init, ck_fini, ck_rwlock_read_lock, ck_rwlock_read_unlock,
          ck_rwlock_write_lock, ck_rwlock_write_unlock)
#endif

static const mt_impl MT_IMPLS[] = {
    {"ours", ours_create, ours_destroy, ours_attach, ours_destroy, ours_read, ours_write},
    {"ours _load", ours_create, ours_destroy, ours_attach, ours_destroy, ours_load, ours_write},
    {"ours, no snapshot", unpub_create, unpub_destroy, unpub_attach, unpub_destroy,
     unpub_read, unpub_write},
    {"ours, no snapshot, aligned", aligned_create, aligned_destroy, aligned_attach,
     aligned_destroy, aligned_read, aligned_write},
    {"pthread_rwlock", pth_create, pth_destroy, same, nothing, pth_read, pth_write},
#ifdef BENCH_HAVE_GLIB
    {"GRWLock", glib_create, glib_destroy, same, nothing, glib_read, glib_write},
#endif
#ifdef BENCH_HAVE_CK
    {"ck_rwlock", ckl_create, ckl_destroy, same, nothing, ckl_read, ckl_write},
#endif
};
enum { N_MT = sizeof MT_IMPLS / sizeof MT_IMPLS[0], MAX_THREADS = 8 };

/* Writers' waits: a log-linear histogram (16 steps per power of two). */
enum { HIST_BUCKETS = 64 * 16 };

static int hist_bucket(uint64_t ns) {
    if (ns < 16) {
        return (int)ns;
    }
    int lg = 63 - __builtin_clzll(ns);
    return lg * 16 + (int)((ns >> (lg - 4)) & 15u);
}

static uint64_t hist_value(int bucket) {
    if (bucket < 16) {
        return (uint64_t)bucket;
    }
    int lg = bucket / 16;
    return ((uint64_t)(16 + bucket % 16)) << (lg - 4);
}

/* Holds the threads until every one exists, then lets them go together. */
typedef struct gate {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool open;
} gate;

static void gate_wait(gate *g) {
    pthread_mutex_lock(&g->mu);
    while (!g->open) {
        pthread_cond_wait(&g->cv, &g->mu);
    }
    pthread_mutex_unlock(&g->mu);
}

static void gate_open(gate *g) {
    pthread_mutex_lock(&g->mu);
    g->open = true;
    pthread_cond_broadcast(&g->cv);
    pthread_mutex_unlock(&g->mu);
}

typedef struct mt_thread {
    const mt_impl *impl;
    void *shared;
    int write_pct; /* writes per 100 operations */
    int reads_only; /* optread: this thread never writes */
    uint64_t write_every_ns; /* optread writer: at most one write per this */
    struct gate *start;
    _Atomic bool *stop;
    uint32_t seed;
    uint64_t ops, writes, max_wait;
    uint64_t hist[HIST_BUCKETS];
} mt_thread;

static void *mt_main(void *arg) {
    mt_thread *t = arg;
    void *local = t->impl->attach(t->shared);
    uint32_t x = t->seed | 1u;
    int64_t acc = 0;
    gate_wait(t->start);
    /* Relaxed: a stop flag, checked every 32 operations. */
    while (local != NULL && !atomic_load_explicit(t->stop, memory_order_relaxed)) {
        for (int i = 0; i < 32; i++) {
            x ^= x << 13; /* xorshift32 */
            x ^= x >> 17;
            x ^= x << 5;
            if (!t->reads_only && (int)(x % 100u) < t->write_pct) {
                uint64_t t0 = now_ns();
                t->impl->write(local);
                uint64_t w = now_ns() - t0;
                t->hist[hist_bucket(w)]++;
                t->max_wait = w > t->max_wait ? w : t->max_wait;
                t->writes++;
                if (t->write_every_ns != 0) { /* sleep: leave the cores to the readers */
                    struct timespec pause = {0, (long)t->write_every_ns};
                    nanosleep(&pause, NULL);
                }
            } else {
                acc += t->impl->read(local);
            }
        }
        t->ops += 32;
    }
    if (local != NULL) {
        t->impl->detach(local);
    }
    return (void *)(intptr_t)(acc & 1);
}

typedef struct mt_result {
    double ns_per_op, mops, p50, p99, max_wait, reader_mops, writer_kops;
} mt_result;

/* nthreads threads for duration_ns; writers_only_one: thread 0 is the only writer. */
static mt_result mt_run(const mt_impl *impl, int nthreads, int write_pct, bool one_writer,
                        uint64_t write_every_ns, uint64_t duration_ns) {
    mt_result res = {0, 0, 0, 0, 0, 0, 0};
    static mt_thread ts[MAX_THREADS];
    pthread_t th[MAX_THREADS];
    gate start = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, false};
    _Atomic bool stop = false;
    void *shared = impl->create();
    if (shared == NULL) {
        return res;
    }
    memset(ts, 0, sizeof ts);
    int made = 0;
    for (; made < nthreads; made++) {
        mt_thread *t = &ts[made];
        t->impl = impl;
        t->shared = shared;
        t->write_pct = one_writer ? (made == 0 ? 100 : 0) : write_pct;
        t->reads_only = one_writer && made != 0;
        t->write_every_ns = one_writer && made == 0 ? write_every_ns : 0;
        t->start = &start;
        t->stop = &stop;
        t->seed = 0x9e3779b9u * (uint32_t)(made + 1);
        if (pthread_create(&th[made], NULL, mt_main, t) != 0) {
            break;
        }
    }
    if (made < nthreads) {
        fprintf(stderr, "bench: started %d of %d threads\n", made, nthreads);
        nthreads = made; /* measure what runs; the figure says how many */
    }
    gate_open(&start);
    uint64_t t0 = now_ns();
    struct timespec d = {(time_t)(duration_ns / 1000000000u), (long)(duration_ns % 1000000000u)};
    while (nanosleep(&d, &d) != 0) {
    }
    /* Relaxed: the threads only need to see it eventually; join orders the rest. */
    atomic_store_explicit(&stop, true, memory_order_relaxed);
    uint64_t ops = 0, writes = 0, reads = 0, hist[HIST_BUCKETS] = {0};
    for (int i = 0; i < nthreads; i++) {
        void *r;
        (void)pthread_join(th[i], &r);
        sink += (int64_t)(intptr_t)r;
    }
    double elapsed = (double)(now_ns() - t0);
    for (int i = 0; i < nthreads; i++) {
        ops += ts[i].ops;
        writes += ts[i].writes;
        if (ts[i].reads_only) {
            reads += ts[i].ops;
        }
        res.max_wait = (double)ts[i].max_wait > res.max_wait ? (double)ts[i].max_wait : res.max_wait;
        for (int b = 0; b < HIST_BUCKETS; b++) {
            hist[b] += ts[i].hist[b];
        }
    }
    impl->destroy(shared);
    res.ns_per_op = ops ? elapsed / (double)ops : 0;
    res.mops = (double)ops / elapsed * 1e3;
    res.reader_mops = (double)reads / elapsed * 1e3;
    res.writer_kops = (double)writes / elapsed * 1e6;
    /* Each quantile is the first bucket whose cumulative count reaches its rank, rounded
     * up (so one write is its own median). */
    uint64_t seen = 0, want50 = writes - writes / 2, want99 = writes - writes / 100;
    bool have50 = false;
    for (int b = 0; b < HIST_BUCKETS && writes > 0; b++) {
        seen += hist[b];
        if (!have50 && seen >= want50) {
            res.p50 = (double)hist_value(b);
            have50 = true;
        }
        if (seen >= want99) {
            res.p99 = (double)hist_value(b);
            break;
        }
    }
    return res;
}

/* --impl A,B: the threads part runs only these contenders (all by default). */
static bool impl_filter;
static bool impl_chosen[N_MT];

/* Parses --impl's list left to right: at each position the longest contender name that
 * matches there and is followed by ',' or the end (a name may hold a comma: "ours, no
 * snapshot" is one name, not "ours" and " no snapshot"). Returns false, with a message on
 * stderr, at a name that is not a contender of this build. */
static bool impl_parse(const char *list) {
    impl_filter = true;
    const char *p = list;
    for (;;) {
        int best = -1;
        size_t best_n = 0;
        for (int i = 0; i < N_MT; i++) {
            size_t n = strlen(MT_IMPLS[i].name);
            if (n > best_n && strncmp(p, MT_IMPLS[i].name, n) == 0 &&
                (p[n] == ',' || p[n] == '\0')) {
                best = i;
                best_n = n;
            }
        }
        if (best < 0) {
            size_t n = strcspn(p, ",");
            fprintf(stderr, "bench: --impl: unknown contender '%.*s' (known:", (int)n, p);
            for (int i = 0; i < N_MT; i++) {
                fprintf(stderr, "%s '%s'", i ? "," : "", MT_IMPLS[i].name);
            }
            fprintf(stderr, ")\n");
            return false;
        }
        impl_chosen[best] = true;
        p += best_n;
        if (*p == '\0') {
            return true;
        }
        p++; /* the ',' after the name */
    }
}

static bool impl_selected(int i) { return !impl_filter || impl_chosen[i]; }

static void threads(void) {
    static const int counts[] = {1, 2, 4, 8};
    static const int mixes[] = {0, 10, 50};
    int reps = quick ? 1 : 7;
    uint64_t duration = quick ? 10000000u : 100000000u;
    for (size_t m = 0; m < sizeof mixes / sizeof mixes[0]; m++) {
        for (size_t c = 0; c < sizeof counts / sizeof counts[0]; c++) {
            double v[N_MT][6][MAX_REPS];
            for (int r = 0; r < reps; r++) {
                for (int k = 0; k < N_MT; k++) {
                    int i = (k + r) % N_MT;
                    if (!impl_selected(i)) {
                        continue;
                    }
                    /* Where the host has the vCPUs now: the run's figures depend on it. */
                    v[i][5][r] = xcore_ns(quick ? 1000000u : 10000000u);
                    mt_result res = mt_run(&MT_IMPLS[i], counts[c], mixes[m], false, 0, duration);
                    v[i][0][r] = res.ns_per_op;
                    v[i][1][r] = res.mops;
                    v[i][2][r] = res.p50;
                    v[i][3][r] = res.p99;
                    v[i][4][r] = res.max_wait;
                }
            }
            for (int i = 0; i < N_MT; i++) {
                if (!impl_selected(i)) {
                    continue;
                }
                printf("mt\t%d/%d\t%d\t%s\t%.2f\t%.3f\t%.0f\t%.0f\t%.0f\n", 100 - mixes[m],
                       mixes[m], counts[c], MT_IMPLS[i].name, median(v[i][0], reps),
                       median(v[i][1], reps), mixes[m] ? median(v[i][2], reps) : 0,
                       mixes[m] ? median(v[i][3], reps) : 0, mixes[m] ? median(v[i][4], reps) : 0);
                printf("xcore\t%d/%d\t%d\t%s\t%.1f\n", 100 - mixes[m], mixes[m], counts[c],
                       MT_IMPLS[i].name, median(v[i][5], reps));
            }
            fflush(stdout);
        }
    }
}

/* Two readers and one writer that sleeps 10 us between writes (so the two
 * readers have the two cores): reads through the lock against _load. */
static void optimistic_reads(void) {
    static const int which[] = {0, 1, 2};
    int reps = quick ? 1 : 7;
    uint64_t duration = quick ? 10000000u : 100000000u;
    double rd[3][MAX_REPS], wr[3][MAX_REPS];
    for (int r = 0; r < reps; r++) {
        for (int k = 0; k < 3; k++) {
            int i = (k + r) % 3;
            mt_result res = mt_run(&MT_IMPLS[which[i]], 3, 0, true, 10000, duration);
            rd[i][r] = res.reader_mops;
            wr[i][r] = res.writer_kops;
        }
    }
    for (int i = 0; i < 3; i++) {
        printf("optread\t%s\t%.3f\t%.1f\n", MT_IMPLS[which[i]].name, median(rd[i], reps),
               median(wr[i], reps));
    }
    fflush(stdout);
}

/* ======================================================================== */
/* Accuracy of the _wait timeouts against a lock another thread holds       */
/* ======================================================================== */

static HT held_box;
static pthread_rwlock_t held_lock = PTHREAD_RWLOCK_INITIALIZER;
static _Atomic int holder_state; /* 0 start, 1 holding, 2 let go */

static void *holder_main(void *arg) {
    (void)arg;
    struct bench_val *p = NULL;
    bool ours = Managed_Val_ThreadSafe_write_shared(held_box, &p) == PM_OK;
    bool theirs = pthread_rwlock_wrlock(&held_lock) == 0;
    /* Release/acquire: the main thread starts timing only once we hold both. */
    atomic_store_explicit(&holder_state, 1, memory_order_release);
    while (atomic_load_explicit(&holder_state, memory_order_acquire) != 2) {
        struct timespec ms = {0, 1000000};
        nanosleep(&ms, NULL);
    }
    if (theirs) {
        (void)pthread_rwlock_unlock(&held_lock);
    }
    if (ours) {
        Managed_Val_ThreadSafe_release_write(held_box);
    }
    return NULL;
}

static void timeouts(void) {
    static const uint64_t asks[] = {100000u, 1000000u, 10000000u};
    if (Managed_Val_ThreadSafe_new(&held_box, VAL0) != PM_OK) {
        return;
    }
    pthread_t holder;
    if (pthread_create(&holder, NULL, holder_main, NULL) != 0) {
        return;
    }
    while (atomic_load_explicit(&holder_state, memory_order_acquire) != 1) {
    }
    for (size_t a = 0; a < sizeof asks / sizeof asks[0]; a++) {
        int n = quick ? 2 : (asks[a] >= 10000000u ? 10 : 30);
        double ours_r[MAX_REPS], ours_w[MAX_REPS], pth[MAX_REPS];
        for (int i = 0; i < n; i++) {
            const struct bench_val *r = NULL;
            struct bench_val *w = NULL;
            uint64_t t0 = now_ns();
            pm_status s1 = Managed_Val_ThreadSafe_read_wait(held_box, &r, asks[a]);
            uint64_t t1 = now_ns();
            pm_status s2 = Managed_Val_ThreadSafe_write_shared_wait(held_box, &w, asks[a]);
            uint64_t t2 = now_ns();
            struct timespec abs;
            clock_gettime(CLOCK_MONOTONIC, &abs);
            abs.tv_nsec += (long)asks[a];
            abs.tv_sec += abs.tv_nsec / 1000000000L;
            abs.tv_nsec %= 1000000000L;
            uint64_t t3 = now_ns();
            int e = pthread_rwlock_clockrdlock(&held_lock, CLOCK_MONOTONIC, &abs);
            uint64_t t4 = now_ns();
            if (s1 != PM_ETIMEDOUT || s2 != PM_ETIMEDOUT || e == 0) {
                fprintf(stderr, "bench: a wait did not time out (%s %s %d)\n", pm_status_str(s1),
                        pm_status_str(s2), e);
            }
            ours_r[i] = (double)(t1 - t0);
            ours_w[i] = (double)(t2 - t1);
            pth[i] = (double)(t4 - t3);
        }
        struct {
            const char *who;
            double *v;
        } rows[] = {{"ours _read_wait", ours_r},
                    {"ours _write_shared_wait", ours_w},
                    {"pthread_rwlock_clockrdlock", pth}};
        for (size_t k = 0; k < 3; k++) {
            double sorted[MAX_REPS];
            memcpy(sorted, rows[k].v, (size_t)n * sizeof(double));
            qsort(sorted, (size_t)n, sizeof(double), cmp_double);
            int i99 = (n * 99 + 99) / 100 - 1;
            printf("timeout\t%s\t%llu\t%.0f\t%.0f\t%.0f\n", rows[k].who,
                   (unsigned long long)asks[a], median(rows[k].v, n), sorted[i99],
                   sorted[n - 1]);
        }
        fflush(stdout);
    }
    atomic_store_explicit(&holder_state, 2, memory_order_release);
    (void)pthread_join(holder, NULL);
    Managed_Val_ThreadSafe_drop(&held_box);
}

int main(int argc, char **argv) {
    const char *only = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--quick") == 0) {
            quick = true;
        } else if (strcmp(argv[i], "--only") == 0 && i + 1 < argc) {
            only = argv[++i];
        } else if (strcmp(argv[i], "--impl") == 0 && i + 1 < argc) {
            if (!impl_parse(argv[++i])) {
                return 2;
            }
        } else {
            fprintf(stderr, "usage: %s [--quick] [--only single|optread|threads|timeouts]"
                    " [--impl NAME,...]\n",
                    argv[0]);
            return 2;
        }
    }
#ifdef BENCH_HAVE_GLIB
    printf("peer\tGLib\tyes\t%u.%u.%u\n", glib_major_version, glib_minor_version,
           glib_micro_version);
#else
    printf("peer\tGLib\tskipped\tglib-2.0 not found at build time (Debian: libglib2.0-dev)\n");
#endif
#ifdef BENCH_HAVE_CK
    printf("peer\tck\tyes\tck_rwlock\n");
#else
    printf("peer\tck\tskipped\tlibck not found at build time (Debian: libck-dev)\n");
#endif
    printf("peer\tpthread_rwlock\tyes\tlibc\n");
    fflush(stdout);
    static const struct {
        const char *name;
        void (*run)(void);
    } parts[] = {{"single", single_threaded},
                 {"optread", optimistic_reads},
                 {"threads", threads},
                 {"timeouts", timeouts}};
    for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++) {
        if (only == NULL || strcmp(only, parts[i].name) == 0) {
            parts[i].run();
        }
    }
    return 0;
}
