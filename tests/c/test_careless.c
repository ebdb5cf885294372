/* test_careless.c — careless callers (issue 9), against tests/specs/all_policies.yaml.
 *
 * (1) A stray or mismatched release never wedges a lock: a release of what is
 *     not held leaves the cell as it is (and, under PM_DEBUG, is reported on
 *     stderr naming the handle type, and counted). The natural trigger: _read(h),
 *     then _write(&h) on the shared handle moves h to a fresh, write-locked
 *     copy, then _release_read(h) hits the copy's lock.
 * (2) _load never hangs: a value too wide for a snapshot, loaded by the thread
 *     that holds its write borrow (or while another thread writes), is PM_EBUSY.
 * (3) Dropping the last owner inside a scoped borrow is no use after free: the
 *     box outlives the drop and is freed exactly once, when the last scoped
 *     borrow ends (read, write, write_shared scopes; nested scopes; a box
 *     whose last owner was a dying box's field; the last owner dropped by
 *     another thread).
 * (4) PM_DEBUG is precise: no lock-order pair for the fresh box a copy on write
 *     creates; no PM_EDEADLK from a held-lock entry left behind when another
 *     thread released the lock; a downgrade records no new pair and leaves no
 *     write hold behind.
 * A _downgrade_write without a write borrow is refused like a stray release (1).
 *
 * Each per-policy behaviour is written once (part 2) and compiled for every
 * policy with a cell (SingleThreaded, ThreadSafe), as in test_generated.c.
 * PM_TEST_QUICK (set for valgrind) scales the thread races down.
 */
#ifndef POLICY /* ---- part 1: harness, ThreadSafe-only tests, main ---- */

#define _GNU_SOURCE /* dup, dup2, nanosleep */

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "all_policies.h"
#include "pm_internal.h" /* the *_set_for_test hooks */

#include "check.h"

/* Frees, counted: with boxes_live, proof that a box is freed exactly once
 * (the sanitizers and valgrind see a second free or a use after free). */
static _Atomic long frees;
#define COUNTING_ON_FREE(ptr) ((void)(ptr), frees++)
#include "counting_alloc.h"

#define MS (1000u * 1000u) /* nanoseconds */

static void sleep_ms(unsigned ms) {
    struct timespec ts = {0, (long)ms * 1000000L};
    nanosleep(&ts, NULL);
}

/* ---- stderr capture: what PM_DEBUG reports ---- */

static char captured[4096];
static int saved_stderr = -1;
static FILE *capture_file;

static void capture_begin(void) {
    fflush(stderr);
    capture_file = tmpfile();
    saved_stderr = dup(2);
    if (capture_file == NULL || saved_stderr < 0 || dup2(fileno(capture_file), 2) < 0) {
        CHECK(!"stderr capture");
    }
}

/* What was written to stderr since capture_begin (also echoed to the real stderr). */
static const char *capture_end(void) {
    fflush(stderr);
    captured[0] = '\0';
    if (saved_stderr >= 0) {
        dup2(saved_stderr, 2);
        close(saved_stderr);
        saved_stderr = -1;
    }
    if (capture_file != NULL) {
        rewind(capture_file);
        size_t n = fread(captured, 1, sizeof captured - 1, capture_file);
        captured[n] = '\0';
        fclose(capture_file);
        capture_file = NULL;
    }
    fputs(captured, stderr);
    return captured;
}

static bool mentions(const char *text, const char *word) { return strstr(text, word) != NULL; }

static uint32_t lock_state(pm_rwlock *l) {
    return atomic_load_explicit(&l->state, memory_order_relaxed);
}

/* ---- names of the per-policy part ---- */

#define CAT_(a, b) a##_##b
#define CAT(a, b) CAT_(a, b)
#define STR_(x) #x
#define STR(x) STR_(x)
#define M_(N, P) Managed_##N##_##P
#define MX(N, P) M_(N, P)
#define M(N) MX(N, POLICY)
#define OP(N, op) CAT(M(N), op)
#define V(N) CAT(N, POLICY)
#define F(name) CAT(name, POLICY)
#define SCOPE_(MACRO, H, ...) MACRO(H, __VA_ARGS__)
#define READ_SCOPE(N, ...) SCOPE_(PM_READ_SCOPE, M(N), __VA_ARGS__)
#define WRITE_SCOPE(N, ...) SCOPE_(PM_WRITE_SCOPE, M(N), __VA_ARGS__)
#define WRITE_SHARED_SCOPE(N, ...) SCOPE_(PM_WRITE_SHARED_SCOPE, M(N), __VA_ARGS__)

