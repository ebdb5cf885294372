/* test_lock_order.c: the PM_DEBUG lock-order check (open question 2).
 *
 * Two threads take two ThreadSafe boxes' locks in opposite orders, one after
 * the other (so the test itself never deadlocks): the check reports the pair
 * once, naming both locks by their handle type. Consistent order, a single
 * lock, and locks whose boxes died report nothing. Without PM_DEBUG the check
 * is compiled out: nothing is reported and nothing is counted.
 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "all_policies.h"
#include "check.h"

static struct {
    int calls;
    const char *first_name, *second_name;
    const void *first, *second;
} seen;

static void record(const char *first_name, const void *first, const char *second_name,
                   const void *second, void *ctx) {
    (void)ctx;
    seen.calls++;
    seen.first_name = first_name;
    seen.second_name = second_name;
    seen.first = first;
    seen.second = second;
}

typedef struct {
    Managed_Point_ThreadSafe outer;
    Managed_Item_ThreadSafe inner;
    bool item_first;
} pair_job;

/* Takes both locks (one read, one write), in the job's order, then releases. */
static void *take_both(void *arg) {
    pair_job *job = arg;
    const struct point *p;
    Item_ThreadSafe *item;
    if (job->item_first) {
        CHECK(Managed_Item_ThreadSafe_write_shared_wait(job->inner, &item, PM_FOREVER) == PM_OK);
        CHECK(Managed_Point_ThreadSafe_read_wait(job->outer, &p, PM_FOREVER) == PM_OK);
    } else {
        CHECK(Managed_Point_ThreadSafe_read_wait(job->outer, &p, PM_FOREVER) == PM_OK);
        CHECK(Managed_Item_ThreadSafe_write_shared_wait(job->inner, &item, PM_FOREVER) == PM_OK);
    }
    Managed_Item_ThreadSafe_release_write(job->inner);
    Managed_Point_ThreadSafe_release_read(job->outer);
    return NULL;
}

static void run_in_thread(pair_job *job) {
    pthread_t t;
    if (CHECK(pthread_create(&t, NULL, take_both, job) == 0)) {
        pthread_join(t, NULL);
    }
}

int main(void) {
    pm_debug_on_lock_order(record, NULL);
    Managed_Point_ThreadSafe point = {0};
    Managed_Item_ThreadSafe item = {0};
    struct blob tag = blob_make("t");
    Managed_Blob_ThreadSafe blob = {0};
    CHECK(Managed_Blob_ThreadSafe_new(&blob, tag) == PM_OK);
    CHECK(Managed_Point_ThreadSafe_new(&point, (struct point){1, 2}) == PM_OK);
    CHECK(Managed_Item_ThreadSafe_new(&item, (Item_ThreadSafe){1, 2, blob}) == PM_OK);

    pair_job point_then_item = {point, item, false};
    pair_job item_then_point = {point, item, true};
    run_in_thread(&point_then_item);
    run_in_thread(&point_then_item); /* the same order again: fine */
    CHECK(seen.calls == 0);
    run_in_thread(&item_then_point); /* the opposite order, by another thread */
#ifdef PM_DEBUG
    CHECK(seen.calls == 1);
    CHECK(pm_debug_lock_order_inversions() == 1);
    CHECK(seen.first_name != NULL && strcmp(seen.first_name, "Managed_Item_ThreadSafe") == 0);
    CHECK(seen.second_name != NULL && strcmp(seen.second_name, "Managed_Point_ThreadSafe") == 0);
    CHECK(seen.first == &item.box->cell && seen.second == &point.box->cell);
    run_in_thread(&item_then_point); /* reported once per pair */
    CHECK(seen.calls == 1);
#else
    CHECK(seen.calls == 0 && pm_debug_lock_order_inversions() == 0);
#endif

    Managed_Item_ThreadSafe_drop(&item);
    Managed_Point_ThreadSafe_drop(&point);

    /* A lock that died takes its history with them (its address may be reused
     * by an unrelated lock): after forgetting `a`, taking b then a is no inversion. */
    pm_rwlock a, b;
    pm_rwlock_init(&a);
    pm_rwlock_init(&b);
    int before = seen.calls;
    CHECK(pm_rwlock_try_write(&a) == PM_OK && pm_rwlock_try_write(&b) == PM_OK);
    pm_rwlock_release_write(&b);
    pm_rwlock_release_write(&a);
    pm_rwlock_forget(&a);
    CHECK(pm_rwlock_try_write(&b) == PM_OK && pm_rwlock_try_write(&a) == PM_OK);
    pm_rwlock_release_write(&a);
    pm_rwlock_release_write(&b);
    CHECK(seen.calls == before);
#ifdef PM_DEBUG
    /* ...whereas without forgetting, the same two steps are an inversion. */
    CHECK(pm_rwlock_try_write(&a) == PM_OK && pm_rwlock_try_write(&b) == PM_OK);
    pm_rwlock_release_write(&b);
    pm_rwlock_release_write(&a);
    CHECK(seen.calls == before + 1);
    pm_rwlock_forget(&a);
    pm_rwlock_forget(&b);
#endif
    CHECK(blob_live == 0);
    return check_summary("test_lock_order");
}
