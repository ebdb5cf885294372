/* pm_rwlock.h — the reader-writer lock cell (a futex on Linux): its state
 * word, the named predicates over it, the inline fast paths, and the
 * declarations of the out-of-line slow paths in pm_rwlock.c. It has the same
 * verbs as pm_cell_borrow (init, init_write, try_read, try_write,
 * try_write_unique, release_read, release_write, downgrade, read_wait,
 * write_wait, name, forget, claim, writer_quiet). Part of the runtime: include
 * "pm.h", which includes every public header. Test hooks are in pm_internal.h.
 */
#ifndef PM_RWLOCK_H
#define PM_RWLOCK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pm_debug.h"
#include "pm_status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------------ */
/* Reader-writer lock (futex on Linux), after Rust std's futex RwLock        */
/*                                                                           */
/* state (u32):                                                              */
/*   bit 0       PM_RW_WRITER_POLLED: a try_write was refused by readers, or */
/*               a waiting writer spins behind them; no new reader enters     */
/*               until a writer takes the lock, so that writer gets in when   */
/*               those readers leave. Never set while write-locked: taking    */
/*               the write lock clears it.                                    */
/*   bit 1       PM_RW_ORPHANED: the box's last owner left while the lock was */
/*               held; the release that ends the last borrow says so (and   */
/*               its caller destroys the box). Set once, at the end of life. */
/*   bit 2       PM_RW_READERS_WAITING: a reader sleeps on `state`            */
/*   bit 3       PM_RW_WRITERS_WAITING: a writer sleeps on `writer_notify`    */
/*   bit 4       PM_RW_WRITE_LOCKED: a writer holds the lock                  */
/*   bits 5..31  PM_RW_MASK: the number of readers, in PM_RW_READ_LOCKED     */
/*               units, at most PM_RW_MAX_READERS (2^26 - 1 readers)          */
/* writer_notify (u32): bumped before every writer wake-up, so a writer that   */
/*   read it before sleeping cannot miss one.                                */
/*                                                                           */
/* The reader count is the word's top: release_read is one fetch_sub, as in  */
/* parking_lot (a CAS loop lost to it on a contended line), yet a careless   */
/* release that matched no read lock cannot corrupt the state (at worst a    */
/* try_read or try_write that runs in that instant is refused, as if the     */
/* lock were held, and a wait waits that long). Its decrement                */
/* of a count of 0 wraps the count out of the top of the word, to 2^27 - 1,  */
/* and leaves the flag bits below as they were; every count above            */
/* PM_RW_MAX_READERS is such an *unsettled* state, which no acquire accepts;  */
/* and that release adds its reader back at once (pm__rwlock_release_read_   */
/* unmatched), waking and reporting what the last reader out would.          */
/*                                                                           */
/* Writers are preferred: a new reader does not enter while a writer waits    */
/* or after one polled, so readers cannot starve a writer. The poller may     */
/* have given up, though, and a reader may wait while holding a read itself: */
/* so a reader kept out by the poll bit alone waits at most                   */
/* PM_RW_POLL_GRACE_NS and then clears it, and a try_read that finds the lock */
/* free but for the bit clears it (and says PM_EBUSY, once). A reader count   */
/* at PM_RW_MAX_READERS is refused with PM_EOVERFLOW instead of wrapping.     */
/* ------------------------------------------------------------------------ */

#define PM_RW_WRITER_POLLED (1u << 0)
#define PM_RW_ORPHANED (1u << 1)
#define PM_RW_READERS_WAITING (1u << 2)
#define PM_RW_WRITERS_WAITING (1u << 3)
#define PM_RW_WRITE_LOCKED (1u << 4)
#define PM_RW_READ_LOCKED (1u << 5)
#define PM_RW_MASK (~(PM_RW_READ_LOCKED - 1u))
/* The largest settled count; above it (top bit set) only an unmatched
 * release_read's wrapped decrement, about to be undone. */
#define PM_RW_MAX_READERS ((1u << 31) - PM_RW_READ_LOCKED)

