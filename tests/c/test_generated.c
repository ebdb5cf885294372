/* test_generated.c — the contract of the generated handles (DESIGN.md,
 * "Operations on a handle"), checked against tests/specs/all_policies.yaml.
 *
 * Every behaviour is written once, in the per-policy part at the bottom of this
 * file, and compiled four times: this file includes itself once per policy with
 * POLICY (SingleThreaded, ThreadSafe, Local, Frozen) and its building blocks
 * (CELL, COUNTER_ATOMIC) defined. Behaviours that need a cell (write_shared,
 * borrow conflicts) or a lock (the _wait forms) are compiled only where the
 * policy has one. Operations go through the module's _Generic macros
 * (all_policies_dup(h), ...), which therefore get tested as well.
 *
 * A failed CHECK prints "FAIL file:line: expr (in function)" and the program
 * carries on; main returns 1 if any failed. Nothing here asserts or aborts.
 */
#ifndef POLICY /* ---- part 1: harness, hooks, policy-independent tests, main ---- */

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "all_policies.h"
#include "pm_internal.h" /* the *_set_for_test hooks */

#include "check.h"

/* ---- A counting allocator that can be told to fail ---- */

static bool alloc_fails; /* when set, every allocation returns NULL */
#define COUNTING_SHOULD_FAIL() alloc_fails
#define COUNTING_ALIGNED
#include "counting_alloc.h"

static bool quick(void) { return getenv("PM_TEST_QUICK") != NULL; }

/* A box of a `box_align: 64` type starts a cache line. */
#define ALIGNED_AT_64(box) (((uintptr_t)(box) & 63u) == 0)

#define MS (1000u * 1000u) /* nanoseconds */

/* ---- Names of the per-policy part ---- */

#define CAT_(a, b) a##_##b
#define CAT(a, b) CAT_(a, b)
#define M_(N, P) Managed_##N##_##P
#define MX(N, P) M_(N, P)
#define M(N) MX(N, POLICY)              /* handle type: M(Point) = Managed_Point_<POLICY> */
#define OP(N, op) CAT(M(N), op)         /* direct call: OP(Blob, drop) */
#define BOX(N) CAT(M(N), box)           /* box type: BOX(Point) = Managed_Point_<POLICY>_box */
#define V(N) CAT(N, POLICY)             /* value struct of a fields type: Item_<POLICY> */
#define F(name) CAT(name, POLICY)       /* test function names */
/* The scope macros paste onto the handle type name, so expand it first. */
#define SCOPE_(MACRO, H, ...) MACRO(H, __VA_ARGS__)
#define READ_SCOPE(N, ...) SCOPE_(PM_READ_SCOPE, M(N), __VA_ARGS__)
#define WRITE_SCOPE(N, ...) SCOPE_(PM_WRITE_SCOPE, M(N), __VA_ARGS__)
#define WRITE_SHARED_SCOPE(N, ...) SCOPE_(PM_WRITE_SHARED_SCOPE, M(N), __VA_ARGS__)
#define READ_SCOPE_WAIT(N, ...) SCOPE_(PM_READ_SCOPE_WAIT, M(N), __VA_ARGS__)
#define WRITE_SCOPE_WAIT(N, ...) SCOPE_(PM_WRITE_SCOPE_WAIT, M(N), __VA_ARGS__)
#define WRITE_SHARED_SCOPE_WAIT(N, ...) SCOPE_(PM_WRITE_SHARED_SCOPE_WAIT, M(N), __VA_ARGS__)

#define CELL_NONE 0
#define CELL_BORROW 1
#define CELL_RWLOCK 2

/* Each policy: its building blocks, and the length of the chain it drops (far
 * beyond what a recursive drop survives on an 8 MB stack; the two built-in
 * policies get the full 3,000,000, the others 1,000,000 to save time). */
#define POLICY SingleThreaded
#define CELL CELL_BORROW
#define COUNTER_ATOMIC 0
#define CHAIN_LENGTH 3000000
#include "test_generated.c"
#undef POLICY
#undef CELL
#undef COUNTER_ATOMIC
#undef CHAIN_LENGTH

#define POLICY ThreadSafe
#define CELL CELL_RWLOCK
#define COUNTER_ATOMIC 1
#define CHAIN_LENGTH 3000000
#include "test_generated.c"
#undef POLICY
#undef CELL
#undef COUNTER_ATOMIC
#undef CHAIN_LENGTH

#define POLICY Local
#define CELL CELL_NONE
#define COUNTER_ATOMIC 0
#define CHAIN_LENGTH 1000000
#include "test_generated.c"
#undef POLICY
#undef CELL
#undef COUNTER_ATOMIC
#undef CHAIN_LENGTH

#define POLICY Frozen
#define CELL CELL_NONE
#define COUNTER_ATOMIC 1
#define CHAIN_LENGTH 1000000
#include "test_generated.c"
#undef POLICY
#undef CELL
#undef COUNTER_ATOMIC
#undef CHAIN_LENGTH

/* ---- Policy mixing: a ThreadSafe struct holding a Frozen handle ---- */

static void test_mixed_holds_frozen_field(void) {
    long boxes = boxes_live;
    Managed_Point_Frozen origin = {0};
    CHECK(Managed_Point_Frozen_new(&origin, ((struct point){5, 6})) == PM_OK);
    Managed_Mixed_ThreadSafe m = {0};
    CHECK(Managed_Mixed_ThreadSafe_new(&m, ((Mixed_ThreadSafe){1, origin})) == PM_OK);
    CHECK(Managed_Point_Frozen_refcount(origin) == 1); /* moved into m */

    const Mixed_ThreadSafe *r = NULL;
    if (CHECK(all_policies_read_wait(m, &r, PM_FOREVER) == PM_OK)) {
        const struct point *p = NULL;
        if (CHECK(all_policies_read(r->origin, &p) == PM_OK)) {
            CHECK(p->x == 5 && p->y == 6);
            all_policies_release_read(r->origin);
        }
        all_policies_release_read(m);
    }

    /* Copy on write of the ThreadSafe box dups its Frozen field. */
    Managed_Mixed_ThreadSafe other = all_policies_dup(m);
    Mixed_ThreadSafe *w = NULL;
    if (CHECK(all_policies_write(&m, &w) == PM_OK)) {
        CHECK(m.box != other.box);
        CHECK(w->origin.box == origin.box);
        CHECK(Managed_Point_Frozen_refcount(origin) == 2);
        w->count = 2;
        all_policies_release_write(m);
    }
    all_policies_drop(&other);
    CHECK(Managed_Point_Frozen_refcount(origin) == 1);
    all_policies_drop(&m);
    CHECK(boxes_live == boxes); /* the Mixed boxes and the Frozen point are gone */
}

/* ---- A type whose policies come from contexts: [sync, parallel] ---- */

static void test_contexts_give_both_policies(void) {
    Managed_Tally_SingleThreaded s = {0};
    Managed_Tally_ThreadSafe t = {0};
    CHECK(all_policies_new(&s, (int64_t)7) == PM_OK);
    CHECK(all_policies_new(&t, (int64_t)8) == PM_OK);
    int64_t *w = NULL;
    if (CHECK(all_policies_write_shared(s, &w) == PM_OK)) {
        *w += 1;
        all_policies_release_write(s);
    }
    if (CHECK(all_policies_write_shared_wait(t, &w, PM_FOREVER) == PM_OK)) {
        *w += 1;
        all_policies_release_write(t);
    }
    const int64_t *r = NULL;
    if (CHECK(all_policies_read(s, &r) == PM_OK)) {
        CHECK(*r == 8);
        all_policies_release_read(s);
    }
    if (CHECK(all_policies_read(t, &r) == PM_OK)) {
        CHECK(*r == 9);
        all_policies_release_read(t);
    }
    all_policies_drop(&s);
    all_policies_drop(&t);
}

/* Installed without an aligned hook, an allocator gets the boxes of box_align types
 * too (placed as it places any memory). */
