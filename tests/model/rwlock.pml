/* rwlock.pml — a Promela model of runtime/pm_rwlock.c + the inline paths in
 * runtime/pm_rwlock.h (the futex RwLock after Rust std, with deadlines), for spin.
 *
 * Modelled as the C code does it, statement by statement:
 *   state        = reader count (the top bits, in R1 units) | WL
 *                  | READERS_WAITING | WRITERS_WAITING | WRITER_POLLED
 *                                                            (pm_rwlock.h)
 *   writer_notify, bumped before every writer wake-up
 *   try_read / try_write fast paths (pm_rwlock.h), read_contended, write_contended,
 *   (pm__spin_write may mark a read-locked lock polled), writer_gives_up,
 *   wake_writer_or_readers, release_read (one fetch_sub), release_write (a CAS
 *   loop that refuses a release the state cannot match), careless
 *   release_reads (Stray: a fetch_sub that wraps the count, and its undo),
 *   downgrade waiting for such a count to settle; the polling forms
 *   pm_rwlock_try_write / try_read with what a refusal does (try_write_refused
 *   sets the poll bit, try_read_refused clears it when nobody waits behind it),
 *   and a reader's grace: kept out by the poll bit alone, it may find the
 *   grace over at any check (end_poll_grace), and its futex sleep may end by
 *   the grace's timeout at any time; pm_rwlock_downgrade (a write lock
 *   becomes one read lock in one CAS, waking the readers that wait alone).
 * Each atomic RMW (CAS, fetch_add/sub) is one atomic step; plain loads are
 * one step each; spinning is a load. The futex is modelled exactly:
 * futex_wait(addr, v) atomically compares *addr with v and goes to sleep on
 * addr if they are equal (else returns at once); futex_wake wakes one
 * (any one: a nondeterministic choice) or all sleepers of addr and reports
 * whether it woke anybody.
 *
 * Deadlines: a timed process may find its deadline passed at any check (once
 * passed it stays passed), and its futex sleep may end by timeout at any
 * time. Processes with PM_FOREVER never time out and never wake without a
 * futex_wake (spurious wake-ups only re-run the loop, so leaving them out
 * loses no behaviour but keeps a lost wake-up visible as a deadlock).
 *
 * What spin checks:
 *   - mutual exclusion: assertions inside the critical sections (a writer
 *     alone; readers only without a writer);
 *   - no lost wake-up: a FOREVER process asleep while nobody will wake it is
 *     a state where it cannot move: spin reports it as an invalid end state
 *     (deadlock), since every process must reach the end of its code;
 *   - a usable lock after timeouts: when every process has finished, the
 *     lock is idle (no holder, no stale waiting bit except behind a poll bit
 *     a poller that gave up left), a try_read gets it at the latest at its
 *     second try, and a fresh FOREVER reader and then writer get it;
 *   - the poll bit is never set on a write-locked lock (checked at every
 *     successful CAS);
 *   - a downgrade lets no writer in between: the downgrading writer counts
 *     as a reader from its write section to its release_read.
 * Memory orderings are not modelled (spin is sequentially consistent);
 * ThreadSanitizer checks them in tests/stress.
 *
 * Configurations (spin -D...): CONFIG=1..8 pick the processes (see init);
 * ROUNDS=n lock/unlock rounds per process (default 2); FOUR adds a fourth
 * process. tests/test_model.py checks the eight configurations; the
 * command for the larger runs is in docs/RELIABILITY.md.
 */

#define PW      1       /* PM_RW_WRITER_POLLED */
#define RW      4       /* PM_RW_READERS_WAITING */
#define WW      8       /* PM_RW_WRITERS_WAITING */
#define WL      16      /* PM_RW_WRITE_LOCKED */
#define R1      32      /* PM_RW_READ_LOCKED: one reader, the count is the word's top */
#define MASK    (-32)   /* PM_RW_MASK: the reader count bits */
#define MAXR    (30 * R1)  /* PM_RW_MAX_READERS (here 30: more than the processes) */
#define ON_STATE  1     /* asleep on the futex of `state` */
#define ON_NOTIFY 2     /* asleep on the futex of `writer_notify` */
#define NPROC   6

