/* pm_rwlock.c — monotonic clock, the futex layer, the reader-writer lock's
 * slow paths (a port of Rust std's futex RwLock with deadlines) and the
 * PM_DEBUG bookkeeping of held locks. The state encoding and the predicates
 * over it are in pm_rwlock.h. */
#define _GNU_SOURCE /* syscall(), nanosleep() */
#include "pm.h"
#include "pm_internal.h" /* the pm__debug_* declarations, in every build */

#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <time.h>

#if defined(__linux__) && !defined(PM_NO_FUTEX)
#define PM__HAVE_FUTEX 1
#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>
#endif

#define PM__NS_PER_SEC 1000000000ull

/* ------------------------------------------------------------------------ */
/* Time                                                                      */
/* ------------------------------------------------------------------------ */

uint64_t pm_monotonic_ns(void) {
    struct timespec ts;
    /* CLOCK_MONOTONIC cannot fail with a valid pointer; 0 keeps us total. */
    if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0) {
        return 0;
    }
    return (uint64_t)ts.tv_sec * PM__NS_PER_SEC + (uint64_t)ts.tv_nsec;
}

uint64_t pm_deadline_after(uint64_t timeout_ns) {
    if (timeout_ns == PM_FOREVER) {
        return PM_FOREVER;
    }
    uint64_t now = pm_monotonic_ns();
    /* Saturate: a deadline past the end of time is no deadline. */
    return timeout_ns > PM_FOREVER - now ? PM_FOREVER : now + timeout_ns;
}

static bool pm__deadline_passed(uint64_t deadline_ns) {
    return deadline_ns != PM_FOREVER && pm_monotonic_ns() >= deadline_ns;
}

/* ------------------------------------------------------------------------ */
/* Futex layer: sleep while *addr == expected, until woken or the deadline   */
/* ------------------------------------------------------------------------ */

#ifdef PM__HAVE_FUTEX

static struct timespec pm__timespec_of(uint64_t ns) {
    uint64_t sec = ns / PM__NS_PER_SEC;
    /* A 32-bit time_t cannot hold every deadline; clamp to 68 years. */
    if (sizeof(time_t) < 8 && sec > INT32_MAX) {
        sec = INT32_MAX;
    }
    struct timespec ts = {(time_t)sec, (long)(ns % PM__NS_PER_SEC)};
    return ts;
}

static void pm__futex_wait(_Atomic uint32_t *addr, uint32_t expected, uint64_t deadline_ns) {
    struct timespec ts = pm__timespec_of(deadline_ns);
    /* WAIT_BITSET takes an absolute CLOCK_MONOTONIC deadline, so retries after
     * spurious wake-ups never stretch the total wait. EINTR/EAGAIN/ETIMEDOUT
     * all just return: the caller re-reads the state and the clock. */
    (void)syscall(SYS_futex, (uint32_t *)addr, FUTEX_WAIT_BITSET | FUTEX_PRIVATE_FLAG, expected,
                  deadline_ns == PM_FOREVER ? NULL : &ts, NULL, FUTEX_BITSET_MATCH_ANY);
}

/* Wakes up to n sleepers; true if at least one was asleep. */
static bool pm__futex_wake_n(_Atomic uint32_t *addr, int n) {
    return syscall(SYS_futex, (uint32_t *)addr, FUTEX_WAKE | FUTEX_PRIVATE_FLAG, n, NULL, NULL,
                   0) > 0;
}

#else /* portable fallback: bounded polling, no real sleep queue */

#define PM__POLL_NS 50000ull

static void pm__futex_wait(_Atomic uint32_t *addr, uint32_t expected, uint64_t deadline_ns) {
    /* Relaxed: only a hint to skip the nap; the caller re-reads properly. */
    if (atomic_load_explicit(addr, memory_order_relaxed) != expected) {
        return;
    }
    uint64_t nap = PM__POLL_NS;
    uint64_t now = pm_monotonic_ns();
    if (deadline_ns != PM_FOREVER) {
        nap = deadline_ns <= now ? 0 : deadline_ns - now;
        nap = nap < PM__POLL_NS ? nap : PM__POLL_NS;
    }
    struct timespec ts = {0, (long)nap};
    (void)nanosleep(&ts, NULL);
}

