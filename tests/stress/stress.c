/* stress.c — N threads hammer shared ThreadSafe boxes with a random mix of every
 * operation for a fixed time, then the exact invariants are checked.
 *
 * Built against tests/specs/all_policies.yaml: the boxes are
 * Managed_Item_ThreadSafe {id, value, tag: Managed_Blob_ThreadSafe}.
 *
 *     stress [--threads N] [--seconds S] [--boxes K] [--seed X]
 *     (or PM_STRESS_THREADS / PM_STRESS_SECONDS / PM_STRESS_BOXES / PM_STRESS_SEED)
 *
 * Defaults: 2 x online cores, 2 seconds, 4 boxes, seed 1.
 *
 * main owns K shared boxes (box i: id i, value 0, tag "box-i") for the whole
 * run. Each thread keeps 8 slots of handles — dups of the shared boxes, private
 * copies made by _write, or handles received from other threads through a
 * mailbox — and repeats a random operation on a random slot:
 *   dup, drop, read, read_wait, write (FBIP), write_wait, write_shared,
 *   write_shared_wait, swap (move a handle to/from another thread), and
 *   nested (hold a read on one box while waiting to write another, so lock
 *   cycles between threads happen and must end by timeout, never hang).
 * Every successful write_shared on a shared box adds 1 to its `value` and to
 * the thread's own tally for that box. Reads check what they see.
 *
 * Invariants, checked exactly:
 *   - no lost update: each shared box's value == the sum of every thread's
 *     tally for it; a private copy's writes never reach the shared box;
 *   - readers see consistent values: id and tag intact; a thread never sees
 *     a shared box's value go down;
 *   - no box freed while owned: the allocator's free hook fails the run if a
 *     box main still owns is ever freed (and ASan/TSan see any use after free);
 *   - only PM_OK, PM_EBUSY (try forms) and PM_ETIMEDOUT (wait forms) occur —
 *     in particular never PM_EDEADLK, even in a PM_DEBUG build;
 *   - at the end: every shared box has count 1 and a free lock, and after
 *     main drops them, zero boxes and zero blobs are live (counting hooks;
 *     LeakSanitizer checks the rest in the ASan build).
 * The last line printed is a summary with the figures (docs/RELIABILITY.md).
 */
#define _POSIX_C_SOURCE 200809L /* nanosleep, sysconf */

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "all_policies.h"

#include "check.h"

typedef Managed_Item_ThreadSafe Handle;
typedef Item_ThreadSafe Item;

enum { MAX_THREADS = 256, MAX_BOXES = 64, SLOTS = 8, MAILBOXES = 4 };
#define WAIT_NS (1000u * 1000u) /* 1 ms: long enough to wait, short enough to time out often */
#define COPY_ID_OFFSET 1000     /* a private copy of box i has id COPY_ID_OFFSET + i */

enum op {
    OP_DUP,
    OP_DROP,
    OP_READ,
    OP_READ_WAIT,
    OP_WRITE,
    OP_WRITE_WAIT,
    OP_WRITE_SHARED,
    OP_WRITE_SHARED_WAIT,
    OP_SWAP,
    OP_NESTED,
    OP_COUNT
};
static const char *const op_names[OP_COUNT] = {
    "dup",   "drop",       "read",        "read_wait",         "write",
    "write_wait", "write_shared", "write_shared_wait", "swap", "nested"};

/* ---- settings ---- */

static int nthreads, nboxes;
static double seconds;
static unsigned long long seed;

/* ---- the shared boxes, owned by main for the whole run ---- */

static Handle boxes[MAX_BOXES];
static _Atomic bool running;
static _Atomic bool stop;

/* ---- a counting allocator that knows which boxes main owns ---- */

static _Atomic long owned_box_freed; /* frees of a box main still owns: must stay 0 */

static void check_not_owned(void *ptr) {
    if (running) {
        for (int i = 0; i < nboxes; i++) {
            if ((void *)boxes[i].box == ptr) {
                owned_box_freed++;
            }
        }
    }
}
#define COUNTING_ON_FREE(ptr) check_not_owned(ptr)
#include "counting_alloc.h"

/* ---- per thread ---- */

typedef struct slot {
    Handle h;  /* empty when h.box == NULL */
    int box;   /* which shared box it descends from */
    bool copy; /* a private copy made by _write, not the shared box itself */
} slot;

/* Handles in transit between threads; exchanged whole, with acquire-release. */
static _Atomic(slot *) mailbox[MAILBOXES];

typedef struct worker {
    int index;
    unsigned long long rng;
    slot slots[SLOTS];
    long tally[MAX_BOXES]; /* successful write_shared increments of each shared box */
    long seen[MAX_BOXES];  /* the largest value of each shared box this thread read */
    long ops[OP_COUNT];
    long ok, busy, timedout, copies, copy_writes;
} worker;