#ifndef CONFIG
#define CONFIG 1
#endif
#ifndef ROUNDS
#define ROUNDS 2
#endif
#ifndef TRIES
#define TRIES 2         /* try_write / try_read calls a poller makes per round */
#endif

int state = 0;
byte notify = 0;            /* u32 in C; wrap-around needs 2^32 wake-ups */
byte asleep[NPROC];         /* 0 awake, else the futex slept on */
bit expired[NPROC];         /* the process's deadline has passed */
byte readers_in = 0, writers_in = 0;
hidden byte i, last;        /* scratch of the atomic wake loops, not state */

/* The C word is unsigned: a count of 0 decremented wraps to the top, above
 * MAXR. Promela's int is signed: it goes negative instead. */
#define readers(s)    ((s) & MASK)
#define settled(s)    ((s) >= 0 && readers(s) <= MAXR)
#define room(s)       (((s) & WL) == 0 && settled(s) && readers(s) < MAXR)
#define at_max(s)     (((s) & WL) == 0 && readers(s) == MAXR)
#define lockable(s)   (room(s) && ((s) & (RW | WW | PW)) == 0)
#define unlocked(s)   (((s) & (MASK | WL)) == 0)
#define read_locked(s) (((s) & WL) == 0 && settled(s) && readers(s) != 0)
#define only_poll(s)  (((s) & PW) != 0 && ((s) & WW) == 0 && room(s))
#define write_locked_from(s) (((s) & ~PW) | WL)
#define write_unlocked_from(s) ((s) & ~WL)
/* pm__rw_downgrade_wakes_readers, pm__rw_downgraded_from */
#define wakes_readers(s) (((s) & RW) != 0 && ((s) & WW) == 0)
#define downgraded_from(s) ((write_unlocked_from(s) + R1) & ~(wakes_readers(s) -> RW : 0))

/* pm__deadline_passed: a timed process may see its deadline pass. */
inline deadline_passed(timed, r) {
    if
    :: timed && !expired[_pid] -> expired[_pid] = 1
    :: true -> skip                 /* not yet (not `else`: that would forbid this) */
    fi;
    r = expired[_pid]
}

/* `grace`: the sleep may also end when the poll grace is over (not the
 * deadline: a FOREVER reader waits for a polled writer only that long). */
inline futex_wait(addr, val, expect, where, timed, grace) {
    atomic {
        if
        :: (val) == (expect) -> asleep[_pid] = where
        :: else -> skip
        fi
    }
    if
    :: asleep[_pid] == 0 -> skip                                  /* woken, or never slept */
    :: timed && asleep[_pid] != 0 -> atomic { asleep[_pid] = 0; expired[_pid] = 1 }  /* timeout */
    :: grace && asleep[_pid] != 0 -> asleep[_pid] = 0             /* the grace's timeout */
    fi
}

/* Wake one sleeper of `where` (any one), woke = whether there was one. */
inline futex_wake_one(where, woke) {
    atomic {
        woke = 0;
        i = 0;
        last = NPROC;
        do
        :: i < NPROC && !woke && asleep[i] == where -> 
            if
            :: asleep[i] = 0; woke = 1       /* this one */
            :: last = i                      /* another one */
            fi;
            i++
        :: i < NPROC && (woke || asleep[i] != where) -> i++
        :: i == NPROC -> break
        od;
        if
        :: !woke && last < NPROC -> asleep[last] = 0; woke = 1
        :: else -> skip
        fi
    }
}

inline futex_wake_all(where) {
    atomic {
        i = 0;
        do
        :: i < NPROC -> if :: asleep[i] == where -> asleep[i] = 0 :: else -> skip fi; i++
        :: i == NPROC -> break
        od
    }
}

