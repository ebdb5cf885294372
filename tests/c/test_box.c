/* test_box.c — the storage block (pm_box.h, pm_box.c) on its own: boxes laid
 * out by hand as generated code lays them out, with descriptors written here,
 * no generator involved. Creation, copy on write (with its failure paths and
 * the snapshot shortcut), destruction of long chains in constant stack, the
 * value's clone and drop, the contended _load, and a conversion in place between
 * two layouts of one size whose values sit at different offsets.
 *
 * Built with runtime/pm.c runtime/pm_box.c runtime/pm_rwlock.c runtime/pm_region.c runtime/pm_store.c (any flags).
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pm.h"
#include "pm_internal.h"

#include "check.h"

static bool alloc_fails;
#define COUNTING_SHOULD_FAIL() alloc_fails
#include "counting_alloc.h"

/* What waiting on a lock this thread holds returns: PM_DEBUG sees it. */
#ifdef PM_DEBUG
#define WAIT_ON_OWN_LOCK PM_EDEADLK
#else
#define WAIT_ON_OWN_LOCK PM_ETIMEDOUT
#endif

/* ---- A copy: trivial value under counter atomic + rwlock, with a snapshot ---- */

struct pair {
    int64_t a, b;
};

typedef struct pair_box {
    pm_count_atomic rc;
    pm_rwlock cell;
    struct pair value;
    pm_snap_word snap[];
} pair_box;

static const pm_box_type pair_type = {
    .name = "pair_box",
    .box_size = PM_SNAP_BOX_SIZE(pair_box, sizeof(struct pair)),
    .value_offset = offsetof(pair_box, value),
    .value_size = sizeof(struct pair),
    .cell_offset = offsetof(pair_box, cell),
    .snap_offset = PM_SNAP_OFFSET(pair_box, sizeof(struct pair)),
    .counter = PM_COUNTER_ATOMIC,
    .cell = PM_CELL_RWLOCK,
};

/* ---- The same, too wide for a snapshot ---- */

struct wide {
    int64_t v[16];
};

typedef struct wide_box {
    pm_count_atomic rc;
    pm_rwlock cell;
    struct wide value;
    pm_snap_word snap[];
} wide_box;

static const pm_box_type wide_type = {
    .name = "wide_box",
    .box_size = PM_SNAP_BOX_SIZE(wide_box, sizeof(struct wide)),
    .value_offset = offsetof(wide_box, value),
    .value_size = sizeof(struct wide),
    .cell_offset = offsetof(wide_box, cell),
    .snap_offset = PM_SNAP_OFFSET(wide_box, sizeof(struct wide)),
    .counter = PM_COUNTER_ATOMIC,
    .cell = PM_CELL_RWLOCK,
};

/* ---- A value with a clone hook that can fail, under plain + borrow ---- */

static int hook_status = PM_OK; /* what clone_text returns next */
static long texts_live;

struct text {
    char *s;
};

static pm_status clone_text(void *dst, const void *src) {
    if (hook_status != PM_OK) {
        return (pm_status)hook_status;
    }
    const struct text *from = src;
    struct text *to = dst;
    size_t n = strlen(from->s) + 1;
    to->s = malloc(n);
    if (to->s == NULL) {
        return PM_ENOMEM;
    }
    memcpy(to->s, from->s, n);
    texts_live++;
    return PM_OK;
}

static void drop_text(void *value) {
    struct text *t = value;
    free(t->s);
    t->s = NULL;
    texts_live--;
}

typedef struct text_box {
    pm_count_plain rc;
    pm_cell_borrow cell;
    struct text value;
} text_box;

static const pm_box_type text_type = {
    .name = "text_box",
    .box_size = sizeof(text_box),
    .value_offset = offsetof(text_box, value),
    .value_size = sizeof(struct text),
    .cell_offset = offsetof(text_box, cell),
    .counter = PM_COUNTER_PLAIN,
    .cell = PM_CELL_BORROW,
    .clone = clone_text,
    .drop = drop_text,
};

