/* test_threads.c — the thread-safe policies under real threads, with exact
 * invariants (tests/specs/all_policies.yaml):
 *   ThreadSafe = atomic counter + reader-writer lock
 *   Frozen     = atomic counter, no cell (shared values are only read)
 *
 * (a) concurrent dup/drop of one box: the count ends exactly where it began;
 * (b) _write_shared_wait from many threads: no lost update, and neither
 *     readers nor copies on write ever see a half-written value;
 * (c) FBIP: each thread writing its own dup of a shared box gets its own copy;
 * (d) handles moved between threads through a queue: everything freed;
 * (e) many threads reading and dup/dropping at once;
 * (f) N threads each giving up one of N owners with _unwrap_or_drop: exactly one
 *     gets the value, every round, and nothing leaks;
 * plus the _wait forms against a lock held by another thread, and
 * _downgrade_write with a writer or readers waiting.
 *
 * The behaviours written for both policies are in part 2 at the bottom of the
 * file, which this file includes once per policy. PM_TEST_QUICK (set for
 * valgrind) scales the iteration counts down. A failed CHECK prints
 * "FAIL file:line: expr (in function)"; nothing asserts or aborts.
 */
#ifndef POLICY /* ---- part 1: harness, hooks, ThreadSafe-only tests, main ---- */

#define _POSIX_C_SOURCE 200809L /* pthread barriers, nanosleep */

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "all_policies.h"

#include "check.h"

/* ---- A counting allocator: every box freed exactly once ---- */

#include "counting_alloc.h"

/* ---- Threads ---- */

enum { NTHREADS = 4, BATCH = 64 /* owners each thread holds at once in (a) */ };

static bool quick(void) { return getenv("PM_TEST_QUICK") != NULL; }

#define MS (1000ull * 1000ull) /* nanoseconds (64-bit: 10000 * MS must not wrap) */

static void sleep_ms(long ms) {
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0) {
    }
}

/* Runs fn(arg_i) on n threads released together by a barrier. */
static pthread_barrier_t start_line;

static void run_threads(int n, void *(*fn)(void *), void *args, size_t arg_size) {
    pthread_t threads[16];
    if (!CHECK(n <= 16 && pthread_barrier_init(&start_line, NULL, (unsigned)n) == 0)) {
        return;
    }
    int started = 0;
    for (int i = 0; i < n; i++) {
        void *arg = args == NULL ? NULL : (char *)args + (size_t)i * arg_size;
        if (!CHECK(pthread_create(&threads[i], NULL, fn, arg) == 0)) {
            break;
        }
        started++;
    }
    for (int i = 0; i < started; i++) {
        pthread_join(threads[i], NULL);
    }
    pthread_barrier_destroy(&start_line);
}

static void wait_for_start(void) { pthread_barrier_wait(&start_line); }

/* ---- Names of the per-policy part ---- */

#define CAT_(a, b) a##_##b
#define CAT(a, b) CAT_(a, b)
#define M_(N, P) Managed_##N##_##P
#define MX(N, P) M_(N, P)
#define M(N) MX(N, POLICY)        /* handle type: M(Blob) = Managed_Blob_<POLICY> */
#define V(N) CAT(N, POLICY)       /* value struct of a fields type: Item_<POLICY> */
#define F(name) CAT(name, POLICY) /* per-policy function names */

#define POLICY ThreadSafe
#define HAS_LOCK 1
#include "test_threads.c"
#undef POLICY
#undef HAS_LOCK

#define POLICY Frozen
#define HAS_LOCK 0
#include "test_threads.c"
#undef POLICY
#undef HAS_LOCK

/* ---- (b) _write_shared_wait from many threads: no lost update, no torn read ---- */

static struct {
    Managed_Item_ThreadSafe item;
    long iterations;
    _Atomic int writers_left;
} counter;

typedef struct {
    int index;
} worker_arg;