#define CELL_BORROW 1
#define CELL_RWLOCK 2

static void check_lock_usable(Managed_Point_ThreadSafe h);

#define POLICY SingleThreaded
#define CELL CELL_BORROW
#include "test_careless.c"
#undef POLICY
#undef CELL

#define POLICY ThreadSafe
#define CELL CELL_RWLOCK
#include "test_careless.c"
#undef POLICY
#undef CELL

/* ---- (1) the lock itself: releases that do not match the state ---- */

static void test_lock_refuses_impossible_releases(void) {
    uint64_t before = pm_debug_release_mismatches();
    pm_rwlock l;
    pm_rwlock_init(&l);
    pm_rwlock_name(&l, "test_lock");

    capture_begin();
    pm_rwlock_release_read(&l); /* nobody holds it */
    pm_rwlock_release_write(&l);
    const char *report = capture_end();
    CHECK(lock_state(&l) == 0);
    CHECK(pm_rwlock_try_read(&l) == PM_OK);
    pm_rwlock_release_write(&l); /* read-locked, not write-locked */
    CHECK(lock_state(&l) == PM_RW_READ_LOCKED);
    pm_rwlock_release_read(&l);
    CHECK(lock_state(&l) == 0);
    CHECK(pm_rwlock_try_write(&l) == PM_OK);
    pm_rwlock_release_read(&l); /* write-locked: no reader to release */
    CHECK(lock_state(&l) == PM_RW_WRITE_LOCKED);
    pm_rwlock_release_write(&l);
    CHECK(lock_state(&l) == 0);
    CHECK(pm_rwlock_try_write(&l) == PM_OK && pm_rwlock_try_read(&l) == PM_EBUSY);
    pm_rwlock_release_write(&l);
    CHECK(pm_rwlock_read_wait(&l, PM_FOREVER) == PM_OK);
    pm_rwlock_release_read(&l);
    CHECK(lock_state(&l) == 0);
#ifdef PM_DEBUG
    CHECK(pm_debug_release_mismatches() == before + 4);
    CHECK(mentions(report, "test_lock") && mentions(report, "release_read") &&
          mentions(report, "release_write"));
#else
    CHECK(pm_debug_release_mismatches() == before && report[0] == '\0');
#endif
    pm_rwlock_forget(&l);
}

/* A PM_FOREVER read wait in another thread, on h's box, while main holds the write lock. */
typedef struct forever_reader {
    Managed_Point_ThreadSafe h;
    _Atomic int started;
    pm_status status;
    int32_t x;
} forever_reader;

static void *forever_reader_main(void *arg) {
    forever_reader *r = arg;
    const struct point *p = NULL;
    atomic_store(&r->started, 1);
    r->status = Managed_Point_ThreadSafe_read_wait(r->h, &p, PM_FOREVER);
    if (r->status == PM_OK) {
        r->x = p->x;
        Managed_Point_ThreadSafe_release_read(r->h);
    }
    return NULL;
}

/* After the stray release of the natural trigger (part 2), the ThreadSafe lock
 * must be fully usable, a PM_FOREVER waiter on another thread included. */
static void check_lock_usable(Managed_Point_ThreadSafe h) {
    const struct point *r = NULL;
    struct point *w = NULL;
    CHECK(lock_state(&h.box->cell) == 0);
    if (CHECK(Managed_Point_ThreadSafe_read(h, &r) == PM_OK)) {
        Managed_Point_ThreadSafe_release_read(h);
    }
    if (CHECK(Managed_Point_ThreadSafe_write_shared(h, &w) == PM_OK)) {
        Managed_Point_ThreadSafe_release_write(h);
    }
    if (CHECK(Managed_Point_ThreadSafe_write_shared_wait(h, &w, 100 * MS) == PM_OK)) {
        forever_reader fr = {.h = h, .status = PM_EINVAL};
        pthread_t t;
        if (CHECK(pthread_create(&t, NULL, forever_reader_main, &fr) == 0)) {
            while (!atomic_load(&fr.started)) {
                sleep_ms(1);
            }
            sleep_ms(20); /* let it block on the write lock */
            w->x = 77;
            Managed_Point_ThreadSafe_release_write(h);
            CHECK(pthread_join(t, NULL) == 0);
            CHECK(fr.status == PM_OK && fr.x == 77);
        } else {
            Managed_Point_ThreadSafe_release_write(h);
        }
    }
    CHECK(lock_state(&h.box->cell) == 0);
}