static worker workers[MAX_THREADS];

static unsigned long long next_random(worker *w) {
    /* xorshift64* */
    w->rng ^= w->rng >> 12;
    w->rng ^= w->rng << 25;
    w->rng ^= w->rng >> 27;
    return w->rng * 2685821657736338717ull;
}

static int pick(worker *w, int n) { return (int)((next_random(w) >> 33) % (unsigned)n); }

static const char *tag_text(const Item *v) {
    /* The tag is written once at creation and only read afterwards. */
    const struct blob *b = NULL;
    if (Managed_Blob_ThreadSafe_read(v->tag, &b) != PM_OK) {
        return "?";
    }
    const char *text = b->data;
    Managed_Blob_ThreadSafe_release_read(v->tag);
    return text;
}

/* The status of a try form: PM_OK or PM_EBUSY; of a wait form: PM_OK or PM_ETIMEDOUT. */
static bool note_status(worker *w, pm_status st, bool waits) {
    if (st == PM_OK) {
        w->ok++;
        return true;
    }
    if (!waits && st == PM_EBUSY) {
        w->busy++;
    } else if (waits && st == PM_ETIMEDOUT) {
        w->timedout++;
    } else {
        CHECK(!"unexpected status");
        fprintf(stderr, "  status %s from a %s form\n", pm_status_str(st), waits ? "wait" : "try");
    }
    return false;
}

/* What a reader sees must be consistent. */
static void check_value(worker *w, const slot *s, const Item *v) {
    char want[32];
    snprintf(want, sizeof want, "box-%d", s->box);
    CHECK(strcmp(tag_text(v), want) == 0);
    if (s->copy) {
        CHECK(v->id == COPY_ID_OFFSET + s->box);
    } else {
        CHECK(v->id == s->box);
        CHECK(v->value >= w->seen[s->box]); /* never goes down */
        w->seen[s->box] = v->value;
    }
}

/* A slot to work on: a non-empty one, or main's handle of a random box. */
static slot borrowed_or_own(worker *w, int i) {
    if (w->slots[i].h.box != NULL) {
        return w->slots[i];
    }
    int b = pick(w, nboxes);
    slot s = {boxes[b], b, false};
    return s;
}

static void do_read(worker *w, int i, bool waits) {
    slot s = borrowed_or_own(w, i);
    const Item *v = NULL;
    pm_status st = waits ? Managed_Item_ThreadSafe_read_wait(s.h, &v, WAIT_NS)
                         : Managed_Item_ThreadSafe_read(s.h, &v);
    if (note_status(w, st, waits)) {
        check_value(w, &s, v);
        Managed_Item_ThreadSafe_release_read(s.h);
    }
}

static void do_write_shared(worker *w, const slot *s, bool waits) {
    Item *v = NULL;
    pm_status st = waits ? Managed_Item_ThreadSafe_write_shared_wait(s->h, &v, WAIT_NS)
                         : Managed_Item_ThreadSafe_write_shared(s->h, &v);
    if (note_status(w, st, waits)) {
        CHECK(v->id == (s->copy ? COPY_ID_OFFSET + s->box : s->box));
        v->value++;
        if (s->copy) {
            w->copy_writes++;
        } else {
            w->tally[s->box]++;
        }
        Managed_Item_ThreadSafe_release_write(s->h);
    }
}

/* FBIP write of a slot this thread owns: a shared box is copied first. */
static void do_write(worker *w, int i, bool waits) {
    slot *s = &w->slots[i];
    if (s->h.box == NULL) {
        s->box = pick(w, nboxes);
        s->h = Managed_Item_ThreadSafe_dup(boxes[s->box]);
        s->copy = false;
    }
    Managed_Item_ThreadSafe_box *before = s->h.box;
    Item *v = NULL;
    pm_status st = waits ? Managed_Item_ThreadSafe_write_wait(&s->h, &v, WAIT_NS)
                         : Managed_Item_ThreadSafe_write(&s->h, &v);
    if (!note_status(w, st, waits)) {
        CHECK(s->h.box == before); /* on failure the handle is unchanged */
        return;
    }
    CHECK(Managed_Item_ThreadSafe_is_unique(s->h));
    if (s->h.box != before) {
        w->copies++;
    }
    CHECK(!s->copy || v->id == COPY_ID_OFFSET + s->box);
    CHECK(s->copy || s->h.box != before); /* main owns every shared box: always a copy */
    if (!s->copy) {
        CHECK(v->id == s->box);
        v->id = COPY_ID_OFFSET + s->box; /* from now on a private copy */
        v->value = -1;
        s->copy = true;
    }
    v->value--;
    w->copy_writes++;
    Managed_Item_ThreadSafe_release_write(s->h);
}

