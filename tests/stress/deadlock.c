/* deadlock.c — open question 2: in a PM_DEBUG build every self-deadlock
 * returns PM_EDEADLK at once; in a release build the same waits run to their
 * timeout (the check costs nothing there because it is not compiled in).
 *
 * A self-deadlock is a thread waiting for a write on a lock it reads, or for
 * any access to a lock it writes (and, under writer preference, for a read of
 * a lock it reads while a writer queues behind it). Each case below sets one
 * up — on the runtime lock directly and through the generated _wait forms
 * and scoped _WAIT guards of tests/specs/all_policies.yaml — and times the
 * one waiting call:
 *   PM_DEBUG: PM_EDEADLK, with timeouts PM_FOREVER and 1 s alike, in under
 *             AT_ONCE_NS (a hundredth of the 1 s timeout);
 *   release:  PM_ETIMEDOUT after at least the 20 ms timeout.
 * Nothing changes on a refused wait: the lock's state word and the handle
 * are as before. Waits that are not self-deadlocks are never refused: a
 * recursive read with no writer queued is granted, and waiting for a lock
 * another thread holds times out normally (no false PM_EDEADLK).
 * The summary line gives the slowest refusal (docs/RELIABILITY.md).
 */
#define _POSIX_C_SOURCE 200809L

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "all_policies.h"

#include "check.h"

#define MS (1000ull * 1000ull)
#define AT_ONCE_NS (10 * MS)
#define RELEASE_TIMEOUT_NS (20 * MS)

typedef Managed_Point_ThreadSafe P;

#ifdef PM_DEBUG
static uint64_t slowest_refusal; /* ns, over every PM_DEBUG case */
#endif
static int cases;

/* One waiting call, timed: `call` is an expression of type pm_status. */
#define TIMED(status, elapsed, call)                   \
    do {                                               \
        uint64_t t0_ = pm_monotonic_ns();              \
        (status) = (call);                             \
        (elapsed) = pm_monotonic_ns() - t0_;           \
    } while (0)

/* The verdict for a self-deadlocking wait given timeout `timeout`. */
static void expect_refused(const char *what, pm_status st, uint64_t elapsed, uint64_t timeout) {
    cases++;
#ifdef PM_DEBUG
    (void)timeout;
    if (!CHECK(st == PM_EDEADLK) || !CHECK(elapsed < AT_ONCE_NS)) {
        fprintf(stderr, "  %s: %s after %llu ns\n", what, pm_status_str(st),
                (unsigned long long)elapsed);
    }
    slowest_refusal = elapsed > slowest_refusal ? elapsed : slowest_refusal;
#else
    if (!CHECK(st == PM_ETIMEDOUT) || !CHECK(elapsed >= timeout)) {
        fprintf(stderr, "  %s: %s after %llu ns\n", what, pm_status_str(st),
                (unsigned long long)elapsed);
    }
#endif
}

/* The timeouts each case is tried with. */
#ifdef PM_DEBUG
static const uint64_t timeouts[] = {PM_FOREVER, 1000 * MS};
#else
static const uint64_t timeouts[] = {RELEASE_TIMEOUT_NS};
#endif
#define FOR_EACH_TIMEOUT(t)                                                        \
    for (size_t ti_ = 0; ti_ < sizeof timeouts / sizeof timeouts[0]; ti_++)        \
        for (uint64_t t = timeouts[ti_], once_ = 1; once_; once_ = 0)

static uint32_t state(pm_rwlock *l) { return atomic_load(&l->state); }

/* ---- the runtime lock ---- */

static void test_runtime_lock(void) {
    pm_rwlock l;
    pm_rwlock_init(&l);
    pm_status st;
    uint64_t dt;
    FOR_EACH_TIMEOUT(t) {
        /* Reading, waits to write. */
        CHECK(pm_rwlock_try_read(&l) == PM_OK);
        TIMED(st, dt, pm_rwlock_write_wait(&l, t));
        expect_refused("rwlock: read held, write_wait", st, dt, t);
        CHECK(state(&l) == PM_RW_READ_LOCKED);
        /* Reading twice (depth 2), still refused. */
        CHECK(pm_rwlock_read_wait(&l, t) == PM_OK); /* recursive read, no writer: granted */
        TIMED(st, dt, pm_rwlock_write_wait(&l, t));
        expect_refused("rwlock: read held twice, write_wait", st, dt, t);
        pm_rwlock_release_read(&l);
        pm_rwlock_release_read(&l);
        CHECK(state(&l) == 0);

        /* Writing, waits to read or write. */
        CHECK(pm_rwlock_try_write(&l) == PM_OK);
        TIMED(st, dt, pm_rwlock_read_wait(&l, t));
        expect_refused("rwlock: write held, read_wait", st, dt, t);
        TIMED(st, dt, pm_rwlock_write_wait(&l, t));
        expect_refused("rwlock: write held, write_wait", st, dt, t);
        CHECK(state(&l) == PM_RW_WRITE_LOCKED);
        pm_rwlock_release_write(&l);
        CHECK(state(&l) == 0);
        /* The lock is usable afterwards. */
        CHECK(pm_rwlock_write_wait(&l, t) == PM_OK);
        pm_rwlock_release_write(&l);
    }
}

