/* test_metrics.c: contention metrics (open question 3), built with -DPM_METRICS.
 *
 * Each operation bumps exactly the counters its docs name, per handle type:
 * the counts below are exact, single-threaded so that they are deterministic.
 */
#include <stdio.h>
#include <string.h>

#include "all_policies.h"
#include "check.h"
#include "pm_internal.h" /* pm_count_atomic_set_for_test */

#ifndef PM_METRICS
#error "test_metrics.c is built with -DPM_METRICS"
#endif

#define MS 1000000u /* ns */

static bool counts(const pm_metrics *m, uint64_t acquisitions, uint64_t contended, uint64_t waits,
                   uint64_t timeouts, uint64_t copies, uint64_t in_place, uint64_t saturations) {
    return m->acquisitions == acquisitions && m->contended == contended && m->waits == waits &&
           m->timeouts == timeouts && m->copies_on_write == copies &&
           m->in_place_writes == in_place && m->saturations == saturations;
}

static void thread_safe_counts(void) {
    const pm_metrics *m = &Managed_Point_ThreadSafe_metrics;
    Managed_Point_ThreadSafe a = {0};
    CHECK(Managed_Point_ThreadSafe_new(&a, (struct point){1, 2}) == PM_OK);
    const struct point *r;
    struct point *w;

    CHECK(Managed_Point_ThreadSafe_read(a, &r) == PM_OK);              /* acquisition */
    CHECK(Managed_Point_ThreadSafe_read_wait(a, &r, MS) == PM_OK);     /* acquisition, no wait */
    CHECK(Managed_Point_ThreadSafe_write_shared(a, &w) == PM_EBUSY);   /* contended */
    Managed_Point_ThreadSafe_release_read(a);
    Managed_Point_ThreadSafe_release_read(a);
    CHECK(counts(m, 2, 1, 0, 0, 0, 0, 0));

    CHECK(Managed_Point_ThreadSafe_write(&a, &w) == PM_OK); /* unique: in place */
    CHECK(counts(m, 3, 1, 0, 0, 0, 1, 0));
    /* Held for write by this very thread: the wait form tries, waits, times out
     * (PM_DEBUG would refuse it at once with PM_EDEADLK instead). */
#ifndef PM_DEBUG
    CHECK(Managed_Point_ThreadSafe_read_wait(a, &r, MS) == PM_ETIMEDOUT);
    CHECK(counts(m, 3, 1, 1, 1, 0, 1, 0));
#endif
    Managed_Point_ThreadSafe_release_write(a);

    Managed_Point_ThreadSafe b = Managed_Point_ThreadSafe_dup(a);
    uint64_t acquired = m->acquisitions;
    CHECK(Managed_Point_ThreadSafe_write(&b, &w) == PM_OK); /* shared: copy on write */
    Managed_Point_ThreadSafe_release_write(b);
    /* A small copy: trivial value is copied from its published snapshot: no read lock. */
    CHECK(m->copies_on_write == 1 && m->acquisitions == acquired);

    pm_count_atomic_set_for_test(&a.box->rc, PM_COUNT_MAX);
    Managed_Point_ThreadSafe c = Managed_Point_ThreadSafe_dup(a); /* saturates */
    CHECK(m->saturations == 1);
    (void)c;
    pm_count_atomic_set_for_test(&a.box->rc, 1);
    Managed_Point_ThreadSafe_drop(&a);
    Managed_Point_ThreadSafe_drop(&b);
}

/* A value with a clone hook is copied under a read borrow of the shared box. */
static void copy_under_read_lock_counts(void) {
    const pm_metrics *m = &Managed_Blob_ThreadSafe_metrics;
    Managed_Blob_ThreadSafe a = {0};
    CHECK(Managed_Blob_ThreadSafe_new(&a, blob_make("x")) == PM_OK);
    Managed_Blob_ThreadSafe b = Managed_Blob_ThreadSafe_dup(a);
    struct blob *w;
    CHECK(Managed_Blob_ThreadSafe_write(&b, &w) == PM_OK);
    Managed_Blob_ThreadSafe_release_write(b);
    CHECK(counts(m, 1, 0, 0, 0, 1, 0, 0)); /* the read borrow taken to copy */
    Managed_Blob_ThreadSafe_drop(&a);
    Managed_Blob_ThreadSafe_drop(&b);
}

static void single_threaded_counts(void) {
    const pm_metrics *m = &Managed_Point_SingleThreaded_metrics;
    Managed_Point_SingleThreaded a = {0};
    CHECK(Managed_Point_SingleThreaded_new(&a, (struct point){1, 2}) == PM_OK);
    struct point *w;
    const struct point *r;
    CHECK(Managed_Point_SingleThreaded_write_shared(a, &w) == PM_OK);
    CHECK(Managed_Point_SingleThreaded_read(a, &r) == PM_EBORROWED); /* contended */
    Managed_Point_SingleThreaded_release_write(a);
    CHECK(counts(m, 1, 1, 0, 0, 0, 0, 0));
    Managed_Point_SingleThreaded_drop(&a);
}

static void module_listing(void) {
    const pm_metrics *all[64];
    size_t n = all_policies_metrics(all, 64);
    CHECK(n > 10 && n <= 64);
    bool found = false;
    for (size_t k = 0; k < n && k < 64; k++) {
        found |= all[k] == &Managed_Point_ThreadSafe_metrics &&
                 strcmp(all[k]->name, "Managed_Point_ThreadSafe") == 0;
    }
    CHECK(found);
    CHECK(all_policies_metrics(NULL, 0) == n);
    all_policies_metrics_print(stdout);
}

/* Boxes made in a reuse token's memory are counted; fresh allocations are not. */
static void reuse_counts(void) {
    const pm_metrics *m = &Managed_Point_Local_metrics;
    pm_reuse token = {NULL, 0};
    Managed_Point_Local a = {0};
    CHECK(Managed_Point_Local_new(&a, (struct point){1, 2}) == PM_OK);
    Managed_Point_Local_drop_reuse(&a, &token);
    CHECK(Managed_Point_Local_new_reuse(&a, &token, (struct point){3, 4}) == PM_OK);
    CHECK(m->reused == 1);
    Managed_Point_Local b = {0}; /* the token is empty now: a fresh box, not counted */
    CHECK(Managed_Point_Local_new_reuse(&b, &token, (struct point){5, 6}) == PM_OK);
    CHECK(m->reused == 1);
    Managed_Point_Local_drop(&a);
    Managed_Point_Local_drop(&b);
}

int main(void) {
    reuse_counts();
    thread_safe_counts();
    copy_under_read_lock_counts();
    single_threaded_counts();
    module_listing();
    CHECK(blob_live == 0);
    return check_summary("test_metrics");
}