static void *counter_writer(void *p) {
    const worker_arg *arg = p;
    wait_for_start();
    for (long k = 0; k < counter.iterations; k++) {
        if (arg->index % 2 == 0) {
            Item_ThreadSafe *w = NULL;
            if (!CHECK(all_policies_write_shared_wait(counter.item, &w, PM_FOREVER) == PM_OK)) {
                break;
            }
            /* Writers keep id == value; a reader seeing them differ saw a torn write. */
            w->value++;
            w->id = w->value;
            all_policies_release_write(counter.item);
        } else {
            PM_WRITE_SHARED_SCOPE_WAIT(Managed_Item_ThreadSafe, g, counter.item, PM_FOREVER);
            if (!CHECK(g.status == PM_OK)) {
                break;
            }
            g.value->value++;
            g.value->id = g.value->value;
        }
    }
    counter.writers_left--;
    return NULL;
}

static void *counter_reader(void *p) {
    (void)p;
    wait_for_start();
    int64_t last = 0;
    long reads = 0;
    for (long attempt = 0; counter.writers_left > 0 || reads == 0; attempt++) {
        const Item_ThreadSafe *r = NULL;
        bool blocking = attempt % 2 == 0;
        pm_status status = blocking ? all_policies_read_wait(counter.item, &r, PM_FOREVER)
                                    : all_policies_read(counter.item, &r);
        if (!blocking && status == PM_EBUSY) { /* the non-blocking form met a writer */
            continue;
        }
        if (!CHECK(status == PM_OK)) {
            break;
        }
        CHECK(r->id == r->value);
        CHECK(r->value >= last); /* never goes back */
        last = r->value;
        all_policies_release_read(counter.item);
        reads++;
    }
    return NULL;
}

/* Copies on write while the writers run: a copy is never taken mid-write. */
static void *counter_copier(void *p) {
    (void)p;
    wait_for_start();
    for (long attempt = 0; counter.writers_left > 0; attempt++) {
        Managed_Item_ThreadSafe mine = all_policies_dup(counter.item);
        Item_ThreadSafe *w = NULL;
        bool blocking = attempt % 2 == 0;
        pm_status status = blocking ? all_policies_write_wait(&mine, &w, PM_FOREVER)
                                    : all_policies_write(&mine, &w);
        if (blocking || status != PM_EBUSY) {
            if (CHECK(status == PM_OK)) {
                CHECK(mine.box != counter.item.box); /* shared with main: a copy */
                CHECK(w->id == w->value);
                w->value = -1; /* private: nobody else sees it */
                all_policies_release_write(mine);
            }
        }
        all_policies_drop(&mine);
    }
    return NULL;
}

static void test_no_lost_update(void) {
    enum { WRITERS = NTHREADS, READERS = 2, COPIERS = 1 };
    counter.iterations = quick() ? 2000 : 50000;
    counter.writers_left = WRITERS;
    counter.item.box = NULL;
    CHECK(all_policies_new(&counter.item, ((Item_ThreadSafe){0, 0, {NULL}})) == PM_OK);

    enum { ALL = WRITERS + READERS + COPIERS };
    worker_arg args[ALL];
    for (int i = 0; i < ALL; i++) {
        args[i].index = i;
    }
    pthread_t threads[ALL];
    if (!CHECK(pthread_barrier_init(&start_line, NULL, ALL) == 0)) {
        return;
    }
    int started = 0;
    for (int i = 0; i < ALL; i++) {
        void *(*role)(void *) = i < WRITERS             ? counter_writer
                                : i < WRITERS + READERS ? counter_reader
                                                        : counter_copier;
        if (!CHECK(pthread_create(&threads[i], NULL, role, &args[i]) == 0)) {
            break;
        }
        started++;
    }
    for (int i = 0; i < started; i++) {
        pthread_join(threads[i], NULL);
    }
    pthread_barrier_destroy(&start_line);

    const Item_ThreadSafe *r = NULL;
    if (CHECK(all_policies_read(counter.item, &r) == PM_OK)) {
        CHECK(r->value == (int64_t)WRITERS * counter.iterations); /* exactly: no lost update */
        CHECK(r->id == r->value);
        all_policies_release_read(counter.item);
    }
    CHECK(all_policies_refcount(counter.item) == 1);
    all_policies_drop(&counter.item);
}