/* Pollers need no wake-up; "woke nobody" is always a safe answer (like the
 * BSDs in Rust std) because callers then wake the other class as well. */
static bool pm__futex_wake_n(_Atomic uint32_t *addr, int n) {
    (void)addr;
    (void)n;
    return false;
}

#endif

static bool pm__futex_wake_one(_Atomic uint32_t *addr) { return pm__futex_wake_n(addr, 1); }

static void pm__futex_wake_all(_Atomic uint32_t *addr) { (void)pm__futex_wake_n(addr, INT32_MAX); }

/* ------------------------------------------------------------------------ */
/* Reader-writer lock slow paths                                             */
/* ------------------------------------------------------------------------ */

static inline void pm__cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ volatile("yield");
#endif
}

enum { PM__SPIN_LIMIT = 100 }; /* _load's brief retries: pause only, never yields the CPU */

/* How a waiter spins before it sleeps (parking_lot's SpinWait): pause 2, 4,
 * then 8 times, then give the CPU away up to 7 times, then sleep. The yields
 * let a preempted holder run when there are more threads than cores, so its
 * unlock needs no futex wake-up; sleeping sooner made every contended unlock
 * a system call (measured: bench --only threads, 4 and 8 threads). */
enum { PM__BACKOFF_PAUSE_STEPS = 3, PM__BACKOFF_STEPS = 10 };

typedef struct pm__backoff {
    int step;
} pm__backoff;

/* One step of the wait; false once the steps are spent (time to sleep). */
static bool pm__backoff_step(pm__backoff *b) {
    if (b->step >= PM__BACKOFF_STEPS) {
        return false;
    }
    b->step++;
    if (b->step <= PM__BACKOFF_PAUSE_STEPS) {
        for (int i = 0; i < 1 << b->step; i++) {
            pm__cpu_relax();
        }
    } else {
        (void)sched_yield();
    }
    return true;
}

/* Spin until the lock is worth a try (or anyone waits, to stay fair): while
 * a writer holds it, or readers that turned a writer away still hold it. */
static uint32_t pm__spin_read(pm_rwlock *l) {
    pm__backoff b = {0};
    for (;;) {
        /* Relaxed: only a hint; the CAS that takes the lock acquires. */
        uint32_t s = atomic_load_explicit(&l->state, memory_order_relaxed);
        bool held_against_readers =
            pm__rw_is_write_locked(s) || pm__rw_writer_polled(s) || !pm__rw_is_settled(s);
        if (!held_against_readers || pm__rw_anyone_waiting(s) || !pm__backoff_step(&b)) {
            return s;
        }
    }
}

/* Readers hold the lock (seen as *s) and no poll bit is set: set it, in one
 * CAS. True if this call set it; else *s is the state as now seen (the state
 * moved on, or there was nothing to set). Relaxed: a flag only, it publishes
 * nothing. Used by a refused try_write and a waiting writer's spin alike. */
static bool pm__rwlock_mark_polled(pm_rwlock *l, uint32_t *s) {
    return pm__rw_is_read_locked(*s) && !pm__rw_writer_polled(*s) &&
           atomic_compare_exchange_strong_explicit(&l->state, s, *s | PM_RW_WRITER_POLLED,
                                                   memory_order_relaxed, memory_order_relaxed);
}

/* Spin until the lock is free (or a writer sleeps on it, to stay fair). While
 * readers hold it, it is marked polled, as a refused try_write does, so no new
 * reader enters and the writer gets in as soon as these leave (parking_lot's
 * writer sets its WRITER_BIT before it waits for the readers the same way). */
static uint32_t pm__spin_write(pm_rwlock *l, bool *polled) {
    pm__backoff b = {0};
    for (;;) {
        /* Relaxed: only a hint; the CAS that takes the lock acquires. */
        uint32_t s = atomic_load_explicit(&l->state, memory_order_relaxed);
        if (pm__rw_is_unlocked(s) || pm__rw_writers_waiting(s)) {
            return s;
        }
        uint32_t seen = s;
        if (pm__rwlock_mark_polled(l, &s)) {
            *polled = true; /* ours to clear if we give up */
        } else if (s != seen) {
            continue; /* the CAS found the state moved: look again */
        }
        if (!pm__backoff_step(&b)) {
            return s;
        }
    }
}