typedef struct pm_rwlock {
    PM_ATOMIC(uint32_t) state;
    PM_ATOMIC(uint32_t) writer_notify;
#ifdef PM_DEBUG
    const char *debug_name; /* names the lock in lock-order reports */
    /* The thread (its PM_DEBUG table) that holds the write lock, NULL if none:
     * tells a stale held-lock entry from a real one. */
    PM_ATOMIC(const void *) debug_writer;
#endif
} pm_rwlock;

/* ------------------------------------------------------------------------ */
/* Predicates over a value of `state`: the only place its bits are tested,   */
/* by the inline fast paths below and the slow paths in pm_rwlock.c alike.   */
/* ------------------------------------------------------------------------ */

/* The top bits: the number of readers, in PM_RW_READ_LOCKED units. */
static inline uint32_t pm__rw_readers(uint32_t s) { return s & PM_RW_MASK; }

static inline bool pm__rw_is_write_locked(uint32_t s) { return (s & PM_RW_WRITE_LOCKED) != 0; }

/* The reader count is a real one: no unmatched release_read is being undone. */
static inline bool pm__rw_is_settled(uint32_t s) { return pm__rw_readers(s) <= PM_RW_MAX_READERS; }

/* Nobody holds the lock, and the count is settled (waiting bits may be set). */
static inline bool pm__rw_is_unlocked(uint32_t s) {
    return (s & (PM_RW_MASK | PM_RW_WRITE_LOCKED)) == 0;
}

/* Held by one reader or more (not write-locked): a release_read would match. */
static inline bool pm__rw_is_read_locked(uint32_t s) {
    return !pm__rw_is_write_locked(s) &&
           pm__rw_readers(s) - PM_RW_READ_LOCKED < PM_RW_MAX_READERS;
}

/* Not write-locked, settled and below the reader limit: one more reader would fit. */
static inline bool pm__rw_has_reader_room(uint32_t s) {
    return !pm__rw_is_write_locked(s) && pm__rw_readers(s) < PM_RW_MAX_READERS;
}

/* pm__rw_is_read_locked, no one waiting, no orphan mark: a read release from
 * here has no one to wake and nothing to report (the flags in one test). */
static inline bool pm__rw_is_read_locked_quietly(uint32_t s) {
    const uint32_t calls_for_more =
        PM_RW_WRITE_LOCKED | PM_RW_READERS_WAITING | PM_RW_WRITERS_WAITING | PM_RW_ORPHANED;
    return (s & calls_for_more) == 0 && pm__rw_readers(s) - PM_RW_READ_LOCKED < PM_RW_MAX_READERS;
}

/* The reader count is at its limit: a new reader gets PM_EOVERFLOW. */
static inline bool pm__rw_readers_at_max(uint32_t s) {
    return !pm__rw_is_write_locked(s) && pm__rw_readers(s) == PM_RW_MAX_READERS;
}

/* The box's last owner has left (pm_rwlock_orphan). */
static inline bool pm__rw_is_orphaned(uint32_t s) { return (s & PM_RW_ORPHANED) != 0; }

/* The poll bit of s, as a bit (0 or PM_RW_WRITER_POLLED), kept by wake-ups. */
static inline uint32_t pm__rw_poll_bit(uint32_t s) { return s & PM_RW_WRITER_POLLED; }

/* A try_write was refused by readers, and no writer has had the lock since. */
static inline bool pm__rw_writer_polled(uint32_t s) { return pm__rw_poll_bit(s) != 0; }

static inline bool pm__rw_readers_waiting(uint32_t s) { return (s & PM_RW_READERS_WAITING) != 0; }
static inline bool pm__rw_writers_waiting(uint32_t s) { return (s & PM_RW_WRITERS_WAITING) != 0; }

/* Either waiting bit is set: an unlock must wake someone. */
static inline bool pm__rw_anyone_waiting(uint32_t s) {
    return (s & (PM_RW_READERS_WAITING | PM_RW_WRITERS_WAITING)) != 0;
}

