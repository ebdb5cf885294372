/* wakeup.c — a writer that times out just after it was woken must pass the
 * wake-up on (found by the spin model, tests/model/rwlock.pml, CONFIG=3).
 *
 * The interleaving, on the runtime lock:
 *   1. the main thread holds a read lock;
 *   2. writer A (timeout ~10 ms) and then writer B (a long timeout) sleep on
 *      writer_notify; WRITERS_WAITING is set;
 *   3. just before A's deadline, main releases: the last reader out clears
 *      WRITERS_WAITING and wakes ONE writer — A, the first asleep — and main
 *      at once takes a read lock again;
 *   4. A wakes, finds the lock read-locked, finds its deadline passed and
 *      gives up; WRITERS_WAITING is clear, so it wakes nobody;
 *   5. main releases: no waiting bit, no wake-up. B sleeps on although the
 *      lock is free — until its own timeout (for ever with PM_FOREVER).
 * The window in step 3-4 is a wake-up latency wide, so the release time is
 * swept around A's deadline over many rounds. Invariant: once the lock is
 * free, B gets it promptly (well under its timeout), in every round.
 */
#define _POSIX_C_SOURCE 200809L

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "pm.h"

#include "check.h"

#define US 1000ull
#define MS (1000ull * US)
#define A_TIMEOUT (10 * MS)
#define B_TIMEOUT (2000 * MS)
#define PROMPT (500 * MS) /* B must get a free lock well within this */

static pm_rwlock lock;
static _Atomic uint64_t b_got_at; /* monotonic ns when B got the lock, 0 if not yet */
static _Atomic int b_status, a_status;

static void sleep_until(uint64_t t) {
    for (uint64_t now = pm_monotonic_ns(); now < t; now = pm_monotonic_ns()) {
        if (t - now > 200 * US) {
            struct timespec ts = {0, (long)(t - now - 100 * US)};
            nanosleep(&ts, NULL);
        }
    }
}

static void *writer_a(void *p) {
    (void)p;
    pm_status st = pm_rwlock_write_wait(&lock, A_TIMEOUT);
    if (st == PM_OK) {
        pm_rwlock_release_write(&lock);
    }
    a_status = (int)st;
    return NULL;
}

static void *writer_b(void *p) {
    (void)p;
    pm_status st = pm_rwlock_write_wait(&lock, B_TIMEOUT);
    b_got_at = pm_monotonic_ns();
    if (st == PM_OK) {
        pm_rwlock_release_write(&lock);
    }
    b_status = (int)st;
    return NULL;
}

int main(int argc, char **argv) {
    int rounds = argc > 1 ? atoi(argv[1]) : 200;
    int stuck = 0;
    for (int round = 0; round < rounds && stuck == 0; round++) {
        pm_rwlock_init(&lock);
        b_got_at = 0;
        CHECK(pm_rwlock_try_read(&lock) == PM_OK);
        pthread_t a, b;
        uint64_t a_start = pm_monotonic_ns();
        CHECK(pthread_create(&a, NULL, writer_a, NULL) == 0);
        sleep_until(a_start + 2 * MS);
        CHECK(pthread_create(&b, NULL, writer_b, NULL) == 0);
        /* Release somewhere in the last 300 us before A's deadline. */
        uint64_t offset = (uint64_t)(round % 30) * 10 * US;
        sleep_until(a_start + A_TIMEOUT - offset);
        pm_rwlock_release_read(&lock);
        while (pm_rwlock_try_read(&lock) != PM_OK) { /* take it back at once */
        }
        sleep_until(pm_monotonic_ns() + 3 * MS); /* A gives up meanwhile */
        pm_rwlock_release_read(&lock);
        uint64_t free_at = pm_monotonic_ns();
        pthread_join(a, NULL);
        pthread_join(b, NULL);
        uint64_t waited = b_got_at - free_at;
        if (b_got_at > free_at && waited > PROMPT) {
            stuck++;
            fprintf(stderr, "round %d: the lock was free, writer B slept %llu ms more (%s); "
                            "writer A: %s\n", round, (unsigned long long)(waited / MS),
                    pm_status_str((pm_status)b_status), pm_status_str((pm_status)a_status));
        }
        CHECK(pm__rw_is_unlocked(atomic_load(&lock.state)));
    }
    CHECK(stuck == 0); /* no lost wake-up */
    if (failures != 0) {
        fprintf(stderr, "wakeup: %d of %ld checks failed\n", (int)failures, (long)checks);
        return 1;
    }
    printf("wakeup: %d rounds, no lost writer wake-up\n", rounds);
    return 0;
}