/* ---- (2) _load never hangs ---- */

/* Out of line: inlined into a caller holding a Wide box, GCC 12's
 * -Wstringop-overflow misjudges the size of the lock. */
static PM_NOINLINE void set_lock_state(pm_rwlock *l, uint32_t state) {
    pm_rwlock_set_for_test(l, state);
}

static struct wide wide_of(int64_t base) {
    struct wide v;
    for (int i = 0; i < 12; i++) {
        v.v[i] = base + i;
    }
    return v;
}

typedef struct wide_writer {
    Managed_Wide_ThreadSafe h;
    _Atomic int holding, stop;
} wide_writer;

static void *wide_writer_main(void *arg) {
    wide_writer *ww = arg;
    struct wide *w = NULL;
    if (CHECK(Managed_Wide_ThreadSafe_write_shared_wait(ww->h, &w, PM_FOREVER) == PM_OK)) {
        atomic_store(&ww->holding, 1);
        while (!atomic_load(&ww->stop)) {
            sleep_ms(1);
        }
        w->v[0] = 100;
        Managed_Wide_ThreadSafe_release_write(ww->h);
    }
    return NULL;
}

static void test_load_wide_never_hangs(void) {
    CHECK(sizeof(struct wide) > PM_SNAP_MAX_BYTES);
    Managed_Wide_ThreadSafe h = {0};
    if (!CHECK(Managed_Wide_ThreadSafe_new(&h, wide_of(0)) == PM_OK)) {
        return;
    }
    struct wide out = wide_of(-1), *w = NULL;

    /* The caller's own write borrow: PM_EBUSY at once (it used to wait for ever). */
    if (CHECK(Managed_Wide_ThreadSafe_write(&h, &w) == PM_OK)) {
        uint64_t t0 = pm_monotonic_ns();
        CHECK(Managed_Wide_ThreadSafe_load(h, &out) == PM_EBUSY);
        CHECK(pm_monotonic_ns() - t0 < 500u * MS);
        w->v[1] = 11;
        Managed_Wide_ThreadSafe_release_write(h);
    }
    CHECK(Managed_Wide_ThreadSafe_load(h, &out) == PM_OK && out.v[1] == 11);

    /* Another thread's write borrow: PM_EBUSY after a brief spin, not a wait. */
    wide_writer ww = {.h = h};
    pthread_t t;
    if (CHECK(pthread_create(&t, NULL, wide_writer_main, &ww) == 0)) {
        while (!atomic_load(&ww.holding)) {
            sleep_ms(1);
        }
        uint64_t t0 = pm_monotonic_ns();
        CHECK(Managed_Wide_ThreadSafe_load(h, &out) == PM_EBUSY);
        CHECK(pm_monotonic_ns() - t0 < 500u * MS);
        atomic_store(&ww.stop, 1);
        CHECK(pthread_join(t, NULL) == 0);
    }
    CHECK(Managed_Wide_ThreadSafe_load(h, &out) == PM_OK && out.v[0] == 100 && out.v[1] == 11);

    /* A writer waiting (behind a reader) keeps _load out as it keeps _read out. */
    set_lock_state(&h.box->cell, PM_RW_READ_LOCKED | PM_RW_WRITERS_WAITING);
    CHECK(Managed_Wide_ThreadSafe_load(h, &out) == PM_EBUSY);
    /* The reader limit: PM_EOVERFLOW, as for _read. */
    set_lock_state(&h.box->cell, PM_RW_MAX_READERS);
    CHECK(Managed_Wide_ThreadSafe_load(h, &out) == PM_EOVERFLOW);
    set_lock_state(&h.box->cell, 0);
    CHECK(Managed_Wide_ThreadSafe_load(h, &out) == PM_OK && out.v[0] == 100);
    CHECK(lock_state(&h.box->cell) == 0);

    /* With a snapshot, the caller's own write borrow does not block _load either
     * (it sees the value as of the last release). */
    Managed_Point_ThreadSafe p = {0};
    struct point *pw = NULL, po = {0, 0};
    if (CHECK(Managed_Point_ThreadSafe_new(&p, ((struct point){1, 2})) == PM_OK) &&
        CHECK(Managed_Point_ThreadSafe_write(&p, &pw) == PM_OK)) {
        pw->x = 5;
        CHECK(Managed_Point_ThreadSafe_load(p, &po) == PM_OK && po.x == 1);
        Managed_Point_ThreadSafe_release_write(p);
    }
    CHECK(Managed_Point_ThreadSafe_load(p, &po) == PM_OK && po.x == 5);
    Managed_Point_ThreadSafe_drop(&p);
    Managed_Wide_ThreadSafe_drop(&h);
}

