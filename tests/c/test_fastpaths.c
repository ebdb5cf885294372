/* test_fastpaths.c — the runtime's fast paths (tests/specs/all_policies.yaml):
 *
 * (a) _load of copy: trivial types under every policy: the value, PM_EINVAL,
 *     and what it sees while a write borrow is held;
 * (b) the ThreadSafe snapshot: republished at every write release (in place,
 *     _write_shared, copy on write, the _wait forms), never blocking on a
 *     writer that merely holds the lock, falling back to the read lock when a
 *     publish seems stuck, and for values too wide for a snapshot; copies on
 *     write taken from it;
 * (c) under threads: readers using _load and copies on write never see a torn
 *     value while writers update it (the invariant y == -x), and values only
 *     move forward;
 * (d) the drop of the last owner (no atomic RMW when a load shows 1) and the
 *     lock's fast paths leave no waiting bit behind.
 *
 * PM_TEST_QUICK (set for valgrind) scales the thread test down. A failed
 * CHECK prints "FAIL file:line: expr (in function)"; nothing asserts.
 */
#define _POSIX_C_SOURCE 200809L /* pthread barriers */

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "all_policies.h"
#include "pm_internal.h" /* the *_set_for_test hooks */

#include "check.h"

static bool quick(void) { return getenv("PM_TEST_QUICK") != NULL; }

#include "counting_alloc.h"

static struct point pt(int32_t x, int32_t y) {
    struct point p = {x, y};
    return p;
}

/* ---- (a) _load under every policy ---- */

