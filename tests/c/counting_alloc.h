/* counting_alloc.h — an allocator hook (pm_set_allocator, pm_box.h) that counts
 * the boxes alive, for the C test programs (tests/c, tests/stress): zero at
 * the end means every box was freed exactly once.
 *
 * Define before including, to:
 *   COUNTING_SHOULD_FAIL()  — make an allocation fail (return NULL) when true;
 *   COUNTING_FAIL_AFTER     — define counting_fail_after(): true for the allocation
 *                             after `fail_after` more have succeeded (-1, the
 *                             start: never); the default COUNTING_SHOULD_FAIL;
 *   COUNTING_ON_FREE(ptr)   — look at each freed box (e.g. to fail if a box
 *                             someone still owns is freed);
 *   COUNTING_ALIGNED        — define counting_alloc_aligned, the aligned hook. */
#ifndef PM_COUNTING_ALLOC_H
#define PM_COUNTING_ALLOC_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>

static _Atomic long boxes_live;  /* allocated and not yet freed */
static _Atomic long allocations; /* allocated in all */

#ifdef COUNTING_FAIL_AFTER
static _Atomic long fail_after = -1; /* >= 0: that many succeed, then the next fails */

static bool counting_fail_after(void) {
    long left = fail_after;
    if (left < 0) {
        return false;
    }
    fail_after = left - 1;
    return left == 0;
}
#ifndef COUNTING_SHOULD_FAIL
#define COUNTING_SHOULD_FAIL() counting_fail_after()
#endif
#endif

/* Whether this allocation is to fail (COUNTING_SHOULD_FAIL()); never without it. */
static bool counting_refused(void) {
#ifdef COUNTING_SHOULD_FAIL
    return COUNTING_SHOULD_FAIL();
#else
    return false;
#endif
}

/* Counts memory a hook got from the C library (NULL: nothing to count). */
static void *counting_counted(void *p) {
    if (p != NULL) {
        boxes_live++;
        allocations++;
    }
    return p;
}

static void *counting_alloc(size_t size, void *ctx) {
    (void)ctx;
    return counting_refused() ? NULL : counting_counted(malloc(size));
}

#ifdef COUNTING_ALIGNED
/* The same for the boxes of types with box_align (pm_set_allocator_aligned). */
static void *counting_alloc_aligned(size_t size, size_t align, void *ctx) {
    (void)ctx;
    return counting_refused() ? NULL : counting_counted(aligned_alloc(align, size));
}
#endif

static void counting_free(void *ptr, size_t size, void *ctx) {
    (void)size;
    (void)ctx;
#ifdef COUNTING_ON_FREE
    COUNTING_ON_FREE(ptr);
#endif
    boxes_live--;
    free(ptr);
}

#endif