/* The grace a polled writer had is over: let readers in again. Clears the
 * bit, and READERS_WAITING with it (waking those sleepers, who set it again
 * if they still have to wait, as after pm__rwlock_writer_gives_up). */
PM_COLD static uint32_t pm__rwlock_end_poll_grace(pm_rwlock *l, uint32_t s) {
    const uint32_t flags = PM_RW_WRITER_POLLED | PM_RW_READERS_WAITING;
    /* Relaxed: flag bookkeeping only; the reader's own CAS then acquires. */
    while (pm__rw_only_poll_blocks_readers(s)) {
        if (atomic_compare_exchange_weak_explicit(&l->state, &s, s & ~flags, memory_order_relaxed,
                                                  memory_order_relaxed)) {
            if (pm__rw_readers_waiting(s)) {
                pm__futex_wake_all(&l->state);
            }
            return s & ~flags;
        }
    }
    return s;
}

PM_NOINLINE pm_status pm__rwlock_read_contended(pm_rwlock *l, uint64_t deadline_ns) {
    uint32_t s = pm__spin_read(l);
    uint64_t grace_ns = PM_FOREVER; /* end of a polled writer's grace, once seen */
    for (;;) {
        if (pm__rw_is_read_lockable(s)) {
            /* Acquire: the last writer's release happens-before our reads. */
            if (atomic_compare_exchange_weak_explicit(&l->state, &s, s + PM_RW_READ_LOCKED,
                                                      memory_order_acquire, memory_order_relaxed)) {
                return PM_OK;
            }
            continue;
        }
        if (pm__rw_readers_at_max(s)) {
            return PM_EOVERFLOW; /* Rust panics here; we never sleep at the cap */
        }
        if (pm__deadline_passed(deadline_ns)) {
            return PM_ETIMEDOUT; /* a stale READERS_WAITING is cleared by the next unlock */
        }
        uint64_t wake_ns = deadline_ns;
        if (pm__rw_only_poll_blocks_readers(s)) {
            if (grace_ns == PM_FOREVER) {
                grace_ns = pm_deadline_after(PM_RW_POLL_GRACE_NS);
            } else if (pm__deadline_passed(grace_ns)) {
                s = pm__rwlock_end_poll_grace(l, s);
                continue;
            }
            wake_ns = grace_ns < deadline_ns ? grace_ns : deadline_ns;
        }
        /* Relaxed: setting the flag publishes nothing; the futex orders the
         * sleep against the unlocker's clearing of the flag. */
        if (!pm__rw_readers_waiting(s) &&
            !atomic_compare_exchange_strong_explicit(&l->state, &s, s | PM_RW_READERS_WAITING,
                                                     memory_order_relaxed, memory_order_relaxed)) {
            continue;
        }
        pm__futex_wait(&l->state, s | PM_RW_READERS_WAITING, wake_ns);
        s = pm__spin_read(l);
    }
}

/* Wakes one writer; true only if one was really asleep. */
static bool pm__rwlock_wake_writer(pm_rwlock *l) {
    /* Release: pairs with the waiter's acquire load of writer_notify, so a
     * writer that read the old value will see the bump or be woken. */
    atomic_fetch_add_explicit(&l->writer_notify, 1u, memory_order_release);
    return pm__futex_wake_one(&l->writer_notify);
}

/* A writer gave up. WRITERS_WAITING is shared, so we cannot know if we were
 * the last writer: clear both flags, wake everyone, and let the survivors
 * set their own flags again. Readers blocked only by us can now enter.
 * Writers are woken even when the flag is already clear: an unlocker may have
 * cleared it to wake *us*, and a writer that times out must pass that one
 * wake-up on, or another writer sleeps on a free lock (found by the spin
 * model, tests/model/rwlock.pml; reproduced by tests/stress/wakeup.c). */
