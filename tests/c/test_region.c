/* test_region.c — regions (pm_region.h; region: true, tests/specs/regions.yaml)
 * under every building-block combination (test_region_policy.h, once per
 * policy): drop hooks and generated field drops run exactly once at
 * reset/fini, newest first; reset keeps one chunk; every allocation failing in
 * turn loses nothing; a shared region takes allocations from threads at once.
 * And the runtime's region alone: arguments, alignment, chunk sizes. */
#define _POSIX_C_SOURCE 200809L

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "regions.h"

#include "check.h"

#define COUNTING_FAIL_AFTER /* fail_after */
#include "counting_alloc.h"

#define EACH_POLICY_BODY "test_region_policy.h"
#include "each_policy.h"

static bool quick(void) { return getenv("PM_TEST_QUICK") != NULL; }

/* The runtime alone: bad arguments, alignment, big allocations, chunk reuse. */
static void test_runtime_region(bool shared) {
    CHECK(pm_region_init(NULL, shared) == PM_EINVAL);
    pm_region_reset(NULL);
    pm_region_fini(NULL);
    pm_region r;
    CHECK(pm_region_init(&r, shared) == PM_OK);
    long start = allocations;
    void *p = NULL;
    CHECK(pm_region_alloc(NULL, 8, 8, NULL, NULL, &p) == PM_EINVAL);
    CHECK(pm_region_alloc(&r, 8, 8, NULL, NULL, NULL) == PM_EINVAL);
    CHECK(pm_region_alloc(&r, 8, 0, NULL, NULL, &p) == PM_EINVAL);
    CHECK(pm_region_alloc(&r, 8, 24, NULL, NULL, &p) == PM_EINVAL);
    CHECK(pm_region_alloc(&r, SIZE_MAX - 8, 8, NULL, NULL, &p) == PM_ENOMEM);
    CHECK(boxes_live == 0 && allocations == start);
    /* Zero bytes: an address of its own. */
    void *a = NULL, *b = NULL;
    CHECK(pm_region_alloc(&r, 0, 1, NULL, NULL, &a) == PM_OK);
    CHECK(pm_region_alloc(&r, 0, 1, NULL, NULL, &b) == PM_OK && a != b);
    CHECK(boxes_live == 1 && allocations == start + 1);
    for (size_t align = 1; align <= 4096; align *= 2) {
        CHECK(pm_region_alloc(&r, 3, align, NULL, NULL, &p) == PM_OK);
        CHECK(((uintptr_t)p & (align - 1)) == 0);
        memset(p, 0xab, 3);
    }
    /* Bigger than the chunks so far: a chunk of its own. */
    CHECK(pm_region_alloc(&r, 3u << 20, 16, NULL, NULL, &p) == PM_OK);
    memset(p, 0xcd, 3u << 20);
    long live = boxes_live;
    CHECK(live >= 3);
    pm_region_reset(&r);
    CHECK(boxes_live == 1);
    /* The kept chunk is the newest (the big one): 1 MiB more takes no chunk. */
    long before = allocations;
    for (int k = 0; k < 1024; k++) {
        CHECK(pm_region_alloc(&r, 1000, 8, NULL, NULL, &p) == PM_OK);
    }
    CHECK(allocations == before);
    /* Chunks double: 64 KiB of 64-byte values take few chunks. */
    pm_region_fini(&r);
    CHECK(boxes_live == 0);
    CHECK(pm_region_init(&r, shared) == PM_OK);
    before = allocations;
    for (int k = 0; k < 1024; k++) {
        CHECK(pm_region_alloc(&r, 64, 8, NULL, NULL, &p) == PM_OK);
    }
    CHECK(allocations - before <= 6);
    /* Filled alike after each reset: soon the kept chunk holds it all. */
    long taken = 0;
    for (int round = 0; round < 4; round++) {
        pm_region_reset(&r);
        before = allocations;
        for (int k = 0; k < 20000; k++) {
            CHECK(pm_region_alloc(&r, 32, 8, NULL, NULL, &p) == PM_OK);
        }
        taken = allocations - before;
    }
    CHECK(taken == 0);
    pm_region_fini(&r);
    CHECK(boxes_live == 0);
}

int main(void) {
    pm_set_allocator(counting_alloc, counting_free, NULL);
    long n = quick() ? 2000 : 20000;
    test_runtime_region(false);
    test_runtime_region(true);
    all_SingleThreaded(n);
    all_ThreadSafe(n);
    all_Local(n);
    all_Frozen(n);
    CHECK(boxes_live == 0);
    pm_set_allocator(NULL, NULL, NULL);
    return check_summary("test_region");
}