static void do_swap(worker *w, int i) {
    slot *s = &w->slots[i];
    slot *out = NULL;
    if (s->h.box != NULL) {
        out = malloc(sizeof *out);
        if (!CHECK(out != NULL)) {
            return;
        }
        *out = *s;
    }
    /* acq_rel: our use of the handle happens-before the receiver's. */
    slot *in = atomic_exchange_explicit(&mailbox[pick(w, MAILBOXES)], out, memory_order_acq_rel);
    if (in != NULL) {
        *s = *in;
        free(in);
    } else {
        s->h.box = NULL;
    }
}

/* Hold a read on one box while waiting to write another: cycles between
 * threads must end in PM_ETIMEDOUT, never hang, never PM_EDEADLK. */
static void do_nested(worker *w, int i) {
    slot outer = borrowed_or_own(w, i);
    int b = pick(w, nboxes);
    slot inner = {boxes[b], b, false};
    if (inner.h.box == outer.h.box) {
        return;
    }
    const Item *v = NULL;
    if (note_status(w, Managed_Item_ThreadSafe_read_wait(outer.h, &v, WAIT_NS), true)) {
        check_value(w, &outer, v);
        do_write_shared(w, &inner, true);
        Managed_Item_ThreadSafe_release_read(outer.h);
    }
}

static void do_dup(worker *w, int i) {
    slot *s = &w->slots[i];
    int j = pick(w, SLOTS);
    if (s->h.box == NULL) {
        s->box = pick(w, nboxes);
        s->h = Managed_Item_ThreadSafe_dup(boxes[s->box]);
        s->copy = false;
    } else if (w->slots[j].h.box == NULL) {
        w->slots[j] = *s;
        w->slots[j].h = Managed_Item_ThreadSafe_dup(s->h);
        CHECK(w->slots[j].h.box == s->h.box);
    }
    CHECK(Managed_Item_ThreadSafe_refcount(s->h) >= (s->copy ? 1u : 2u));
}

static void *work(void *p) {
    worker *w = p;
    while (!stop) {
        for (int burst = 0; burst < 64; burst++) {
            enum op op = (enum op)pick(w, OP_COUNT);
            int i = pick(w, SLOTS);
            w->ops[op]++;
            switch (op) {
            case OP_DUP: do_dup(w, i); break;
            case OP_DROP: Managed_Item_ThreadSafe_drop(&w->slots[i].h); break;
            case OP_READ: do_read(w, i, false); break;
            case OP_READ_WAIT: do_read(w, i, true); break;
            case OP_WRITE: do_write(w, i, false); break;
            case OP_WRITE_WAIT: do_write(w, i, true); break;
            case OP_WRITE_SHARED: {
                slot s = borrowed_or_own(w, i);
                do_write_shared(w, &s, false);
                break;
            }
            case OP_WRITE_SHARED_WAIT: {
                slot s = borrowed_or_own(w, i);
                do_write_shared(w, &s, true);
                break;
            }
            case OP_SWAP: do_swap(w, i); break;
            case OP_NESTED: do_nested(w, i); break;
            case OP_COUNT: break;
            }
        }
    }
    for (int i = 0; i < SLOTS; i++) {
        Managed_Item_ThreadSafe_drop(&w->slots[i].h);
    }
    return NULL;
}

/* ---- settings from argv or the environment ---- */

static const char *setting(int argc, char **argv, const char *flag, const char *env) {
    for (int i = 1; i + 1 < argc; i++) {
        if (strcmp(argv[i], flag) == 0) {
            return argv[i + 1];
        }
    }
    return getenv(env);
}

static bool configure(int argc, char **argv) {
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    const char *t = setting(argc, argv, "--threads", "PM_STRESS_THREADS");
    const char *s = setting(argc, argv, "--seconds", "PM_STRESS_SECONDS");
    const char *b = setting(argc, argv, "--boxes", "PM_STRESS_BOXES");
    const char *r = setting(argc, argv, "--seed", "PM_STRESS_SEED");
    nthreads = t ? atoi(t) : (int)(2 * (cores > 0 ? cores : 1));
    seconds = s ? atof(s) : 2.0;
    nboxes = b ? atoi(b) : 4;
    seed = r ? strtoull(r, NULL, 10) : 1;
    if (nthreads < 1 || nthreads > MAX_THREADS || nboxes < 1 || nboxes > MAX_BOXES ||
        !(seconds > 0)) {
        fprintf(stderr, "usage: stress [--threads 1..%d] [--seconds S>0] [--boxes 1..%d] "
                        "[--seed X]\n", MAX_THREADS, MAX_BOXES);
        return false;
    }
    return true;
}