static void test_plain_hook_allocates_aligned_boxes(void) {
    pm_set_allocator(counting_alloc, counting_free, NULL);
    long before = allocations;
    Managed_Aligned_Frozen h = {0};
    struct point at = {5, 6};
    CHECK(all_policies_new(&h, at) == PM_OK);
    CHECK(allocations == before + 1);
    all_policies_drop(&h);
    pm_set_allocator_aligned(counting_alloc, counting_alloc_aligned, counting_free, NULL);
}

/* An allocator whose plain memory is never 64-aligned and whose aligned memory is: each
 * block keeps malloc's address in the word before it. For the reuse test below. */
static void *skewed_place(unsigned char *raw, uintptr_t align, uintptr_t skew) {
    if (raw == NULL) {
        return NULL;
    }
    uintptr_t at = ((uintptr_t)raw + 16u + align - 1u) & ~(align - 1u);
    unsigned char *p = raw + (at - (uintptr_t)raw) + skew;
    memcpy(p - sizeof raw, &raw, sizeof raw);
    boxes_live++;
    return p;
}

static void *skewed_alloc(size_t size, void *ctx) {
    (void)ctx;
    return skewed_place(malloc(size + 96u), 64u, 16u); /* 16 past a multiple of 64 */
}

static void *skewed_alloc_aligned(size_t size, size_t align, void *ctx) {
    (void)ctx;
    return skewed_place(malloc(size + align + 16u), align, 0u);
}

static void skewed_free(void *p, size_t size, void *ctx) {
    (void)size;
    (void)ctx;
    unsigned char *raw = NULL;
    memcpy(&raw, (unsigned char *)p - sizeof raw, sizeof raw);
    boxes_live--;
    free(raw);
}

/* Reuse gives a box of a box_align type memory of its size only if it is aligned too:
 * else that memory is freed and aligned memory allocated, inline and in the runtime. */
static void test_unaligned_token_not_reused(void) {
    pm_set_allocator_aligned(skewed_alloc, skewed_alloc_aligned, skewed_free, NULL);
    size_t size = Managed_Aligned_ThreadSafe__type.box_size;
    struct point at = {7, 8};
    Managed_Aligned_ThreadSafe h = {0};
    pm_reuse token = {pm_alloc(size), size};
    if (CHECK(token.memory != NULL) && CHECK(!ALIGNED_AT_64(token.memory)) &&
        CHECK(all_policies_new_reuse(&h, &token, at) == PM_OK)) {
        CHECK(ALIGNED_AT_64(h.box) && token.memory == NULL);
    }
    all_policies_drop(&h);
    token = (pm_reuse){pm_alloc(size), size};
    void *box = pm_reuse_alloc(&token, &Managed_Aligned_ThreadSafe__type);
    CHECK(box != NULL && ALIGNED_AT_64(box) && token.memory == NULL);
    pm_free(box, size);
    pm_set_allocator_aligned(counting_alloc, counting_alloc_aligned, counting_free, NULL);
}

static void test_status_names(void) {
    static const char *const names[PM_STATUS_COUNT] = {
        "PM_OK",      "PM_EBORROWED", "PM_EBUSY",     "PM_ETIMEDOUT", "PM_EDEADLK",
        "PM_ENOMEM",  "PM_ECLONE",    "PM_EOVERFLOW", "PM_EINVAL",
        "PM_EGONE",   "PM_ESHARED",
    };
    for (int s = 0; s < PM_STATUS_COUNT; s++) {
        CHECK(strcmp(pm_status_str((pm_status)s), names[s]) == 0);
    }
    CHECK(strcmp(pm_status_str((pm_status)PM_STATUS_COUNT), "PM_E?") == 0);
    CHECK(strcmp(pm_status_str((pm_status)-1), "PM_E?") == 0);
}

int main(void) {
    pm_set_allocator_aligned(counting_alloc, counting_alloc_aligned, counting_free, NULL);

    run_SingleThreaded();
    run_ThreadSafe();
    run_Local();
    run_Frozen();
    test_mixed_holds_frozen_field();
    test_contexts_give_both_policies();
    test_plain_hook_allocates_aligned_boxes();
    test_unaligned_token_not_reused();
    test_status_names();

    /* Every box freed, every blob dropped exactly once. */
    CHECK(boxes_live == 0);
    CHECK(blob_live == 0);
    pm_set_allocator(NULL, NULL, NULL);

    return check_summary("test_generated");
}

#else /* ---- part 2: the behaviours, compiled once per POLICY ---- */

#if CELL == CELL_BORROW
#define CONFLICT PM_EBORROWED /* a borrow flag reports the other borrow */
#elif CELL == CELL_RWLOCK
#define CONFLICT PM_EBUSY /* a lock reports that it is held */
#endif

#if COUNTER_ATOMIC
#define SET_RC(h, n) pm_count_atomic_set_for_test(&(h).box->rc, (n))
#else
#define SET_RC(h, n) pm_count_plain_set_for_test(&(h).box->rc, (n))
#endif

#if CELL == CELL_BORROW
#define SET_MAX_READERS(h) pm_cell_borrow_set_for_test(&(h).box->cell, PM_BORROW_MAX_READERS)
#define SET_NO_READERS(h) pm_cell_borrow_set_for_test(&(h).box->cell, 0)
#elif CELL == CELL_RWLOCK
#define SET_MAX_READERS(h) pm_rwlock_set_for_test(&(h).box->cell, PM_RW_MAX_READERS)
#define SET_NO_READERS(h) pm_rwlock_set_for_test(&(h).box->cell, 0)
#endif

/* The cell's state word, to check that a refused call changed nothing. */
#if CELL == CELL_BORROW
#define CELL_STATE(h) ((h).box->cell.state)
#elif CELL == CELL_RWLOCK
#define CELL_STATE(h) atomic_load_explicit(&(h).box->cell.state, memory_order_relaxed)
#endif

static M(Point) F(point)(int32_t x, int32_t y) {
    M(Point) h = {0};
    CHECK(all_policies_new(&h, ((struct point){x, y})) == PM_OK);
    return h;
}

static M(Blob) F(blob)(const char *text) {
    M(Blob) h = {0};
    struct blob v = blob_make(text);
    if (!CHECK(all_policies_new(&h, v) == PM_OK)) {
        blob_drop(&v);
    }
    return h;
}

/* The text a Blob handle holds ("" if it cannot be read). */
static const char *F(text)(M(Blob) h) {
    const struct blob *r = NULL;
    if (!CHECK(all_policies_read(h, &r) == PM_OK)) {
        return "";
    }
    const char *text = r->data;
    all_policies_release_read(h);
    return text;
}

static int32_t F(x_of)(M(Point) h) {
    const struct point *r = NULL;
    if (!CHECK(all_policies_read(h, &r) == PM_OK)) {
        return INT32_MIN;
    }
    int32_t x = r->x;
    all_policies_release_read(h);
    return x;
}

/* The cell of h is free: an exclusive borrow of the box itself succeeds. */
static bool F(cell_is_free)(M(Point) h) {
#if CELL != CELL_NONE
    struct point *w = NULL;
    if (all_policies_write_shared(h, &w) != PM_OK) {
        return false;
    }
    all_policies_release_write(h);
#else
    (void)h; /* nothing tracks borrows */
#endif
    return true;
}

/* ---- _new ---- */

static void F(test_new)(void) {
    M(Point) h = {0};
    CHECK(all_policies_new(&h, ((struct point){1, 2})) == PM_OK);
    CHECK(h.box != NULL);
    CHECK(all_policies_refcount(h) == 1);
    CHECK(all_policies_is_unique(h));
    CHECK(F(x_of)(h) == 1);
    all_policies_drop(&h);

    /* NULL out: PM_EINVAL, and the caller still owns the value. */
    CHECK(OP(Point, new)(NULL, ((struct point){1, 2})) == PM_EINVAL);
    long blobs = blob_live;
    struct blob v = blob_make("kept");
    CHECK(OP(Blob, new)(NULL, v) == PM_EINVAL);
    CHECK(blob_live == blobs + 1 && strcmp(v.data, "kept") == 0);
    blob_drop(&v);
    CHECK(blob_live == blobs);
}

