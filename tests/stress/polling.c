/* polling.c — a writer that polls with try_write is not starved by readers,
 * and the hint it leaves (PM_RW_WRITER_POLLED) never wedges anybody.
 *
 *   (a) starvation: two reader threads hold the lock in overlapping turns
 *       (each holds for HOLD, the other takes it halfway through), so the
 *       reader count never falls to zero by itself. A writer polls with
 *       try_write every few microseconds. Invariant: it gets in, ROUNDS
 *       times, each within PROMPT. (Before PM_RW_WRITER_POLLED it got in
 *       only when the scheduler happened to open a gap: mostly never.)
 *   (b) the hint: after a refused try_write no new reader enters, until a
 *       writer takes the lock; if none comes, one refused try_read clears
 *       it, and a waiting reader enters after PM_RW_POLL_GRACE_NS.
 *   (c) a reader that waits while holding a read itself (a poller refused
 *       meanwhile, then gone): try_read says PM_EBUSY; read_wait gets the
 *       lock after PM_RW_POLL_GRACE_NS instead of waiting for ever — or,
 *       under PM_DEBUG, says PM_EDEADLK at once.
 */
#define _POSIX_C_SOURCE 200809L

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include "pm.h"

#include "check.h"

#define US 1000ull
#define MS (1000ull * US)
#define HOLD (200 * US)
#define ROUNDS 50
#define PROMPT (2000 * MS) /* a polling writer must get in well within this */

static pm_rwlock lock;
static _Atomic bool stop;

static uint32_t state_of(pm_rwlock *l) {
    return atomic_load_explicit(&l->state, memory_order_relaxed);
}

static void nap(uint64_t ns) {
    struct timespec ts = {0, (long)ns};
    nanosleep(&ts, NULL);
}

static void *overlapping_reader(void *arg) {
    nap(*(const uint64_t *)arg); /* the second reader starts halfway */
    while (!atomic_load(&stop)) {
        if (pm_rwlock_read_wait(&lock, PM_FOREVER) != PM_OK) {
            return (void *)1;
        }
        nap(HOLD);
        pm_rwlock_release_read(&lock);
    }
    return NULL;
}

static void test_polling_writer_gets_in(void) {
    pm_rwlock_init(&lock);
    atomic_store(&stop, false);
    uint64_t delays[2] = {0, HOLD / 2};
    pthread_t readers[2];
    for (int i = 0; i < 2; i++) {
        CHECK(pthread_create(&readers[i], NULL, overlapping_reader, &delays[i]) == 0);
    }
    nap(5 * MS); /* the readers are in their overlapping rhythm */
    uint64_t worst = 0, polls = 0;
    for (int round = 0; round < ROUNDS; round++) {
        uint64_t start = pm_monotonic_ns(), waited = 0;
        while (pm_rwlock_try_write(&lock) != PM_OK) {
            polls++;
            waited = pm_monotonic_ns() - start;
            if (waited > PROMPT) {
                break;
            }
            nap(5 * US);
        }
        CHECK(waited <= PROMPT); /* starved: the writer never got in */
        if (waited > PROMPT) {
            break;
        }
        CHECK(pm__rw_is_write_locked(state_of(&lock)));
        pm_rwlock_release_write(&lock);
        worst = waited > worst ? waited : worst;
        nap(HOLD); /* let the readers overlap again */
    }
    atomic_store(&stop, true);
    for (int i = 0; i < 2; i++) {
        void *result;
        CHECK(pthread_join(readers[i], &result) == 0);
        CHECK(result == NULL);
    }
    CHECK(pm__rw_is_unlocked(state_of(&lock)));
    printf("polling writer: %d rounds against overlapping readers, worst wait %.3f ms, "
           "%llu refused polls\n",
           ROUNDS, (double)worst / 1e6, (unsigned long long)polls);
}

static void test_hint_keeps_readers_out_until_a_writer_comes(void) {
    pm_rwlock_init(&lock);
    CHECK(pm_rwlock_try_read(&lock) == PM_OK);
    CHECK(pm_rwlock_try_write(&lock) == PM_EBUSY);
    CHECK(state_of(&lock) == (PM_RW_READ_LOCKED | PM_RW_WRITER_POLLED));
    CHECK(pm_rwlock_try_read(&lock) == PM_EBUSY); /* no new reader joins */
    CHECK(pm_rwlock_try_write(&lock) == PM_EBUSY); /* polling again changes nothing */
    CHECK(state_of(&lock) == (PM_RW_READ_LOCKED | PM_RW_WRITER_POLLED));
    CHECK(!pm_rwlock_release_read(&lock));
    CHECK(state_of(&lock) == PM_RW_WRITER_POLLED); /* the lock is kept for the poller */
    CHECK(pm_rwlock_try_write(&lock) == PM_OK);    /* which gets it, and answers the bit */
    CHECK(state_of(&lock) == PM_RW_WRITE_LOCKED);
    CHECK(pm_rwlock_try_write(&lock) == PM_EBUSY); /* refused by a writer: no bit */
    CHECK(state_of(&lock) == PM_RW_WRITE_LOCKED);
    pm_rwlock_release_write(&lock);
    CHECK(state_of(&lock) == 0u);
}