/* ---- a reader re-reading while a writer of another thread queues ---- */

static pm_rwlock queued;
static _Atomic int writer_result = -1;

static void *queue_writer(void *p) {
    (void)p;
    pm_status st = pm_rwlock_write_wait(&queued, 10000 * MS);
    if (st == PM_OK) {
        pm_rwlock_release_write(&queued);
    }
    writer_result = (int)st;
    return NULL;
}

static void test_reader_behind_queued_writer(void) {
    pm_rwlock_init(&queued);
    CHECK(pm_rwlock_try_read(&queued) == PM_OK);
    pthread_t writer;
    if (!CHECK(pthread_create(&writer, NULL, queue_writer, NULL) == 0)) {
        pm_rwlock_release_read(&queued);
        return;
    }
    while ((state(&queued) & PM_RW_WRITERS_WAITING) == 0) { /* until the writer sleeps */
        struct timespec ts = {0, 100000};
        nanosleep(&ts, NULL);
    }
    pm_status st;
    uint64_t dt;
    FOR_EACH_TIMEOUT(t) {
        /* Writer preference: a new read waits for the writer, which waits for us. */
        TIMED(st, dt, pm_rwlock_read_wait(&queued, t));
        expect_refused("rwlock: read held, writer queued, read_wait", st, dt, t);
    }
    pm_rwlock_release_read(&queued); /* the writer gets the lock now */
    pthread_join(writer, NULL);
    CHECK(writer_result == PM_OK);
    CHECK(state(&queued) == 0);
}

/* ---- the generated forms ---- */

static void test_generated_forms(void) {
    P h = {0}, other = {0};
    CHECK(Managed_Point_ThreadSafe_new(&h, (struct point){1, 2}) == PM_OK);
    const struct point *r = NULL;
    struct point *w = NULL;
    pm_status st;
    uint64_t dt;
    FOR_EACH_TIMEOUT(t) {
        /* Reading the box (unique handle): write_wait and write_shared_wait. */
        Managed_Point_ThreadSafe_box *box = h.box;
        CHECK(Managed_Point_ThreadSafe_read(h, &r) == PM_OK);
        TIMED(st, dt, Managed_Point_ThreadSafe_write_wait(&h, &w, t));
        expect_refused("generated: read held, write_wait (unique)", st, dt, t);
        CHECK(h.box == box);
        TIMED(st, dt, Managed_Point_ThreadSafe_write_shared_wait(h, &w, t));
        expect_refused("generated: read held, write_shared_wait", st, dt, t);
        Managed_Point_ThreadSafe_release_read(h);

        /* Writing the box: every wait on it. */
        other = Managed_Point_ThreadSafe_dup(h);
        CHECK(Managed_Point_ThreadSafe_write_shared(h, &w) == PM_OK);
        TIMED(st, dt, Managed_Point_ThreadSafe_read_wait(h, &r, t));
        expect_refused("generated: write held, read_wait", st, dt, t);
        TIMED(st, dt, Managed_Point_ThreadSafe_write_shared_wait(other, &w, t));
        expect_refused("generated: write held, write_shared_wait", st, dt, t);
        TIMED(st, dt, Managed_Point_ThreadSafe_write_wait(&other, &w, t));
        expect_refused("generated: write held, write_wait (shared: the copy must read)", st, dt,
                       t);
        CHECK(other.box == box && Managed_Point_ThreadSafe_refcount(h) == 2);
        Managed_Point_ThreadSafe_release_write(h);
        Managed_Point_ThreadSafe_drop(&other);

        /* The scoped guards: the refusal is the guard's status, and nothing is released. */
        CHECK(Managed_Point_ThreadSafe_is_unique(h));
        {
            PM_READ_SCOPE(Managed_Point_ThreadSafe, g, h);
            CHECK(g.status == PM_OK);
            uint64_t t0 = pm_monotonic_ns();
            {
                PM_WRITE_SHARED_SCOPE_WAIT(Managed_Point_ThreadSafe, g2, h, t);
                expect_refused("scoped: read held, WRITE_SHARED_SCOPE_WAIT", g2.status,
                               pm_monotonic_ns() - t0, t);
            }
            t0 = pm_monotonic_ns();
            {
                PM_WRITE_SCOPE_WAIT(Managed_Point_ThreadSafe, g3, &h, t);
                expect_refused("scoped: read held, WRITE_SCOPE_WAIT", g3.status,
                               pm_monotonic_ns() - t0, t);
            }
            CHECK(state(&h.box->cell) == PM_RW_READ_LOCKED); /* our read is still held */
        }
        {
            PM_WRITE_SHARED_SCOPE(Managed_Point_ThreadSafe, g, h);
            CHECK(g.status == PM_OK);
            uint64_t t0 = pm_monotonic_ns();
            {
                PM_READ_SCOPE_WAIT(Managed_Point_ThreadSafe, g2, h, t);
                expect_refused("scoped: write held, READ_SCOPE_WAIT", g2.status,
                               pm_monotonic_ns() - t0, t);
            }
            /* Still write-locked (a reader that timed out may leave its
             * READERS_WAITING bit; the unlock below clears it). */
            CHECK(pm__rw_is_write_locked(state(&h.box->cell)) &&
                  pm__rw_readers(state(&h.box->cell)) == 0);
        }
        CHECK(state(&h.box->cell) == 0);

        /* Not a deadlock: reading a box while copying it (copy on write reads it). */
        other = Managed_Point_ThreadSafe_dup(h);
        CHECK(Managed_Point_ThreadSafe_read(h, &r) == PM_OK);
        CHECK(Managed_Point_ThreadSafe_write_wait(&other, &w, t) == PM_OK);
        CHECK(other.box != h.box);
        Managed_Point_ThreadSafe_release_write(other);
        Managed_Point_ThreadSafe_release_read(h);
        Managed_Point_ThreadSafe_drop(&other);
    }
    Managed_Point_ThreadSafe_drop(&h);
}