/* ---- (d) handles moved between threads through a queue ---- */

enum { QUEUE_SLOTS = 8 };

static struct {
    pthread_mutex_t lock;
    pthread_cond_t not_empty, not_full;
    Managed_Item_ThreadSafe slots[QUEUE_SLOTS];
    int head, count;
    long produced;
    Managed_Blob_ThreadSafe common; /* a tag every other item shares */
    _Atomic long consumed;
} queue;

/* Moves h into the queue (an empty handle tells a consumer to stop). */
static void queue_push(Managed_Item_ThreadSafe h) {
    pthread_mutex_lock(&queue.lock);
    while (queue.count == QUEUE_SLOTS) {
        pthread_cond_wait(&queue.not_full, &queue.lock);
    }
    queue.slots[(queue.head + queue.count) % QUEUE_SLOTS] = h;
    queue.count++;
    pthread_cond_signal(&queue.not_empty);
    pthread_mutex_unlock(&queue.lock);
}

static Managed_Item_ThreadSafe queue_pop(void) {
    pthread_mutex_lock(&queue.lock);
    while (queue.count == 0) {
        pthread_cond_wait(&queue.not_empty, &queue.lock);
    }
    Managed_Item_ThreadSafe h = queue.slots[queue.head];
    queue.slots[queue.head].box = NULL;
    queue.head = (queue.head + 1) % QUEUE_SLOTS;
    queue.count--;
    pthread_cond_signal(&queue.not_full);
    pthread_mutex_unlock(&queue.lock);
    return h;
}

static void *producer(void *p) {
    (void)p;
    for (long i = 0; i < queue.produced; i++) {
        Managed_Blob_ThreadSafe tag = {0};
        if (i % 2 == 0) {
            tag = all_policies_dup(queue.common);
        } else {
            struct blob b = blob_make("own");
            if (!CHECK(all_policies_new(&tag, b) == PM_OK)) {
                blob_drop(&b);
            }
        }
        Managed_Item_ThreadSafe h = {0};
        if (!CHECK(all_policies_new(&h, ((Item_ThreadSafe){i, 2 * i, tag})) == PM_OK)) {
            all_policies_drop(&tag);
            continue;
        }
        queue_push(h); /* the handle moves to whichever consumer pops it */
    }
    return NULL;
}

static void *consumer(void *p) {
    (void)p;
    for (;;) {
        Managed_Item_ThreadSafe h = queue_pop();
        if (h.box == NULL) {
            return NULL;
        }
        CHECK(all_policies_is_unique(h));
        const Item_ThreadSafe *r = NULL;
        if (CHECK(all_policies_read_wait(h, &r, PM_FOREVER) == PM_OK)) {
            CHECK(r->value == 2 * r->id);
            const struct blob *t = NULL;
            if (CHECK(all_policies_read_wait(r->tag, &t, PM_FOREVER) == PM_OK)) {
                CHECK(strcmp(t->data, r->id % 2 == 0 ? "common" : "own") == 0);
                all_policies_release_read(r->tag);
            }
            all_policies_release_read(h);
        }
        all_policies_drop(&h); /* frees the item, and its own tag or one common owner */
        queue.consumed++;
    }
}