/* compare_exchange(&state, &s, desired): ok = success; on failure s = state. */
inline cas(s, desired, ok) {
    atomic {
        if
        :: state == s -> state = desired; ok = 1;
            assert((state & PW) == 0 || (state & WL) == 0)
        :: else -> s = state; ok = 0
        fi
    }
}

/* pm__rwlock_wake_writer: bump writer_notify, wake one writer. */
inline wake_writer(woke) {
    notify++;
    futex_wake_one(ON_NOTIFY, woke)
}

/* pm__rwlock_wake_writer_or_readers(l, s); `done` stands for its returns.
 * The poll bit is kept as it is (`polled`), the comparisons leave it out. */
inline wake_writer_or_readers(s) {
    done = 0;
    polled = s & PW;
    if
    :: (s & ~polled) == WW ->
        cas(s, polled, ok);
        if
        :: ok -> wake_writer(woke); done = 1
        :: else -> skip      /* s is the new state: fall through */
        fi
    :: else -> skip
    fi;
    if
    :: !done && (s & ~polled) == (RW | WW) ->
        cas(s, polled | RW, ok);
        if
        :: !ok -> done = 1
        :: else ->
            wake_writer(woke);
            if
            :: woke -> done = 1
            :: else -> s = polled | RW   /* no writer was asleep: wake readers too */
            fi
        fi
    :: else -> skip
    fi;
    do
    :: !done && (s & ~PW) == RW ->
        cas(s, s & PW, ok);
        if
        :: ok -> futex_wake_all(ON_STATE); break
        :: else -> skip
        fi
    :: else -> break
    od
}

/* pm__rwlock_end_poll_grace: clear the poll bit and READERS_WAITING, wake
 * the readers that slept. */
inline end_poll_grace(s) {
    do
    :: only_poll(s) ->
        cas(s, s & ~(PW | RW), ok);
        if
        :: ok ->
            if
            :: (s & RW) != 0 -> futex_wake_all(ON_STATE)
            :: else -> skip
            fi;
            s = s & ~(PW | RW);
            break
        :: else -> skip
        fi
    :: else -> break
    od
}

/* pm_rwlock_read_wait: fast path, then pm__rwlock_read_contended. got = PM_OK. */
inline read_lock(timed, got) {
    got = 0;
    expired[_pid] = 0;                                  /* a fresh deadline per call */
    s = state;                                          /* relaxed load */
    do
    :: lockable(s) -> cas(s, s + R1, ok); if :: ok -> got = 1; break :: else -> skip fi
    :: !lockable(s) -> break
    od;
    if
    :: !got ->
        s = state;                                      /* pm__spin_read */
        do
        :: lockable(s) -> cas(s, s + R1, ok); if :: ok -> got = 1; break :: else -> skip fi
        :: !lockable(s) && at_max(s) -> break              /* PM_EOVERFLOW */
        :: !lockable(s) && !at_max(s) ->
            deadline_passed(timed, passed);
            if
            :: passed -> break                          /* PM_ETIMEDOUT, flag left as is */
            :: else -> skip
            fi;
            if
            :: only_poll(s) -> end_poll_grace(s)        /* the grace may be over */
            :: true -> skip
            fi;
            if
            :: lockable(s) -> ok = 0                    /* continue: take it */
            :: !lockable(s) && (s & RW) == 0 -> cas(s, s | RW, ok)
            :: !lockable(s) && (s & RW) != 0 -> ok = 1
            fi;
            if
            :: ok ->
                futex_wait(state, state, s | RW, ON_STATE, timed, only_poll(s));
                s = state                               /* pm__spin_read */
            :: else -> skip                             /* continue with the new s */
            fi
        od
    :: else -> skip
    fi;
    forget()
}