/* pm__rw_has_reader_room, no one waiting, not polled: the flags in one test. */
static inline bool pm__rw_is_read_lockable(uint32_t s) {
    /* No new reader while a writer is in or anyone waits (waiting writers have
     * priority, and waiting readers are about to be woken by the unlocking
     * thread), nor into a group of readers that turned a writer away. */
    const uint32_t keeps_readers_out =
        PM_RW_WRITE_LOCKED | PM_RW_READERS_WAITING | PM_RW_WRITERS_WAITING | PM_RW_WRITER_POLLED;
    return (s & keeps_readers_out) == 0 && pm__rw_readers(s) < PM_RW_MAX_READERS;
}

/* Only a polled writer keeps a reader out: no writer holds or waits. After
 * PM_RW_POLL_GRACE_NS of that, a waiting reader clears the bit and enters. */
static inline bool pm__rw_only_poll_blocks_readers(uint32_t s) {
    return pm__rw_writer_polled(s) && !pm__rw_writers_waiting(s) && pm__rw_has_reader_room(s);
}

/* Free but for a poll bit (and readers that wait behind it): what a refused
 * try_read clears, so a poller that gave up costs one refused try, never a
 * wedge, even if a reader that waited behind the bit timed out and left its
 * READERS_WAITING there. */
static inline bool pm__rw_is_free_but_polled(uint32_t s) {
    return pm__rw_is_unlocked(s) && pm__rw_only_poll_blocks_readers(s);
}

/* The state a writer that takes the (unlocked) lock leaves: write-locked,
 * waiting bits kept for the sleepers' wake-up, any poll bit answered. */
static inline uint32_t pm__rw_write_locked_from(uint32_t s) {
    return (s & ~PM_RW_WRITER_POLLED) | PM_RW_WRITE_LOCKED;
}

/* The state a write release of s leaves: every other bit kept (an unmatched
 * release_read's wrapped count too, which its undo settles). */
static inline uint32_t pm__rw_write_unlocked_from(uint32_t s) { return s & ~PM_RW_WRITE_LOCKED; }

/* Downgrade (pm_rwlock_downgrade): readers sleep on the write-locked lock and
 * no writer waits, so the downgrade lets them in to share the read. With a
 * writer waiting they sleep on: it has priority, and the last reader out
 * wakes it (and they wait behind it, as behind any waiting writer). */
static inline bool pm__rw_downgrade_wakes_readers(uint32_t s) {
    return pm__rw_readers_waiting(s) && !pm__rw_writers_waiting(s);
}

/* The state a downgrade of the write-locked, settled state s leaves: exactly
 * one reader, every flag kept (WRITERS_WAITING, ORPHANED; no poll bit is set
 * while write-locked), but READERS_WAITING cleared when those readers are
 * woken, or they would find it set and sleep again. (From an unsettled s the
 * reader added would carry the wrapped count to 0: the lock would look free.) */
static inline uint32_t pm__rw_downgraded_from(uint32_t s) {
    uint32_t one_reader = pm__rw_write_unlocked_from(s) + PM_RW_READ_LOCKED;
    return pm__rw_downgrade_wakes_readers(s) ? one_reader & ~PM_RW_READERS_WAITING : one_reader;
}

/* How long a polled writer keeps new readers waiting, at most (1 ms): long
 * enough for a polling loop to come back, short enough that a poller that
 * gave up (or a reader that waits while holding a read) costs little. */
#define PM_RW_POLL_GRACE_NS 1000000u

/* A try_read was refused: drop a poll bit nobody waits behind (cold). */
void pm__rwlock_try_read_refused(pm_rwlock *l);
/* A try_write was refused: if by readers, set the poll bit (cold). */
void pm__rwlock_try_write_refused(pm_rwlock *l);

/* ------------------------------------------------------------------------ */
/* Slow paths (pm_rwlock.c)                                                  */
/* ------------------------------------------------------------------------ */

/* Out-of-line slow paths. deadline_ns is absolute CLOCK_MONOTONIC, or
 * PM_FOREVER. They return PM_OK, PM_ETIMEDOUT, or (read) PM_EOVERFLOW. */