static void test_handles_move_between_threads(void) {
    enum { CONSUMERS = 3 };
    long blobs = blob_live, boxes = boxes_live;
    CHECK(pthread_mutex_init(&queue.lock, NULL) == 0);
    CHECK(pthread_cond_init(&queue.not_empty, NULL) == 0);
    CHECK(pthread_cond_init(&queue.not_full, NULL) == 0);
    queue.produced = quick() ? 2000 : 50000;
    queue.consumed = 0;
    struct blob b = blob_make("common");
    queue.common.box = NULL;
    if (!CHECK(all_policies_new(&queue.common, b) == PM_OK)) {
        blob_drop(&b);
        return;
    }

    pthread_t prod, cons[CONSUMERS];
    int started = 0;
    CHECK(pthread_create(&prod, NULL, producer, NULL) == 0);
    for (int i = 0; i < CONSUMERS; i++) {
        if (CHECK(pthread_create(&cons[i], NULL, consumer, NULL) == 0)) {
            started++;
        }
    }
    pthread_join(prod, NULL);
    for (int i = 0; i < started; i++) {
        queue_push((Managed_Item_ThreadSafe){NULL}); /* one stop per consumer */
    }
    for (int i = 0; i < started; i++) {
        pthread_join(cons[i], NULL);
    }

    CHECK(queue.consumed == queue.produced);
    CHECK(all_policies_refcount(queue.common) == 1);
    all_policies_drop(&queue.common);
    CHECK(blob_live == blobs && boxes_live == boxes);
    pthread_cond_destroy(&queue.not_full);
    pthread_cond_destroy(&queue.not_empty);
    pthread_mutex_destroy(&queue.lock);
}

/* ---- the _wait forms against a lock another thread holds ---- */

static struct {
    Managed_Point_ThreadSafe h;
    _Atomic int released; /* set by main just before it lets go of the lock */
} held;

static void *wait_times_out(void *p) {
    (void)p;
    const struct point *r = NULL;
    struct point *w = NULL;
    Managed_Point_ThreadSafe mine = all_policies_dup(held.h);
    Managed_Point_ThreadSafe_box *box = mine.box;

    /* Another thread's lock is no deadlock, PM_DEBUG or not: the waits time out. */
    uint64_t t0 = pm_monotonic_ns();
    CHECK(all_policies_read_wait(mine, &r, 20 * MS) == PM_ETIMEDOUT);
    CHECK(pm_monotonic_ns() - t0 >= 20 * MS);
    CHECK(all_policies_write_shared_wait(mine, &w, 20 * MS) == PM_ETIMEDOUT);
    CHECK(all_policies_write_wait(&mine, &w, 20 * MS) == PM_ETIMEDOUT); /* the copy must read */
    CHECK(mine.box == box);
    CHECK(all_policies_read(mine, &r) == PM_EBUSY);
    CHECK(all_policies_write_shared(mine, &w) == PM_EBUSY);
    CHECK(all_policies_write(&mine, &w) == PM_EBUSY);
    CHECK(mine.box == box && all_policies_refcount(mine) == 2);
    all_policies_drop(&mine);
    return NULL;
}

static void *wait_is_granted(void *p) {
    const worker_arg *arg = p;
    wait_for_start();
    if (arg->index == 0) {
        struct point *w = NULL;
        if (CHECK(all_policies_write_shared_wait(held.h, &w, PM_FOREVER) == PM_OK)) {
            CHECK(held.released); /* granted only after main let go */
            w->y++;
            all_policies_release_write(held.h);
        }
    } else {
        const struct point *r = NULL;
        if (CHECK(all_policies_read_wait(held.h, &r, 10000 * MS) == PM_OK)) {
            CHECK(held.released);
            all_policies_release_read(held.h);
        }
    }
    return NULL;
}