/* ---- (3) the last owner dropped by another thread inside a scope ---- */

static bool quick(void) { return getenv("PM_TEST_QUICK") != NULL; }

typedef struct scope_race {
    Managed_Blob_ThreadSafe mine;   /* dropped by the scoped thread inside its scope */
    Managed_Blob_ThreadSafe theirs; /* dropped by the other thread, concurrently */
    pthread_barrier_t go;
    _Atomic long bad;
} scope_race;

static void *scoped_dropper_main(void *arg) {
    scope_race *race = arg;
    PM_READ_SCOPE(Managed_Blob_ThreadSafe, g, race->mine);
    (void)pthread_barrier_wait(&race->go);
    if (g.status != PM_OK) {
        race->bad++;
        return NULL;
    }
    Managed_Blob_ThreadSafe_drop(&race->mine);
    if (strcmp(g.value->data, "race") != 0) { /* still readable, whoever dropped last */
        race->bad++;
    }
    return NULL;
}

static void *plain_dropper_main(void *arg) {
    scope_race *race = arg;
    (void)pthread_barrier_wait(&race->go);
    Managed_Blob_ThreadSafe_drop(&race->theirs);
    return NULL;
}

static void test_scope_drop_races_other_thread(void) {
    long boxes = boxes_live, freed = frees, blobs = blob_live;
    int rounds = quick() ? 50 : 2000;
    long bad = 0;
    for (int i = 0; i < rounds; i++) {
        static scope_race race;
        race.mine = (Managed_Blob_ThreadSafe){0};
        race.bad = 0;
        if (!CHECK(Managed_Blob_ThreadSafe_new(&race.mine, blob_make("race")) == PM_OK)) {
            return;
        }
        race.theirs = Managed_Blob_ThreadSafe_dup(race.mine);
        pthread_barrier_init(&race.go, NULL, 2);
        pthread_t a, b;
        if (!CHECK(pthread_create(&a, NULL, scoped_dropper_main, &race) == 0)) {
            return;
        }
        if (!CHECK(pthread_create(&b, NULL, plain_dropper_main, &race) == 0)) {
            pthread_join(a, NULL);
            return;
        }
        pthread_join(a, NULL);
        pthread_join(b, NULL);
        pthread_barrier_destroy(&race.go);
        bad += race.bad;
    }
    CHECK(bad == 0);
    CHECK(boxes_live == boxes && frees == freed + rounds && blob_live == blobs);
}

/* ---- (4a) no lock-order pair for the fresh box of a copy on write ---- */

static void test_no_order_pair_for_fresh_copy(void) {
    uint64_t before = pm_debug_lock_order_inversions();
    Managed_Point_ThreadSafe h = {0}, other = {0};
    if (!CHECK(Managed_Point_ThreadSafe_new(&h, ((struct point){1, 1})) == PM_OK)) {
        return;
    }
    other = Managed_Point_ThreadSafe_dup(h);
    const struct point *r = NULL;
    struct point *w = NULL;
    /* Holding the shared box's read lock while the copy is made (write-held from birth). */
    if (CHECK(Managed_Point_ThreadSafe_read(other, &r) == PM_OK)) {
        if (CHECK(Managed_Point_ThreadSafe_write(&h, &w) == PM_OK)) {
            CHECK(h.box != other.box);
            w->x = 2;
            Managed_Point_ThreadSafe_release_write(h);
        }
        Managed_Point_ThreadSafe_release_read(other);
    }
    /* Now the two boxes the other way round: the copy's lock, then the shared one's. */
    if (CHECK(Managed_Point_ThreadSafe_write_shared(h, &w) == PM_OK)) {
        if (CHECK(Managed_Point_ThreadSafe_read(other, &r) == PM_OK)) {
            Managed_Point_ThreadSafe_release_read(other);
        }
        Managed_Point_ThreadSafe_release_write(h);
    }
    CHECK(pm_debug_lock_order_inversions() == before);
    /* A real inversion between the same two boxes is still reported (PM_DEBUG). */
    if (CHECK(Managed_Point_ThreadSafe_read(other, &r) == PM_OK)) {
        if (CHECK(Managed_Point_ThreadSafe_write_shared(h, &w) == PM_OK)) {
            Managed_Point_ThreadSafe_release_write(h);
        }
        Managed_Point_ThreadSafe_release_read(other);
    }
#ifdef PM_DEBUG
    CHECK(pm_debug_lock_order_inversions() == before + 1);
#else
    CHECK(pm_debug_lock_order_inversions() == before);
#endif
    Managed_Point_ThreadSafe_drop(&other);
    Managed_Point_ThreadSafe_drop(&h);
}

