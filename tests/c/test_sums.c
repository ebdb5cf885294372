/* test_sums.c — sum types (variants:) under every building-block combination of
 * tests/specs/sums.yaml (test_sums_policy.h, once per policy): a box only as large
 * as its variant, nullary variants that allocate nothing, constructors, _tag, copy
 * on write, Perceus reuse across variants of one size, weak and hooked fields, every
 * allocation failing in turn; and, under the thread-safe policies, one shared
 * nullary box and one shared tree used from two threads at once. */
#define _POSIX_C_SOURCE 200809L

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sums.h"

#include "check.h"

/* The allocator hook: counts live boxes, remembers the last size asked for, and
 * fails once `fail_after` more allocations have succeeded (-1: never). */
static _Atomic long boxes_live, allocations, fail_after = -1;
static _Atomic size_t last_size;

static void *sized_alloc(size_t size, void *ctx) {
    (void)ctx;
    if (fail_after == 0) {
        return NULL;
    }
    if (fail_after > 0) {
        fail_after--;
    }
    void *p = malloc(size);
    if (p != NULL) {
        boxes_live++;
        allocations++;
        last_size = size;
    }
    return p;
}

static void sized_free(void *ptr, size_t size, void *ctx) {
    (void)size;
    (void)ctx;
    boxes_live--;
    free(ptr);
}

#define EACH_POLICY_BODY "test_sums_policy.h"
#include "each_policy.h"

static bool quick(void) { return getenv("PM_TEST_QUICK") != NULL; }

/* Two threads dup, read and drop the one shared Nil box, and clone-take one shared tree. */
static Managed_Expr_ThreadSafe shared_nil_ts, shared_tree_ts;
static Managed_Expr_Frozen shared_nil_frozen;
static long rounds;

static void *use_shared(void *arg) {
    (void)arg;
    for (long r = 0; r < rounds; r++) {
        Managed_Expr_ThreadSafe nil = Managed_Expr_ThreadSafe_dup(shared_nil_ts);
        CHECK(Managed_Expr_ThreadSafe_tag(nil) == Expr_Nil);
        const Expr_ThreadSafe *v = NULL;
        if (Managed_Expr_ThreadSafe_read(nil, &v) == PM_OK) {
            CHECK(v->tag == Expr_Nil);
            Managed_Expr_ThreadSafe_release_read(nil);
        }
        Managed_Expr_ThreadSafe_drop(&nil);
        Managed_Expr_Frozen frozen = Managed_Expr_Frozen_dup(shared_nil_frozen);
        CHECK(Managed_Expr_Frozen_get(frozen)->tag == Expr_Nil);
        Managed_Expr_Frozen_drop(&frozen);
        Managed_Expr_ThreadSafe tree = Managed_Expr_ThreadSafe_dup(shared_tree_ts);
        Expr_ThreadSafe out;
        pm_reuse token = {NULL, 0};
        pm_status status = Managed_Expr_ThreadSafe_take_reuse(&tree, &out, &token);
        if (status == PM_OK) {
            CHECK(out.tag == Expr_Add);
            Expr_ThreadSafe_drop(&out);
        } else {
            CHECK(status == PM_EBUSY); /* the other thread's read lock on the shared box */
            Managed_Expr_ThreadSafe_drop(&tree);
        }
        pm_reuse_drop(&token);
    }
    return NULL;
}

static void test_shared_nullary_and_tree_across_threads(void) {
    long live = boxes_live;
    rounds = quick() ? 2000 : 100000;
    Managed_Expr_ThreadSafe x = {NULL}, y = {NULL};
    CHECK(Managed_Expr_ThreadSafe_new_Nil(&shared_nil_ts) == PM_OK);
    CHECK(Managed_Expr_Frozen_new_Nil(&shared_nil_frozen) == PM_OK);
    CHECK(Managed_Expr_ThreadSafe_new_Val(&x, 1) == PM_OK);
    CHECK(Managed_Expr_ThreadSafe_new_Nil(&y) == PM_OK);
    CHECK(Managed_Expr_ThreadSafe_new_Add(&shared_tree_ts, x, y) == PM_OK);
    pthread_t t;
    CHECK(pthread_create(&t, NULL, use_shared, NULL) == 0);
    use_shared(NULL);
    pthread_join(t, NULL);
    CHECK(Managed_Expr_ThreadSafe_refcount(shared_nil_ts) == PM_COUNT_SATURATED);
    CHECK(Managed_Expr_ThreadSafe_refcount(shared_tree_ts) == 1);
    Managed_Expr_ThreadSafe_drop(&shared_tree_ts);
    Managed_Expr_ThreadSafe_drop(&shared_nil_ts);
    Managed_Expr_Frozen_drop(&shared_nil_frozen);
    CHECK(boxes_live == live);
}

int main(void) {
    pm_set_allocator(sized_alloc, sized_free, NULL);
    long n = quick() ? 2000 : 100000;
    test_sums_SingleThreaded(n);
    test_sums_ThreadSafe(n);
    test_sums_Local(n);
    test_sums_Frozen(n);
    test_shared_nullary_and_tree_across_threads();
    CHECK(boxes_live == 0);
    CHECK(res_live == 0);
    return check_summary("test_sums");
}