/* ---- A list node holding a handle of its own type, under plain + none ---- */

typedef struct node_box node_box;
struct node {
    int64_t value;
    node_box *next; /* a handle: one box pointer */
};

struct node_box {
    union {
        struct {
            pm_count_plain rc;
        };
        pm_dead dead;
    };
    struct node value;
};

extern const pm_box_type node_type;
static const pm_field node_fields[] = {{offsetof(struct node, next), &node_type, false}};
const pm_box_type node_type = {
    .name = "node_box",
    .box_size = sizeof(node_box),
    .value_offset = offsetof(node_box, value),
    .value_size = sizeof(struct node),
    .counter = PM_COUNTER_PLAIN,
    .cell = PM_CELL_NONE,
    .fields = node_fields,
    .field_count = 1,
};

static pair_box *new_pair(int64_t a, int64_t b) {
    pair_box *box = pm_box_alloc(&pair_type);
    if (box != NULL) {
        box->value = (struct pair){a, b};
        pm_snap_init(box->snap, &box->value, sizeof box->value);
    }
    return box;
}

/* ---- Layout ---- */

static void test_snapshot_only_where_the_value_fits(void) {
    CHECK(pair_type.snap_offset == offsetof(pair_box, snap));
    CHECK(pair_type.box_size >= offsetof(pair_box, snap) + 3 * sizeof(pm_snap_word));
    /* A wide value's box carries no snapshot words and no sequence. */
    CHECK(wide_type.snap_offset == 0);
    CHECK(wide_type.box_size == sizeof(wide_box));
    CHECK(sizeof(wide_box) == offsetof(wide_box, value) + sizeof(struct wide));
}

/* ---- Creation and destruction ---- */

static void test_alloc_gives_count_one_and_a_free_cell(void) {
    long before = boxes_live;
    pair_box *box = pm_box_alloc(&pair_type);
    CHECK(box != NULL);
    CHECK(pm_count_atomic_get(&box->rc) == 1);
    CHECK(pm_rwlock_try_write(&box->cell) == PM_OK);
    pm_rwlock_release_write(&box->cell);
    CHECK(boxes_live == before + 1);
    pm_box_destroy(&pair_type, box);
    CHECK(boxes_live == before);

    alloc_fails = true;
    CHECK(pm_box_alloc(&pair_type) == NULL);
    alloc_fails = false;
    CHECK(boxes_live == before);
}

static void test_destroy_runs_the_drop_hook_once(void) {
    text_box *box = pm_box_alloc(&text_type);
    struct text t = {malloc(4)};
    memcpy(t.s, "abc", 4);
    texts_live++;
    box->value = t;
    pm_box_destroy(&text_type, box);
    CHECK(texts_live == 0);
}

static node_box *chain(long length) {
    node_box *head = NULL;
    for (long i = 0; i < length; i++) {
        node_box *box = pm_box_alloc(&node_type);
        if (box == NULL) {
            return head;
        }
        box->value = (struct node){i, head};
        head = box;
    }
    return head;
}

static void test_destroying_a_long_chain_uses_constant_stack(void) {
    long before = boxes_live;
    node_box *head = chain(getenv("PM_TEST_QUICK") ? 100000 : 1000000);
    CHECK(head != NULL);
    pm_box_destroy(&node_type, head); /* recursion would overflow the stack here */
    CHECK(boxes_live == before);
}

static void test_destroy_stops_at_a_shared_child(void) {
    long before = boxes_live;
    node_box *tail = chain(3);
    node_box *a = pm_box_alloc(&node_type);
    a->value = (struct node){10, tail};
    pm_count_plain_inc(&tail->rc); /* b shares the tail too */
    node_box *b = pm_box_alloc(&node_type);
    b->value = (struct node){20, tail};
    pm_box_destroy(&node_type, a);
    CHECK(boxes_live == before + 4); /* b and the 3-node tail */
    CHECK(pm_count_plain_get(&tail->rc) == 1);
    pm_box_destroy(&node_type, b);
    CHECK(boxes_live == before);
}

/* ---- The value's clone and drop ---- */