/* ---- (4b) no PM_EDEADLK from a lock another thread released ---- */

typedef struct handoff {
    pm_rwlock *lock;
    bool write;                /* the mode main took and this thread releases */
    _Atomic int holding, stop; /* this thread then holds the lock for write */
} handoff;

/* Releases main's hold (taken in `write` mode) on this thread, then holds the
 * lock for write until main says stop. */
static void *handoff_main(void *arg) {
    handoff *ho = arg;
    if (ho->write) {
        pm_rwlock_release_write(ho->lock);
    } else {
        pm_rwlock_release_read(ho->lock);
    }
    CHECK(pm_rwlock_try_write(ho->lock) == PM_OK);
    atomic_store(&ho->holding, 1);
    while (!atomic_load(&ho->stop)) {
        sleep_ms(1);
    }
    sleep_ms(50); /* main is waiting by now */
    pm_rwlock_release_write(ho->lock);
    return NULL;
}

/* main takes the lock in `write` mode, another thread releases it and then
 * holds it for write; main's wait must then be an ordinary wait (PM_OK once
 * the other thread lets go), not PM_EDEADLK from main's stale record. */
static void check_released_elsewhere(bool taken_for_write, bool wait_for_write) {
    pm_rwlock l;
    pm_rwlock_init(&l);
    pm_rwlock_name(&l, "handoff");
    CHECK((taken_for_write ? pm_rwlock_try_write(&l) : pm_rwlock_try_read(&l)) == PM_OK);
    handoff ho = {.lock = &l, .write = taken_for_write};
    pthread_t t;
    if (!CHECK(pthread_create(&t, NULL, handoff_main, &ho) == 0)) {
        return;
    }
    while (!atomic_load(&ho.holding)) {
        sleep_ms(1);
    }
    /* The other thread lets go 50 ms from now: a real wait, then the lock. */
    atomic_store(&ho.stop, 1);
    pm_status st = wait_for_write ? pm_rwlock_write_wait(&l, 5000u * MS)
                                  : pm_rwlock_read_wait(&l, 5000u * MS);
    CHECK(st == PM_OK);
    if (st == PM_OK) {
        if (wait_for_write) {
            pm_rwlock_release_write(&l);
        } else {
            pm_rwlock_release_read(&l);
        }
    }
    CHECK(pthread_join(t, NULL) == 0);
    CHECK(lock_state(&l) == 0);
    /* And the detector still works on this lock. */
    CHECK(pm_rwlock_try_write(&l) == PM_OK);
#ifdef PM_DEBUG
    CHECK(pm_rwlock_read_wait(&l, PM_FOREVER) == PM_EDEADLK);
#endif
    pm_rwlock_release_write(&l);
    pm_rwlock_forget(&l);
}

static void test_no_false_deadlock_after_foreign_release(void) {
    check_released_elsewhere(false, true);  /* read taken here, released there; write wait */
    check_released_elsewhere(false, false); /* ... read wait */
    check_released_elsewhere(true, true);   /* write taken here, released there */
    check_released_elsewhere(true, false);
}

/* ---- (4c) a downgrade is no new acquisition, and leaves no hold behind ---- */