static void F(test_new_out_of_memory_keeps_value)(void) {
    long boxes = boxes_live, blobs = blob_live;

    alloc_fails = true;
    M(Point) p = {0};
    CHECK(all_policies_new(&p, ((struct point){1, 2})) == PM_ENOMEM);
    CHECK(p.box == NULL);

    struct blob v = blob_make("mine");
    M(Blob) b = {0};
    CHECK(all_policies_new(&b, v) == PM_ENOMEM);
    alloc_fails = false;
    CHECK(b.box == NULL);
    CHECK(blob_live == blobs + 1);          /* not freed by the failed _new */
    CHECK(strcmp(v.data, "mine") == 0);     /* still the caller's */
    blob_drop(&v);

    /* A fields value: its managed field is not dropped by the failed _new. */
    V(Item) item = {1, 2, F(blob)("tag")};
    M(Item) i = {0};
    alloc_fails = true;
    CHECK(all_policies_new(&i, item) == PM_ENOMEM);
    alloc_fails = false;
    CHECK(i.box == NULL);
    CHECK(all_policies_refcount(item.tag) == 1);
    CHECK(strcmp(F(text)(item.tag), "tag") == 0);
    CAT(V(Item), drop)(&item);
    CHECK(item.tag.box == NULL);

    CHECK(boxes_live == boxes && blob_live == blobs);
}

/* ---- _dup / _try_dup ---- */

static void F(test_dup)(void) {
    M(Blob) h = F(blob)("a");
    M(Blob) d = all_policies_dup(h);
    CHECK(d.box == h.box);
    CHECK(all_policies_refcount(h) == 2 && all_policies_refcount(d) == 2);
    CHECK(!all_policies_is_unique(h) && !all_policies_is_unique(d));

    M(Blob) t = {0};
    CHECK(all_policies_try_dup(h, &t) == PM_OK);
    CHECK(t.box == h.box && all_policies_refcount(h) == 3);

    M(Blob) empty = {0};
    CHECK(all_policies_dup(empty).box == NULL);
    M(Blob) t2 = {0};
    CHECK(all_policies_try_dup(empty, &t2) == PM_EINVAL && t2.box == NULL);
    CHECK(OP(Blob, try_dup)(h, NULL) == PM_EINVAL);
    CHECK(all_policies_refcount(h) == 3);

    all_policies_drop(&t);
    all_policies_drop(&d);
    CHECK(all_policies_refcount(h) == 1 && all_policies_is_unique(h));
    all_policies_drop(&h);
}

static void F(test_dup_at_the_limit)(void) {
    long blobs = blob_live, boxes = boxes_live;
    M(Blob) h = F(blob)("immortal");
    SET_RC(h, PM_COUNT_MAX);
    CHECK(all_policies_refcount(h) == PM_COUNT_MAX);

    /* try_dup refuses: PM_EOVERFLOW, nothing changed. */
    M(Blob) t = {0};
    CHECK(all_policies_try_dup(h, &t) == PM_EOVERFLOW);
    CHECK(t.box == NULL && all_policies_refcount(h) == PM_COUNT_MAX);

    /* dup saturates: the box becomes immortal. */
    M(Blob) d = all_policies_dup(h);
    CHECK(d.box == h.box);
    CHECK(all_policies_refcount(h) == PM_COUNT_SATURATED);
    CHECK(!all_policies_is_unique(h));
    M(Blob) d2 = all_policies_dup(h);
    CHECK(all_policies_refcount(h) == PM_COUNT_SATURATED);
    CHECK(all_policies_try_dup(h, &t) == PM_EOVERFLOW);
    all_policies_drop(&d2);
    all_policies_drop(&d);
    CHECK(d.box == NULL);
    CHECK(all_policies_refcount(h) == PM_COUNT_SATURATED); /* drops do not count down */
    CHECK(blob_live == blobs + 1 && strcmp(F(text)(h), "immortal") == 0);

    /* Writing an immortal box copies it: it is shared for ever. */
    M(Blob) immortal = h;
    struct blob *w = NULL;
    if (CHECK(all_policies_write(&h, &w) == PM_OK)) {
        CHECK(h.box != immortal.box && all_policies_refcount(h) == 1);
        w->data[0] = 'I';
        all_policies_release_write(h);
    }
    all_policies_drop(&h);
    CHECK(all_policies_refcount(immortal) == PM_COUNT_SATURATED);
    CHECK(strcmp(F(text)(immortal), "immortal") == 0);

    /* Only the test hook can bring it back, so the program ends without a leak. */
    SET_RC(immortal, 1);
    all_policies_drop(&immortal);
    CHECK(blob_live == blobs && boxes_live == boxes);
}

/* ---- _drop, _refcount, _is_unique ---- */

static void F(test_drop)(void) {
    long blobs = blob_live, boxes = boxes_live;
    M(Blob) empty = {0};
    all_policies_drop(&empty); /* no-op */
    CHECK(empty.box == NULL);
    OP(Blob, drop)(NULL); /* no-op */
    CHECK(all_policies_refcount(empty) == 0);
    CHECK(!all_policies_is_unique(empty));

    M(Blob) h = F(blob)("x");
    M(Blob) d = all_policies_dup(h);
    all_policies_drop(&d);
    CHECK(d.box == NULL); /* the handle is emptied */
    CHECK(all_policies_refcount(h) == 1);
    CHECK(blob_live == blobs + 1); /* not the last owner: nothing freed */
    all_policies_drop(&d);          /* dropping the emptied handle again: no-op */
    CHECK(all_policies_refcount(h) == 1);

    all_policies_drop(&h); /* the last owner frees the value and the box */
    CHECK(h.box == NULL);
    CHECK(blob_live == blobs && boxes_live == boxes);
}

/* ---- _read / _release_read ---- */

static void F(test_read)(void) {
    M(Point) h = F(point)(3, 4);
    const struct point *r1 = NULL, *r2 = NULL;
    CHECK(all_policies_read(h, &r1) == PM_OK);
    CHECK(all_policies_read(h, &r2) == PM_OK); /* many readers at once */
    if (CHECK(r1 != NULL && r1 == r2)) {
        CHECK(r1->x == 3 && r1->y == 4);
    }
    all_policies_release_read(h);
    all_policies_release_read(h);
    CHECK(F(cell_is_free)(h));

    M(Point) empty = {0};
    const struct point *r = NULL;
    CHECK(all_policies_read(empty, &r) == PM_EINVAL && r == NULL);
    CHECK(OP(Point, read)(h, NULL) == PM_EINVAL);
    all_policies_release_read(empty); /* no-op */

    struct point *w = NULL;
    CHECK(all_policies_write(&h, &w) == PM_OK); /* unique: in place, borrowed */
#if CELL != CELL_NONE
    CHECK(all_policies_read(h, &r) == CONFLICT);
    all_policies_release_write(h);
    CHECK(all_policies_read(h, &r) == PM_OK);
    all_policies_release_read(h);

    /* A reader count at its limit is refused, not wrapped. */
    SET_MAX_READERS(h);
    CHECK(all_policies_read(h, &r) == PM_EOVERFLOW);
    SET_NO_READERS(h);
#else
    /* Cell none tracks nothing: reading always succeeds. */
    CHECK(all_policies_read(h, &r) == PM_OK);
    all_policies_release_read(h);
    all_policies_release_write(h);
#endif
    CHECK(F(cell_is_free)(h));
    all_policies_drop(&h);
}

/* ---- _write: FBIP ---- */