static void test_value_clone_dups_managed_fields(void) {
    node_box *tail = chain(1);
    struct node src = {1, tail}, dst = {0, NULL};
    CHECK(pm_value_clone(&node_type, &dst, &src) == PM_OK);
    CHECK(dst.value == 1 && dst.next == tail);
    CHECK(pm_count_plain_get(&tail->rc) == 2);
    pm_value_drop(&node_type, &dst);
    CHECK(dst.next == NULL); /* left empty */
    CHECK(pm_count_plain_get(&tail->rc) == 1);
    pm_value_drop(&node_type, &src);
    CHECK(src.next == NULL);
    pm_value_drop(&node_type, NULL); /* nothing */
    CHECK(pm_value_clone(&node_type, NULL, &src) == PM_EINVAL);
}

static void test_value_clone_maps_hook_failures(void) {
    struct text src = {"hello"}, dst = {NULL};
    hook_status = PM_ENOMEM;
    CHECK(pm_value_clone(&text_type, &dst, &src) == PM_ENOMEM);
    hook_status = PM_EBUSY; /* any other failure is the hook's */
    CHECK(pm_value_clone(&text_type, &dst, &src) == PM_ECLONE);
    hook_status = PM_OK;
    CHECK(pm_value_clone(&text_type, &dst, &src) == PM_OK);
    CHECK(strcmp(dst.s, "hello") == 0);
    pm_value_drop(&text_type, &dst);
    CHECK(texts_live == 0);
}

/* ---- Copy on write ---- */

static void test_copy_for_write_gives_a_held_unique_copy(void) {
    long before = boxes_live;
    pair_box *shared = new_pair(1, 2);
    pm_count_atomic_inc(&shared->rc); /* two owners */
    void *copy = NULL;
    CHECK(pm_box_copy_for_write(&pair_type, shared, &copy, false, 0) == PM_OK);
    pair_box *mine = copy;
    CHECK(mine != shared && mine->value.a == 1 && mine->value.b == 2);
    CHECK(pm_count_atomic_get(&mine->rc) == 1);
    CHECK(pm_count_atomic_get(&shared->rc) == 1); /* our owner of it was given up */
    CHECK(pm_rwlock_try_read(&mine->cell) == PM_EBUSY); /* held for write */
    mine->value.a = 5;
    pm_snap_publish(mine->snap, &mine->value, sizeof mine->value);
    pm_rwlock_release_write(&mine->cell);
    struct pair seen;
    CHECK(pm_snap_try_load(mine->snap, &seen, sizeof seen) && seen.a == 5);
    CHECK(shared->value.a == 1);
    pm_box_destroy(&pair_type, mine);
    pm_box_destroy(&pair_type, shared);
    CHECK(boxes_live == before);
}

static void test_copy_for_write_from_the_snapshot_allocates_once(void) {
    pair_box *shared = new_pair(3, 4);
    pm_count_atomic_inc(&shared->rc);
    long allocated = allocations;
    void *copy = NULL;
    CHECK(pm_box_copy_for_write(&pair_type, shared, &copy, false, 0) == PM_OK);
    CHECK(allocations == allocated + 1);
    pm_rwlock_release_write(&((pair_box *)copy)->cell);
    pm_box_destroy(&pair_type, copy);
    pm_box_destroy(&pair_type, shared);
}

static void test_copy_for_write_of_a_wide_value_allocates_once(void) {
    wide_box *shared = pm_box_alloc(&wide_type);
    memset(&shared->value, 7, sizeof shared->value);
    pm_count_atomic_inc(&shared->rc);
    long allocated = allocations;
    void *copy = NULL;
    CHECK(pm_box_copy_for_write(&wide_type, shared, &copy, false, 0) == PM_OK);
    CHECK(allocations == allocated + 1); /* no snapshot attempt, no second allocation */
    CHECK(memcmp(&((wide_box *)copy)->value, &shared->value, sizeof shared->value) == 0);
    pm_rwlock_release_write(&((wide_box *)copy)->cell);
    pm_box_destroy(&wide_type, copy);
    pm_box_destroy(&wide_type, shared);
}