static void test_wait_for_another_thread(void) {
    held.h.box = NULL;
    held.released = 0;
    CHECK(all_policies_new(&held.h, ((struct point){1, 0})) == PM_OK);

    struct point *w = NULL;
    if (CHECK(all_policies_write_shared(held.h, &w) == PM_OK)) {
        pthread_t t;
        if (CHECK(pthread_create(&t, NULL, wait_times_out, NULL) == 0)) {
            pthread_join(t, NULL);
        }
        all_policies_release_write(held.h);
    }

    /* Waiters blocked on the lock get it once it is released. */
    if (CHECK(all_policies_write_shared(held.h, &w) == PM_OK)) {
        worker_arg args[3] = {{0}, {1}, {2}};
        pthread_t threads[3];
        int started = 0;
        if (CHECK(pthread_barrier_init(&start_line, NULL, 4) == 0)) {
            for (int i = 0; i < 3; i++) {
                if (CHECK(pthread_create(&threads[i], NULL, wait_is_granted, &args[i]) == 0)) {
                    started++;
                }
            }
            if (started == 3) {
                pthread_barrier_wait(&start_line);
            }
            sleep_ms(30); /* let them block */
            held.released = 1;
            all_policies_release_write(held.h);
            for (int i = 0; i < started; i++) {
                pthread_join(threads[i], NULL);
            }
            pthread_barrier_destroy(&start_line);
        } else {
            all_policies_release_write(held.h);
        }
    }
    const struct point *r = NULL;
    if (CHECK(all_policies_read(held.h, &r) == PM_OK)) {
        CHECK(r->y == 1);
        all_policies_release_read(held.h);
    }
    all_policies_drop(&held.h);
}

/* ---- _downgrade_write: no writer in between, waiting readers let in ---- */

enum { DOWN_READERS = 3 };
/* Bounds: main polls up to DOWN_POLL_MS for what must happen; the threads' waits give up
 * after DOWN_WAIT_NS, later, so a missing wake-up fails main's poll and never hangs (a
 * wait that timed out still takes a lock it finds free: it would hide the bug). */
#define DOWN_POLL_MS 5000
#define DOWN_WAIT_NS (20000ull * MS)

static struct {
    Managed_Point_ThreadSafe h;
    _Atomic int released;   /* main is about to end its downgraded read borrow */
    _Atomic int writer_in;  /* the waiting writer got the lock */
    _Atomic int readers_in; /* readers that got in (and saw main's value) */
    int32_t writer_saw;     /* x as the writer found it */
} down;

static void down_reset(void) {
    down.h.box = NULL;
    down.released = 0;
    down.writer_in = 0;
    down.readers_in = 0;
    down.writer_saw = 0;
}

static uint32_t down_lock_state(void) {
    /* Relaxed: a test's look at the state word, synchronizing nothing. */
    return atomic_load_explicit(&down.h.box->cell.state, memory_order_relaxed);
}

/* Polls the lock state, a millisecond apart, until `holds` is true of it (or the limit). */
static bool down_poll(bool (*holds)(uint32_t)) {
    for (int ms = 0; ms < DOWN_POLL_MS; ms++) {
        if (holds(down_lock_state())) {
            return true;
        }
        sleep_ms(1);
    }
    return false;
}

/* A fresh down.h, write-borrowed by main through *w; false (and nothing held) on failure. */
static bool down_begin(struct point **w) {
    down_reset();
    if (!CHECK(all_policies_new(&down.h, ((struct point){1, 0})) == PM_OK)) {
        return false;
    }
    if (!CHECK(all_policies_write_shared(down.h, w) == PM_OK)) {
        all_policies_drop(&down.h);
        return false;
    }
    return true;
}

static void *down_writer(void *p) {
    (void)p;
    struct point *w = NULL;
    if (CHECK(all_policies_write_shared_wait(down.h, &w, DOWN_WAIT_NS) == PM_OK)) {
        CHECK(down.released); /* only once main's downgraded read ended */
        down.writer_saw = w->x;
        w->x = -1;
        down.writer_in = 1;
        all_policies_release_write(down.h);
    }
    return NULL;
}

/* main holds the write borrow while a writer waits for it, writes, downgrades: it reads
 * its own value back, and the writer gets in only after main's read borrow ends. */