static void test_downgrade_orders_nothing(void) {
    uint64_t before = pm_debug_lock_order_inversions();
    pm_rwlock a, b;
    pm_rwlock_init(&a);
    pm_rwlock_init(&b);
    /* a, then b: the pair (a, b). Downgrading a then takes nothing new: a pair (b, a)
     * recorded for it would be an inversion that is not there. */
    CHECK(pm_rwlock_try_write(&a) == PM_OK && pm_rwlock_try_read(&b) == PM_OK);
    CHECK(pm_rwlock_downgrade(&a) == PM_OK);
    pm_rwlock_release_read(&b);
    pm_rwlock_release_read(&a);
    CHECK(pm_debug_lock_order_inversions() == before);
    pm_rwlock_forget(&a);
    pm_rwlock_forget(&b);

    /* Downgraded and released, a is held no more, for write or read: taking b, then a,
     * records (b, a) only (a stale hold of a would add (a, b), an inversion). */
    CHECK(pm_rwlock_try_write(&a) == PM_OK && pm_rwlock_downgrade(&a) == PM_OK);
    pm_rwlock_release_read(&a);
    CHECK(pm_rwlock_try_write(&b) == PM_OK && pm_rwlock_try_write(&a) == PM_OK);
    pm_rwlock_release_write(&a);
    pm_rwlock_release_write(&b);
    CHECK(pm_debug_lock_order_inversions() == before);
    CHECK(lock_state(&a) == 0 && lock_state(&b) == 0);
#ifdef PM_DEBUG
    CHECK(pm_rwlock_try_write(&a) == PM_OK && pm_rwlock_downgrade(&a) == PM_OK);
    CHECK(pm_rwlock_write_wait(&a, PM_FOREVER) == PM_EDEADLK); /* held for read */
    pm_rwlock_release_read(&a);
    CHECK(a.debug_writer == NULL);
#endif
    pm_rwlock_forget(&a);
    pm_rwlock_forget(&b);
}

int main(void) {
    pm_set_allocator(counting_alloc, counting_free, NULL);
    run_SingleThreaded();
    run_ThreadSafe();
    test_lock_refuses_impossible_releases();
    test_load_wide_never_hangs();
    test_scope_drop_races_other_thread();
    test_no_order_pair_for_fresh_copy();
    test_downgrade_orders_nothing();
    test_no_false_deadlock_after_foreign_release();
    CHECK(boxes_live == 0);
    CHECK(blob_live == 0);
    pm_set_allocator(NULL, NULL, NULL);
    return check_summary("test_careless");
}

#else /* ---- part 2: the behaviours, compiled once per POLICY with a cell ---- */

#if CELL == CELL_BORROW
#define CONFLICT PM_EBORROWED
#else
#define CONFLICT PM_EBUSY
#endif

static M(Point) F(point)(int32_t x, int32_t y) {
    M(Point) h = {0};
    CHECK(OP(Point, new)(&h, ((struct point){x, y})) == PM_OK);
    return h;
}

/* The cell of h is free: an exclusive borrow of the box itself succeeds. */
static bool F(cell_is_free)(M(Point) h) {
    struct point *w = NULL;
    if (OP(Point, write_shared)(h, &w) != PM_OK) {
        return false;
    }
    OP(Point, release_write)(h);
    return true;
}

/* PM_DEBUG: `count` mismatches since `before`, reported naming the handle type and
 * `word`. Otherwise none counted, nothing reported. */
static void F(check_mismatches)(const char *report, uint64_t before, uint64_t count,
                                const char *word) {
#ifdef PM_DEBUG
    CHECK(pm_debug_release_mismatches() == before + count);
    CHECK(mentions(report, STR(M(Point))) && mentions(report, word));
#else
    (void)count;
    (void)word;
    CHECK(pm_debug_release_mismatches() == before);
    CHECK(!mentions(report, STR(M(Point)))); /* nothing reported */
#endif
}

/* ---- (1) the natural trigger: _read, then _write on the shared handle ---- */

static void F(test_stray_release_after_copy_on_write)(void) {
    uint64_t before = pm_debug_release_mismatches();
    M(Point) h = F(point)(1, 2);
    M(Point) other = OP(Point, dup)(h);
    const struct point *r = NULL;
    struct point *w = NULL;
    capture_begin();
    if (CHECK(OP(Point, read)(h, &r) == PM_OK)) {
        if (CHECK(OP(Point, write)(&h, &w) == PM_OK)) { /* shared: h moves to a fresh copy */
            CHECK(h.box != other.box);
            w->x = 3;
            OP(Point, release_read)(h); /* meant for the old box: the copy is write-locked */
            OP(Point, release_write)(h);
        }
        OP(Point, release_read)(other); /* the read borrow really held */
    }
    const char *report = capture_end();
    CHECK(F(cell_is_free)(h) && F(cell_is_free)(other));
    CHECK(OP(Point, read)(h, &r) == PM_OK && r->x == 3);
    CHECK(OP(Point, write_shared)(h, &w) == CONFLICT);
    OP(Point, release_read)(h);
    OP(Point, release_read)(h); /* one too many: nothing held */
    OP(Point, release_write)(h);
    CHECK(F(cell_is_free)(h));
    F(check_mismatches)(report, before, 3, "release");
#if CELL == CELL_RWLOCK
    check_lock_usable(h);
#endif
    OP(Point, drop)(&other);
    OP(Point, drop)(&h);
}