#define CHECK_LOAD_BASICS(H)                                                    \
    do {                                                                        \
        H h = {0};                                                              \
        struct point out = pt(-1, -1);                                          \
        CHECK(H##_load(h, &out) == PM_EINVAL && out.x == -1);                   \
        if (CHECK(H##_new(&h, pt(3, 4)) == PM_OK)) {                            \
            CHECK(H##_load(h, NULL) == PM_EINVAL);                              \
            CHECK(H##_load(h, &out) == PM_OK && out.x == 3 && out.y == 4);      \
            struct point *w = NULL;                                             \
            if (CHECK(H##_write(&h, &w) == PM_OK)) {                            \
                w->x = 30;                                                      \
                H##_release_write(h);                                           \
            }                                                                   \
            CHECK(H##_load(h, &out) == PM_OK && out.x == 30 && out.y == 4);     \
            H other = H##_dup(h);                                               \
            if (CHECK(H##_write(&h, &w) == PM_OK)) { /* a copy on write */      \
                CHECK(h.box != other.box);                                      \
                w->y = 40;                                                      \
                H##_release_write(h);                                           \
            }                                                                   \
            CHECK(H##_load(h, &out) == PM_OK && out.x == 30 && out.y == 40);    \
            CHECK(H##_load(other, &out) == PM_OK && out.x == 30 && out.y == 4); \
            H##_drop(&other);                                                   \
            H##_drop(&h);                                                       \
        }                                                                       \
    } while (0)

static void test_load_every_policy(void) {
    long before = boxes_live;
    CHECK_LOAD_BASICS(Managed_Point_SingleThreaded);
    CHECK_LOAD_BASICS(Managed_Point_ThreadSafe);
    CHECK_LOAD_BASICS(Managed_Point_Local);
    CHECK_LOAD_BASICS(Managed_Point_Frozen);
    CHECK(boxes_live == before);

    /* Tally: int64_t under SingleThreaded and ThreadSafe (from contexts). */
    Managed_Tally_ThreadSafe t = {0};
    int64_t v = 0;
    if (CHECK(Managed_Tally_ThreadSafe_new(&t, INT64_C(1) << 40) == PM_OK)) {
        CHECK(Managed_Tally_ThreadSafe_load(t, &v) == PM_OK && v == INT64_C(1) << 40);
        v = 0; /* the module's generic form dispatches to the same function */
        CHECK(all_policies_load(t, &v) == PM_OK && v == INT64_C(1) << 40);
        Managed_Tally_ThreadSafe_drop(&t);
    }
    Managed_Tally_SingleThreaded s = {0};
    if (CHECK(Managed_Tally_SingleThreaded_new(&s, -5) == PM_OK)) {
        CHECK(Managed_Tally_SingleThreaded_load(s, &v) == PM_OK && v == -5);
        Managed_Tally_SingleThreaded_drop(&s);
    }
}

/* SingleThreaded: a write borrow refuses _load like a read; reads coexist. */
static void test_load_single_threaded_borrows(void) {
    Managed_Point_SingleThreaded h = {0};
    if (!CHECK(Managed_Point_SingleThreaded_new(&h, pt(1, 2)) == PM_OK)) {
        return;
    }
    struct point out = pt(0, 0), *w = NULL;
    const struct point *r = NULL;
    if (CHECK(Managed_Point_SingleThreaded_write_shared(h, &w) == PM_OK)) {
        CHECK(Managed_Point_SingleThreaded_load(h, &out) == PM_EBORROWED && out.x == 0);
        Managed_Point_SingleThreaded_release_write(h);
    }
    if (CHECK(Managed_Point_SingleThreaded_read(h, &r) == PM_OK)) {
        CHECK(Managed_Point_SingleThreaded_load(h, &out) == PM_OK && out.x == 1);
        Managed_Point_SingleThreaded_release_read(h);
    }
    CHECK(h.box->cell.state == 0); /* _load released what it took */
    pm_cell_borrow_set_for_test(&h.box->cell, PM_BORROW_MAX_READERS);
    CHECK(Managed_Point_SingleThreaded_load(h, &out) == PM_EOVERFLOW);
    pm_cell_borrow_set_for_test(&h.box->cell, 0);
    Managed_Point_SingleThreaded_drop(&h);
}

/* ---- (b) the ThreadSafe snapshot ---- */

static uint32_t seq_of(Managed_Point_ThreadSafe h) {
    return atomic_load_explicit(&h.box->snap[0], memory_order_relaxed);
}

static uint32_t lock_state(Managed_Point_ThreadSafe h) {
    return atomic_load_explicit(&h.box->cell.state, memory_order_relaxed);
}

static void test_snapshot_publication(void) {
    Managed_Point_ThreadSafe h = {0};
    if (!CHECK(Managed_Point_ThreadSafe_new(&h, pt(1, -1)) == PM_OK)) {
        return;
    }
    struct point out, *w = NULL;
    CHECK(seq_of(h) == 0);

    /* A held write lock does not block _load: it sees the last release, and
     * the same thread can load while it writes (no PM_EDEADLK, no wait). */
    if (CHECK(Managed_Point_ThreadSafe_write_shared(h, &w) == PM_OK)) {
        w->x = 2;
        w->y = -2;
        CHECK(Managed_Point_ThreadSafe_load(h, &out) == PM_OK && out.x == 1 && out.y == -1);
        CHECK(lock_state(h) == PM_RW_WRITE_LOCKED); /* _load wrote nothing */
        Managed_Point_ThreadSafe_release_write(h);
    }
    CHECK(seq_of(h) == 2); /* one publish: odd while storing, even after */
    CHECK(Managed_Point_ThreadSafe_load(h, &out) == PM_OK && out.x == 2 && out.y == -2);

    /* Read locks publish nothing; _wait forms publish at release like the others. */
    const struct point *r = NULL;
    if (CHECK(Managed_Point_ThreadSafe_read_wait(h, &r, PM_FOREVER) == PM_OK)) {
        Managed_Point_ThreadSafe_release_read(h);
    }
    CHECK(seq_of(h) == 2);
    if (CHECK(Managed_Point_ThreadSafe_write_wait(&h, &w, PM_FOREVER) == PM_OK)) {
        w->x = 3;
        Managed_Point_ThreadSafe_release_write(h);
    }
    if (CHECK(Managed_Point_ThreadSafe_write_shared_wait(h, &w, PM_FOREVER) == PM_OK)) {
        w->y = -3;
        Managed_Point_ThreadSafe_release_write(h);
    }
    CHECK(seq_of(h) == 6);
    CHECK(Managed_Point_ThreadSafe_load(h, &out) == PM_OK && out.x == 3 && out.y == -3);

    /* Copy on write: the fresh box starts with its own snapshot of the copy. */
    Managed_Point_ThreadSafe other = Managed_Point_ThreadSafe_dup(h);
    if (CHECK(Managed_Point_ThreadSafe_write(&h, &w) == PM_OK)) {
        CHECK(h.box != other.box && seq_of(h) == 0);
        CHECK(Managed_Point_ThreadSafe_load(h, &out) == PM_OK && out.x == 3);
        w->x = 4;
        Managed_Point_ThreadSafe_release_write(h);
    }
    CHECK(Managed_Point_ThreadSafe_load(h, &out) == PM_OK && out.x == 4 && out.y == -3);
    CHECK(Managed_Point_ThreadSafe_load(other, &out) == PM_OK && out.x == 3);
    CHECK(lock_state(h) == 0 && lock_state(other) == 0);

    /* Copy on write while another owner reads: from the snapshot, and the
     * reader's lock is untouched; while another owner writes: PM_EBUSY. */
    Managed_Point_ThreadSafe third = Managed_Point_ThreadSafe_dup(other);
    const struct point *r2 = NULL;
    if (CHECK(Managed_Point_ThreadSafe_read(other, &r2) == PM_OK)) {
        if (CHECK(Managed_Point_ThreadSafe_write(&third, &w) == PM_OK)) {
            CHECK(third.box != other.box && w->x == 3 && w->y == -3);
            CHECK(lock_state(other) == PM_RW_READ_LOCKED);
            Managed_Point_ThreadSafe_release_write(third);
        }
        Managed_Point_ThreadSafe_release_read(other);
    }
    Managed_Point_ThreadSafe_drop(&third);
    third = Managed_Point_ThreadSafe_dup(other);
    struct point *ws = NULL;
    if (CHECK(Managed_Point_ThreadSafe_write_shared(other, &ws) == PM_OK)) {
        CHECK(Managed_Point_ThreadSafe_write(&third, &w) == PM_EBUSY && third.box == other.box);
        Managed_Point_ThreadSafe_release_write(other);
    }
    Managed_Point_ThreadSafe_drop(&third);
    Managed_Point_ThreadSafe_drop(&other);
    Managed_Point_ThreadSafe_drop(&h);
}

/* A publish that looks stuck (seq left odd): after a bounded spin, _load
 * copies the value under the read lock instead. */
static void test_load_fallback_to_lock(void) {
    Managed_Point_ThreadSafe h = {0};
    if (!CHECK(Managed_Point_ThreadSafe_new(&h, pt(7, -7)) == PM_OK)) {
        return;
    }
    struct point out = pt(0, 0);
    atomic_store_explicit(&h.box->snap[0], 1u, memory_order_relaxed);
    CHECK(Managed_Point_ThreadSafe_load(h, &out) == PM_OK && out.x == 7 && out.y == -7);
    CHECK(lock_state(h) == 0); /* the read lock was released */

    /* The read lock's own limits still apply on that path. */
    pm_rwlock_set_for_test(&h.box->cell, PM_RW_MAX_READERS);
    out = pt(0, 0);
    CHECK(Managed_Point_ThreadSafe_load(h, &out) == PM_EOVERFLOW && out.x == 0);
    pm_rwlock_set_for_test(&h.box->cell, 0);
    atomic_store_explicit(&h.box->snap[0], 2u, memory_order_relaxed);
    CHECK(Managed_Point_ThreadSafe_load(h, &out) == PM_OK && out.x == 7);
    Managed_Point_ThreadSafe_drop(&h);
}

/* Wider than PM_SNAP_MAX_BYTES: no snapshot, _load is a locked copy. */
static void test_load_wide_value(void) {
    CHECK(sizeof(struct wide) > PM_SNAP_MAX_BYTES);
    struct wide v;
    for (int i = 0; i < 12; i++) {
        v.v[i] = i * 11;
    }
    Managed_Wide_ThreadSafe h = {0};
    if (!CHECK(Managed_Wide_ThreadSafe_new(&h, v) == PM_OK)) {
        return;
    }
    struct wide out, *w = NULL;
    memset(&out, 0, sizeof out);
    CHECK(Managed_Wide_ThreadSafe_load(h, &out) == PM_OK && memcmp(&out, &v, sizeof v) == 0);
    if (CHECK(Managed_Wide_ThreadSafe_write(&h, &w) == PM_OK)) {
        w->v[11] = -1;
        Managed_Wide_ThreadSafe_release_write(h);
    }
    CHECK(Managed_Wide_ThreadSafe_load(h, &out) == PM_OK && out.v[11] == -1 && out.v[0] == 0);
    CHECK(atomic_load_explicit(&h.box->cell.state, memory_order_relaxed) == 0);
    Managed_Wide_ThreadSafe_drop(&h);
}

/* ---- (c) under threads ---- */

enum { READERS = 2, WRITERS = 2 };

static pthread_barrier_t start_line;
static Managed_Point_ThreadSafe shared_point;
static Managed_Wide_ThreadSafe shared_wide;
static _Atomic bool writers_done;
static _Atomic long torn, backwards, loads;

static void *writer_main(void *arg) {
    (void)arg;
    Managed_Point_ThreadSafe h = Managed_Point_ThreadSafe_dup(shared_point);
    Managed_Wide_ThreadSafe wh = Managed_Wide_ThreadSafe_dup(shared_wide);
    int rounds = quick() ? 200 : 20000;
    (void)pthread_barrier_wait(&start_line);
    for (int i = 0; i < rounds; i++) {
        struct point *w = NULL;
        if (CHECK(Managed_Point_ThreadSafe_write_shared_wait(h, &w, PM_FOREVER) == PM_OK)) {
            w->x++; /* two stores: a torn copy would break y == -x */
            w->y = -w->x;
            Managed_Point_ThreadSafe_release_write(h);
        }
        /* Copy on write of the shared box: from the snapshot when no writer
         * holds the lock, else under the read lock; never a torn copy. */
        Managed_Point_ThreadSafe mine = Managed_Point_ThreadSafe_dup(h);
        if (i % 8 == 0 &&
            CHECK(Managed_Point_ThreadSafe_write_wait(&mine, &w, PM_FOREVER) == PM_OK)) {
            CHECK(mine.box != h.box);
            torn += w->y != -w->x;
            w->x = -1; /* private: nobody else sees this copy */
            Managed_Point_ThreadSafe_release_write(mine);
        }
        Managed_Point_ThreadSafe_drop(&mine);
        struct wide *ww = NULL;
        if (i % 16 == 0 &&
            CHECK(Managed_Wide_ThreadSafe_write_shared_wait(wh, &ww, PM_FOREVER) == PM_OK)) {
            ww->v[0]++;
            ww->v[11] = -ww->v[0];
            Managed_Wide_ThreadSafe_release_write(wh);
        }
    }
    Managed_Wide_ThreadSafe_drop(&wh);
    Managed_Point_ThreadSafe_drop(&h);
    return NULL;
}

static void *reader_main(void *arg) {
    (void)arg;
    Managed_Point_ThreadSafe h = Managed_Point_ThreadSafe_dup(shared_point);
    Managed_Wide_ThreadSafe wh = Managed_Wide_ThreadSafe_dup(shared_wide);
    (void)pthread_barrier_wait(&start_line);
    int32_t last = 0;
    bool last_round = false;
    while (!last_round) {
        /* Relaxed: a stop flag; one more round after it reads true. */
        last_round = atomic_load_explicit(&writers_done, memory_order_relaxed);
        for (int i = 0; i < 64; i++) {
            struct point p;
            if (CHECK(Managed_Point_ThreadSafe_load(h, &p) == PM_OK)) {
                torn += p.y != -p.x;
                backwards += p.x < last;
                last = p.x;
                loads++;
            }
        }
        /* No snapshot: a writer in the way makes _load PM_EBUSY, never a wait. */
        struct wide w;
        pm_status st = Managed_Wide_ThreadSafe_load(wh, &w);
        if (CHECK(st == PM_OK || st == PM_EBUSY) && st == PM_OK) {
            torn += w.v[11] != -w.v[0];
        }
    }
    Managed_Wide_ThreadSafe_drop(&wh);
    Managed_Point_ThreadSafe_drop(&h);
    return NULL;
}

static void test_load_under_threads(void) {
    struct wide zero;
    memset(&zero, 0, sizeof zero);
    if (!CHECK(Managed_Point_ThreadSafe_new(&shared_point, pt(0, 0)) == PM_OK) ||
        !CHECK(Managed_Wide_ThreadSafe_new(&shared_wide, zero) == PM_OK)) {
        return;
    }
    if (!CHECK(pthread_barrier_init(&start_line, NULL, READERS + WRITERS) == 0)) {
        return;
    }
    pthread_t writers[WRITERS], readers[READERS];
    int made_w = 0, made_r = 0;
    for (; made_r < READERS; made_r++) {
        if (!CHECK(pthread_create(&readers[made_r], NULL, reader_main, NULL) == 0)) {
            break;
        }
    }
    for (; made_w < WRITERS; made_w++) {
        if (!CHECK(pthread_create(&writers[made_w], NULL, writer_main, NULL) == 0)) {
            break;
        }
    }
    if (made_w == WRITERS && made_r == READERS) {
        for (int i = 0; i < WRITERS; i++) {
            (void)pthread_join(writers[i], NULL);
        }
        /* Relaxed: the readers only need to see it eventually. */
        atomic_store_explicit(&writers_done, true, memory_order_relaxed);
        for (int i = 0; i < READERS; i++) {
            (void)pthread_join(readers[i], NULL);
        }
        int rounds = quick() ? 200 : 20000;
        struct point p;
        CHECK(Managed_Point_ThreadSafe_load(shared_point, &p) == PM_OK);
        CHECK(p.x == WRITERS * rounds && p.y == -p.x); /* no lost update */
        CHECK(torn == 0 && backwards == 0 && loads > 0);
    } else {
        fprintf(stderr, "could not start the threads; test skipped\n");
    }
    (void)pthread_barrier_destroy(&start_line);
    CHECK(lock_state(shared_point) == 0);
    Managed_Wide_ThreadSafe_drop(&shared_wide);
    Managed_Point_ThreadSafe_drop(&shared_point);
}

/* ---- (d) drop and lock fast paths ---- */

static void test_drop_and_lock_fast_paths(void) {
    /* The last owner: a load of 1 is enough; the box is freed exactly once. */
    long before = boxes_live;
    Managed_Point_ThreadSafe h = {0};
    if (CHECK(Managed_Point_ThreadSafe_new(&h, pt(1, 1)) == PM_OK)) {
        Managed_Point_ThreadSafe a = Managed_Point_ThreadSafe_dup(h);
        Managed_Point_ThreadSafe_drop(&h); /* 2 -> 1 by the RMW */
        CHECK(h.box == NULL && Managed_Point_ThreadSafe_refcount(a) == 1);
        CHECK(boxes_live == before + 1);
        Managed_Point_ThreadSafe_drop(&a); /* 1: no RMW, destroyed */
        CHECK(a.box == NULL && boxes_live == before);
    }
    /* A sticky (immortal) count is never decremented, even from 1 above the cap. */
    pm_count_atomic c;
    pm_count_atomic_init(&c);
    pm_count_atomic_set_for_test(&c, PM_COUNT_STICKY);
    CHECK(!pm_count_atomic_dec(&c) && pm_count_atomic_get(&c) == PM_COUNT_SATURATED);

    /* Uncontended lock traffic never sets a waiting bit (so no wake-up is
     * ever asked of the futex). */
    pm_rwlock l;
    pm_rwlock_init(&l);
    for (int i = 0; i < 100; i++) {
        if (CHECK(pm_rwlock_try_read(&l) == PM_OK)) {
            pm_rwlock_release_read(&l);
        }
        if (CHECK(pm_rwlock_write_wait(&l, PM_FOREVER) == PM_OK)) {
            pm_rwlock_release_write(&l);
        }
    }
    CHECK(atomic_load_explicit(&l.state, memory_order_relaxed) == 0);
    CHECK(atomic_load_explicit(&l.writer_notify, memory_order_relaxed) == 0);
}

int main(void) {
    pm_set_allocator(counting_alloc, counting_free, NULL);
    test_load_every_policy();
    test_load_single_threaded_borrows();
    test_snapshot_publication();
    test_load_fallback_to_lock();
    test_load_wide_value();
    test_load_under_threads();
    test_drop_and_lock_fast_paths();
    CHECK(boxes_live == 0);
    return check_summary("test_fastpaths");
}