static void F(test_write_unique_in_place)(void) {
    M(Blob) h = F(blob)("abc");
    BOX(Blob) *box = h.box;
    long calls = blob_clone_calls, blobs = blob_live, boxes = boxes_live;
    struct blob *w = NULL;
    if (CHECK(all_policies_write(&h, &w) == PM_OK)) {
        CHECK(h.box == box && w == &box->value); /* same box, no copy */
        w->data[0] = 'X';
        all_policies_release_write(h);
    }
    CHECK(blob_clone_calls == calls && blob_live == blobs && boxes_live == boxes);
    CHECK(strcmp(F(text)(h), "Xbc") == 0);

    /* PM_EINVAL: empty handle, NULL handle pointer, NULL out; nothing changes. */
    M(Blob) empty = {0};
    CHECK(all_policies_write(&empty, &w) == PM_EINVAL && empty.box == NULL);
    CHECK(OP(Blob, write)(NULL, &w) == PM_EINVAL);
    CHECK(OP(Blob, write)(&h, NULL) == PM_EINVAL && h.box == box);
    all_policies_release_write(empty); /* no-op */
    all_policies_drop(&h);
}

static void F(test_write_shared_box_copies)(void) {
    M(Blob) h = F(blob)("old");
    M(Blob) other = all_policies_dup(h);
    BOX(Blob) *box = h.box;
    long calls = blob_clone_calls, blobs = blob_live;
    struct blob *w = NULL;
    if (CHECK(all_policies_write(&h, &w) == PM_OK)) {
        CHECK(h.box != box && other.box == box); /* h owns a fresh copy */
        CHECK(all_policies_refcount(h) == 1 && all_policies_refcount(other) == 1);
        CHECK(blob_clone_calls == calls + 1 && blob_live == blobs + 1);
#if CELL != CELL_NONE
        const struct blob *r = NULL;
        CHECK(all_policies_read(h, &r) == CONFLICT); /* the copy is write-borrowed */
#endif
        w->data[0] = 'n';
        all_policies_release_write(h);
    }
    CHECK(strcmp(F(text)(other), "old") == 0); /* the other owner keeps the old value */
    CHECK(strcmp(F(text)(h), "nld") == 0);

    /* Now unique: the next write is in place again. */
    BOX(Blob) *copy = h.box;
    if (CHECK(all_policies_write(&h, &w) == PM_OK)) {
        CHECK(h.box == copy && blob_clone_calls == calls + 1);
        all_policies_release_write(h);
    }
    all_policies_drop(&other);
    all_policies_drop(&h);
    CHECK(blob_live == blobs - 1);
}

#if CELL != CELL_NONE
static void F(test_write_refused_while_borrowed)(void) {
    /* Unique box with a read borrow held: refused, the handle unchanged. */
    M(Point) h = F(point)(1, 1);
    BOX(Point) *box = h.box;
    const struct point *r = NULL;
    struct point *w = NULL;
    CHECK(all_policies_read(h, &r) == PM_OK);
    CHECK(all_policies_write(&h, &w) == CONFLICT);
    CHECK(h.box == box && all_policies_refcount(h) == 1);
    all_policies_release_read(h);
    if (CHECK(all_policies_write(&h, &w) == PM_OK)) {
        CHECK(h.box == box);
        all_policies_release_write(h);
    }

    /* Shared box write-borrowed through another owner (_write_shared): no copy
     * can be taken while it is being written. */
    long calls = blob_clone_calls, boxes = boxes_live;
    M(Blob) b = F(blob)("busy");
    M(Blob) other = all_policies_dup(b);
    struct blob *ws = NULL, *wb = NULL;
    if (CHECK(all_policies_write_shared(other, &ws) == PM_OK)) {
        CHECK(all_policies_write(&b, &wb) == CONFLICT);
        CHECK(b.box == other.box && all_policies_refcount(b) == 2);
        CHECK(blob_clone_calls == calls && boxes_live == boxes + 1);
        all_policies_release_write(other);
    }

    /* Shared box whose reader count is at its limit: the copy cannot borrow it. */
    SET_MAX_READERS(b);
    CHECK(all_policies_write(&b, &wb) == PM_EOVERFLOW);
    CHECK(b.box == other.box && all_policies_refcount(b) == 2);
    SET_NO_READERS(b);

    /* Shared box read by another owner: copying only reads, so it succeeds and
     * the reader keeps its view of the old value. */
    const struct blob *rb = NULL;
    if (CHECK(all_policies_read(other, &rb) == PM_OK)) {
        if (CHECK(all_policies_write(&b, &wb) == PM_OK)) {
            CHECK(b.box != other.box);
            wb->data[0] = 'B';
            all_policies_release_write(b);
        }
        CHECK(strcmp(rb->data, "busy") == 0);
        all_policies_release_read(other);
    }
    CHECK(strcmp(F(text)(b), "Busy") == 0);
    all_policies_drop(&b);
    all_policies_drop(&other);
    all_policies_drop(&h);
}
#endif

/* A failed copy on write leaves *h, both counts and every allocation as they were. */
static void F(check_failed_copy)(pm_status expected, bool hook_fails, pm_status hook_status) {
    M(Blob) h = F(blob)("orig");
    M(Blob) other = all_policies_dup(h);
    BOX(Blob) *box = h.box;
    long blobs = blob_live, boxes = boxes_live, calls = blob_clone_calls;

    struct blob *w = NULL;
    if (hook_fails) {
        blob_clone_fail = hook_status;
    } else {
        alloc_fails = true;
    }
    CHECK(all_policies_write(&h, &w) == expected);
    blob_clone_fail = PM_OK;
    alloc_fails = false;

    CHECK(h.box == box && other.box == box);
    CHECK(all_policies_refcount(h) == 2);
    CHECK(blob_live == blobs && boxes_live == boxes);
    CHECK(blob_clone_calls == calls + (hook_fails ? 1 : 0));
#if CELL != CELL_NONE
    /* The read borrow taken for the copy was given back. */
    struct blob *ws = NULL;
    if (CHECK(all_policies_write_shared(h, &ws) == PM_OK)) {
        all_policies_release_write(h);
    }
#endif
    CHECK(strcmp(F(text)(h), "orig") == 0);
    all_policies_drop(&other);
    all_policies_drop(&h);
}

static void F(test_write_copy_failures)(void) {
    F(check_failed_copy)(PM_ECLONE, true, PM_EINVAL);  /* any hook failure: PM_ECLONE */
    F(check_failed_copy)(PM_ECLONE, true, PM_ECLONE);
    F(check_failed_copy)(PM_ENOMEM, true, PM_ENOMEM);  /* the hook's PM_ENOMEM passes through */
    F(check_failed_copy)(PM_ENOMEM, false, PM_OK);     /* the box allocation fails */

    /* A fields value: a failed copy leaves the child's count alone. */
    M(Item) i = {0};
    CHECK(all_policies_new(&i, ((V(Item)){1, 2, F(blob)("t")})) == PM_OK);
    M(Item) other = all_policies_dup(i);
    BOX(Item) *box = i.box;
    V(Item) *w = NULL;
    alloc_fails = true;
    CHECK(all_policies_write(&i, &w) == PM_ENOMEM);
    alloc_fails = false;
    CHECK(i.box == box && all_policies_refcount(i) == 2);
    const V(Item) *r = NULL;
    if (CHECK(all_policies_read(i, &r) == PM_OK)) {
        CHECK(all_policies_refcount(r->tag) == 1);
        all_policies_release_read(i);
    }
    all_policies_drop(&other);
    all_policies_drop(&i);
}

/* ---- _write_shared: reference semantics ---- */

