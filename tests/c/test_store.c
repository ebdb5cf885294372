/* test_store.c — generational stores (pm_store.h; store: true,
 * tests/specs/stores.yaml) under every building-block combination
 * (test_store_policy.h, once per policy): ports of slotmap's and the upstream
 * crate's tests, every error path, borrows (a deferred drop, conflicts, 127
 * readers), drops exactly once (hooks, managed fields, sum types, fini), every
 * allocation failing in turn, a slot's retirement, owner saturation, and shared
 * stores used by threads at once. And the runtime's store alone: arguments.
 *
 * Built twice: test_store, and test_store_retire (tests/c/test_store_retire.c)
 * with -DPM_STORE_GENERATION_MAX=3u, where slots retire after 3 values. */
#define _POSIX_C_SOURCE 200809L

#include <pthread.h>
#include <sched.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Built with -Wno-psabi (PROGRAMS, tests/test_c_programs.py): gcc notes on stderr
 * that passing a 64-byte-aligned struct by value (Store_Wide_P_alloc's `value`)
 * had another ABI before GCC 4.6, and a pragma does not silence that note. */
#include "stores.h"

#include "pm_internal.h" /* pm__store_test_set_owners, pm__store_test_set_generation */

#include "check.h"

#define COUNTING_FAIL_AFTER /* fail_after */
#include "counting_alloc.h"

#ifndef TEST_STORE_PROGRAM
#define TEST_STORE_PROGRAM "test_store"
#endif

/* A release of a borrow nobody holds is counted under PM_DEBUG only. */
#ifdef PM_DEBUG
#define MISMATCH_STEP 1u
#else
#define MISMATCH_STEP 0u
#endif

/* Per policy: the status of a conflicting borrow (the cell's), and whether the
 * store is shared (a thread-safe counter: any thread may call). */
#define store_conflict_SingleThreaded PM_EBORROWED
#define store_conflict_ThreadSafe PM_EBUSY
#define store_conflict_Local PM_EBORROWED
#define store_conflict_Frozen PM_EBORROWED
#define store_shared_SingleThreaded false
#define store_shared_ThreadSafe true
#define store_shared_Local false
#define store_shared_Frozen true

#define EACH_POLICY_BODY "test_store_policy.h"
#include "each_policy.h"

static bool quick(void) { return getenv("PM_TEST_QUICK") != NULL; }

/* The runtime alone: bad arguments to init; a zero store; each generated store
 * says whether it is shared. */
static void test_runtime_store(void) {
    const pm_box_type *type = &Managed_Num_Local__type;
    size_t size = PM_STORE_SLOT_SIZE(8, 8), offset = PM_STORE_VALUE_OFFSET(8);
    pm_store s;
    memset(&s, 0, sizeof s);
    CHECK(pm_store_init(NULL, false, size, offset, type, false) == PM_EINVAL);
    CHECK(pm_store_init(&s, false, size, offset, NULL, false) == PM_EINVAL);
    CHECK(pm_store_init(&s, false, 0, offset, type, false) == PM_EINVAL);
    CHECK(pm_store_init(&s, false, size, sizeof(pm_store_slot) - 1u, type, false) == PM_EINVAL);
    CHECK(pm_store_init(&s, false, size, size + 8u, type, false) == PM_EINVAL);
    CHECK(pm_store_init(&s, true, SIZE_MAX / 2u, offset, type, false) == PM_ENOMEM);
    CHECK(boxes_live == 0 && s.shards == NULL);
    CHECK(pm_store_len(NULL) == 0 && pm_store_len(&s) == 0);
    pm_store_fini(NULL);
    pm_store_fini(&s);
    /* slots keep their value's alignment */
    CHECK(PM_STORE_VALUE_OFFSET(64) % 64 == 0 && PM_STORE_SLOT_SIZE(32, 64) % 64 == 0);
    CHECK(PM_STORE_VALUE_OFFSET(1) >= sizeof(pm_store_slot));
    for (int shared = 0; shared < 2; shared++) {
        CHECK(pm_store_init(&s, shared != 0, size, offset, type, false) == PM_OK);
        CHECK(s.shared == (shared != 0));
        pm_store_fini(&s);
        CHECK(s.shards == NULL && boxes_live == 0);
    }
    Store_Obj_SingleThreaded a;
    Store_Obj_ThreadSafe b;
    Store_Obj_Local c;
    Store_Obj_Frozen d;
    CHECK(Store_Obj_SingleThreaded_init(&a) == PM_OK && !a.store.shared);
    CHECK(Store_Obj_ThreadSafe_init(&b) == PM_OK && b.store.shared);
    CHECK(Store_Obj_Local_init(&c) == PM_OK && !c.store.shared);
    CHECK(Store_Obj_Frozen_init(&d) == PM_OK && d.store.shared);
    Store_Obj_SingleThreaded_fini(&a);
    Store_Obj_ThreadSafe_fini(&b);
    Store_Obj_Local_fini(&c);
    Store_Obj_Frozen_fini(&d);
    CHECK(boxes_live == 0);
}

int main(void) {
    pm_set_allocator(counting_alloc, counting_free, NULL);
    long n = quick() ? 2000 : 20000;
    test_runtime_store();
    all_SingleThreaded(n);
    all_ThreadSafe(n);
    all_Local(n);
    all_Frozen(n);
    /* last: a misaligned Wide value stops an UBSan build at once */
    plain_values_SingleThreaded(n / 4);
    plain_values_ThreadSafe(n / 4);
    plain_values_Local(n / 4);
    plain_values_Frozen(n / 4);
    CHECK(boxes_live == 0);
    pm_set_allocator(NULL, NULL, NULL);
    return check_summary(TEST_STORE_PROGRAM);
}