pm_status pm__rwlock_read_contended(pm_rwlock *l, uint64_t deadline_ns);
pm_status pm__rwlock_write_contended(pm_rwlock *l, uint64_t deadline_ns);
void pm__rwlock_wake_writer_or_readers(pm_rwlock *l, uint32_t state);
/* A release_read matched no read lock: adds its reader back (the lock may be
 * left unlocked by that: then the same as the last reader out). */
bool pm__rwlock_release_read_unmatched(pm_rwlock *l);
/* A downgrade found the count unsettled: waits (spins) until it is settled. */
uint32_t pm__rwlock_wait_settled(pm_rwlock *l);
/* A downgrade cleared READERS_WAITING: wake the readers that slept. */
void pm__rwlock_wake_readers(pm_rwlock *l);

/* What a release that left the state s does next: if it unlocked the lock,
 * wake the sleepers, and say whether it ended the last borrow of an orphaned
 * box (its caller destroys it). Not unlocked, nothing: a reader or writer is
 * still in, or an unmatched release_read's undo will do it. */
static inline bool pm__rwlock_after_release(pm_rwlock *l, uint32_t s) {
    if (PM_UNLIKELY(pm__rw_is_unlocked(s) && pm__rw_anyone_waiting(s))) {
        pm__rwlock_wake_writer_or_readers(l, s);
    }
    return pm__rw_is_unlocked(s) && pm__rw_is_orphaned(s);
}

/* ------------------------------------------------------------------------ */
/* Fast paths                                                                */
/* ------------------------------------------------------------------------ */

static inline void pm_rwlock_init(pm_rwlock *l) {
    atomic_init(&l->state, 0u);
    atomic_init(&l->writer_notify, 0u);
#ifdef PM_DEBUG
    l->debug_name = NULL;
    atomic_init(&l->debug_writer, NULL);
#endif
}

static inline pm_status pm__rwlock_try_read_nodebug(pm_rwlock *l) {
    uint32_t s = atomic_load_explicit(&l->state, memory_order_relaxed);
    while (pm__rw_is_read_lockable(s)) {
        /* Acquire: the last writer's release happens-before our reads. */
        if (atomic_compare_exchange_weak_explicit(&l->state, &s, s + PM_RW_READ_LOCKED,
                                                  memory_order_acquire, memory_order_relaxed)) {
            return PM_OK;
        }
    }
    return pm__rw_readers_at_max(s) ? PM_EOVERFLOW : PM_EBUSY;
}

static inline pm_status pm__rwlock_try_write_nodebug(pm_rwlock *l) {
    /* The first attempt guesses the free state (0) instead of loading it: a load
     * before the RMW on the same word cost about 5 ns more per lock here (the
     * seed's parking_lot guesses too). On failure `s` is the state seen. */
    uint32_t s = 0;
    if (PM_LIKELY(atomic_compare_exchange_strong_explicit(&l->state, &s, PM_RW_WRITE_LOCKED,
                                                          memory_order_acquire,
                                                          memory_order_relaxed))) {
        return PM_OK;
    }
    while (pm__rw_is_unlocked(s)) {
        /* Acquire: pairs with the release of the previous holder's unlock.
         * Waiting bits are kept: the sleepers still need a wake-up later. */
        if (atomic_compare_exchange_weak_explicit(&l->state, &s, pm__rw_write_locked_from(s),
                                                  memory_order_acquire, memory_order_relaxed)) {
            return PM_OK;
        }
    }
    return PM_EBUSY;
}

/* A new, unshared box's lock, already held for write by its creator: plain
 * initialization instead of a compare-and-swap (nobody else can see it yet). */
static inline void pm_rwlock_init_write(pm_rwlock *l) {
    atomic_init(&l->state, PM_RW_WRITE_LOCKED);
    atomic_init(&l->writer_notify, 0u);
#ifdef PM_DEBUG
    l->debug_name = NULL;
    atomic_init(&l->debug_writer, NULL);
#endif
    PM__DEBUG_ACQUIRED_FRESH(l, PM_LOCK_WRITE); /* held, but ordered after nothing */
}

/* Non-blocking: PM_OK, PM_EBUSY (a writer holds, waits or polled),
 * PM_EOVERFLOW. */