#if CELL != CELL_NONE
static void F(test_write_shared)(void) {
    M(Point) h = F(point)(1, 2);
    M(Point) other = all_policies_dup(h);
    long boxes = boxes_live;
    struct point *w = NULL, *w2 = NULL;
    const struct point *r = NULL;
    if (CHECK(all_policies_write_shared(other, &w) == PM_OK)) {
        CHECK(w == &h.box->value); /* the shared box itself */
        CHECK(all_policies_write_shared(h, &w2) == CONFLICT);
        CHECK(all_policies_read(h, &r) == CONFLICT);
        w->x = 42;
        all_policies_release_write(other);
    }
    CHECK(F(x_of)(h) == 42); /* every owner sees the change */
    CHECK(h.box == other.box && all_policies_refcount(h) == 2 && boxes_live == boxes);

    if (CHECK(all_policies_read(h, &r) == PM_OK)) {
        CHECK(all_policies_write_shared(other, &w) == CONFLICT);
        all_policies_release_read(h);
    }

    M(Point) empty = {0};
    CHECK(all_policies_write_shared(empty, &w) == PM_EINVAL);
    CHECK(OP(Point, write_shared)(h, NULL) == PM_EINVAL);
    CHECK(F(cell_is_free)(h));
    all_policies_drop(&other);
    all_policies_drop(&h);
}
#endif

/* ---- _downgrade_write: the write borrow becomes a read borrow ---- */

#if CELL != CELL_NONE
static void F(test_downgrade_write)(void) {
    M(Point) h = F(point)(1, 2);
    M(Point) other = all_policies_dup(h);
    struct point *w = NULL, *w2 = NULL;
    const struct point *r = NULL;
    struct point loaded = {0, 0};
    if (CHECK(all_policies_write_shared(h, &w) == PM_OK)) {
        w->x = 42;
#if CELL == CELL_RWLOCK
        CHECK(all_policies_load(other, &loaded) == PM_OK && loaded.x == 1); /* as released */
#else
        CHECK(all_policies_load(other, &loaded) == CONFLICT);
#endif
        CHECK(all_policies_downgrade_write(h) == PM_OK);
        /* Now a read borrow: another reader shares it and sees the value written... */
        if (CHECK(all_policies_read(other, &r) == PM_OK)) {
            CHECK(r == w && r->x == 42 && r->y == 2);
            all_policies_release_read(other);
        }
        CHECK(all_policies_load(other, &loaded) == PM_OK && loaded.x == 42);
        /* ...and no writer gets in until it ends. */
        CHECK(all_policies_write_shared(other, &w2) == CONFLICT);
        CHECK(w->x == 42);
        /* A second downgrade finds no write borrow: PM_EINVAL, the borrow unchanged. */
        uint32_t before = CELL_STATE(h);
        CHECK(all_policies_downgrade_write(h) == PM_EINVAL);
        CHECK(CELL_STATE(h) == before);
        CHECK(all_policies_write_shared(other, &w2) == CONFLICT);
        all_policies_release_read(h);
    }
    CHECK(F(cell_is_free)(h));
    CHECK(h.box == other.box && all_policies_refcount(h) == 2);

    /* Not write-borrowed at all: free, or read by one or two readers. */
    uint32_t before = CELL_STATE(h);
    CHECK(all_policies_downgrade_write(h) == PM_EINVAL);
    CHECK(CELL_STATE(h) == before && F(cell_is_free)(h));
    for (int readers = 1; readers <= 2; readers++) {
        for (int k = 0; k < readers; k++) {
            CHECK(all_policies_read(h, &r) == PM_OK);
        }
        before = CELL_STATE(h);
        CHECK(all_policies_downgrade_write(other) == PM_EINVAL);
        CHECK(CELL_STATE(h) == before);
        for (int k = 0; k < readers; k++) {
            all_policies_release_read(h);
        }
        CHECK(F(cell_is_free)(h));
    }

    /* After an FBIP _write of the shared handle: the fresh copy is downgraded, the other
     * owner keeps the old box, free. */
    if (CHECK(all_policies_write(&h, &w) == PM_OK)) {
        CHECK(h.box != other.box);
        w->x = 7;
        CHECK(all_policies_downgrade_write(h) == PM_OK);
        CHECK(all_policies_load(h, &loaded) == PM_OK && loaded.x == 7);
        CHECK(F(x_of)(h) == 7 && F(x_of)(other) == 42);
        CHECK(F(cell_is_free)(other));
        CHECK(all_policies_write_shared(h, &w2) == CONFLICT);
        all_policies_release_read(h);
    }
    CHECK(F(cell_is_free)(h));
    CHECK(all_policies_refcount(h) == 1 && all_policies_refcount(other) == 1);

    M(Point) empty = {0};
    CHECK(all_policies_downgrade_write(empty) == PM_EINVAL);
    all_policies_drop(&other);
    all_policies_drop(&h);
}
#endif

/* ---- the _wait forms ---- */

#if CELL == CELL_RWLOCK
/* A wait this thread can never win: PM_EDEADLK in a debug build, otherwise
 * PM_ETIMEDOUT once the timeout has passed. */
static void F(check_self_wait)(pm_status status, uint64_t started) {
#ifdef PM_DEBUG
    (void)started;
    CHECK(status == PM_EDEADLK);
#else
    CHECK(status == PM_ETIMEDOUT);
    CHECK(pm_monotonic_ns() - started >= 20 * MS);
#endif
}

static void F(test_wait_forms)(void) {
    M(Point) h = F(point)(1, 2);
    const struct point *r1 = NULL, *r2 = NULL;
    CHECK(all_policies_read_wait(h, &r1, 20 * MS) == PM_OK);
    CHECK(all_policies_read_wait(h, &r2, PM_FOREVER) == PM_OK);
    all_policies_release_read(h);
    all_policies_release_read(h);

    /* write_wait: in place when unique, a copy when shared. */
    BOX(Point) *box = h.box;
    struct point *w = NULL;
    if (CHECK(all_policies_write_wait(&h, &w, PM_FOREVER) == PM_OK)) {
        CHECK(h.box == box);
        w->x = 10;
        all_policies_release_write(h);
    }
    M(Point) other = all_policies_dup(h);
    if (CHECK(all_policies_write_wait(&h, &w, 20 * MS) == PM_OK)) {
        CHECK(h.box != box && other.box == box);
        CHECK(all_policies_refcount(h) == 1 && all_policies_refcount(other) == 1);
        w->x = 11;
        all_policies_release_write(h);
    }
    CHECK(F(x_of)(other) == 10 && F(x_of)(h) == 11);

    /* write_shared_wait: the shared box itself. */
    M(Point) third = all_policies_dup(other);
    if (CHECK(all_policies_write_shared_wait(third, &w, PM_FOREVER) == PM_OK)) {
        w->x = 12;
        all_policies_release_write(third);
    }
    CHECK(F(x_of)(other) == 12);

    /* Held by this very thread: never granted. */
    uint64_t t0;
    if (CHECK(all_policies_write_shared(other, &w) == PM_OK)) {
        t0 = pm_monotonic_ns();
        F(check_self_wait)(all_policies_read_wait(other, &r1, 20 * MS), t0);
        t0 = pm_monotonic_ns();
        F(check_self_wait)(all_policies_write_shared_wait(third, &w, 20 * MS), t0);
        M(Point) copy = third;
        t0 = pm_monotonic_ns();
        F(check_self_wait)(all_policies_write_wait(&copy, &w, 20 * MS), t0); /* copy must read */
        CHECK(copy.box == third.box && all_policies_refcount(third) == 2);
        all_policies_release_write(other);
    }
    all_policies_drop(&third);
    if (CHECK(all_policies_read(other, &r1) == PM_OK)) { /* other is unique now */
        t0 = pm_monotonic_ns();
        F(check_self_wait)(all_policies_write_wait(&other, &w, 20 * MS), t0);
        CHECK(other.box == box);
        t0 = pm_monotonic_ns();
        F(check_self_wait)(all_policies_write_shared_wait(other, &w, 20 * MS), t0);
        /* The writer that gave up does not keep new readers out. */
        if (CHECK(all_policies_read(other, &r2) == PM_OK)) {
            all_policies_release_read(other);
        }
        all_policies_release_read(other);
    }
    CHECK(F(cell_is_free)(other));
    CHECK(F(cell_is_free)(h));

    /* A reader count at its limit: PM_EOVERFLOW at once, no waiting. */
    third = all_policies_dup(other);
    SET_MAX_READERS(other);
    CHECK(all_policies_read_wait(other, &r1, PM_FOREVER) == PM_EOVERFLOW);
    CHECK(all_policies_write_wait(&third, &w, PM_FOREVER) == PM_EOVERFLOW); /* copy must read */
    CHECK(third.box == other.box && all_policies_refcount(other) == 2);
    SET_NO_READERS(other);
    all_policies_drop(&third);

    /* PM_EINVAL for an empty handle or a NULL out. */
    M(Point) empty = {0};
    CHECK(all_policies_read_wait(empty, &r1, 0) == PM_EINVAL);
    CHECK(all_policies_write_wait(&empty, &w, 0) == PM_EINVAL);
    CHECK(all_policies_write_shared_wait(empty, &w, 0) == PM_EINVAL);
    CHECK(OP(Point, read_wait)(h, NULL, 0) == PM_EINVAL);
    CHECK(OP(Point, write_wait)(&h, NULL, 0) == PM_EINVAL);
    CHECK(OP(Point, write_wait)(NULL, &w, 0) == PM_EINVAL);
    CHECK(OP(Point, write_shared_wait)(h, NULL, 0) == PM_EINVAL);
    all_policies_drop(&other);
    all_policies_drop(&h);
}
#endif

