/* test_omp.c — the Rayon counterpart: thread-safe handles used from every
 * thread of an OpenMP `parallel for` (gcc -fopenmp, libgomp), against
 * tests/specs/all_policies.yaml.
 *
 * ITERS iterations spread over the OpenMP team, on K shared boxes:
 *   (1) each iteration i dups box i%K, reads it (read_wait), adds 1 under
 *       write_shared_wait, FBIP-writes its own dup (a private copy: the shared
 *       box never sees it) and drops both; a Frozen (atomic + none) table is
 *       read from every thread at the same time;
 *   (2) a parallel for stores a dup of box i%K in slot i; the counts are then
 *       exactly 1 + ITERS/K; a second parallel for drops every slot.
 * Invariants, exact: box k's value == the number of iterations with i%K == k
 * (no lost update); reduction of what the reads saw matches; every count ends
 * at 1; the team really had more than one thread; zero boxes and blobs live.
 *
 * libgomp is not built with ThreadSanitizer, so TSan cannot see its barriers
 * and reports races that are not there; this program runs under ASan+UBSan
 * and PM_DEBUG instead (tests/test_reliability.py).
 */
#include <omp.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

#include "all_policies.h"

#include "check.h"
#include "counting_alloc.h"

enum { K = 8, ITERS = 40000 };

static Managed_Item_ThreadSafe boxes[K];
static Managed_Point_Frozen table[K];
static Managed_Item_ThreadSafe slots[ITERS];

int main(void) {
    pm_set_allocator(counting_alloc, counting_free, NULL);
    for (int k = 0; k < K; k++) {
        Item_ThreadSafe v = {.id = k, .value = 0, .tag = {0}};
        CHECK(Managed_Blob_ThreadSafe_new(&v.tag, blob_make("omp")) == PM_OK);
        CHECK(Managed_Item_ThreadSafe_new(&boxes[k], v) == PM_OK);
        CHECK(Managed_Point_Frozen_new(&table[k], (struct point){k, -k}) == PM_OK);
    }

    /* (1) every operation from every thread */
    long seen_table = 0, copies = 0;
    int team = 0;
#pragma omp parallel for schedule(dynamic, 64) reduction(+ : seen_table, copies)
    for (int i = 0; i < ITERS; i++) {
        if (i == 0) {
            team = omp_get_num_threads();
        }
        int k = i % K;
        Managed_Item_ThreadSafe mine = Managed_Item_ThreadSafe_dup(boxes[k]);
        const Item_ThreadSafe *r = NULL;
        if (CHECK(Managed_Item_ThreadSafe_read_wait(mine, &r, PM_FOREVER) == PM_OK)) {
            CHECK(r->id == k && r->value >= 0);
            Managed_Item_ThreadSafe_release_read(mine);
        }
        Item_ThreadSafe *w = NULL;
        if (CHECK(Managed_Item_ThreadSafe_write_shared_wait(mine, &w, PM_FOREVER) == PM_OK)) {
            w->value++;
            Managed_Item_ThreadSafe_release_write(mine);
        }
        /* FBIP on a dup: shared, so a private copy that only `copy` owns. */
        Managed_Item_ThreadSafe copy = Managed_Item_ThreadSafe_dup(mine);
        if (CHECK(Managed_Item_ThreadSafe_write_wait(&copy, &w, PM_FOREVER) == PM_OK)) {
            CHECK(copy.box != boxes[k].box && Managed_Item_ThreadSafe_is_unique(copy));
            w->value = -1000000;
            Managed_Item_ThreadSafe_release_write(copy);
            copies++;
        }
        Managed_Item_ThreadSafe_drop(&copy);
        Managed_Item_ThreadSafe_drop(&mine);
        const struct point *p = NULL;
        if (CHECK(Managed_Point_Frozen_read(table[k], &p) == PM_OK)) {
            seen_table += p->x - p->y; /* 2k */
            Managed_Point_Frozen_release_read(table[k]);
        }
    }
    CHECK(team > 1);
    CHECK(copies == ITERS);
    CHECK(seen_table == (long)(ITERS / K) * (K * (K - 1))); /* sum over k of 2k, ITERS/K times */
    for (int k = 0; k < K; k++) {
        CHECK(boxes[k].box->value.value == ITERS / K); /* no lost update, no copy leaked in */
        CHECK(Managed_Item_ThreadSafe_refcount(boxes[k]) == 1);
    }

    /* (2) handles stored from all threads, then dropped from all threads */
#pragma omp parallel for schedule(static)
    for (int i = 0; i < ITERS; i++) {
        slots[i] = Managed_Item_ThreadSafe_dup(boxes[i % K]);
    }
    for (int k = 0; k < K; k++) {
        CHECK(Managed_Item_ThreadSafe_refcount(boxes[k]) == 1 + ITERS / K);
    }
#pragma omp parallel for schedule(dynamic, 16)
    for (int i = ITERS - 1; i >= 0; i--) {
        Managed_Item_ThreadSafe_drop(&slots[i]);
    }
    for (int k = 0; k < K; k++) {
        CHECK(Managed_Item_ThreadSafe_refcount(boxes[k]) == 1);
        Managed_Item_ThreadSafe_drop(&boxes[k]);
        Managed_Point_Frozen_drop(&table[k]);
    }
    CHECK(boxes_live == 0 && blob_live == 0);
    pm_set_allocator(NULL, NULL, NULL);

    printf("test_omp: team of %d threads, %d iterations x 2 loops on %d boxes, %ld copies\n",
           team, ITERS, K, copies);
    return check_summary("test_omp");
}