static void test_poller_that_gave_up_costs_one_refusal(void) {
    pm_rwlock_init(&lock);
    CHECK(pm_rwlock_try_read(&lock) == PM_OK);
    CHECK(pm_rwlock_try_write(&lock) == PM_EBUSY); /* and never polls again */
    pm_rwlock_release_read(&lock);
    CHECK(state_of(&lock) == PM_RW_WRITER_POLLED);
    CHECK(pm_rwlock_try_read(&lock) == PM_EBUSY); /* once: it clears the bit */
    CHECK(state_of(&lock) == 0u);
    CHECK(pm_rwlock_try_read(&lock) == PM_OK);
    CHECK(pm_rwlock_try_read(&lock) == PM_OK); /* readers share the lock again */
    CHECK(state_of(&lock) == 2 * PM_RW_READ_LOCKED);
    pm_rwlock_release_read(&lock);
    pm_rwlock_release_read(&lock);
    /* A waiting reader gets in after the grace, without any refusal. */
    CHECK(pm_rwlock_try_read(&lock) == PM_OK);
    CHECK(pm_rwlock_try_write(&lock) == PM_EBUSY);
    pm_rwlock_release_read(&lock);
    uint64_t start = pm_monotonic_ns();
    CHECK(pm_rwlock_read_wait(&lock, PM_FOREVER) == PM_OK);
    uint64_t waited = pm_monotonic_ns() - start;
    CHECK(waited >= PM_RW_POLL_GRACE_NS && waited < PROMPT);
    CHECK(state_of(&lock) == PM_RW_READ_LOCKED);
    pm_rwlock_release_read(&lock);
    CHECK(state_of(&lock) == 0u);
}

static void *refused_poller(void *arg) {
    (void)arg;
    return (void *)(intptr_t)pm_rwlock_try_write(&lock);
}

static void test_reader_holding_a_read_is_not_wedged(void) {
    pm_rwlock_init(&lock);
    CHECK(pm_rwlock_read_wait(&lock, PM_FOREVER) == PM_OK);
    pthread_t poller; /* another thread polls once and is gone */
    void *result;
    CHECK(pthread_create(&poller, NULL, refused_poller, NULL) == 0);
    CHECK(pthread_join(poller, &result) == 0);
    CHECK((pm_status)(intptr_t)result == PM_EBUSY);
    CHECK(pm__rw_writer_polled(state_of(&lock)));
    CHECK(pm_rwlock_try_read(&lock) == PM_EBUSY);
    uint64_t start = pm_monotonic_ns();
    pm_status st = pm_rwlock_read_wait(&lock, PM_FOREVER);
    uint64_t waited = pm_monotonic_ns() - start;
#ifdef PM_DEBUG
    CHECK(st == PM_EDEADLK); /* it holds a read and a writer was turned away */
    CHECK(waited < PROMPT);
    pm_rwlock_release_read(&lock);
    CHECK(state_of(&lock) == PM_RW_WRITER_POLLED); /* still kept for a writer */
    pm_rwlock_init(&lock);
#else
    CHECK(st == PM_OK);
    CHECK(waited >= PM_RW_POLL_GRACE_NS && waited < PROMPT);
    CHECK(state_of(&lock) == 2 * PM_RW_READ_LOCKED); /* both reads held, the hint gone */
    pm_rwlock_release_read(&lock);
    pm_rwlock_release_read(&lock);
    CHECK(state_of(&lock) == 0u);
#endif
    printf("a reader holding a read waited %.3f ms (grace %.3f ms): %s\n", (double)waited / 1e6,
           (double)PM_RW_POLL_GRACE_NS / 1e6, pm_status_str(st));
}

int main(void) {
    test_hint_keeps_readers_out_until_a_writer_comes();
    test_poller_that_gave_up_costs_one_refusal();
    test_reader_holding_a_read_is_not_wedged();
    test_polling_writer_gets_in();
    return check_summary("polling");
}