static void test_downgrade_keeps_the_waiting_writer_out(void) {
    struct point *w = NULL;
    pthread_t t;
    if (!down_begin(&w)) {
        return;
    }
    if (!CHECK(pthread_create(&t, NULL, down_writer, NULL) == 0)) {
        all_policies_release_write(down.h);
        all_policies_drop(&down.h);
        return;
    }
    CHECK(down_poll(pm__rw_writers_waiting)); /* the writer really waits */
    w->x = 42;
    CHECK(all_policies_downgrade_write(down.h) == PM_OK);
    CHECK(pm__rw_writers_waiting(down_lock_state())); /* still waiting, still first in line */
    const struct point *r = w;                        /* now a read borrow */
    for (int ms = 0; ms < 20 && !down.writer_in; ms++) {
        sleep_ms(1); /* room for a writer to get in, if the downgrade let one */
    }
    CHECK(!down.writer_in && r->x == 42);
    const struct point *r2 = NULL;
    CHECK(all_policies_read(down.h, &r2) == PM_EBUSY); /* the waiting writer goes first */
    down.released = 1;
    all_policies_release_read(down.h);
    for (int ms = 0; ms < DOWN_POLL_MS && !down.writer_in; ms++) {
        sleep_ms(1); /* the last reader out wakes the writer */
    }
    CHECK(down.writer_in);
    CHECK(pthread_join(t, NULL) == 0);
    CHECK(down.writer_saw == 42);
    if (CHECK(all_policies_read(down.h, &r2) == PM_OK)) {
        CHECK(r2->x == -1);
        all_policies_release_read(down.h);
    }
    CHECK(down_lock_state() == 0);
    all_policies_drop(&down.h);
}

static void *down_reader(void *p) {
    (void)p;
    const struct point *r = NULL;
    if (CHECK(all_policies_read_wait(down.h, &r, DOWN_WAIT_NS) == PM_OK)) {
        CHECK(r->x == 42); /* the downgrading writer's value */
        down.readers_in++;
        all_policies_release_read(down.h);
    }
    return NULL;
}

/* Readers waiting behind main's write borrow, no writer waiting: the downgrade lets them
 * in, to share the read while main still holds it. */
static void test_downgrade_lets_waiting_readers_in(void) {
    struct point *w = NULL;
    if (!down_begin(&w)) {
        return;
    }
    pthread_t threads[DOWN_READERS];
    int started = 0;
    for (int i = 0; i < DOWN_READERS; i++) {
        if (CHECK(pthread_create(&threads[i], NULL, down_reader, NULL) == 0)) {
            started++;
        }
    }
    CHECK(down_poll(pm__rw_readers_waiting)); /* a reader really waits */
    CHECK(down.readers_in == 0);
    w->x = 42;
    CHECK(all_policies_downgrade_write(down.h) == PM_OK);
    CHECK(!pm__rw_readers_waiting(down_lock_state())); /* woken */
    for (int ms = 0; ms < DOWN_POLL_MS && down.readers_in < started; ms++) {
        sleep_ms(1);
    }
    CHECK(down.readers_in == started); /* all in while main still reads */
    CHECK(w->x == 42);
    all_policies_release_read(down.h);
    for (int i = 0; i < started; i++) {
        pthread_join(threads[i], NULL);
    }
    CHECK(down_lock_state() == 0);
    all_policies_drop(&down.h);
}

int main(void) {
    pm_set_allocator(counting_alloc, counting_free, NULL);

    run_ThreadSafe();
    run_Frozen();
    test_no_lost_update();
    test_handles_move_between_threads();
    test_wait_for_another_thread();
    test_downgrade_keeps_the_waiting_writer_out();
    test_downgrade_lets_waiting_readers_in();

    CHECK(boxes_live == 0);
    CHECK(blob_live == 0);
    pm_set_allocator(NULL, NULL, NULL);

    return check_summary("test_threads");
}

#else /* ---- part 2: behaviours of both thread-safe policies, once per POLICY ---- */

static M(Blob) F(blob)(const char *text) {
    M(Blob) h = {0};
    struct blob v = blob_make(text);
    if (!CHECK(all_policies_new(&h, v) == PM_OK)) {
        blob_drop(&v);
    }
    return h;
}