/* ---- no false positive: another thread holds the lock ---- */

static P held_elsewhere;
static pthread_barrier_t handoff;

static void *hold_for_a_while(void *p) {
    (void)p;
    struct point *w = NULL;
    CHECK(Managed_Point_ThreadSafe_write_shared(held_elsewhere, &w) == PM_OK);
    pthread_barrier_wait(&handoff); /* the lock is held */
    pthread_barrier_wait(&handoff); /* the main thread is done waiting */
    Managed_Point_ThreadSafe_release_write(held_elsewhere);
    return NULL;
}

static void test_other_thread_is_not_a_deadlock(void) {
    P mine = {0};
    CHECK(Managed_Point_ThreadSafe_new(&held_elsewhere, (struct point){3, 4}) == PM_OK);
    CHECK(Managed_Point_ThreadSafe_new(&mine, (struct point){5, 6}) == PM_OK);
    CHECK(pthread_barrier_init(&handoff, NULL, 2) == 0);
    pthread_t holder;
    if (CHECK(pthread_create(&holder, NULL, hold_for_a_while, NULL) == 0)) {
        pthread_barrier_wait(&handoff);
        const struct point *r = NULL;
        struct point *w = NULL;
        CHECK(Managed_Point_ThreadSafe_read(mine, &r) == PM_OK); /* holding a lock of our own */
        uint64_t t0 = pm_monotonic_ns();
        CHECK(Managed_Point_ThreadSafe_read_wait(held_elsewhere, &r, RELEASE_TIMEOUT_NS) ==
              PM_ETIMEDOUT);
        CHECK(Managed_Point_ThreadSafe_write_shared_wait(held_elsewhere, &w,
                                                         RELEASE_TIMEOUT_NS) == PM_ETIMEDOUT);
        CHECK(pm_monotonic_ns() - t0 >= 2 * RELEASE_TIMEOUT_NS);
        Managed_Point_ThreadSafe_release_read(mine);
        pthread_barrier_wait(&handoff);
        pthread_join(holder, NULL);
    }
    pthread_barrier_destroy(&handoff);
    Managed_Point_ThreadSafe_drop(&held_elsewhere);
    Managed_Point_ThreadSafe_drop(&mine);
}

/* A wait that should have been refused blocks for ever (PM_FOREVER): fail
 * the run instead of hanging it. */
static void *watchdog(void *p) {
    (void)p;
    struct timespec ts = {60, 0};
    nanosleep(&ts, NULL);
    fprintf(stderr, "deadlock: still waiting after 60 s: a self-deadlock was not refused\n");
    _exit(3);
}

int main(void) {
    pthread_t dog;
    CHECK(pthread_create(&dog, NULL, watchdog, NULL) == 0);
    pthread_detach(dog);
    test_runtime_lock();
    test_reader_behind_queued_writer();
    test_generated_forms();
    test_other_thread_is_not_a_deadlock();
#ifdef PM_DEBUG
    printf("deadlock: PM_DEBUG: %d self-deadlocking waits refused with PM_EDEADLK, slowest in "
           "%llu ns (limit %llu ns; timeouts PM_FOREVER and 1 s)\n",
           cases, (unsigned long long)slowest_refusal, (unsigned long long)AT_ONCE_NS);
#else
    printf("deadlock: release: %d self-deadlocking waits ran to their %llu ns timeout\n", cases,
           (unsigned long long)RELEASE_TIMEOUT_NS);
#endif
    return check_summary("deadlock");
}