static inline pm_status pm_rwlock_try_read(pm_rwlock *l) {
    pm_status st = pm__rwlock_try_read_nodebug(l);
    if (st == PM_OK) {
        PM__DEBUG_ACQUIRED(l, PM_LOCK_READ);
    } else if (PM_UNLIKELY(st == PM_EBUSY)) {
        pm__rwlock_try_read_refused(l);
    }
    return st;
}

/* Non-blocking: PM_OK or PM_EBUSY. Refused by readers, it keeps new readers
 * out until those leave (PM_RW_WRITER_POLLED), so polling is not starved. */
static inline pm_status pm_rwlock_try_write(pm_rwlock *l) {
    pm_status st = pm__rwlock_try_write_nodebug(l);
    if (st == PM_OK) {
        PM__DEBUG_ACQUIRED(l, PM_LOCK_WRITE);
    } else {
        pm__rwlock_try_write_refused(l);
    }
    return st;
}

/* try_write for the box's only owner (its count said 1). No other thread has a
 * handle, so none can take the lock or wait for it meanwhile: at most a borrow
 * whose owner was dropped inside its scope is still held, and can only be
 * released. So a free lock with no bit set is taken by a plain store, one atomic
 * RMW fewer on `_write`'s in-place path (Rust's get_mut needs none); any other
 * state goes through try_write. */
static inline pm_status pm_rwlock_try_write_unique(pm_rwlock *l) {
    /* Acquire: pairs with the release of the last borrow's unlock, whose reads
     * and writes then happen-before ours. */
    if (PM_LIKELY(atomic_load_explicit(&l->state, memory_order_acquire) == 0u)) {
        /* Relaxed: no other thread can reach the lock before our owner is shared,
         * and whatever shares it orders this store before their accesses. */
        atomic_store_explicit(&l->state, PM_RW_WRITE_LOCKED, memory_order_relaxed);
        PM__DEBUG_ACQUIRED(l, PM_LOCK_WRITE);
        return PM_OK;
    }
    return pm_rwlock_try_write(l);
}

/* Releases refuse what the state shows cannot be held: a release_read when
 * nobody reads (or a writer holds the lock), a release_write when it is not
 * write-locked. The state is then left (release_write) or put back
 * (release_read) as it was, so one careless release cannot wedge the lock for
 * everybody else; PM_DEBUG reports it (pm_debug_release_mismatches). They
 * return true when this release ended the last borrow of an orphaned lock
 * (pm_rwlock_orphan): the caller must then destroy the box.
 *
 * release_read is one fetch_sub, whose old value says whether it matched (see
 * the state's comment above for why an unmatched one harms nobody). Measured
 * against the CAS loop it replaces, whose first attempt guessed one reader: the
 * guess fails whenever two readers overlap, and with 2 to 8 threads reading one
 * lock on 2 cores every operation took 15-20% longer (bench --only threads). */
static inline bool pm_rwlock_release_read(pm_rwlock *l) {
    /* Release: our reads happen-before the next writer's writes. */
    uint32_t old = atomic_fetch_sub_explicit(&l->state, PM_RW_READ_LOCKED, memory_order_release);
    /* Nearly always: no one to wake and nothing to report. Tested first, as
     * one predicate, it falls through (bench/notes.md). */
    if (PM_LIKELY(pm__rw_is_read_locked_quietly(old))) {
        PM__DEBUG_RELEASED(l, PM_LOCK_READ);
        return false;
    }
    if (PM_UNLIKELY(!pm__rw_is_read_locked(old))) {
        PM__DEBUG_MISMATCH(l, PM_LOCK_READ);
        return pm__rwlock_release_read_unmatched(l);
    }
    PM__DEBUG_RELEASED(l, PM_LOCK_READ);
    /* Sleepers on a read-locked lock (a writer; readers behind a writer or a
     * polled writer) wait for the last reader out, who wakes them. */
    return pm__rwlock_after_release(l, old - PM_RW_READ_LOCKED);
}