PM_COLD static pm_status pm__rwlock_writer_gives_up(pm_rwlock *l, bool waited, bool polled) {
    if (!waited) {
        /* It only spun: it takes back the poll bit its spin set, as a reader
         * whose grace is over does, and only while no writer waits (that one
         * answers the bit when it gets in, and a wake-up for it counts on the
         * bit not changing meanwhile: pm__rwlock_wake_writer_or_readers). */
        if (polled) {
            /* Relaxed: flag bookkeeping only. */
            (void)pm__rwlock_end_poll_grace(l, atomic_load_explicit(&l->state,
                                                                    memory_order_relaxed));
        }
        return PM_ETIMEDOUT;
    }
    /* It waited, so it wakes every writer below: the poll bit its spin set may
     * go too. */
    const uint32_t clear = PM_RW_READERS_WAITING | PM_RW_WRITERS_WAITING |
                           (polled ? PM_RW_WRITER_POLLED : 0u);
    /* Relaxed: flag bookkeeping only; no data is published or consumed. */
    uint32_t s = atomic_load_explicit(&l->state, memory_order_relaxed);
    while (!atomic_compare_exchange_weak_explicit(&l->state, &s, s & ~clear, memory_order_relaxed,
                                                  memory_order_relaxed)) {
    }
    if (pm__rw_readers_waiting(s)) {
        pm__futex_wake_all(&l->state);
    }
    /* Release: same pairing as pm__rwlock_wake_writer. */
    atomic_fetch_add_explicit(&l->writer_notify, 1u, memory_order_release);
    pm__futex_wake_all(&l->writer_notify);
    return PM_ETIMEDOUT;
}

PM_NOINLINE pm_status pm__rwlock_write_contended(pm_rwlock *l, uint64_t deadline_ns) {
    bool polled = false; /* our spin set the poll bit */
    uint32_t s = pm__spin_write(l, &polled);
    uint32_t other_writers_waiting = 0;
    for (;;) {
        if (pm__rw_is_unlocked(s)) {
            /* Acquire: pairs with the previous holder's release. Keep the
             * flag: other writers may still sleep once we took the lock. */
            if (atomic_compare_exchange_weak_explicit(
                    &l->state, &s, pm__rw_write_locked_from(s) | other_writers_waiting,
                    memory_order_acquire, memory_order_relaxed)) {
                return PM_OK;
            }
            continue;
        }
        if (pm__deadline_passed(deadline_ns)) {
            /* Only a writer that counted itself among the waiters cleans up
             * the waiting bits, and only one whose spin set it, the poll bit. */
            return pm__rwlock_writer_gives_up(l, other_writers_waiting != 0, polled);
        }
        /* Relaxed: the flag only asks the unlocker for a wake-up. */
        if (!pm__rw_writers_waiting(s) &&
            !atomic_compare_exchange_strong_explicit(&l->state, &s, s | PM_RW_WRITERS_WAITING,
                                                     memory_order_relaxed, memory_order_relaxed)) {
            continue;
        }
        other_writers_waiting = PM_RW_WRITERS_WAITING;
        /* Acquire: read the counter before re-checking state, so any wake-up
         * after this point changes the value we sleep on. */
        uint32_t seq = atomic_load_explicit(&l->writer_notify, memory_order_acquire);
        /* Relaxed: a re-check only; the acquire above orders it after seq. */
        s = atomic_load_explicit(&l->state, memory_order_relaxed);
        if (pm__rw_is_unlocked(s) || !pm__rw_writers_waiting(s)) {
            continue;
        }
        pm__futex_wait(&l->writer_notify, seq, deadline_ns);
        s = pm__spin_write(l, &polled);
    }
}

/* Called with the state an unlock left (no holder, a waiting bit set). A poll
 * bit is kept as it is, for whoever polls next; it changes only while no
 * writer waits (pm__rw_only_poll_blocks_readers), so not under the first two
 * cases, and the last one retries if it did. */