#if CELL == CELL_RWLOCK
/* The downgraded read is a read: under PM_DEBUG a write wait on it is PM_EDEADLK (and
 * the write hold is gone); a read wait shares it. A value too wide for a snapshot. */
static void F(test_downgrade_write_locks)(void) {
    M(Point) h = F(point)(1, 2);
    struct point *w = NULL;
    const struct point *r = NULL;
    if (CHECK(all_policies_write_shared_wait(h, &w, PM_FOREVER) == PM_OK)) {
        w->y = 5;
        CHECK(all_policies_downgrade_write(h) == PM_OK);
        uint64_t t0 = pm_monotonic_ns();
        F(check_self_wait)(all_policies_write_shared_wait(h, &w, 20 * MS), t0);
        if (CHECK(all_policies_read_wait(h, &r, 20 * MS) == PM_OK)) {
            CHECK(r->y == 5);
            all_policies_release_read(h);
        }
        all_policies_release_read(h);
    }
    CHECK(F(cell_is_free)(h));
    if (CHECK(all_policies_write_wait(&h, &w, PM_FOREVER) == PM_OK)) {
        w->y = 6;
        CHECK(all_policies_downgrade_write(h) == PM_OK);
        all_policies_release_read(h);
    }
    CHECK(F(cell_is_free)(h) && F(x_of)(h) == 1);
    struct point loaded = {0, 0};
    CHECK(all_policies_load(h, &loaded) == PM_OK && loaded.y == 6);
    all_policies_drop(&h);

    /* No snapshot: _load takes the read lock, which the downgraded reader shares. */
    Managed_Wide_ThreadSafe wide = {0};
    struct wide value = {{0}}, *ww = NULL;
    CHECK(sizeof value > PM_SNAP_MAX_BYTES);
    if (CHECK(all_policies_new(&wide, value) == PM_OK) &&
        CHECK(all_policies_write(&wide, &ww) == PM_OK)) {
        ww->v[3] = 33;
        CHECK(all_policies_load(wide, &value) == PM_EBUSY); /* our own write borrow */
        CHECK(all_policies_downgrade_write(wide) == PM_OK);
        CHECK(all_policies_load(wide, &value) == PM_OK && value.v[3] == 33);
        all_policies_release_read(wide);
    }
    all_policies_drop(&wide);

    /* `snapshot: false`: the box keeps no snapshot, so _load behaves as for Wide. */
    Managed_NoSnap_ThreadSafe plain = {0};
    struct point at = {1, 2}, *pw = NULL;
    CHECK(Managed_NoSnap_ThreadSafe__type.snap_offset == 0);
    CHECK(Managed_Point_ThreadSafe__type.snap_offset != 0); /* the default keeps one */
    if (CHECK(all_policies_new(&plain, at) == PM_OK) &&
        CHECK(all_policies_write(&plain, &pw) == PM_OK)) {
        pw->y = 9;
        CHECK(all_policies_load(plain, &at) == PM_EBUSY); /* our own write borrow */
        all_policies_release_write(plain);
        CHECK(all_policies_load(plain, &at) == PM_OK && at.x == 1 && at.y == 9);
    }
    all_policies_drop(&plain);
}
#endif

/* ---- scoped borrows end on every exit path ---- */

static int32_t F(read_scope_returns_early)(M(Point) h) {
    READ_SCOPE(Point, g, h);
    if (g.status != PM_OK) {
        return -1;
    }
    if (g.value->x > 0) {
        return g.value->x; /* the read borrow must end here too */
    }
    return 0;
}

static pm_status F(write_scope_returns_early)(M(Point) *h, int32_t x) {
    WRITE_SCOPE(Point, g, h);
    if (g.status != PM_OK) {
        return g.status;
    }
    g.value->x = x;
    if (x > 0) {
        return PM_OK; /* early */
    }
    g.value->y = x;
    return PM_OK;
}

#if CELL != CELL_NONE
static pm_status F(write_shared_scope_returns_early)(M(Point) h, int32_t x) {
    WRITE_SHARED_SCOPE(Point, g, h);
    if (g.status != PM_OK) {
        return g.status;
    }
    g.value->x = x;
    return PM_OK;
}
#endif

#if CELL == CELL_RWLOCK
static int32_t F(read_scope_wait_returns_early)(M(Point) h) {
    READ_SCOPE_WAIT(Point, g, h, 20 * MS);
    if (g.status != PM_OK) {
        return -1;
    }
    return g.value->x;
}

static pm_status F(write_scope_wait_returns_early)(M(Point) *h, int32_t x) {
    WRITE_SCOPE_WAIT(Point, g, h, PM_FOREVER);
    if (g.status != PM_OK) {
        return g.status;
    }
    g.value->x = x;
    return PM_OK;
}

static pm_status F(write_shared_scope_wait_returns_early)(M(Point) h, int32_t x) {
    WRITE_SHARED_SCOPE_WAIT(Point, g, h, PM_FOREVER);
    if (g.status != PM_OK) {
        return g.status;
    }
    g.value->x = x;
    return PM_OK;
}
#endif

static void F(test_scopes)(void) {
    M(Point) h = F(point)(5, 0);
    CHECK(F(read_scope_returns_early)(h) == 5);
    CHECK(F(cell_is_free)(h));

    CHECK(F(write_scope_returns_early)(&h, 6) == PM_OK);
    CHECK(F(cell_is_free)(h));
    CHECK(F(x_of)(h) == 6);

    /* Leaving a loop with break ends the borrow as well. */
    for (int i = 0; i < 3; i++) {
        READ_SCOPE(Point, g, h);
        if (CHECK(g.status == PM_OK) && g.value->x == 6) {
            break;
        }
    }
    CHECK(F(cell_is_free)(h));

    /* A write scope on a shared handle writes a copy that *h then owns. */
    M(Point) other = all_policies_dup(h);
    CHECK(F(write_scope_returns_early)(&h, 7) == PM_OK);
    CHECK(h.box != other.box && F(x_of)(h) == 7 && F(x_of)(other) == 6);
    CHECK(F(cell_is_free)(h) && F(cell_is_free)(other));
    all_policies_drop(&other);

#if CELL != CELL_NONE
    /* A scope that could not borrow releases nothing: the reader keeps its borrow. */
    const struct point *r = NULL;
    if (CHECK(all_policies_read(h, &r) == PM_OK)) {
        CHECK(F(write_scope_returns_early)(&h, 8) == CONFLICT);
        CHECK(F(write_shared_scope_returns_early)(h, 8) == CONFLICT);
        CHECK(r->x == 7);
        struct point *w = NULL;
        CHECK(all_policies_write_shared(h, &w) == CONFLICT); /* still read-borrowed */
        all_policies_release_read(h);
    }
    CHECK(F(write_shared_scope_returns_early)(h, 9) == PM_OK);
    CHECK(F(cell_is_free)(h));
    CHECK(F(x_of)(h) == 9);
#endif
#if CELL == CELL_RWLOCK
    CHECK(F(read_scope_wait_returns_early)(h) == 9);
    CHECK(F(cell_is_free)(h));
    CHECK(F(write_scope_wait_returns_early)(&h, 10) == PM_OK);
    CHECK(F(cell_is_free)(h));
    CHECK(F(write_shared_scope_wait_returns_early)(h, 11) == PM_OK);
    CHECK(F(cell_is_free)(h));
    CHECK(F(x_of)(h) == 11);
#endif

    /* Guards of an empty handle report PM_EINVAL and release nothing. */
    M(Point) empty = {0};
    CHECK(F(read_scope_returns_early)(empty) == -1);
    CHECK(F(write_scope_returns_early)(&empty, 1) == PM_EINVAL);
    all_policies_drop(&h);
}