static inline bool pm_rwlock_release_write(pm_rwlock *l) {
#ifdef PM_DEBUG
    /* Relaxed: only the CAS below publishes, and it checks the value again.
     * PM_DEBUG notes the release before the CAS (see pm__debug_note_release),
     * so it must know the state first. */
    uint32_t s = atomic_load_explicit(&l->state, memory_order_relaxed);
#else
    uint32_t s = PM_RW_WRITE_LOCKED; /* the guess: the CAS checks it */
#endif
    if (PM_UNLIKELY(!pm__rw_is_write_locked(s))) {
        PM__DEBUG_MISMATCH(l, PM_LOCK_WRITE);
        return false;
    }
    PM__DEBUG_RELEASED(l, PM_LOCK_WRITE);
    /* Release: our writes happen-before the next holder's acquire. Others may
     * only add waiting bits meanwhile (or a careless release get in). A first
     * CAS that guesses wrong costs a retry; unlike a read release, a write
     * release never meets another holder, so it keeps the CAS that refuses. */
    while (!atomic_compare_exchange_weak_explicit(&l->state, &s, pm__rw_write_unlocked_from(s),
                                                  memory_order_release, memory_order_relaxed)) {
        if (PM_UNLIKELY(!pm__rw_is_write_locked(s))) {
            PM__DEBUG_MISMATCH(l, PM_LOCK_WRITE);
            return false;
        }
    }
    /* Not unlocked: an unmatched release_read is being undone, and its undo
     * wakes and reports instead. A write release nearly always leaves no
     * waiting bit and no orphan mark: testing those first makes the common case
     * one test that falls through (bench/notes.md); the rest is as ever. */
    uint32_t left = pm__rw_write_unlocked_from(s);
    if (PM_LIKELY(!pm__rw_anyone_waiting(left) && !pm__rw_is_orphaned(left))) {
        return false;
    }
    return pm__rwlock_after_release(l, left);
}

/* ---- downgrade: a write lock becomes one read lock ---- */

/* The write lock becomes a read lock held by the caller (end it with
 * release_read), in one atomic RMW: no writer can take the lock in between
 * (parking_lot's RwLockWriteGuard::downgrade). Writers keep their priority:
 * with a writer waiting, new and sleeping readers stay out, and the last
 * reader out wakes the writer; with only readers waiting, they are woken and
 * share the read. PM_OK; PM_EINVAL when the lock is not write-locked (a
 * careless call): the state is left as it is, and PM_DEBUG reports it
 * (pm_debug_release_mismatches). Like release_write, the first CAS guesses
 * the uncontended state (write-locked, no flag) instead of loading it. */
static inline pm_status pm_rwlock_downgrade(pm_rwlock *l) {
    uint32_t s = PM_RW_WRITE_LOCKED; /* the guess: the CAS checks it */
    for (;;) {
        if (PM_UNLIKELY(!pm__rw_is_write_locked(s))) {
            PM__DEBUG_DOWNGRADE_MISMATCH(l);
            return PM_EINVAL;
        }
        if (PM_UNLIKELY(!pm__rw_is_settled(s))) {
            s = pm__rwlock_wait_settled(l); /* see pm__rw_downgraded_from */
            continue;
        }
        /* Release: our writes happen-before the reads of every reader that enters after. */
        if (atomic_compare_exchange_weak_explicit(&l->state, &s, pm__rw_downgraded_from(s),
                                                  memory_order_release, memory_order_relaxed)) {
            break;
        }
    }
    PM__DEBUG_DOWNGRADED(l); /* held for read now; no writer can get in before our release */
    if (PM_UNLIKELY(pm__rw_downgrade_wakes_readers(s))) {
        pm__rwlock_wake_readers(l);
    }
    return PM_OK;
}

/* Blocking forms: wait up to timeout_ns (relative; PM_FOREVER = no limit).
 * PM_OK, PM_ETIMEDOUT, PM_EDEADLK (PM_DEBUG), PM_EOVERFLOW (read). */
static inline pm_status pm_rwlock_read_wait(pm_rwlock *l, uint64_t timeout_ns) {
    pm_status st = pm__rwlock_try_read_nodebug(l);
    if (PM_UNLIKELY(st == PM_EBUSY)) {
#ifdef PM_DEBUG
        st = pm__debug_check_wait(l, PM_LOCK_READ);
        if (st != PM_OK) {
            return st;
        }
#endif
        st = pm__rwlock_read_contended(l, pm_deadline_after(timeout_ns));
    }
    if (st == PM_OK) {
        PM__DEBUG_ACQUIRED(l, PM_LOCK_READ);
    }
    return st;
}