/* ---- (1) a downgrade without a write borrow: refused, the cell as it was ---- */

static void F(test_stray_downgrade)(void) {
    uint64_t before = pm_debug_release_mismatches();
    capture_begin();
    M(Point) h = F(point)(1, 2), other = OP(Point, dup)(h);
    CHECK(OP(Point, downgrade_write)(h) == PM_EINVAL); /* nothing held */
    const struct point *r = NULL;
    struct point *w = NULL;
    if (CHECK(OP(Point, read)(h, &r) == PM_OK)) {
        CHECK(OP(Point, downgrade_write)(h) == PM_EINVAL); /* read, not written */
        if (CHECK(OP(Point, write)(&h, &w) == PM_OK)) { /* shared: h moves to a fresh copy */
            w->x = 3;
            /* Meant for the box written, on the old one (read-borrowed): refused. */
            CHECK(OP(Point, downgrade_write)(other) == PM_EINVAL);
            CHECK(OP(Point, downgrade_write)(h) == PM_OK);
            CHECK(OP(Point, write_shared)(h, &w) == CONFLICT);
            OP(Point, release_read)(h);
        }
        OP(Point, release_read)(other); /* the read borrow really held */
    }
    const char *report = capture_end();
    CHECK(F(cell_is_free)(h) && F(cell_is_free)(other));
    CHECK(OP(Point, read)(h, &r) == PM_OK && r->x == 3);
    OP(Point, release_read)(h);
    CHECK(OP(Point, read)(other, &r) == PM_OK && r->x == 1);
    OP(Point, release_read)(other);
    F(check_mismatches)(report, before, 3, "downgrade");
#if CELL == CELL_RWLOCK
    check_lock_usable(h);
    check_lock_usable(other);
#endif
    OP(Point, drop)(&other);
    OP(Point, drop)(&h);
}

/* ---- (3) the last owner dropped inside a scope ---- */

static M(Blob) F(blob)(const char *text) {
    M(Blob) h = {0};
    struct blob v = blob_make(text);
    if (!CHECK(OP(Blob, new)(&h, v) == PM_OK)) {
        blob_drop(&v);
    }
    return h;
}

static void F(test_drop_in_read_scope)(void) {
    long boxes = boxes_live, freed = frees;
    M(Point) h = F(point)(4, 5);
    {
        READ_SCOPE(Point, g, h);
        if (CHECK(g.status == PM_OK)) {
            capture_begin();
            OP(Point, drop)(&h);
            const char *report = capture_end();
            CHECK(h.box == NULL);
            CHECK(boxes_live == boxes + 1); /* not freed under the borrow */
            CHECK(g.value->x == 4 && g.value->y == 5);
#ifdef PM_DEBUG
            CHECK(mentions(report, STR(M(Point))) && mentions(report, "borrow"));
#else
            CHECK(report[0] == '\0');
#endif
        }
    }
    CHECK(boxes_live == boxes && frees == freed + 1); /* freed once, at the scope's end */
}

static void F(test_drop_in_write_scope)(void) {
    long boxes = boxes_live, freed = frees, blobs = blob_live;
    /* A unique handle: written in place. */
    M(Blob) h = F(blob)("abc");
    {
        WRITE_SCOPE(Blob, g, &h);
        if (CHECK(g.status == PM_OK)) {
            OP(Blob, drop)(&h);
            CHECK(boxes_live == boxes + 1 && blob_live == blobs + 1);
            g.value->data[0] = 'X';
            CHECK(strcmp(g.value->data, "Xbc") == 0);
        }
    }
    CHECK(boxes_live == boxes && frees == freed + 1 && blob_live == blobs);

    /* A shared handle: the scope writes a fresh copy, whose only owner is dropped. */
    h = F(blob)("old");
    M(Blob) other = OP(Blob, dup)(h);
    {
        WRITE_SCOPE(Blob, g, &h);
        if (CHECK(g.status == PM_OK)) {
            CHECK(h.box != other.box);
            OP(Blob, drop)(&h);
            CHECK(boxes_live == boxes + 2 && blob_live == blobs + 2);
            g.value->data[0] = 'n';
        }
    }
    CHECK(boxes_live == boxes + 1 && frees == freed + 2 && blob_live == blobs + 1);
    const struct blob *r = NULL;
    if (CHECK(OP(Blob, read)(other, &r) == PM_OK)) {
        CHECK(strcmp(r->data, "old") == 0);
        OP(Blob, release_read)(other);
    }

    /* write_shared: the shared box itself, its last owner dropped in the scope. */
    {
        WRITE_SHARED_SCOPE(Blob, g, other);
        if (CHECK(g.status == PM_OK)) {
            OP(Blob, drop)(&other);
            g.value->data[0] = 'O';
            CHECK(boxes_live == boxes + 1);
        }
    }
    CHECK(boxes_live == boxes && frees == freed + 3 && blob_live == blobs);
}