inline writer_gives_up(waited, pw) {
    if
    :: waited ->
        atomic { s = state; state = s & ~(RW | WW | (pw -> PW : 0)) }  /* the CAS loop */
        if
        :: (s & RW) != 0 -> futex_wake_all(ON_STATE)
        :: else -> skip
        fi;
        /* Writers: always, even if WRITERS_WAITING is clear now. A waker may
         * have cleared it and woken this very writer, which then timed out: that
         * one wake-up must still reach the other writers. (pm_rwlock.c as of
         * 2759f5d woke writers only `if (pm__rw_writers_waiting(s))`: spin finds
         * the lost wake-up in CONFIG=3, tests/stress/wakeup.c shows it in C.) */
        notify++;
        futex_wake_all(ON_NOTIFY)
    :: !waited && pw ->     /* it only spun: its poll bit, while no writer waits */
        s = state;
        end_poll_grace(s)
    :: else -> skip         /* it never set a bit: nothing to clean up */
    fi
}

/* pm__spin_write: a load; while readers hold the lock (and no writer
 * sleeps), it may mark the lock polled (the C loop's backoff steps between
 * loads change nothing else). */
inline spin_write(s) {
    s = state;
    if
    :: read_locked(s) && (s & (PW | WW)) == 0 ->
        cas(s, s | PW, ok);
        if
        :: ok -> pws = 1            /* ours to clear if we give up */
        :: else -> skip
        fi
    :: true -> skip
    fi
}

/* pm_rwlock_write_wait: fast path, then pm__rwlock_write_contended. */
inline write_lock(timed, got) {
    got = 0;
    expired[_pid] = 0;
    s = state;
    do
    :: unlocked(s) -> cas(s, write_locked_from(s), ok); if :: ok -> got = 1; break :: else -> skip fi
    :: !unlocked(s) -> break
    od;
    if
    :: !got ->
        oww = 0;
        spin_write(s);
        do
        :: unlocked(s) -> cas(s, write_locked_from(s) | oww, ok); if :: ok -> got = 1; break :: else -> skip fi
        :: !unlocked(s) ->
            deadline_passed(timed, passed);
            if
            :: passed ->
                if
                :: true -> writer_gives_up(oww != 0, pws)
                fi;
                break
            :: else -> skip
            fi;
            if
            :: (s & WW) == 0 -> cas(s, s | WW, ok)
            :: else -> ok = 1
            fi;
            if
            :: ok ->
                oww = WW;
                seq = notify;                           /* acquire load */
                s = state;
                if
                :: unlocked(s) || (s & WW) == 0 -> skip /* continue */
                :: else ->
                    futex_wait(notify, notify, seq, ON_NOTIFY, timed, 0);
                    spin_write(s)
                fi
            :: else -> skip
            fi
        od
    :: else -> skip
    fi;
    forget()
}

/* The C locals die when a call returns; zero them so that dead values do
 * not multiply the states. */
inline forget() {
    d_step { s = 0; ok = 0; passed = 0; woke = 0; done = 0; seq = 0; oww = 0; polled = 0; pws = 0 }
}

/* pm_rwlock_release_read: one fetch_sub; its old value says whether it
 * matched a read lock. The processes here only release what they hold, so an
 * unmatched one is an error; Stray below makes the careless ones. */
inline release_read() {
    atomic { s = state; state = s - R1 }                /* the fetch_sub: s is the old state */
    assert(read_locked(s));
    s = s - R1;
    if
    :: unlocked(s) && (s & (RW | WW)) != 0 -> wake_writer_or_readers(s)   /* the last reader out */
    :: else -> skip
    fi;
    forget()
}

/* pm_rwlock_release_write: a CAS loop that refuses unless write-locked (the
 * guess: write-locked, no flag; a PM_DEBUG build loads the state first,
 * which the guess's failed CAS covers). It keeps every other bit: a count
 * that a careless release_read wrapped is left to that release's undo. */
inline release_write() {
    s = WL;                                             /* the guess */
    do
    :: (s & WL) == 0 -> assert(false); break            /* refused */
    :: else ->
        cas(s, write_unlocked_from(s), ok);
        if
        :: ok -> s = write_unlocked_from(s); break
        :: else -> skip
        fi
    od;
    if
    :: unlocked(s) && (s & (RW | WW)) != 0 -> wake_writer_or_readers(s)
    :: else -> skip
    fi;
    forget()
}