static void test_copy_for_write_failures_change_nothing(void) {
    long before = boxes_live;
    /* Out of memory. */
    pair_box *shared = new_pair(1, 1);
    pm_count_atomic_inc(&shared->rc);
    void *copy = NULL;
    alloc_fails = true;
    CHECK(pm_box_copy_for_write(&pair_type, shared, &copy, false, 0) == PM_ENOMEM);
    alloc_fails = false;
    CHECK(copy == NULL && pm_count_atomic_get(&shared->rc) == 2);
    /* A writer holds the lock: refused without waiting, or after the timeout. */
    CHECK(pm_rwlock_try_write(&shared->cell) == PM_OK);
    CHECK(pm_box_copy_for_write(&pair_type, shared, &copy, false, 0) == PM_EBUSY);
    CHECK(pm_box_copy_for_write(&pair_type, shared, &copy, true, 1000000) == WAIT_ON_OWN_LOCK);
    pm_rwlock_release_write(&shared->cell);
    CHECK(copy == NULL && pm_count_atomic_get(&shared->rc) == 2);
    CHECK(boxes_live == before + 1);
    pm_count_atomic_dec(&shared->rc);
    pm_box_destroy(&pair_type, shared);

    /* The clone hook fails: its status, the copy freed, the box untouched. */
    text_box *text = pm_box_alloc(&text_type);
    text->value.s = malloc(2);
    memcpy(text->value.s, "x", 2);
    texts_live++;
    pm_count_plain_inc(&text->rc);
    hook_status = PM_EOVERFLOW;
    CHECK(pm_box_copy_for_write(&text_type, text, &copy, false, 0) == PM_ECLONE);
    hook_status = PM_OK;
    CHECK(copy == NULL && pm_count_plain_get(&text->rc) == 2 && texts_live == 1);
    /* Write-borrowed: the borrow's status. */
    CHECK(pm_cell_borrow_try_write(&text->cell) == PM_OK);
    CHECK(pm_box_copy_for_write(&text_type, text, &copy, false, 0) == PM_EBORROWED);
    pm_cell_borrow_release_write(&text->cell);
    /* And when it works, the copy owns a clone and the old box loses an owner. */
    CHECK(pm_box_copy_for_write(&text_type, text, &copy, false, 0) == PM_OK);
    CHECK(texts_live == 2 && pm_count_plain_get(&text->rc) == 1);
    pm_cell_borrow_release_write(&((text_box *)copy)->cell);
    pm_box_destroy(&text_type, copy);
    pm_box_destroy(&text_type, text);
    CHECK(texts_live == 0 && boxes_live == before);
}

static void test_copy_for_write_destroys_a_box_whose_other_owners_left(void) {
    /* The caller was counted as sharing, but by the time the copy is made it is the
     * last owner (the others dropped meanwhile): the old box is destroyed. */
    long before = boxes_live;
    text_box *text = pm_box_alloc(&text_type);
    text->value.s = malloc(2);
    memcpy(text->value.s, "y", 2);
    texts_live++;
    void *copy = NULL;
    CHECK(pm_box_copy_for_write(&text_type, text, &copy, false, 0) == PM_OK);
    CHECK(boxes_live == before + 1 && texts_live == 1);
    pm_cell_borrow_release_write(&((text_box *)copy)->cell);
    pm_box_destroy(&text_type, copy);
    CHECK(boxes_live == before && texts_live == 0);
}

/* ---- The contended _load ---- */