static inline pm_status pm_rwlock_write_wait(pm_rwlock *l, uint64_t timeout_ns) {
    pm_status st = pm__rwlock_try_write_nodebug(l);
    if (PM_UNLIKELY(st != PM_OK)) {
#ifdef PM_DEBUG
        st = pm__debug_check_wait(l, PM_LOCK_WRITE);
        if (st != PM_OK) {
            return st;
        }
#endif
        st = pm__rwlock_write_contended(l, pm_deadline_after(timeout_ns));
    }
    if (st == PM_OK) {
        PM__DEBUG_ACQUIRED(l, PM_LOCK_WRITE);
    }
    return st;
}

/* PM_DEBUG: names the lock in lock-order reports (generated code names each
 * lock after its handle type). No-op otherwise. */
static inline void pm_rwlock_name(pm_rwlock *l, const char *name) {
#ifdef PM_DEBUG
    l->debug_name = name;
    pm__debug_rename(l, name);
#else
    (void)l;
    (void)name;
#endif
}

/* PM_DEBUG: the lock is going away and its address may be reused by an
 * unrelated lock, so drop its lock-order history. No-op otherwise. */
static inline void pm_rwlock_forget(pm_rwlock *l) {
#ifdef PM_DEBUG
    pm__debug_forget_lock(l);
#else
    (void)l;
#endif
}

/* The box's only owner takes its value out (a move, then the memory goes): PM_OK
 * when no borrow is held, and the lock is done with; else the borrow's status and
 * nothing changes. No borrow can begin meanwhile: borrowing needs an owner. */
static inline pm_status pm_rwlock_claim(pm_rwlock *l) {
    pm_status status = pm_rwlock_try_write(l); /* acquire: the last borrow's release */
    if (status == PM_OK) {
        (void)pm_rwlock_release_write(l); /* PM_DEBUG: not held past here */
        pm_rwlock_forget(l);
    }
    return status;
}

/* True when the lock is held, for read or write (waiting bits aside). Acquire:
 * a caller that sees it free may free the box; every release happened-before. */
static inline bool pm_rwlock_in_use(const pm_rwlock *l) {
    return !pm__rw_is_unlocked(atomic_load_explicit(&((pm_rwlock *)l)->state, memory_order_acquire));
}

/* The box's last owner has left. Held: marks the lock orphaned, in one step
 * with the check, and returns true; the release that ends the last borrow
 * returns true and its caller destroys the box. Free: returns false, and the
 * caller destroys the box now (nobody can borrow it any more). */
static inline bool pm_rwlock_orphan(pm_rwlock *l) {
    /* Acquire (load and failed CAS): when the lock is seen free, every
     * borrower's release happened-before the caller frees the box. */
    uint32_t s = atomic_load_explicit(&l->state, memory_order_acquire);
    while (!pm__rw_is_unlocked(s)) {
        /* Release: the last owner's writes happen-before the destroy by the
         * thread that ends the last borrow (its release continues this RMW's
         * release sequence, and pm_rwlock_in_use/orphan then acquire). */
        if (atomic_compare_exchange_weak_explicit(&l->state, &s, s | PM_RW_ORPHANED,
                                                  memory_order_release, memory_order_acquire)) {
            return true;
        }
    }
    return false;
}

/* True when no writer holds or waits for the lock (and a reader could enter).
 * A hint: the state may change right after. */
static inline bool pm_rwlock_writer_quiet(const pm_rwlock *l) {
    /* Relaxed: a hint only; whoever acts on it must check again (a CAS, or
     * the snapshot's sequence number). */
    return pm__rw_is_read_lockable(
        atomic_load_explicit(&((pm_rwlock *)l)->state, memory_order_relaxed));
}


#ifdef __cplusplus
}
#endif

#endif /* PM_RWLOCK_H */