/* pm_rwlock_downgrade: one CAS from write-locked to one reader, flags kept
 * but READERS_WAITING when no writer waits (the guess: write-locked, no
 * flag), then a wake-up for the readers whose flag it cleared. The caller
 * counts itself among the readers before and leaves the writers' count in
 * the CAS's own atomic step: it is never out, so a writer that got in in
 * between would fail its assertion. */
inline downgrade() {
    s = WL;                                             /* the guess */
    do
    :: (s & WL) == 0 -> assert(false); break            /* refused: PM_EINVAL */
    :: (s & WL) != 0 && !settled(s) -> s = state        /* pm__rwlock_wait_settled */
    :: (s & WL) != 0 && settled(s) ->
        atomic {
            if
            :: state == s -> state = downgraded_from(s); ok = 1; writers_in--
            :: else -> s = state; ok = 0
            fi
        }
        if
        :: ok -> break
        :: else -> skip                                 /* s is the new state: again */
        fi
    od;
    if
    :: wakes_readers(s) -> futex_wake_all(ON_STATE)
    :: else -> skip
    fi;
    forget()
}

/* pm_rwlock_try_write: the fast path, then pm__rwlock_try_write_refused. */
inline try_write(got) {
    got = 0;
    s = state;
    do
    :: unlocked(s) -> cas(s, write_locked_from(s), ok); if :: ok -> got = 1; break :: else -> skip fi
    :: !unlocked(s) -> break
    od;
    if
    :: !got ->
        s = state;
        if
        :: read_locked(s) && (s & PW) == 0 -> cas(s, s | PW, ok)
        :: else -> skip
        fi
    :: else -> skip
    fi;
    forget()
}

/* pm_rwlock_try_read: the fast path, then pm__rwlock_try_read_refused. */
inline try_read(got) {
    got = 0;
    s = state;
    do
    :: lockable(s) -> cas(s, s + R1, ok); if :: ok -> got = 1; break :: else -> skip fi
    :: !lockable(s) -> break
    od;
    if
    :: !got ->
        s = state;
        if
        :: unlocked(s) && only_poll(s) -> end_poll_grace(s)
        :: else -> skip
        fi
    :: else -> skip
    fi;
    forget()
}

/* Polls with try_write, TRIES times a round, then gives up (nothing to undo). */
proctype PollWriter() {
    int s, oww, polled; bit ok, got, passed, woke, done, pws; byte r, n, seq;
    for (r : 1 .. ROUNDS) {
        for (n : 1 .. TRIES) {
            try_write(got);
            if
            :: got ->
                writers_in++;
                assert(writers_in == 1 && readers_in == 0);
                writers_in--;
                release_write();
                break
            :: else -> skip
            fi
        }
    }
}

proctype PollReader() {
    int s, oww, polled; bit ok, got, passed, woke, done, pws; byte r, n, seq;
    for (r : 1 .. ROUNDS) {
        for (n : 1 .. TRIES) {
            try_read(got);
            if
            :: got ->
                readers_in++;
                assert(writers_in == 0);
                readers_in--;
                release_read();
                break
            :: else -> skip
            fi
        }
    }
}

proctype Reader(bit timed) {
    int s, oww, polled; bit ok, got, passed, woke, done, pws; byte r, seq;
    for (r : 1 .. ROUNDS) {
        read_lock(timed, got);
        if
        :: got ->
            readers_in++;
            assert(writers_in == 0);
            readers_in--;
            release_read()
        :: else -> assert(timed)
        fi
    }
}

proctype Writer(bit timed) {
    int s, oww, polled; bit ok, got, passed, woke, done, pws; byte r, seq;
    for (r : 1 .. ROUNDS) {
        write_lock(timed, got);
        if
        :: got ->
            writers_in++;
            assert(writers_in == 1 && readers_in == 0);
            writers_in--;
            release_write()
        :: else -> assert(timed)
        fi
    }
}