/* ---- (a) concurrent dup/drop of one box ---- */

static struct {
    M(Blob) shared;
    long rounds; /* each round: BATCH dups, then BATCH drops */
} F(race);

static void *F(dup_drop_worker)(void *p) {
    (void)p;
    M(Blob) mine[BATCH];
    wait_for_start();
    for (long round = 0; round < F(race).rounds; round++) {
        for (int k = 0; k < BATCH; k++) {
            if (k % 2 == 0) {
                mine[k] = all_policies_dup(F(race).shared);
            } else {
                mine[k].box = NULL;
                CHECK(all_policies_try_dup(F(race).shared, &mine[k]) == PM_OK);
            }
        }
        CHECK(all_policies_refcount(F(race).shared) > BATCH); /* ours plus main's */
        for (int k = 0; k < BATCH; k++) {
            all_policies_drop(&mine[k]);
        }
    }
    return NULL;
}

static void F(test_dup_drop_race)(void) {
    long blobs = blob_live, boxes = boxes_live;
    F(race).shared = F(blob)("shared");
    F(race).rounds = quick() ? 200 : 4000;
    run_threads(NTHREADS, F(dup_drop_worker), NULL, 0);
    CHECK(all_policies_refcount(F(race).shared) == 1); /* exactly: no lost inc or dec */
    CHECK(strcmp(F(race).shared.box->value.data, "shared") == 0);
    all_policies_drop(&F(race).shared); /* the last drop frees it */
    CHECK(blob_live == blobs && boxes_live == boxes);
}

/* ---- (c) FBIP: each thread writes its own dup and gets its own copy ---- */

static struct {
    M(Blob) shared;
    long rounds;
} F(fbip);

static void *F(fbip_worker)(void *p) {
    const char letter = (char)('A' + *(const int *)p);
    wait_for_start();
    for (long round = 0; round < F(fbip).rounds; round++) {
        M(Blob) mine = all_policies_dup(F(fbip).shared);
        struct blob *w = NULL;
        pm_status status;
#if HAS_LOCK
        status = round % 2 == 0 ? all_policies_write(&mine, &w)
                                : all_policies_write_wait(&mine, &w, PM_FOREVER);
#else
        status = all_policies_write(&mine, &w);
#endif
        if (CHECK(status == PM_OK)) {
            /* Main keeps its owner, so the box was shared: this is a private copy. */
            CHECK(mine.box != F(fbip).shared.box);
            CHECK(all_policies_refcount(mine) == 1);
            CHECK(strcmp(w->data, "original") == 0);
            w->data[0] = letter;
            all_policies_release_write(mine);
        }
        const struct blob *r = NULL;
        if (CHECK(all_policies_read(mine, &r) == PM_OK)) {
            CHECK(r->data[0] == letter && strcmp(r->data + 1, "riginal") == 0);
            all_policies_release_read(mine);
        }
        all_policies_drop(&mine);
    }
    return NULL;
}

static void F(test_fbip_copies_per_thread)(void) {
    long blobs = blob_live, boxes = boxes_live, calls = blob_clone_calls;
    F(fbip).shared = F(blob)("original");
    F(fbip).rounds = quick() ? 200 : 5000;
    int ids[NTHREADS];
    for (int i = 0; i < NTHREADS; i++) {
        ids[i] = i;
    }
    CAT(M(Blob), box) *box = F(fbip).shared.box;
    run_threads(NTHREADS, F(fbip_worker), ids, sizeof ids[0]);
    CHECK(F(fbip).shared.box == box);
    CHECK(all_policies_refcount(F(fbip).shared) == 1);
    CHECK(blob_clone_calls == calls + NTHREADS * F(fbip).rounds); /* one copy per write */
    CHECK(blob_live == blobs + 1);                                /* every copy dropped */
    const struct blob *r = NULL;
    if (CHECK(all_policies_read(F(fbip).shared, &r) == PM_OK)) {
        CHECK(strcmp(r->data, "original") == 0); /* the original is unchanged */
        all_policies_release_read(F(fbip).shared);
    }
    all_policies_drop(&F(fbip).shared);
    CHECK(blob_live == blobs && boxes_live == boxes);
}