static void test_load_contended(void) {
    pair_box *box = new_pair(8, 9);
    struct pair out = {0, 0};
    CHECK(pm_box_load_contended(&pair_type, box, &out) == PM_OK && out.a == 8 && out.b == 9);
    /* A publish that looks stuck (odd sequence): after a bounded spin, the read lock. */
    atomic_store_explicit(&box->snap[0], 1u, memory_order_relaxed);
    out.a = 0;
    CHECK(pm_box_load_contended(&pair_type, box, &out) == PM_OK && out.a == 8);
    atomic_store_explicit(&box->snap[0], 2u, memory_order_relaxed);
    pm_box_destroy(&pair_type, box);

    wide_box *wide = pm_box_alloc(&wide_type);
    memset(&wide->value, 1, sizeof wide->value);
    struct wide w;
    CHECK(pm_box_load_contended(&wide_type, wide, &w) == PM_OK && w.v[15] == wide->value.v[15]);
    pm_box_destroy(&wide_type, wide);
}

/* ---- Conversion between two layouts of one size whose values sit at different offsets ---- */

typedef struct high_box { /* {atomic, rwlock}: the value after the lock */
    pm_count_atomic rc;
    pm_rwlock cell;
    int32_t value;
} high_box;

typedef struct low_box { /* {plain, none}: the value right after the count, same size */
    pm_count_plain rc;
    int32_t value;
    char spare[sizeof(high_box) - 2 * sizeof(int32_t)];
} low_box;

extern const pm_box_type low_type, high_type;
static const pm_box_type *const low_high_family[] = {&low_type, &high_type};

const pm_box_type low_type = {
    .name = "low_box", .box_size = sizeof(low_box), .value_offset = offsetof(low_box, value),
    .value_size = sizeof(int32_t), .counter = PM_COUNTER_PLAIN, .cell = PM_CELL_NONE,
    .policy = 0, .family = low_high_family, .family_count = 2,
};

const pm_box_type high_type = {
    .name = "high_box", .box_size = sizeof(high_box), .value_offset = offsetof(high_box, value),
    .value_size = sizeof(int32_t), .cell_offset = offsetof(high_box, cell),
    .counter = PM_COUNTER_ATOMIC, .cell = PM_CELL_RWLOCK,
    .policy = 1, .family = low_high_family, .family_count = 2,
};

static void test_convert_in_place_moves_the_value_inside_the_box(void) {
    if (!CHECK(sizeof(low_box) == sizeof(high_box) &&
               offsetof(low_box, value) != offsetof(high_box, value))) {
        return;
    }
    low_box *low = pm_box_alloc(&low_type);
    low->value = 42;
    long allocs = allocations;
    void *out = NULL;
    CHECK(pm_box_convert(&low_type, &low_type, low, &out) == PM_EINVAL && out == NULL);
    CHECK(pm_box_convert(&low_type, &pair_type, low, &out) == PM_EINVAL && out == NULL);
    CHECK(pm_box_convert(&low_type, &high_type, low, &out) == PM_OK && out == (void *)low);
    high_box *high = out;
    CHECK(allocations == allocs && high->value == 42);
    CHECK(pm_count_atomic_get(&high->rc) == 1 && !pm_rwlock_in_use(&high->cell));
    CHECK(pm_box_convert(&high_type, &low_type, high, &out) == PM_OK && out == (void *)high);
    low = out;
    CHECK(allocations == allocs && low->value == 42 && pm_count_plain_get(&low->rc) == 1);
    pm_box_destroy(&low_type, low);
}

int main(void) {
    pm_set_allocator(counting_alloc, counting_free, NULL);
    test_snapshot_only_where_the_value_fits();
    test_alloc_gives_count_one_and_a_free_cell();
    test_destroy_runs_the_drop_hook_once();
    test_destroying_a_long_chain_uses_constant_stack();
    test_destroy_stops_at_a_shared_child();
    test_value_clone_dups_managed_fields();
    test_value_clone_maps_hook_failures();
    test_copy_for_write_gives_a_held_unique_copy();
    test_copy_for_write_from_the_snapshot_allocates_once();
    test_copy_for_write_of_a_wide_value_allocates_once();
    test_copy_for_write_failures_change_nothing();
    test_copy_for_write_destroys_a_box_whose_other_owners_left();
    test_load_contended();
    test_convert_in_place_moves_the_value_inside_the_box();
    CHECK(boxes_live == 0);
    pm_set_allocator(NULL, NULL, NULL);
    return check_summary("test_box");
}