/* ---- fields types: generated clone and drop ---- */

static void F(test_fields_clone_and_drop)(void) {
    long blobs = blob_live, boxes = boxes_live;
    M(Blob) tag = F(blob)("tag");
    V(Item) v = {1, 10, tag}; /* the handle moves into v */

    V(Item) c;
    CHECK(CAT(V(Item), clone)(&c, &v) == PM_OK);
    CHECK(c.id == 1 && c.value == 10 && c.tag.box == tag.box);
    CHECK(all_policies_refcount(tag) == 2); /* clone dups the managed field */
    CAT(V(Item), drop)(&c);
    CHECK(c.tag.box == NULL && all_policies_refcount(tag) == 1);
    CHECK(CAT(V(Item), clone)(NULL, &v) == PM_EINVAL);
    CHECK(CAT(V(Item), clone)(&c, NULL) == PM_EINVAL);
    CAT(V(Item), drop)(NULL); /* no-op */

    M(Item) i = {0};
    CHECK(all_policies_new(&i, v) == PM_OK);

    /* Copy on write of an Item dups its child instead of copying it. */
    M(Item) other = all_policies_dup(i);
    long calls = blob_clone_calls;
    V(Item) *w = NULL;
    if (CHECK(all_policies_write(&i, &w) == PM_OK)) {
        CHECK(i.box != other.box);
        CHECK(w->tag.box == tag.box && all_policies_refcount(tag) == 2);
        CHECK(blob_clone_calls == calls && blob_live == blobs + 1);
        w->value = 11;
        all_policies_release_write(i);
    }
    const V(Item) *r = NULL;
    if (CHECK(all_policies_read(other, &r) == PM_OK)) {
        CHECK(r->value == 10);
        all_policies_release_read(other);
    }

    /* Unique now: in place, the child untouched. */
    if (CHECK(all_policies_write(&i, &w) == PM_OK)) {
        CHECK(all_policies_refcount(w->tag) == 2);
        all_policies_release_write(i);
    }

    all_policies_drop(&other); /* drops its tag owner */
    CHECK(all_policies_refcount(tag) == 1);
    CHECK(blob_live == blobs + 1);
    all_policies_drop(&i); /* the last owner of the Item drops the last owner of the tag */
    CHECK(blob_live == blobs && boxes_live == boxes);
}

/* ---- moving out, raw pointers, identity (Rust std's rc/sync tests: try_unwrap,
 *      into_inner, into_from_raw, ptr_eq, get_mut) ---- */

static void F(test_try_unwrap)(void) {
    long blobs = blob_live, boxes = boxes_live;
    /* Rust: assert_eq!(Rc::try_unwrap(Rc::new(3)), Ok(3)) */
    M(Blob) x = F(blob)("three");
    struct blob out = {NULL, 0};
    long calls = blob_clone_calls;
    CHECK(all_policies_try_unwrap(&x, &out) == PM_OK);
    CHECK(x.box == NULL && strcmp(out.data, "three") == 0);
    CHECK(blob_clone_calls == calls && blob_live == blobs + 1); /* moved: no clone, no drop */
    CHECK(boxes_live == boxes);
    blob_drop(&out);
    /* Rust: let x = Rc::new(4); let _y = x.clone(); assert_eq!(Rc::try_unwrap(x), Err(..)) */
    M(Blob) y = F(blob)("four");
    M(Blob) y2 = all_policies_dup(y);
    CHECK(all_policies_try_unwrap(&y, &out) == PM_ESHARED);
    CHECK(y.box == y2.box && all_policies_refcount(y) == 2); /* nothing changed */
    all_policies_drop(&y2);
    CHECK(all_policies_try_unwrap(&y, &out) == PM_OK && strcmp(out.data, "four") == 0);
    blob_drop(&out);
#if CELL != CELL_NONE
    /* The only owner with a borrow held: the borrow's status, nothing moves. */
    M(Point) p = F(point)(5, 6);
    const struct point *r = NULL;
    CHECK(all_policies_read(p, &r) == PM_OK);
    struct point pv = {0, 0};
    CHECK(all_policies_try_unwrap(&p, &pv) == (CELL == CELL_BORROW ? PM_EBORROWED : PM_EBUSY));
    CHECK(p.box != NULL && pv.x == 0);
    all_policies_release_read(p);
    CHECK(all_policies_try_unwrap(&p, &pv) == PM_OK && pv.x == 5 && pv.y == 6);
#endif
    M(Point) none = {0};
    struct point nv;
    CHECK(all_policies_try_unwrap(&none, &nv) == PM_EINVAL);
    CHECK(OP(Point, try_unwrap)(NULL, &nv) == PM_EINVAL);
    CHECK(blob_live == blobs && boxes_live == boxes);
}

static void F(test_unwrap_or_drop)(void) {
    long blobs = blob_live, boxes = boxes_live;
    /* Rust: let x = Rc::new(3); let y = x.clone(); into_inner(x) == None; into_inner(y) == Some */
    M(Blob) x = F(blob)("three");
    M(Blob) y = all_policies_dup(x);
    struct blob out = {NULL, 0};
    CHECK(all_policies_unwrap_or_drop(&x, &out) == PM_ESHARED);
    CHECK(x.box == NULL && out.data == NULL && all_policies_refcount(y) == 1);
    CHECK(all_policies_unwrap_or_drop(&y, &out) == PM_OK);
    CHECK(y.box == NULL && strcmp(out.data, "three") == 0 && blob_live == blobs + 1);
    blob_drop(&out);
    CHECK(all_policies_unwrap_or_drop(&y, &out) == PM_EINVAL);
    CHECK(blob_live == blobs && boxes_live == boxes);
}

static void F(test_into_inner)(void) {
    long blobs = blob_live, boxes = boxes_live;
    M(Blob) x = F(blob)("v");
    M(Blob) y = all_policies_dup(x);
    struct blob a = {NULL, 0}, b = {NULL, 0};
    long calls = blob_clone_calls;
    /* Shared: a clone, and this owner is given up. */
    CHECK(all_policies_into_inner(&x, &a) == PM_OK);
    CHECK(x.box == NULL && blob_clone_calls == calls + 1 && all_policies_refcount(y) == 1);
    /* Unique: moved. */
    CHECK(all_policies_into_inner(&y, &b) == PM_OK);
    CHECK(y.box == NULL && blob_clone_calls == calls + 1);
    CHECK(strcmp(a.data, "v") == 0 && strcmp(b.data, "v") == 0 && a.data != b.data);
    blob_drop(&a);
    blob_drop(&b);
    /* A failing clone leaves *h as it was. */
    M(Blob) s = F(blob)("s");
    M(Blob) t = all_policies_dup(s);
    blob_clone_fail = PM_ENOMEM;
    CHECK(all_policies_into_inner(&s, &a) == PM_ENOMEM);
    blob_clone_fail = PM_EINVAL;
    CHECK(all_policies_into_inner(&s, &a) == PM_ECLONE);
    blob_clone_fail = PM_OK;
    CHECK(s.box == t.box && all_policies_refcount(s) == 2);
    alloc_fails = true; /* a move allocates nothing */
    all_policies_drop(&t);
    CHECK(all_policies_into_inner(&s, &a) == PM_OK && strcmp(a.data, "s") == 0);
    alloc_fails = false;
    blob_drop(&a);
    CHECK(blob_live == blobs && boxes_live == boxes);
}