/* Careless release_reads (pm_rwlock_release_read with no read lock to end):
 * the fetch_sub wraps the count of a free or write-locked lock, then
 * pm__rwlock_release_read_unmatched adds the reader back and does what the
 * last reader out would. Only on a count of 0: on a held read it would end
 * that reader's borrow, which no state can tell from the reader's own. */
proctype Stray() {
    int s, oww, polled; bit ok, got, passed, woke, done, pws; byte r, seq;
    for (r : 1 .. ROUNDS) {
        atomic { readers(state) == 0 -> state = state - R1 }   /* the fetch_sub */
        atomic { s = state + R1; state = s }                  /* the undo's fetch_add */
        if
        :: unlocked(s) && (s & (RW | WW)) != 0 -> wake_writer_or_readers(s)  /* the undo wakes */
        :: else -> skip
        fi;
        forget()
    }
}

/* Writes, downgrades to a read (pm_rwlock_downgrade), then ends the read. */
proctype DownWriter() {
    int s, oww, polled; bit ok, got, passed, woke, done, pws; byte r, seq;
    for (r : 1 .. ROUNDS) {
        write_lock(0, got);
        writers_in++;
        assert(writers_in == 1 && readers_in == 0);
        readers_in++;                                   /* a reader from now on */
        downgrade();
        assert(writers_in == 0);
        readers_in--;
        release_read()
    }
}

init {
    int s, oww, polled; bit ok, got, passed, woke, done, pws; byte seq;
    atomic {
#if CONFIG == 1
        /* FOREVER readers, and a writer that times out */
        run Reader(0); run Reader(0); run Writer(1);
#ifdef FOUR
        run Writer(0);
#endif
#elif CONFIG == 2
        /* readers that time out among FOREVER writers */
        run Reader(1); run Reader(0); run Writer(0);
#ifdef FOUR
        run Writer(0);
#endif
#elif CONFIG == 3
        /* writers, one of them timing out, and a FOREVER reader */
        run Writer(1); run Writer(0); run Reader(0);
#ifdef FOUR
        run Writer(0);
#endif
#elif CONFIG == 4
        /* a polling writer against a FOREVER and a polling reader */
        run PollWriter(); run Reader(0); run PollReader();
#ifdef FOUR
        run Reader(1);
#endif
#elif CONFIG == 5
        /* a polling writer, a FOREVER writer and a FOREVER reader */
        run PollWriter(); run Writer(0); run Reader(0);
#ifdef FOUR
        run Writer(1);
#endif
#elif CONFIG == 7
        /* careless release_reads, a writer that times out and a FOREVER reader */
        run Stray(); run Writer(1); run Reader(0);
#elif CONFIG == 8
        /* careless release_reads, a downgrading writer and a FOREVER writer */
        run Stray(); run DownWriter(); run Writer(0);
#else
        /* a downgrading writer, a FOREVER writer and a FOREVER reader */
        run DownWriter(); run Writer(0); run Reader(0);
#ifdef FOUR
        run Writer(1);
#endif
#endif
    }
    (_nr_pr == 1);              /* every process has finished */
    /* Idle: no holder, no waiting bit but behind a poll bit (a reader that
     * timed out behind it leaves READERS_WAITING, as behind a writer). */
    assert(readers_in == 0 && writers_in == 0);
    assert(state == 0 || state == PW || state == (PW | RW));
    /* A poller that gave up costs one refused try_read at most. */
    try_read(got);
    if
    :: !got -> try_read(got)
    :: else -> skip
    fi;
    assert(got);
    release_read();
    /* The lock is usable: a FOREVER reader, then a FOREVER writer. */
    read_lock(0, got);
    assert(got);
    release_read();
    write_lock(0, got);
    assert(got);
    release_write();
    assert(state == 0)
}
