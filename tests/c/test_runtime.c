/* test_runtime.c — executable specification of the perceus-mem C runtime.
 *
 * Build: cc -std=c11 -pthread -Iruntime tests/c/test_runtime.c runtime/pm.c
 *        runtime/pm_box.c runtime/pm_rwlock.c   (optionally -DPM_DEBUG for every unit)
 * Exit status 0 on success; every failed check prints FAIL file:line: expr. */
#define _GNU_SOURCE /* nanosleep() */
#include "../../runtime/pm.h"
#include "../../runtime/pm_internal.h" /* the *_set_for_test hooks */

#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static _Atomic int failures;

#define CHECK(expr)                                                                \
    do {                                                                           \
        if (!(expr)) {                                                             \
            printf("FAIL %s:%d: %s\n", __FILE__, __LINE__, #expr);                 \
            atomic_fetch_add(&failures, 1);                                        \
        }                                                                          \
    } while (0)

#define MS 1000000ull

/* ------------------------------------------------------------------------ */
/* helpers                                                                   */
/* ------------------------------------------------------------------------ */

static void sleep_ns(uint64_t ns) {
    struct timespec ts = {(time_t)(ns / 1000000000ull), (long)(ns % 1000000000ull)};
    nanosleep(&ts, NULL);
}

static uint32_t state_of(pm_rwlock *l) { return atomic_load(&l->state); }

/* Poll until the lock's state has all of `bits` (true) or a second passed. */
static bool wait_for_bits(pm_rwlock *l, uint32_t bits) {
    for (int i = 0; i < 10000; i++) {
        if ((state_of(l) & bits) == bits) {
            return true;
        }
        sleep_ns(100000);
    }
    return false;
}

static bool wait_for_flag(_Atomic int *flag, uint64_t limit_ns) {
    uint64_t end = pm_monotonic_ns() + limit_ns;
    while (!atomic_load(flag)) {
        if (pm_monotonic_ns() > end) {
            return false;
        }
        sleep_ns(100000);
    }
    return true;
}

typedef struct waiter {
    pm_rwlock *lock;
    bool write;
    uint64_t timeout;
    pm_status status;
    uint64_t elapsed;
    _Atomic int acquired;  /* set once the lock is held */
    _Atomic int *released; /* if set: must already be 1 when we acquire */
    bool saw_release;
    pthread_t tid;
} waiter;

/* Wait for the lock, record the outcome, release it at once. */
static void *waiter_main(void *arg) {
    waiter *w = arg;
    uint64_t t0 = pm_monotonic_ns();
    w->status = w->write ? pm_rwlock_write_wait(w->lock, w->timeout)
                         : pm_rwlock_read_wait(w->lock, w->timeout);
    w->elapsed = pm_monotonic_ns() - t0;
    if (w->status == PM_OK) {
        w->saw_release = w->released == NULL || atomic_load(w->released);
        atomic_store(&w->acquired, 1);
        if (w->write) {
            pm_rwlock_release_write(w->lock);
        } else {
            pm_rwlock_release_read(w->lock);
        }
    }
    return NULL;
}

static void start_after(waiter *w, pm_rwlock *l, bool write, uint64_t timeout,
                        _Atomic int *released) {
    memset(w, 0, sizeof *w);
    w->lock = l;
    w->released = released;
    w->write = write;
    w->timeout = timeout;
    CHECK(pthread_create(&w->tid, NULL, waiter_main, w) == 0);
}

static void start(waiter *w, pm_rwlock *l, bool write, uint64_t timeout) {
    start_after(w, l, write, timeout, NULL);
}

static void join(waiter *w) { CHECK(pthread_join(w->tid, NULL) == 0); }

/* ------------------------------------------------------------------------ */
/* status codes, clock                                                        */
/* ------------------------------------------------------------------------ */

static void test_status_str(void) {
    static const char *const names[PM_STATUS_COUNT] = {
        "PM_OK",     "PM_EBORROWED", "PM_EBUSY",     "PM_ETIMEDOUT", "PM_EDEADLK",
        "PM_ENOMEM", "PM_ECLONE",    "PM_EOVERFLOW", "PM_EINVAL",    "PM_EGONE",
        "PM_ESHARED"};
    for (int i = 0; i < PM_STATUS_COUNT; i++) {
        CHECK(strcmp(pm_status_str((pm_status)i), names[i]) == 0);
    }
    CHECK(strcmp(pm_status_str((pm_status)PM_STATUS_COUNT), "PM_E?") == 0);
    CHECK(strcmp(pm_status_str((pm_status)1000), "PM_E?") == 0);
}

static void test_deadline(void) {
    uint64_t now = pm_monotonic_ns();
    CHECK(pm_deadline_after(PM_FOREVER) == PM_FOREVER);
    CHECK(pm_deadline_after(PM_FOREVER - 1) == PM_FOREVER); /* saturates, no wrap */
    CHECK(pm_deadline_after(0) >= now);
    CHECK(pm_deadline_after(10 * MS) >= now + 10 * MS);
}

/* ------------------------------------------------------------------------ */
/* counters and borrow cell                                                  */
/* ------------------------------------------------------------------------ */

static void test_count_plain(void) {
    pm_count_plain c;
    pm_count_plain_init(&c);
    CHECK(pm_count_plain_get(&c) == 1 && pm_count_plain_is_unique(&c));
    pm_count_plain_inc(&c);
    CHECK(pm_count_plain_get(&c) == 2 && !pm_count_plain_is_unique(&c));
    CHECK(!pm_count_plain_dec(&c));
    CHECK(pm_count_plain_dec(&c)); /* last owner */

    pm_count_plain_set_for_test(&c, PM_COUNT_MAX - 1);
    CHECK(pm_count_plain_try_inc(&c) == PM_OK);
    CHECK(pm_count_plain_try_inc(&c) == PM_EOVERFLOW);
    CHECK(pm_count_plain_get(&c) == PM_COUNT_MAX);
    pm_count_plain_inc(&c); /* turns sticky */
    CHECK(pm_count_plain_get(&c) == PM_COUNT_SATURATED);
    for (int i = 0; i < 1000; i++) {
        CHECK(!pm_count_plain_dec(&c));
    }
    CHECK(pm_count_plain_get(&c) == PM_COUNT_SATURATED);
    CHECK(pm_count_plain_try_inc(&c) == PM_EOVERFLOW);
}

/* A drop at each edge of the count's range: 2..PM_COUNT_MAX go down by one, 1 is
 * the last owner (the count is left for the destroy), a sticky count is never
 * written, whichever sticky value it holds. */
static void test_count_plain_drop_edges(void) {
    static const struct {
        uint32_t before;
        bool last;
        uint32_t after;
    } cases[] = {
        {1u, true, 1u},
        {2u, false, 1u},
        {3u, false, 2u},
        {PM_COUNT_MAX - 1u, false, PM_COUNT_MAX - 2u},
        {PM_COUNT_MAX, false, PM_COUNT_MAX - 1u},
        {PM_COUNT_MAX + 1u, false, PM_COUNT_MAX + 1u},
        {PM_COUNT_STICKY, false, PM_COUNT_STICKY},
        {UINT32_MAX, false, UINT32_MAX},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        pm_count_plain c;
        pm_count_plain_set_for_test(&c, cases[i].before);
        CHECK(pm_count_plain_dec(&c) == cases[i].last);
        CHECK(c.n == cases[i].after);
    }
}

static void test_count_atomic(void) {
    pm_count_atomic c;
    pm_count_atomic_init(&c);
    CHECK(pm_count_atomic_get(&c) == 1 && pm_count_atomic_is_unique(&c));
    pm_count_atomic_inc(&c);
    CHECK(pm_count_atomic_get(&c) == 2 && !pm_count_atomic_is_unique(&c));
    CHECK(!pm_count_atomic_dec(&c));
    CHECK(pm_count_atomic_dec(&c));

    pm_count_atomic_set_for_test(&c, PM_COUNT_MAX - 1);
    CHECK(pm_count_atomic_try_inc(&c) == PM_OK);
    CHECK(pm_count_atomic_try_inc(&c) == PM_EOVERFLOW);
    CHECK(pm_count_atomic_get(&c) == PM_COUNT_MAX);
    pm_count_atomic_inc(&c);
    CHECK(pm_count_atomic_get(&c) == PM_COUNT_SATURATED);
    for (int i = 0; i < 1000; i++) {
        CHECK(!pm_count_atomic_dec(&c));
    }
    CHECK(pm_count_atomic_get(&c) == PM_COUNT_SATURATED);
    CHECK(pm_count_atomic_try_inc(&c) == PM_EOVERFLOW);
}

/* Owners on several threads write their own slot, then drop; the last owner
 * (whichever thread) must see every slot written (release/acquire on dec). */
enum { SHARED_OWNERS = 4 };

typedef struct shared_box {
    pm_count_atomic count;
    int slot[SHARED_OWNERS];
    _Atomic int destroyed;
} shared_box;

typedef struct owner_arg {
    shared_box *box;
    int index;
    pthread_t tid;
} owner_arg;

static void shared_box_drop(shared_box *b) {
    if (pm_count_atomic_dec(&b->count)) {
        for (int i = 0; i < SHARED_OWNERS; i++) {
            CHECK(b->slot[i] == i + 1);
        }
        atomic_fetch_add(&b->destroyed, 1);
    }
}

static void *owner_main(void *p) {
    owner_arg *o = p;
    o->box->slot[o->index] = o->index + 1;
    shared_box_drop(o->box);
    return NULL;
}

static void test_count_atomic_threads(void) {
    for (int round = 0; round < 200; round++) {
        shared_box b = {.slot = {0}};
        pm_count_atomic_init(&b.count); /* main's own reference */
        owner_arg o[SHARED_OWNERS];
        for (int i = 0; i < SHARED_OWNERS; i++) {
            pm_count_atomic_inc(&b.count);
            o[i].box = &b;
            o[i].index = i;
        }
        for (int i = 0; i < SHARED_OWNERS; i++) {
            CHECK(pthread_create(&o[i].tid, NULL, owner_main, &o[i]) == 0);
        }
        /* Main writes nothing to the slots; it just drops its own owner. */
        int early = round % 2; /* drop first or last */
        if (early) {
            shared_box_drop(&b);
        }
        for (int i = 0; i < SHARED_OWNERS; i++) {
            CHECK(pthread_join(o[i].tid, NULL) == 0);
        }
        if (!early) {
            CHECK(pm_count_atomic_is_unique(&b.count));
            shared_box_drop(&b);
        }
        CHECK(atomic_load(&b.destroyed) == 1);
    }
}

static void test_borrow_cell(void) {
    pm_cell_borrow c;
    pm_cell_borrow_init(&c);
    CHECK(pm_cell_borrow_try_read(&c) == PM_OK);
    CHECK(pm_cell_borrow_try_read(&c) == PM_OK);
    CHECK(pm_cell_borrow_try_write(&c) == PM_EBORROWED);
    pm_cell_borrow_release_read(&c);
    pm_cell_borrow_release_read(&c);
    CHECK(pm_cell_borrow_try_write(&c) == PM_OK);
    CHECK(pm_cell_borrow_try_read(&c) == PM_EBORROWED);
    CHECK(pm_cell_borrow_try_write(&c) == PM_EBORROWED);
    pm_cell_borrow_release_read(&c); /* tolerated: not a read borrow */
    CHECK(pm_cell_borrow_try_read(&c) == PM_EBORROWED);
    pm_cell_borrow_release_write(&c);
    CHECK(c.state == 0);

    pm_cell_borrow_set_for_test(&c, PM_BORROW_MAX_READERS - 1);
    CHECK(pm_cell_borrow_try_read(&c) == PM_OK);
    CHECK(pm_cell_borrow_try_read(&c) == PM_EOVERFLOW);
    CHECK(c.state == PM_BORROW_MAX_READERS);
}

/* Every state a release meets, and what it answers: the common ones end the
 * borrow and return false; an orphaned cell's last release returns true (its
 * caller destroys the box); a release that matches no borrow changes nothing. */
static void test_borrow_cell_releases(void) {
    pm_cell_borrow c;
    pm_cell_borrow_init(&c);
    CHECK(!pm_cell_borrow_release_read(&c) && c.state == 0);  /* free */
    CHECK(!pm_cell_borrow_release_write(&c) && c.state == 0); /* free */
    CHECK(pm_cell_borrow_try_read(&c) == PM_OK && c.state == 1);
    CHECK(!pm_cell_borrow_release_write(&c) && c.state == 1); /* read, not written */
    CHECK(!pm_cell_borrow_release_read(&c) && c.state == 0);

    pm_cell_borrow_set_for_test(&c, PM_BORROW_MAX_READERS);
    CHECK(!pm_cell_borrow_release_read(&c) && c.state == PM_BORROW_MAX_READERS - 1u);
    CHECK(!pm_cell_borrow_release_write(&c) && c.state == PM_BORROW_MAX_READERS - 1u);

    /* Orphaned during two reads: the first release leaves one, the second ends it. */
    pm_cell_borrow_init(&c);
    CHECK(pm_cell_borrow_try_read(&c) == PM_OK && pm_cell_borrow_try_read(&c) == PM_OK);
    CHECK(pm_cell_borrow_orphan(&c) && c.state == PM_BORROW_ORPHANED + 2u);
    CHECK(pm_cell_borrow_in_use(&c));
    CHECK(!pm_cell_borrow_release_write(&c) && c.state == PM_BORROW_ORPHANED + 2u);
    CHECK(!pm_cell_borrow_release_read(&c) && c.state == PM_BORROW_ORPHANED + 1u);
    CHECK(pm_cell_borrow_release_read(&c) && c.state == PM_BORROW_ORPHANED);
    CHECK(!pm_cell_borrow_in_use(&c));

    /* Orphaned during the write: its release ends it; a read release matches nothing. */
    pm_cell_borrow_init_write(&c);
    CHECK(pm_cell_borrow_orphan(&c) && c.state == PM_BORROW_ORPHANED_WRITING);
    CHECK(!pm_cell_borrow_release_read(&c) && c.state == PM_BORROW_ORPHANED_WRITING);
    CHECK(pm_cell_borrow_try_read(&c) == PM_EBORROWED);
    CHECK(pm_cell_borrow_release_write(&c) && c.state == PM_BORROW_ORPHANED);
}

/* The releases change the state first and put back a state that was no such
 * borrow (pm_cell_borrow.h). Against their specification, from every state at
 * the encoding's edges and a stride through all 2^32: a read release on free
 * or written leaves it and answers false, elsewhere decrements and answers
 * whether that left PM_BORROW_ORPHANED; a write release ends PM_BORROW_WRITING
 * (false) or PM_BORROW_ORPHANED_WRITING (true), and leaves anything else. */
static void check_borrow_releases_from(uint32_t before) {
    pm_cell_borrow c;
    pm_cell_borrow_init(&c);
    bool read_ends = before != 0u && before < PM_BORROW_ORPHANED_WRITING;
    uint32_t read_after = read_ends ? before - 1u : before;
#ifdef PM_DEBUG
    uint64_t mismatches = pm_debug_release_mismatches();
#endif
    pm_cell_borrow_set_for_test(&c, before);
    bool destroy = pm_cell_borrow_release_read(&c);
    CHECK(c.state == read_after);
    CHECK(destroy == (read_ends && read_after == PM_BORROW_ORPHANED));
#ifdef PM_DEBUG
    CHECK(pm_debug_release_mismatches() == mismatches + !read_ends); /* reported once */
#endif

    uint32_t write_after = before == PM_BORROW_WRITING            ? 0u
                           : before == PM_BORROW_ORPHANED_WRITING ? PM_BORROW_ORPHANED
                                                                  : before;
    pm_cell_borrow_set_for_test(&c, before);
    destroy = pm_cell_borrow_release_write(&c);
    CHECK(c.state == write_after);
    CHECK(destroy == (before == PM_BORROW_ORPHANED_WRITING));
#ifdef PM_DEBUG
    CHECK(pm_debug_release_mismatches() ==
          mismatches + !read_ends + (write_after == before));
#endif
}

static void test_borrow_cell_releases_every_state(void) {
    const uint32_t edges[] = {0u, PM_BORROW_MAX_READERS, PM_BORROW_ORPHANED,
                              PM_BORROW_ORPHANED_WRITING, PM_BORROW_WRITING};
    for (size_t i = 0; i < sizeof edges / sizeof edges[0]; i++) {
        for (uint32_t d = 0; d < 8u; d++) {
            check_borrow_releases_from(edges[i] + d - 4u); /* wraps around 0 and the top */
        }
    }
    for (uint64_t s = 0; s <= UINT32_MAX; s += 1048573u) { /* a prime stride: 4,097 states */
        check_borrow_releases_from((uint32_t)s);
    }
}

/* downgrade: the exclusive borrow becomes one shared borrow, orphaned or not;
 * not write-borrowed: PM_EINVAL, the cell unchanged. */
static void test_borrow_cell_downgrade(void) {
    pm_cell_borrow c;
    pm_cell_borrow_init(&c);
    CHECK(pm_cell_borrow_try_write(&c) == PM_OK);
    CHECK(pm_cell_borrow_downgrade(&c) == PM_OK);
    CHECK(c.state == 1);
    CHECK(pm_cell_borrow_try_read(&c) == PM_OK); /* a second reader shares it */
    CHECK(pm_cell_borrow_try_write(&c) == PM_EBORROWED);
    CHECK(pm_cell_borrow_downgrade(&c) == PM_EINVAL && c.state == 2);
    pm_cell_borrow_release_read(&c);
    CHECK(!pm_cell_borrow_release_read(&c) && c.state == 0);
    CHECK(pm_cell_borrow_downgrade(&c) == PM_EINVAL && c.state == 0);

    /* Orphaned during the write borrow: still orphaned, and the last release says so. */
    pm_cell_borrow_init_write(&c);
    CHECK(pm_cell_borrow_orphan(&c));
    CHECK(pm_cell_borrow_downgrade(&c) == PM_OK);
    CHECK(c.state == PM_BORROW_ORPHANED + 1u);
    CHECK(pm_cell_borrow_release_read(&c)); /* ended the last borrow: destroy */
    CHECK(c.state == PM_BORROW_ORPHANED);
    CHECK(pm_cell_borrow_downgrade(&c) == PM_EINVAL && c.state == PM_BORROW_ORPHANED);
}

/* ------------------------------------------------------------------------ */
/* rwlock                                                                    */
/* ------------------------------------------------------------------------ */

/* The fast paths' one-mask predicates say what the named predicates they stand
 * for say, in every state: each flag combination with counts at the edges
 * (none, one, two, the limit and below it, unsettled, wrapped). */
static void test_rwlock_fast_path_predicates(void) {
    const uint32_t counts[] = {0u, PM_RW_READ_LOCKED, 2u * PM_RW_READ_LOCKED,
                               PM_RW_MAX_READERS - PM_RW_READ_LOCKED, PM_RW_MAX_READERS,
                               PM_RW_MAX_READERS + PM_RW_READ_LOCKED, PM_RW_MASK};
    for (size_t i = 0; i < sizeof counts / sizeof counts[0]; i++) {
        for (uint32_t flags = 0; flags < PM_RW_READ_LOCKED; flags++) {
            uint32_t s = counts[i] | flags;
            CHECK(pm__rw_is_read_lockable(s) ==
                  (pm__rw_has_reader_room(s) && !pm__rw_anyone_waiting(s) &&
                   !pm__rw_writer_polled(s)));
            CHECK(pm__rw_is_read_locked_quietly(s) ==
                  (pm__rw_is_read_locked(s) && !pm__rw_anyone_waiting(s) &&
                   !pm__rw_is_orphaned(s)));
        }
    }
    /* A poll bit is no reason to wake anyone: the last reader out leaves it. */
    pm_rwlock l;
    pm_rwlock_init(&l);
    CHECK(pm_rwlock_try_read(&l) == PM_OK);
    CHECK(pm_rwlock_try_write(&l) == PM_EBUSY);
    CHECK(atomic_load(&l.state) == (PM_RW_READ_LOCKED | PM_RW_WRITER_POLLED));
    CHECK(!pm_rwlock_release_read(&l));
    CHECK(atomic_load(&l.state) == PM_RW_WRITER_POLLED);
}

static void test_rwlock_try(void) {
    pm_rwlock l;
    pm_rwlock_init(&l);
    CHECK(pm_rwlock_try_read(&l) == PM_OK);
    CHECK(pm_rwlock_try_read(&l) == PM_OK);
    CHECK(pm_rwlock_try_write(&l) == PM_EBUSY);
    pm_rwlock_release_read(&l);
    pm_rwlock_release_read(&l);
    CHECK(pm_rwlock_try_write(&l) == PM_OK);
    CHECK(pm_rwlock_try_read(&l) == PM_EBUSY);
    CHECK(pm_rwlock_try_write(&l) == PM_EBUSY);
    pm_rwlock_release_write(&l);
    CHECK(state_of(&l) == 0);

    pm_rwlock_set_for_test(&l, PM_RW_MAX_READERS - PM_RW_READ_LOCKED);
    CHECK(pm_rwlock_try_read(&l) == PM_OK);
    CHECK(pm_rwlock_try_read(&l) == PM_EOVERFLOW);
    CHECK(pm_rwlock_read_wait(&l, 0) == PM_EOVERFLOW);
    CHECK(pm_rwlock_read_wait(&l, PM_FOREVER) == PM_EOVERFLOW); /* never sleeps */
    CHECK(state_of(&l) == PM_RW_MAX_READERS);
    pm_rwlock_release_read(&l);
    pm_rwlock_set_for_test(&l, 0);
}

/* try_write_unique (the box's only owner): from every state it answers and leaves
 * what try_write does; from the free state it takes the lock by a store. */
static void test_rwlock_try_write_unique_states(void) {
    static const uint32_t states[] = {
        0u,
        PM_RW_READ_LOCKED,
        2u * PM_RW_READ_LOCKED,
        PM_RW_WRITE_LOCKED,
        PM_RW_READERS_WAITING, /* left by waiters that timed out and dropped their owners */
        PM_RW_WRITERS_WAITING,
        PM_RW_READERS_WAITING | PM_RW_WRITERS_WAITING,
        PM_RW_WRITER_POLLED,
        PM_RW_READ_LOCKED | PM_RW_WRITER_POLLED,
        PM_RW_READ_LOCKED | PM_RW_ORPHANED, /* a scope's borrow after its owner's drop */
        PM_RW_WRITE_LOCKED | PM_RW_ORPHANED,
    };
    for (size_t i = 0; i < sizeof states / sizeof states[0]; i++) {
        pm_rwlock unique, shared;
        pm_rwlock_init(&unique);
        pm_rwlock_init(&shared);
        pm_rwlock_set_for_test(&unique, states[i]);
        pm_rwlock_set_for_test(&shared, states[i]);
        pm_status expected = pm_rwlock_try_write(&shared);
        CHECK(pm_rwlock_try_write_unique(&unique) == expected);
        CHECK(state_of(&unique) == state_of(&shared));
        if (expected == PM_OK) {
            CHECK(pm__rw_is_write_locked(state_of(&unique)));
            CHECK(!pm_rwlock_release_write(&unique));
            CHECK(!pm_rwlock_release_write(&shared));
            CHECK(state_of(&unique) == state_of(&shared));
        }
        pm_rwlock_set_for_test(&unique, 0);
        pm_rwlock_set_for_test(&shared, 0);
        pm_rwlock_forget(&unique);
        pm_rwlock_forget(&shared);
    }
    CHECK(states[0] == 0u);
}

/* A borrow whose owner was dropped inside its scope, on another thread: the only
 * owner's try_write_unique is refused until that borrow ends, and then sees the
 * borrower's writes (its acquire pairs with the release: TSan checks it). */
typedef struct scope_borrower {
    pm_rwlock *lock;
    int *value;
    _Atomic int held;
} scope_borrower;

static void *end_scope_later(void *arg) {
    scope_borrower *b = arg;
    CHECK(pm_rwlock_try_write(b->lock) == PM_OK); /* the scope's borrow */
    atomic_store(&b->held, 1);
    sleep_ns(2 * MS);
    *b->value = 42; /* written under the borrow */
    (void)pm_rwlock_release_write(b->lock);
    return NULL;
}

static void test_rwlock_try_write_unique_waits_out_an_orphan_scope(void) {
    pm_rwlock l;
    pm_rwlock_init(&l);
    int value = 0;
    scope_borrower b = {&l, &value, 0};
    pthread_t t;
    CHECK(pthread_create(&t, NULL, end_scope_later, &b) == 0);
    while (atomic_load(&b.held) == 0) {
        sched_yield();
    }
    pm_status st;
    int refused = 0;
    while ((st = pm_rwlock_try_write_unique(&l)) == PM_EBUSY) {
        refused++;
        sched_yield();
    }
    CHECK(st == PM_OK);
    CHECK(value == 42);
    CHECK(state_of(&l) == PM_RW_WRITE_LOCKED);
    CHECK(!pm_rwlock_release_write(&l));
    CHECK(state_of(&l) == 0);
    CHECK(pthread_join(t, NULL) == 0);
    CHECK(refused > 0);
    pm_rwlock_forget(&l);
}

/* downgrade, state by state: write-locked -> one reader, in one step, the flags
 * kept but READERS_WAITING when no writer waits (those readers are woken). */
static void test_rwlock_downgrade_states(void) {
    const uint32_t WL = PM_RW_WRITE_LOCKED, R1 = PM_RW_READ_LOCKED;
    const uint32_t RW = PM_RW_READERS_WAITING, WW = PM_RW_WRITERS_WAITING;
    const uint32_t OR = PM_RW_ORPHANED;
    const struct {
        uint32_t before, after;
    } cases[] = {
        {WL, R1},
        {WL | WW, R1 | WW},           /* a waiting writer keeps its priority */
        {WL | RW, R1},                /* only readers wait: they are let in */
        {WL | RW | WW, R1 | RW | WW}, /* readers wait behind the writer */
        {WL | OR, R1 | OR},
        {WL | OR | RW | WW, R1 | OR | RW | WW},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        pm_rwlock l;
        pm_rwlock_init(&l);
        CHECK(pm_rwlock_try_write(&l) == PM_OK);
        pm_rwlock_set_for_test(&l, cases[i].before);
        CHECK(pm_rwlock_downgrade(&l) == PM_OK);
        CHECK(state_of(&l) == cases[i].after);
        pm_rwlock_set_for_test(&l, R1); /* the waiters were made up: drop them */
        pm_rwlock_release_read(&l);
        CHECK(state_of(&l) == 0);
    }

    /* The downgraded lock is read-locked: readers share it, writers are refused. */
    pm_rwlock l;
    pm_rwlock_init(&l);
    CHECK(pm_rwlock_try_write(&l) == PM_OK && pm_rwlock_downgrade(&l) == PM_OK);
    CHECK(pm_rwlock_try_read(&l) == PM_OK);
    CHECK(pm_rwlock_try_write(&l) == PM_EBUSY);
    pm_rwlock_release_read(&l);
    pm_rwlock_release_read(&l);
    CHECK(state_of(&l) == PM_RW_WRITER_POLLED); /* the refused try_write's poll bit */
    CHECK(pm_rwlock_try_write(&l) == PM_OK);
    pm_rwlock_release_write(&l);
    CHECK(state_of(&l) == 0);

    /* Not write-locked: PM_EINVAL, the state as it was. */
    const uint32_t not_write_locked[] = {0, R1, 2 * R1 | WW, R1 | PM_RW_WRITER_POLLED, RW, OR};
    for (size_t i = 0; i < sizeof not_write_locked / sizeof not_write_locked[0]; i++) {
        pm_rwlock_set_for_test(&l, not_write_locked[i]);
        CHECK(pm_rwlock_downgrade(&l) == PM_EINVAL);
        CHECK(state_of(&l) == not_write_locked[i]);
    }
    pm_rwlock_set_for_test(&l, 0);

    /* An orphaned lock: the release that ends the downgraded read says so. */
    CHECK(pm_rwlock_try_write(&l) == PM_OK && pm_rwlock_orphan(&l));
    CHECK(pm_rwlock_downgrade(&l) == PM_OK);
    CHECK(pm_rwlock_release_read(&l));
    CHECK(state_of(&l) == OR);
}

/* Another thread holds the lock (here: main); a waiter must time out on time. */
static void expect_timeout(pm_rwlock *l, bool write, uint64_t timeout) {
    waiter w;
    start(&w, l, write, timeout);
    join(&w);
    CHECK(w.status == PM_ETIMEDOUT);
    CHECK(w.elapsed >= timeout);
    CHECK(w.elapsed < timeout + 200 * MS);
    printf("  %s_wait(%llu ms): overshoot %.3f ms\n", write ? "write" : "read",
           (unsigned long long)(timeout / MS), (double)(w.elapsed - timeout) / 1e6);
}

static void test_rwlock_timeouts(void) {
    pm_rwlock l;
    pm_rwlock_init(&l);
    CHECK(pm_rwlock_try_write(&l) == PM_OK);
    expect_timeout(&l, true, 100 * MS);
    expect_timeout(&l, false, 100 * MS);
    expect_timeout(&l, true, 0);
    expect_timeout(&l, false, 0);
    pm_rwlock_release_write(&l);
    CHECK(state_of(&l) == 0); /* the unlock cleared the stale waiting flag */

    CHECK(pm_rwlock_try_read(&l) == PM_OK);
    expect_timeout(&l, true, 50 * MS);
    expect_timeout(&l, true, 0);
    CHECK(state_of(&l) == PM_RW_READ_LOCKED); /* the timed-out writer cleaned up */
    pm_rwlock_release_read(&l);
    CHECK(state_of(&l) == 0);
}

/* A writer that waits behind readers keeps new readers out from the start of
 * its wait, not only once it sleeps: its spin marks the lock polled. It gets
 * in when the readers it found leave; timed out, it leaves the lock as it was. */
static void test_rwlock_waiting_writer_keeps_new_readers_out(void) {
    pm_rwlock l;
    pm_rwlock_init(&l);
    CHECK(pm_rwlock_try_read(&l) == PM_OK);
    waiter w;
    start(&w, &l, true, 100 * MS);
    CHECK(wait_for_bits(&l, PM_RW_WRITER_POLLED)); /* nobody called try_write: its spin did */
    CHECK(pm_rwlock_try_read(&l) == PM_EBUSY);     /* no new reader ahead of the writer */
    join(&w);
    CHECK(w.status == PM_ETIMEDOUT);
    CHECK(state_of(&l) == PM_RW_READ_LOCKED); /* its poll bit and waiting bit cleared */
    CHECK(pm_rwlock_try_read(&l) == PM_OK);   /* so readers enter again */
    pm_rwlock_release_read(&l);

    _Atomic int released = 0;
    start_after(&w, &l, true, PM_FOREVER, &released);
    CHECK(wait_for_bits(&l, PM_RW_WRITER_POLLED));
    atomic_store(&released, 1);
    pm_rwlock_release_read(&l); /* the reader it found leaves: the writer gets in */
    join(&w);
    CHECK(w.status == PM_OK && w.saw_release);
    CHECK(state_of(&l) == 0); /* taking the lock answered the poll bit */
}

/* A release_read that matches no read lock: its fetch_sub wraps the reader
 * count (unsettled), which no acquire accepts, and its undo settles it and
 * does what a last reader out would. Staged here with the test hook, one
 * step at a time. */
static const uint32_t WRAPPED = 0u - PM_RW_READ_LOCKED; /* a count of 0, decremented */

static void *undo_later(void *arg) {
    sleep_ns(20 * MS);
    (void)pm__rwlock_release_read_unmatched(arg);
    return NULL;
}

static void test_rwlock_unmatched_release_read(void) {
    CHECK(!pm__rw_is_settled(WRAPPED) && !pm__rw_is_unlocked(WRAPPED));
    CHECK(!pm__rw_is_read_locked(WRAPPED) && !pm__rw_has_reader_room(WRAPPED));
    CHECK(!pm__rw_readers_at_max(WRAPPED)); /* not PM_EOVERFLOW: it is over at once */
    CHECK((WRAPPED & ~PM_RW_MASK) == 0);    /* the flag bits are left as they were */
    pm_rwlock l;
    pm_rwlock_init(&l);

    /* On a free lock: nobody gets in meanwhile, and the undo leaves it free. */
    pm_rwlock_set_for_test(&l, WRAPPED);
    CHECK(pm_rwlock_try_read(&l) == PM_EBUSY && pm_rwlock_try_write(&l) == PM_EBUSY);
    CHECK(pm_rwlock_read_wait(&l, 0) == PM_ETIMEDOUT);
    CHECK(pm_rwlock_write_wait(&l, 0) == PM_ETIMEDOUT);
    CHECK(state_of(&l) == WRAPPED);
    CHECK(!pm__rwlock_release_read_unmatched(&l));
    CHECK(state_of(&l) == 0);

    /* On a write-locked lock: the holder's release still works; the undo then
     * finds the lock free. */
    CHECK(pm_rwlock_try_write(&l) == PM_OK);
    pm_rwlock_set_for_test(&l, PM_RW_WRITE_LOCKED | WRAPPED);
    CHECK(!pm_rwlock_release_write(&l));
    CHECK(state_of(&l) == WRAPPED);
    CHECK(!pm__rwlock_release_read_unmatched(&l));
    CHECK(state_of(&l) == 0);

    /* The box's last owner leaves meanwhile: it sees the lock held, so the
     * undo, which unlocks it, reports the destroy. */
    pm_rwlock_set_for_test(&l, WRAPPED);
    CHECK(pm_rwlock_orphan(&l));
    CHECK(pm__rwlock_release_read_unmatched(&l));
    CHECK(state_of(&l) == PM_RW_ORPHANED);
    pm_rwlock_set_for_test(&l, 0);

    /* A reader and a writer that went to sleep meanwhile: the undo wakes them. */
    pm_rwlock_set_for_test(&l, WRAPPED);
    waiter r, w;
    start(&r, &l, false, PM_FOREVER);
    CHECK(wait_for_bits(&l, PM_RW_READERS_WAITING));
    start(&w, &l, true, PM_FOREVER);
    CHECK(wait_for_bits(&l, PM_RW_WRITERS_WAITING));
    CHECK(!pm__rwlock_release_read_unmatched(&l));
    join(&r);
    join(&w);
    CHECK(r.status == PM_OK && w.status == PM_OK);
    CHECK(state_of(&l) == 0);

    /* A downgrade waits for the undo: from the wrapped count its one reader
     * would carry the count to 0, and the lock would look free to a writer. */
    CHECK(pm_rwlock_try_write(&l) == PM_OK);
    pm_rwlock_set_for_test(&l, PM_RW_WRITE_LOCKED | WRAPPED);
    pthread_t undoer;
    CHECK(pthread_create(&undoer, NULL, undo_later, &l) == 0);
    uint64_t t0 = pm_monotonic_ns();
    CHECK(pm_rwlock_downgrade(&l) == PM_OK);
    CHECK(pm_monotonic_ns() - t0 >= 10 * MS); /* it waited for the undo */
    CHECK(pthread_join(undoer, NULL) == 0);
    CHECK(state_of(&l) == PM_RW_READ_LOCKED);
    CHECK(pm_rwlock_try_write(&l) == PM_EBUSY);
    pm_rwlock_release_read(&l);
    CHECK(state_of(&l) == PM_RW_WRITER_POLLED); /* the refused try's poll bit */
    pm_rwlock_set_for_test(&l, 0);
}

static void test_rwlock_wakeups(void) {
    pm_rwlock l;
    pm_rwlock_init(&l);

    /* A writer blocked behind two read holds gets the lock when they end. */
    _Atomic int released = 0;
    CHECK(pm_rwlock_try_read(&l) == PM_OK);
    CHECK(pm_rwlock_try_read(&l) == PM_OK);
    waiter w;
    start_after(&w, &l, true, PM_FOREVER, &released);
    CHECK(wait_for_bits(&l, PM_RW_WRITERS_WAITING));
    pm_rwlock_release_read(&l);
    atomic_store(&released, 1);
    pm_rwlock_release_read(&l);
    join(&w);
    CHECK(w.status == PM_OK && w.saw_release);
    CHECK(state_of(&l) == 0);

    /* Blocked readers all wake when the writer releases. */
    waiter r[3];
    CHECK(pm_rwlock_try_write(&l) == PM_OK);
    for (int i = 0; i < 3; i++) {
        start(&r[i], &l, false, PM_FOREVER);
    }
    CHECK(wait_for_bits(&l, PM_RW_READERS_WAITING));
    sleep_ns(20 * MS); /* let them all reach the futex */
    pm_rwlock_release_write(&l);
    for (int i = 0; i < 3; i++) {
        join(&r[i]);
        CHECK(r[i].status == PM_OK);
    }
    CHECK(state_of(&l) == 0);
}

static void test_rwlock_writer_preference(void) {
    pm_rwlock l;
    pm_rwlock_init(&l);
    _Atomic int released = 0;
    CHECK(pm_rwlock_try_read(&l) == PM_OK);
    waiter w;
    start_after(&w, &l, true, PM_FOREVER, &released);
    CHECK(wait_for_bits(&l, PM_RW_WRITERS_WAITING));
    CHECK(pm_rwlock_try_read(&l) == PM_EBUSY); /* the waiting writer goes first */
    atomic_store(&released, 1);
    pm_rwlock_release_read(&l);
    join(&w);
    CHECK(w.status == PM_OK && w.saw_release);
    CHECK(state_of(&l) == 0);
}

/* downgrade under threads: readers asleep behind the write lock share the
 * downgraded read when no writer waits; with a writer waiting they sleep on,
 * and the writer gets the lock first, once the downgraded read ends. */
static void test_rwlock_downgrade_wakeups(void) {
    pm_rwlock l;
    pm_rwlock_init(&l);
    waiter r[3];
    CHECK(pm_rwlock_try_write(&l) == PM_OK);
    for (int i = 0; i < 3; i++) {
        start(&r[i], &l, false, PM_FOREVER);
    }
    CHECK(wait_for_bits(&l, PM_RW_READERS_WAITING));
    CHECK(pm_rwlock_downgrade(&l) == PM_OK);
    for (int i = 0; i < 3; i++) { /* in while main still reads */
        CHECK(wait_for_flag(&r[i].acquired, 5000 * MS));
    }
    pm_rwlock_release_read(&l);
    for (int i = 0; i < 3; i++) {
        join(&r[i]);
        CHECK(r[i].status == PM_OK);
    }
    CHECK(state_of(&l) == 0);

    _Atomic int released = 0;
    waiter w, r2;
    CHECK(pm_rwlock_try_write(&l) == PM_OK);
    start_after(&w, &l, true, PM_FOREVER, &released);
    CHECK(wait_for_bits(&l, PM_RW_WRITERS_WAITING));
    start_after(&r2, &l, false, PM_FOREVER, &released);
    CHECK(wait_for_bits(&l, PM_RW_READERS_WAITING));
    CHECK(pm_rwlock_downgrade(&l) == PM_OK);
    CHECK(state_of(&l) == (PM_RW_READ_LOCKED | PM_RW_READERS_WAITING | PM_RW_WRITERS_WAITING));
    CHECK(!wait_for_flag(&r2.acquired, 20 * MS)); /* the reader still waits */
    CHECK(!atomic_load(&w.acquired));
    atomic_store(&released, 1);
    pm_rwlock_release_read(&l);
    join(&w);
    join(&r2);
    CHECK(w.status == PM_OK && w.saw_release);
    CHECK(r2.status == PM_OK && r2.saw_release);
    CHECK(state_of(&l) == 0);
}

static void test_rwlock_writer_timeout_leaves_lock_usable(void) {
    pm_rwlock l;
    pm_rwlock_init(&l);
    CHECK(pm_rwlock_try_read(&l) == PM_OK); /* R1 (main) */
    waiter w1, r2;
    start(&w1, &l, true, 50 * MS);
    CHECK(wait_for_bits(&l, PM_RW_WRITERS_WAITING));
    start(&r2, &l, false, PM_FOREVER); /* blocked behind W1 */
    CHECK(wait_for_bits(&l, PM_RW_READERS_WAITING));
    join(&w1);
    CHECK(w1.status == PM_ETIMEDOUT);
    /* R1 still holds: R2 must get in now, not when R1 leaves. */
    CHECK(wait_for_flag(&r2.acquired, 1000 * MS));
    pm_rwlock_release_read(&l);
    join(&r2);
    CHECK(r2.status == PM_OK);
    CHECK(pm_rwlock_try_write(&l) == PM_OK);
    pm_rwlock_release_write(&l);
    CHECK(state_of(&l) == 0);
}

/* Exact invariant under contention: a and b change together under the write
 * lock; readers must never see them torn, and a never goes backwards. Some
 * writers downgrade to a read: a writer getting in then would change a. */
enum { STRESS_THREADS = 4, STRESS_ITERS = 20000 };
#ifndef STRESS_WORK
#define STRESS_WORK 100
#endif
#ifndef STRESS_TIMEOUT
#define STRESS_TIMEOUT 5000
#endif

typedef struct stress_shared {
    pm_rwlock lock;
    uint64_t a, b; /* plain, guarded by lock */
} stress_shared;

typedef struct stress_arg {
    stress_shared *sh;
    uint64_t writes, timeouts;
    pthread_t tid;
} stress_arg;

static void *stress_main(void *p) {
    stress_arg *arg = p;
    stress_shared *sh = arg->sh;
    uint64_t last = 0;
    for (int i = 0; i < STRESS_ITERS; i++) {
        int kind = i % 8;
        bool write = kind < 3;
        uint64_t timeout = (kind == 2 || kind == 3) ? STRESS_TIMEOUT : PM_FOREVER;
        pm_status st = write ? pm_rwlock_write_wait(&sh->lock, timeout)
                             : pm_rwlock_read_wait(&sh->lock, timeout);
        CHECK(st == PM_OK || (st == PM_ETIMEDOUT && timeout != PM_FOREVER));
        if (st != PM_OK) {
            arg->timeouts++;
            continue;
        }
        for (volatile int k = 0; k < STRESS_WORK; k++) {
            /* hold the lock a little while, so that others must wait */
        }
        if (write && kind == 1) {
            /* Downgraded: readers may join, no writer gets in before our release. */
            uint64_t mine = ++sh->a;
            sh->b = ~mine;
            arg->writes++;
            CHECK(pm_rwlock_downgrade(&sh->lock) == PM_OK);
            for (volatile int k = 0; k < STRESS_WORK; k++) {
            }
            CHECK(sh->a == mine && sh->b == ~mine);
            last = mine;
            pm_rwlock_release_read(&sh->lock);
        } else if (write) {
            sh->a++;
            sh->b = ~sh->a;
            arg->writes++;
            pm_rwlock_release_write(&sh->lock);
        } else {
            uint64_t a = sh->a, b = sh->b;
            CHECK(b == ~a);
            CHECK(a >= last);
            last = a;
            pm_rwlock_release_read(&sh->lock);
        }
    }
    return NULL;
}

static void test_rwlock_stress(void) {
    static stress_shared sh;
    pm_rwlock_init(&sh.lock);
    sh.a = 0;
    sh.b = ~0ull;
    stress_arg args[STRESS_THREADS];
    for (int i = 0; i < STRESS_THREADS; i++) {
        args[i].sh = &sh;
        args[i].writes = 0;
        args[i].timeouts = 0;
        CHECK(pthread_create(&args[i].tid, NULL, stress_main, &args[i]) == 0);
    }
    uint64_t writes = 0, timeouts = 0;
    for (int i = 0; i < STRESS_THREADS; i++) {
        CHECK(pthread_join(args[i].tid, NULL) == 0);
        writes += args[i].writes;
        timeouts += args[i].timeouts;
    }
    CHECK(sh.a == writes && sh.b == ~writes);
    CHECK(state_of(&sh.lock) == 0);
    printf("  stress: %llu writes, %llu timeouts\n", (unsigned long long)writes,
           (unsigned long long)timeouts);
}

#ifdef PM_DEBUG
/* Holds `lock` for write in another thread until main says stop. */
typedef struct holder {
    pm_rwlock *lock;
    _Atomic int holding, stop;
    pthread_t tid;
} holder;

static void *holder_main(void *p) {
    holder *h = p;
    CHECK(pm_rwlock_write_wait(h->lock, PM_FOREVER) == PM_OK);
    atomic_store(&h->holding, 1);
    wait_for_flag(&h->stop, 10000 * MS);
    pm_rwlock_release_write(h->lock);
    return NULL;
}

static void test_debug_deadlock(void) {
    pm_rwlock l;
    pm_rwlock_init(&l);

    CHECK(pm_rwlock_try_write(&l) == PM_OK);
    CHECK(pm_rwlock_read_wait(&l, PM_FOREVER) == PM_EDEADLK);
    CHECK(pm_rwlock_write_wait(&l, PM_FOREVER) == PM_EDEADLK);
    pm_rwlock_release_write(&l);

    CHECK(pm_rwlock_read_wait(&l, PM_FOREVER) == PM_OK);
    CHECK(pm_rwlock_write_wait(&l, PM_FOREVER) == PM_EDEADLK);
    CHECK(pm_rwlock_read_wait(&l, PM_FOREVER) == PM_OK); /* recursive read, no writer */
    /* With a writer queued behind our read, another read would wait on it. */
    waiter w;
    start(&w, &l, true, PM_FOREVER);
    CHECK(wait_for_bits(&l, PM_RW_WRITERS_WAITING));
    CHECK(pm_rwlock_read_wait(&l, PM_FOREVER) == PM_EDEADLK);
    pm_rwlock_release_read(&l);
    pm_rwlock_release_read(&l);
    join(&w);
    CHECK(w.status == PM_OK);

    /* Downgraded: held for read now, no longer for write. */
    CHECK(pm_rwlock_try_write(&l) == PM_OK && pm_rwlock_downgrade(&l) == PM_OK);
    CHECK(pm_rwlock_write_wait(&l, PM_FOREVER) == PM_EDEADLK);
    CHECK(pm_rwlock_read_wait(&l, PM_FOREVER) == PM_OK); /* recursive read, no writer */
    pm_rwlock_release_read(&l);
    pm_rwlock_release_read(&l);
    CHECK(l.debug_writer == NULL && state_of(&l) == 0);

    /* Held by another thread: an ordinary wait that times out. */
    holder h = {.lock = &l};
    CHECK(pthread_create(&h.tid, NULL, holder_main, &h) == 0);
    CHECK(wait_for_flag(&h.holding, 1000 * MS));
    CHECK(pm_rwlock_read_wait(&l, 30 * MS) == PM_ETIMEDOUT);
    CHECK(pm_rwlock_write_wait(&l, 30 * MS) == PM_ETIMEDOUT);
    atomic_store(&h.stop, 1);
    CHECK(pthread_join(h.tid, NULL) == 0);
    CHECK(state_of(&l) == 0);

    /* Table overflow: untracked locks are simply forgotten, never fatal. */
    static pm_rwlock many[100];
    for (int i = 0; i < 100; i++) {
        pm_rwlock_init(&many[i]);
        CHECK(pm_rwlock_try_read(&many[i]) == PM_OK);
    }
    CHECK(pm_rwlock_write_wait(&many[0], 0) == PM_EDEADLK); /* tracked */
    for (int i = 0; i < 100; i++) {
        pm_rwlock_release_read(&many[i]);
    }
    CHECK(pm_rwlock_write_wait(&many[0], 0) == PM_OK);
    pm_rwlock_release_write(&many[0]);
}
#endif

int main(void) {
    test_status_str();
    test_deadline();
    test_count_plain();
    test_count_plain_drop_edges();
    test_count_atomic();
    test_count_atomic_threads();
    test_borrow_cell();
    test_borrow_cell_releases();
    test_borrow_cell_releases_every_state();
    test_borrow_cell_downgrade();
    test_rwlock_fast_path_predicates();
    test_rwlock_try();
    test_rwlock_try_write_unique_states();
    test_rwlock_try_write_unique_waits_out_an_orphan_scope();
    test_rwlock_downgrade_states();
    test_rwlock_timeouts();
    test_rwlock_waiting_writer_keeps_new_readers_out();
    test_rwlock_unmatched_release_read();
    test_rwlock_wakeups();
    test_rwlock_writer_preference();
    test_rwlock_downgrade_wakeups();
    test_rwlock_writer_timeout_leaves_lock_usable();
    test_rwlock_stress();
#ifdef PM_DEBUG
    test_debug_deadlock();
#endif
    int n = atomic_load(&failures);
    if (n == 0) {
        printf("ok\n");
    } else {
        printf("%d check(s) failed\n", n);
    }
    return n == 0 ? 0 : 1;
}