PM_COLD void pm__rwlock_wake_writer_or_readers(pm_rwlock *l, uint32_t s) {
    /* Relaxed CASes throughout: they move only flags; if the lock got taken
     * meanwhile, its new holder wakes the waiters when it unlocks. */
    const uint32_t polled = pm__rw_poll_bit(s);
    if ((s & ~polled) == PM_RW_WRITERS_WAITING) {
        if (atomic_compare_exchange_strong_explicit(&l->state, &s, polled, memory_order_relaxed,
                                                    memory_order_relaxed)) {
            (void)pm__rwlock_wake_writer(l);
            return;
        }
        /* Readers may be waiting now too: fall through with the new state. */
    }
    if ((s & ~polled) == (PM_RW_READERS_WAITING | PM_RW_WRITERS_WAITING)) {
        /* Both wait: leave readers waiting, wake one writer. */
        if (!atomic_compare_exchange_strong_explicit(&l->state, &s, polled | PM_RW_READERS_WAITING,
                                                     memory_order_relaxed, memory_order_relaxed)) {
            return;
        }
        if (pm__rwlock_wake_writer(l)) {
            return;
        }
        /* No writer was asleep (maybe about to sleep): wake readers too. */
        s = polled | PM_RW_READERS_WAITING;
    }
    while ((s & ~PM_RW_WRITER_POLLED) == PM_RW_READERS_WAITING) {
        if (atomic_compare_exchange_weak_explicit(&l->state, &s, pm__rw_poll_bit(s),
                                                  memory_order_relaxed, memory_order_relaxed)) {
            pm__futex_wake_all(&l->state);
            return;
        }
    }
}

/* The undo of a release_read whose fetch_sub found no read lock to end. Its
 * decrement wrapped the count (or deepened another such wrap); adding the
 * reader back settles it, or leaves it to the last such undo. The state this
 * leaves is what a last reader out would: sleepers to wake if it is unlocked,
 * and true for an orphaned box, whose destroy was left to whoever unlocks it
 * (pm_rwlock_orphan saw it held). Acq_rel: as a release that ends a borrow,
 * our caller may destroy the box after the other borrowers' releases. */
PM_COLD bool pm__rwlock_release_read_unmatched(pm_rwlock *l) {
    uint32_t old = atomic_fetch_add_explicit(&l->state, PM_RW_READ_LOCKED, memory_order_acq_rel);
    return pm__rwlock_after_release(l, old + PM_RW_READ_LOCKED);
}

/* The unmatched release's undo is its very next instruction: it can only be
 * late if that thread was preempted in between, so spin, then yield. */
PM_COLD uint32_t pm__rwlock_wait_settled(pm_rwlock *l) {
    pm__backoff b = {0};
    for (;;) {
        /* Relaxed: the caller's CAS checks the value again. */
        uint32_t s = atomic_load_explicit(&l->state, memory_order_relaxed);
        if (pm__rw_is_settled(s)) {
            return s;
        }
        if (!pm__backoff_step(&b)) {
            (void)sched_yield();
        }
    }
}

/* pm_rwlock_downgrade let the sleeping readers in: it cleared READERS_WAITING
 * in its CAS (so they do not find it set and sleep again), now wake them. */
PM_COLD void pm__rwlock_wake_readers(pm_rwlock *l) { pm__futex_wake_all(&l->state); }

/* The poll bit is set by a refused try_write and by a waiting writer's spin
 * (pm__spin_write); a writer that takes the lock clears it, and so do a
 * refused try_read (pm__rw_is_free_but_polled), a reader whose grace is over,
 * and a waiting writer that gives up after its spin set it. */
PM_COLD void pm__rwlock_try_write_refused(pm_rwlock *l) {
    /* Turned away by readers: let no new one in, so a writer that polls gets
     * in when they leave. One try; failing means the state moved on.
     * Relaxed: the load is a hint the CAS checks. */
    uint32_t s = atomic_load_explicit(&l->state, memory_order_relaxed);
    (void)pm__rwlock_mark_polled(l, &s);
}

PM_COLD void pm__rwlock_try_read_refused(pm_rwlock *l) {
    /* Relaxed: flag bookkeeping only (pm__rwlock_end_poll_grace). */
    uint32_t s = atomic_load_explicit(&l->state, memory_order_relaxed);
    if (pm__rw_is_free_but_polled(s)) {
        (void)pm__rwlock_end_poll_grace(l, s);
    }
}

/* ------------------------------------------------------------------------ */
/* Optimistic load, contended: a publish overlapped the copy                 */
/* ------------------------------------------------------------------------ */

/* No snapshot (the value is too wide): the read lock, tried, then retried
 * for a brief spin (pause only, as long as only a writer is in the way);
 * never a wait. A writer that holds the lock may be this very thread, which
 * no wait could outlast: PM_EBUSY instead, as _read would say. */