/* ---- (e) many readers dup/dropping a shared Item and its child at once ---- */

static struct {
    M(Item) shared;
    long rounds;
} F(readers);

static void *F(reader_worker)(void *p) {
    (void)p;
    wait_for_start();
    for (long round = 0; round < F(readers).rounds; round++) {
        M(Item) mine = all_policies_dup(F(readers).shared);
        const V(Item) *r = NULL;
        if (CHECK(all_policies_read(mine, &r) == PM_OK)) {
            CHECK(r->id == 7 && r->value == 49);
            M(Blob) tag = all_policies_dup(r->tag); /* the child gains an owner too */
            all_policies_release_read(mine);
            const struct blob *t = NULL;
            if (CHECK(all_policies_read(tag, &t) == PM_OK)) {
                CHECK(strcmp(t->data, "frozen") == 0);
                all_policies_release_read(tag);
            }
            all_policies_drop(&tag);
        }
        CHECK(all_policies_refcount(mine) >= 2);
        all_policies_drop(&mine);
    }
    return NULL;
}

static void F(test_concurrent_readers)(void) {
    enum { READERS = 2 * NTHREADS };
    long blobs = blob_live, boxes = boxes_live;
    M(Blob) tag = F(blob)("frozen");
    F(readers).shared.box = NULL;
    CHECK(all_policies_new(&F(readers).shared, ((V(Item)){7, 49, tag})) == PM_OK);
    F(readers).rounds = quick() ? 500 : 20000;
    run_threads(READERS, F(reader_worker), NULL, 0);
    CHECK(all_policies_refcount(F(readers).shared) == 1);
    CHECK(all_policies_refcount(tag) == 1);
    all_policies_drop(&F(readers).shared); /* drops the tag with it */
    CHECK(blob_live == blobs && boxes_live == boxes);
}

/* ---- (f) _unwrap_or_drop: of N owners giving up at once, exactly one gets the value ---- */

static struct {
    M(Blob) owners[NTHREADS];
    _Atomic int winners;
    long rounds;
} F(unwrap);

static void *F(unwrap_worker)(void *p) {
    int me = *(const int *)p;
    wait_for_start();
    struct blob out = {NULL, 0};
    pm_status status = all_policies_unwrap_or_drop(&F(unwrap).owners[me], &out);
    if (status == PM_OK) {
        CHECK(strcmp(out.data, "prize") == 0);
        F(unwrap).winners++;
        blob_drop(&out);
    } else {
        CHECK(status == PM_ESHARED && out.data == NULL);
    }
    CHECK(F(unwrap).owners[me].box == NULL); /* always given up */
    return NULL;
}

static void F(test_unwrap_or_drop_race)(void) {
    long blobs = blob_live, boxes = boxes_live;
    int ids[NTHREADS];
    long rounds = quick() ? 20 : 300;
    for (long round = 0; round < rounds; round++) {
        F(unwrap).owners[0] = F(blob)("prize");
        for (int i = 0; i < NTHREADS; i++) {
            ids[i] = i;
            if (i > 0) {
                F(unwrap).owners[i] = all_policies_dup(F(unwrap).owners[0]);
            }
        }
        F(unwrap).winners = 0;
        run_threads(NTHREADS, F(unwrap_worker), ids, sizeof ids[0]);
        CHECK(F(unwrap).winners == 1); /* exactly one, every round */
    }
    CHECK(blob_live == blobs && boxes_live == boxes);
}

static void F(run)(void) {
    F(test_unwrap_or_drop_race)();
    F(test_dup_drop_race)();
    F(test_fbip_copies_per_thread)();
    F(test_concurrent_readers)();
}

#endif /* POLICY */