static void F(test_into_from_raw)(void) {
    long boxes = boxes_live;
    /* Rust: let x = Rc::new(Box::new("hello")); let x_ptr = Rc::into_raw(x);
     *       assert_eq!(**x_ptr, "hello"); let x = Rc::from_raw(x_ptr) */
    M(Point) x = F(point)(7, 8);
    M(Point) keep = all_policies_dup(x);
    const struct point *raw = all_policies_into_raw(x); /* x's owner travels in raw */
    CHECK(raw != NULL && raw->x == 7);
    M(Point) back = OP(Point, from_raw)(raw);
    CHECK(all_policies_ptr_eq(back, keep) && all_policies_refcount(back) == 2);
    all_policies_drop(&back);
    all_policies_drop(&keep);
    CHECK(boxes_live == boxes);
    M(Point) none = {0};
    CHECK(all_policies_into_raw(none) == NULL);
    CHECK(OP(Point, from_raw)(NULL).box == NULL);
}

static void F(test_ptr_eq)(void) {
    /* Rust: five = Rc::new(5); same_five = five.clone(); other_five = Rc::new(5) */
    M(Point) five = F(point)(5, 5);
    M(Point) same_five = all_policies_dup(five);
    M(Point) other_five = F(point)(5, 5);
    CHECK(all_policies_ptr_eq(five, same_five));
    CHECK(!all_policies_ptr_eq(five, other_five));
    M(Point) none = {0}, none2 = {0};
    CHECK(all_policies_ptr_eq(none, none2) && !all_policies_ptr_eq(five, none));
    all_policies_drop(&five);
    all_policies_drop(&same_five);
    all_policies_drop(&other_five);
}

#if CELL == CELL_NONE
static void F(test_get)(void) {
    M(Point) p = F(point)(3, 4);
    M(Point) q = all_policies_dup(p);
    const struct point *v = all_policies_get(p);
    CHECK(v != NULL && v->x == 3 && v->y == 4 && v == all_policies_get(q));
    all_policies_drop(&q);
    all_policies_drop(&p);
    M(Point) none = {0};
    CHECK(all_policies_get(none) == NULL);
}
#endif

/* ---- a long chain is dropped in constant stack ---- */

static void F(test_long_chain_drop)(void) {
    const long n = quick() ? 100000 : CHAIN_LENGTH;
    long boxes = boxes_live;
    M(Node) head = {0}, middle = {0};
    for (long i = 0; i < n; i++) {
        M(Node) node = {0};
        pm_status status = all_policies_new(&node, ((V(Node)){i, head}));
        if (status != PM_OK) { /* one check for the loop, not n of them */
            CHECK(status == PM_OK);
            break;
        }
        head = node; /* the old head moved into the new node */
        if (i == n / 2) {
            middle = all_policies_dup(node);
        }
    }
    CHECK(boxes_live == boxes + n);
    const V(Node) *r = NULL;
    if (CHECK(all_policies_read(head, &r) == PM_OK)) {
        CHECK(r->value == n - 1);
        all_policies_release_read(head);
    }

    /* Dropping the head frees the nodes down to the one still owned elsewhere. */
    all_policies_drop(&head);
    CHECK(boxes_live == boxes + n / 2 + 1);
    CHECK(all_policies_refcount(middle) == 1);
    all_policies_drop(&middle);
    CHECK(boxes_live == boxes);
}

/* ---- box_align: 64 (Aligned): every box starts a cache line, whichever path made it ---- */

#if CELL == CELL_BORROW && !COUNTER_ATOMIC
#define OTHER Frozen /* the policy a conversion test converts to */
#else
#define OTHER SingleThreaded
#endif

static void F(test_box_align)(void) {
    CHECK(CAT(M(Aligned), _type).box_align == 64);
    CHECK(CAT(M(Aligned), _type).box_size % 64 == 0); /* no other memory in its last line */
    struct point at = {1, 2}, *w = NULL;
    M(Aligned) h = {0}, other = {0};
    if (!CHECK(all_policies_new(&h, at) == PM_OK)) {
        return;
    }
    CHECK(ALIGNED_AT_64(h.box)); /* _new */
    M(Aligned) shared = all_policies_dup(h);
    if (CHECK(all_policies_write(&h, &w) == PM_OK)) { /* shared: copy on write, inline */
        w->x = 3;
        all_policies_release_write(h);
    }
    CHECK(h.box != shared.box && ALIGNED_AT_64(h.box));
#if CELL == CELL_RWLOCK
    M(Aligned) again = all_policies_dup(h);
    if (CHECK(all_policies_write_wait(&h, &w, PM_FOREVER) == PM_OK)) { /* the runtime's copy */
        w->x = 4;
        all_policies_release_write(h);
    }
    CHECK(h.box != again.box && ALIGNED_AT_64(h.box));
    all_policies_drop(&again);
#endif
    /* Converted: a shared box is copied, a unique one converted in place. */
    MX(Aligned, OTHER) converted = {0};
    M(Aligned) keep = all_policies_dup(h);
    if (CHECK(CAT(M(Aligned), CAT(to, OTHER))(&h, &converted) == PM_OK)) {
        CHECK(converted.box != (void *)keep.box && ALIGNED_AT_64(converted.box));
        all_policies_drop(&converted);
    }
    CHECK(CAT(M(Aligned), CAT(to, OTHER))(&keep, &converted) == PM_OK &&
          ALIGNED_AT_64(converted.box));
    all_policies_drop(&converted);
    /* Reuse: a token of this box's size is used only when it is aligned too. */
    pm_reuse token = {NULL, 0};
    void *box = shared.box;
    all_policies_drop_reuse(&shared, &token);
    CHECK(token.memory == box);
    if (CHECK(all_policies_new_reuse(&other, &token, at) == PM_OK)) {
        CHECK((void *)other.box == box && token.memory == NULL);
    }
    all_policies_drop(&other);
    all_policies_drop(&h); /* emptied by the conversions: nothing */
    all_policies_drop(&keep);
}

#undef OTHER

static void F(run)(void) {
    F(test_new)();
    F(test_new_out_of_memory_keeps_value)();
    F(test_dup)();
    F(test_dup_at_the_limit)();
    F(test_drop)();
    F(test_read)();
    F(test_write_unique_in_place)();
    F(test_write_shared_box_copies)();
#if CELL != CELL_NONE
    F(test_write_refused_while_borrowed)();
    F(test_write_shared)();
#endif
    F(test_write_copy_failures)();
#if CELL == CELL_RWLOCK
    F(test_wait_forms)();
#endif
#if CELL != CELL_NONE
    F(test_downgrade_write)();
#endif
#if CELL == CELL_RWLOCK
    F(test_downgrade_write_locks)();
#endif
    F(test_scopes)();
    F(test_fields_clone_and_drop)();
    F(test_try_unwrap)();
    F(test_unwrap_or_drop)();
    F(test_into_inner)();
    F(test_into_from_raw)();
    F(test_ptr_eq)();
#if CELL == CELL_NONE
    F(test_get)();
#endif
    F(test_long_chain_drop)();
    F(test_box_align)();
}

#undef CONFLICT
#undef SET_RC
#undef SET_MAX_READERS
#undef SET_NO_READERS
#undef CELL_STATE

#endif /* POLICY */