static pm_status pm__load_locked(pm_rwlock *lock, void *out, const void *value, size_t size) {
    pm_status status = pm_rwlock_try_read(lock);
    for (int spin = 0; status == PM_EBUSY && spin < PM__SPIN_LIMIT; spin++) {
        pm__cpu_relax();
        /* Relaxed: only a hint; the CAS of try_read takes the lock with acquire. */
        if (pm__rw_is_read_lockable(atomic_load_explicit(&lock->state, memory_order_relaxed))) {
            status = pm_rwlock_try_read(lock);
        }
    }
    if (status != PM_OK) {
        return status;
    }
    memcpy(out, value, size);
    pm_rwlock_release_read(lock);
    return PM_OK;
}

PM_NOINLINE pm_status pm__snap_load_contended(pm_rwlock *lock, pm_snap_word *snap, void *out,
                                              const void *value, size_t size) {
    if (snap == NULL) {
        return pm__load_locked(lock, out, value, size);
    }
    for (int spin = 0; spin < PM__SPIN_LIMIT; spin++) {
        pm__cpu_relax();
        if (pm_snap_try_load(snap, out, size)) {
            return PM_OK;
        }
    }
    /* A publish overlapped every copy: the publisher holds the write lock, so
     * it is another thread (only a write-lock holder publishes, and not while
     * it runs _load). It may be preempted mid-publish (more threads than
     * cores): sleep on the lock instead of spinning; it unlocks right after. */
    pm_status status = pm_rwlock_read_wait(lock, PM_FOREVER);
    if (status != PM_OK) {
        return status;
    }
    memcpy(out, value, size);
    pm_rwlock_release_read(lock);
    return PM_OK;
}

/* ------------------------------------------------------------------------ */
/* PM_DEBUG bookkeeping: which locks this thread holds, and how             */
/* ------------------------------------------------------------------------ */

enum { PM__DEBUG_SLOTS = 64 };

typedef struct pm__held {
    const void *lock;
    const char *name;
    enum pm_lock_mode mode;
    uint32_t depth; /* 0 = free slot */
} pm__held;

static _Thread_local pm__held pm__held_locks[PM__DEBUG_SLOTS];

static pm__held *pm__debug_find(const void *lock, enum pm_lock_mode mode) {
    for (int i = 0; i < PM__DEBUG_SLOTS; i++) {
        pm__held *h = &pm__held_locks[i];
        if (h->depth != 0 && h->lock == lock && h->mode == mode) {
            return h;
        }
    }
    return NULL;
}

static void pm__order_note(const pm__held *held, const void *lock, const char *name);

/* This thread, as the debug_writer of the locks it write-locks: its table. */
static const void *pm__debug_self(void) { return pm__held_locks; }

/* The lock's PM_DEBUG fields. This file compiles the bookkeeping in every
 * build; without PM_DEBUG the lock has no such fields and nothing calls it. */
#ifdef PM_DEBUG
#define PM__LOCK_NAME(l) ((l)->debug_name)
/* Relaxed: debug bookkeeping, only ever compared with the caller's own identity. */
#define PM__SET_WRITER(l, who) atomic_store_explicit(&(l)->debug_writer, (who), memory_order_relaxed)
#define PM__WRITER(l) atomic_load_explicit(&(l)->debug_writer, memory_order_relaxed)
#else
#define PM__LOCK_NAME(l) ((void)(l), (const char *)NULL)
#define PM__SET_WRITER(l, who) ((void)(l), (void)(who))
#define PM__WRITER(l) ((void)(l), (const void *)NULL)
#endif

/* `lock` taken for `mode`; `ordered`: check and record its order against
 * every lock this thread holds (not for a fresh lock nobody else can see). */
static void pm__debug_note(pm_rwlock *lock, enum pm_lock_mode mode, bool ordered) {
    const char *name = PM__LOCK_NAME(lock);
    for (int i = 0; i < PM__DEBUG_SLOTS && ordered; i++) {
        const pm__held *h = &pm__held_locks[i];
        if (h->depth != 0 && h->lock != lock) {
            pm__order_note(h, lock, name); /* `lock` taken while holding h->lock */
        }
    }
    pm__held *h = pm__debug_find(lock, mode);
    for (int i = 0; i < PM__DEBUG_SLOTS && h == NULL; i++) {
        if (pm__held_locks[i].depth == 0) {
            h = &pm__held_locks[i];
            h->lock = lock;
            h->name = name;
            h->mode = mode;
        }
    }
    /* Table full: stop tracking this lock (may miss a deadlock, never
     * reports a false one). */
    if (h != NULL && h->depth < UINT32_MAX) {
        h->depth++;
    }
    if (mode == PM_LOCK_WRITE) {
        PM__SET_WRITER(lock, pm__debug_self());
    }
}

