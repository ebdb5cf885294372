/* counting_alloc.h — an allocator hook (pm_set_allocator, pm_box.h) that counts
 * the boxes alive, for the C test programs (tests/c, tests/stress): zero at
 * the end means every box was freed exactly once.
 *
 * Define before including, to:
 *   COUNTING_SHOULD_FAIL()  — make an allocation fail (return NULL) when true;
 *   COUNTING_ON_FREE(ptr)   — look at each freed box (e.g. to fail if a box
 *                             someone still owns is freed). */
#ifndef PM_COUNTING_ALLOC_H
#define PM_COUNTING_ALLOC_H

#include <stdatomic.h>
#include <stdlib.h>

static _Atomic long boxes_live;  /* allocated and not yet freed */
static _Atomic long allocations; /* allocated in all */

static void *counting_alloc(size_t size, void *ctx) {
    (void)ctx;
#ifdef COUNTING_SHOULD_FAIL
    if (COUNTING_SHOULD_FAIL()) {
        return NULL;
    }
#endif
    void *p = malloc(size);
    if (p != NULL) {
        boxes_live++;
        allocations++;
    }
    return p;
}

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