static void sleep_seconds(double s) {
    struct timespec ts = {(time_t)s, (long)((s - (double)(time_t)s) * 1e9)};
    while (nanosleep(&ts, &ts) != 0) {
    }
}

int main(int argc, char **argv) {
    if (!configure(argc, argv)) {
        return 2;
    }
    pm_set_allocator(counting_alloc, counting_free, NULL);

    for (int i = 0; i < nboxes; i++) {
        char text[32];
        snprintf(text, sizeof text, "box-%d", i);
        Item v = {.id = i, .value = 0, .tag = {0}};
        struct blob blob = blob_make(text);
        CHECK(Managed_Blob_ThreadSafe_new(&v.tag, blob) == PM_OK);
        CHECK(Managed_Item_ThreadSafe_new(&boxes[i], v) == PM_OK);
    }
    running = true;

    pthread_t threads[MAX_THREADS];
    int started = 0;
    for (int t = 0; t < nthreads; t++) {
        workers[t].index = t;
        workers[t].rng = (seed * 0x9E3779B97F4A7C15ull) ^ (unsigned long long)(t + 1) * 0xBF58476D1CE4E5B9ull;
        if (workers[t].rng == 0) {
            workers[t].rng = 1;
        }
        if (!CHECK(pthread_create(&threads[t], NULL, work, &workers[t]) == 0)) {
            break;
        }
        started++;
    }
    uint64_t t0 = pm_monotonic_ns();
    sleep_seconds(seconds);
    stop = true;
    for (int t = 0; t < started; t++) {
        pthread_join(threads[t], NULL);
    }
    double elapsed = (double)(pm_monotonic_ns() - t0) / 1e9;
    for (int m = 0; m < MAILBOXES; m++) {
        slot *in = atomic_exchange(&mailbox[m], NULL);
        if (in != NULL) {
            Managed_Item_ThreadSafe_drop(&in->h);
            free(in);
        }
    }

    /* The exact invariants. */
    long ops[OP_COUNT] = {0}, total = 0, ok = 0, busy = 0, timedout = 0, copies = 0,
         copy_writes = 0, shared_writes = 0;
    for (int t = 0; t < started; t++) {
        worker *w = &workers[t];
        for (int o = 0; o < OP_COUNT; o++) {
            ops[o] += w->ops[o];
            total += w->ops[o];
        }
        ok += w->ok;
        busy += w->busy;
        timedout += w->timedout;
        copies += w->copies;
        copy_writes += w->copy_writes;
    }
    for (int i = 0; i < nboxes; i++) {
        long expected = 0;
        for (int t = 0; t < started; t++) {
            expected += workers[t].tally[i];
        }
        shared_writes += expected;
        const Item *v = NULL;
        if (CHECK(Managed_Item_ThreadSafe_read(boxes[i], &v) == PM_OK)) {
            if (!CHECK(v->value == expected)) { /* no lost update */
                fprintf(stderr, "  box %d: value %ld, counted writes %ld\n", i, (long)v->value,
                        expected);
            }
            CHECK(v->id == i);
            char want[32];
            snprintf(want, sizeof want, "box-%d", i);
            CHECK(strcmp(tag_text(v), want) == 0);
            Managed_Item_ThreadSafe_release_read(boxes[i]);
        }
        CHECK(Managed_Item_ThreadSafe_refcount(boxes[i]) == 1);
        CHECK(atomic_load(&boxes[i].box->cell.state) == 0); /* lock free, no waiter bits */
    }
    CHECK(owned_box_freed == 0);
    CHECK(boxes_live == 2 * nboxes); /* the shared items and their tags; every copy freed */
    running = false;
    for (int i = 0; i < nboxes; i++) {
        Managed_Item_ThreadSafe_drop(&boxes[i]);
    }
    CHECK(boxes_live == 0);
    CHECK(blob_live == 0);
    pm_set_allocator(NULL, NULL, NULL);
    CHECK(total > 0 && shared_writes > 0);

    printf("stress: ops by kind:");
    for (int o = 0; o < OP_COUNT; o++) {
        printf(" %s=%ld", op_names[o], ops[o]);
    }
    printf("\nstress: threads=%d boxes=%d seconds=%.2f ops=%ld ok=%ld busy=%ld timedout=%ld "
           "shared_writes=%ld copies=%ld copy_writes=%ld allocations=%ld checks=%ld failures=%d\n",
           started, nboxes, elapsed, total, ok, busy, timedout, shared_writes, copies,
           copy_writes, (long)allocations, (long)checks, (int)failures);
    return failures == 0 ? 0 : 1;
}