void pm__debug_note_acquire(pm_rwlock *lock, enum pm_lock_mode mode) {
    pm__debug_note(lock, mode, true);
}

void pm__debug_note_fresh(pm_rwlock *lock, enum pm_lock_mode mode) {
    pm__debug_note(lock, mode, false);
}

void pm__debug_rename(const void *lock, const char *name) {
    for (int i = 0; i < PM__DEBUG_SLOTS; i++) {
        if (pm__held_locks[i].depth != 0 && pm__held_locks[i].lock == lock) {
            pm__held_locks[i].name = name; /* a lock named after this thread took it */
        }
    }
}

/* Called before the release's CAS, so a writer that takes the lock next sets
 * debug_writer after this clears it. A release by another thread than the
 * one that took the lock finds no entry here: the taker's entry goes stale,
 * and pm__debug_check_wait drops it. */
void pm__debug_note_release(pm_rwlock *lock, enum pm_lock_mode mode) {
    pm__held *h = pm__debug_find(lock, mode);
    if (h != NULL) {
        h->depth--; /* untracked holds are simply ignored */
    }
    if (mode == PM_LOCK_WRITE) {
        PM__SET_WRITER(lock, NULL);
    }
}

/* Called after the downgrade's CAS, by the thread that held the write lock: no
 * writer can take the lock before this thread's release_read, so clearing
 * debug_writer races with nobody. The read entry orders nothing new: the lock
 * was held all along (recording pairs now, against locks taken after it,
 * would report inversions that are not there). */
void pm__debug_note_downgrade(pm_rwlock *lock) {
    pm__debug_note_release(lock, PM_LOCK_WRITE);
    pm__debug_note(lock, PM_LOCK_READ, false);
}

pm_status pm__debug_check_wait(pm_rwlock *lock, enum pm_lock_mode mode) {
    /* Holding it for write: no wait can ever end. Holding it for read: a
     * writer waits on us (we only get here after a failed try), and under
     * writer preference a new read waits on that writer — a cycle.
     * But an entry may be stale: the lock was released by another thread
     * than the one that took it. Cross-check with the lock itself: a write
     * entry holds only while the lock is write-locked by this thread
     * (debug_writer); a read entry only while it is read-locked (by anyone:
     * another thread's read hold cannot be told from ours, so that case may
     * still be reported). Stale entries are dropped. */
    (void)mode;
    /* Relaxed: this thread's own entries are checked; a lock it really holds
     * cannot change mode under it. */
    uint32_t s = atomic_load_explicit(&lock->state, memory_order_relaxed);
    pm__held *w = pm__debug_find(lock, PM_LOCK_WRITE);
    if (w != NULL &&
        !(pm__rw_is_write_locked(s) && PM__WRITER(lock) == pm__debug_self())) {
        w->depth = 0;
        w = NULL;
    }
    pm__held *r = pm__debug_find(lock, PM_LOCK_READ);
    if (r != NULL && !pm__rw_is_read_locked(s)) {
        r->depth = 0;
        r = NULL;
    }
    return w != NULL || r != NULL ? PM_EDEADLK : PM_OK;
}

/* ------------------------------------------------------------------------ */
/* PM_DEBUG: releases that matched no borrow                                 */
/* ------------------------------------------------------------------------ */

static _Atomic uint64_t pm__release_mismatches;

uint64_t pm_debug_release_mismatches(void) {
    return atomic_load_explicit(&pm__release_mismatches, memory_order_relaxed);
}

/* `call` (e.g. "release_read") of `cell`, a `kind` of call ("release"), found
 * it not borrowed in `mode`: reported and counted. */