static void F(test_drop_in_nested_scopes)(void) {
    long boxes = boxes_live, freed = frees;
    M(Point) h = F(point)(6, 7);
    M(Point) alias = h; /* a copy of the handle, not an owner */
    {
        READ_SCOPE(Point, outer, alias);
        CHECK(outer.status == PM_OK);
        {
            READ_SCOPE(Point, inner, alias);
            if (CHECK(inner.status == PM_OK)) {
                OP(Point, drop)(&h);
                CHECK(inner.value->x == 6);
            }
        }
        /* The inner end released its borrow but the outer one still reads. */
        CHECK(boxes_live == boxes + 1 && frees == freed);
        if (outer.status == PM_OK) {
            CHECK(outer.value->y == 7);
        }
    }
    CHECK(boxes_live == boxes && frees == freed + 1);
}

/* A box whose last owner is a field of a dying box: it outlives the drain. */
static void F(test_drop_parent_while_child_in_scope)(void) {
    long boxes = boxes_live, freed = frees, blobs = blob_live;
    M(Item) item = {0};
    CHECK(OP(Item, new)(&item, ((V(Item)){1, 2, F(blob)("tag")})) == PM_OK);
    M(Blob) tag = {0}; /* a copy of the item's field: not an owner */
    const V(Item) *ir = NULL;
    if (CHECK(OP(Item, read)(item, &ir) == PM_OK)) {
        tag = ir->tag;
        OP(Item, release_read)(item);
    }
    {
        READ_SCOPE(Blob, g, tag);
        if (CHECK(g.status == PM_OK)) {
            OP(Item, drop)(&item); /* the item dies; its tag must wait for the scope */
            CHECK(boxes_live == boxes + 1 && blob_live == blobs + 1);
            CHECK(strcmp(g.value->data, "tag") == 0);
        }
    }
    CHECK(boxes_live == boxes && frees == freed + 2 && blob_live == blobs);

    /* A list: the node in scope had its only owner in the node before it, and
     * owns the rest of the list, which goes when the scope ends. */
    M(Node) tail = {0}, middle = {0}, head = {0};
    CHECK(OP(Node, new)(&tail, ((V(Node)){3, {0}})) == PM_OK);
    CHECK(OP(Node, new)(&middle, ((V(Node)){2, tail})) == PM_OK);
    M(Node) mid = middle; /* not an owner */
    CHECK(OP(Node, new)(&head, ((V(Node)){1, middle})) == PM_OK);
    {
        WRITE_SHARED_SCOPE(Node, g, mid);
        if (CHECK(g.status == PM_OK)) {
            OP(Node, drop)(&head);
            CHECK(boxes_live == boxes + 2); /* middle and tail live on */
            g.value->value = 20;
        }
    }
    CHECK(boxes_live == boxes && frees == freed + 5);
}

/* A drop outside any scope still frees at once; an unmatched guard does nothing. */
static void F(test_plain_drop_unchanged)(void) {
    long boxes = boxes_live, freed = frees;
    M(Point) h = F(point)(1, 1);
    {
        READ_SCOPE(Point, g, h);
        CHECK(g.status == PM_OK);
    }
    CHECK(boxes_live == boxes + 1);
    OP(Point, drop)(&h);
    CHECK(boxes_live == boxes && frees == freed + 1);
}

static void F(run)(void) {
    F(test_stray_release_after_copy_on_write)();
    F(test_stray_downgrade)();
    F(test_drop_in_read_scope)();
    F(test_drop_in_write_scope)();
    F(test_drop_in_nested_scopes)();
    F(test_drop_parent_while_child_in_scope)();
    F(test_plain_drop_unchanged)();
}

#undef CONFLICT

#endif /* POLICY */