static void pm__debug_mismatch(const void *cell, const char *name, const char *call,
                               const char *kind, enum pm_lock_mode mode) {
    atomic_fetch_add_explicit(&pm__release_mismatches, 1u, memory_order_relaxed);
    fprintf(stderr,
            "perceus-mem: %s of %s %p, which is not %s: ignored (a %s without "
            "its borrow, or on another box than the one borrowed?)\n",
            call, name != NULL ? name : "cell", cell,
            mode == PM_LOCK_READ ? "borrowed for read" : "borrowed for write", kind);
}

void pm__debug_release_mismatch(const void *cell, const char *name, enum pm_lock_mode mode) {
    const char *call = mode == PM_LOCK_READ ? "release_read" : "release_write";
    pm__debug_mismatch(cell, name, call, "release", mode);
}

void pm__debug_downgrade_mismatch(const void *cell, const char *name) {
    pm__debug_mismatch(cell, name, "downgrade", "downgrade", PM_LOCK_WRITE);
}

/* ------------------------------------------------------------------------ */
/* PM_DEBUG lock order: every (held, then taken) pair of locks, process-wide */
/* ------------------------------------------------------------------------ */

enum { PM__ORDER_EDGES = 4096 };

typedef struct pm__order_edge {
    const void *first; /* held ... */
    const void *second; /* ... while this one was taken */
    bool reported;      /* an inversion of this pair was reported already */
} pm__order_edge;

static pm__order_edge pm__order_edges[PM__ORDER_EDGES];
static size_t pm__order_count;
static atomic_flag pm__order_guard = ATOMIC_FLAG_INIT;
static _Atomic uint64_t pm__order_inversions;

static void pm__order_print(const char *first_name, const void *first, const char *second_name,
                            const void *second, void *ctx) {
    (void)ctx;
    fprintf(stderr,
            "perceus-mem: lock order inversion: %s %p taken while holding %s %p, but they were "
            "taken in the opposite order before (possible deadlock)\n",
            second_name, second, first_name, first);
}

static pm_lock_order_fn pm__order_report = pm__order_print;
static void *pm__order_ctx;

void pm_debug_on_lock_order(pm_lock_order_fn report, void *ctx) {
    pm__order_report = report != NULL ? report : pm__order_print;
    pm__order_ctx = report != NULL ? ctx : NULL;
}

uint64_t pm_debug_lock_order_inversions(void) {
    return atomic_load_explicit(&pm__order_inversions, memory_order_relaxed);
}

/* A spin guard, not a mutex: the runtime stays free of pthread calls. */
static void pm__order_lock(void) {
    /* Acquire: the table's contents as the last holder left them. */
    while (atomic_flag_test_and_set_explicit(&pm__order_guard, memory_order_acquire)) {
        pm__cpu_relax();
    }
}

static void pm__order_unlock(void) {
    /* Release: our table updates before the next holder's reads. */
    atomic_flag_clear_explicit(&pm__order_guard, memory_order_release);
}

static void pm__order_note(const pm__held *held, const void *lock, const char *name) {
    bool known = false;
    bool report = false;
    pm__order_lock();
    for (size_t i = 0; i < pm__order_count; i++) {
        pm__order_edge *e = &pm__order_edges[i];
        known |= e->first == held->lock && e->second == lock;
        if (e->first == lock && e->second == held->lock && !e->reported) {
            e->reported = report = true; /* once per pair */
        }
    }
    /* Table full: later pairs go unchecked (never a false report). */
    if (!known && pm__order_count < PM__ORDER_EDGES) {
        pm__order_edges[pm__order_count++] = (pm__order_edge){held->lock, lock, false};
    }
    pm__order_unlock();
    if (report) {
        atomic_fetch_add_explicit(&pm__order_inversions, 1u, memory_order_relaxed);
        pm__order_report(held->name ? held->name : "pm_rwlock", held->lock,
                         name ? name : "pm_rwlock", lock, pm__order_ctx);
    }
}

void pm__debug_forget_lock(const void *lock) {
    /* A freed lock's address may be reused by an unrelated lock: drop its pairs. */
    pm__order_lock();
    for (size_t i = 0; i < pm__order_count;) {
        if (pm__order_edges[i].first == lock || pm__order_edges[i].second == lock) {
            pm__order_edges[i] = pm__order_edges[--pm__order_count];
        } else {
            i++;
        }
    }
    pm__order_unlock();
}
