/* test_reuse.c — Perceus reuse (_drop_reuse, _take_reuse, _new_reuse, pm_reuse)
 * under every building-block combination of tests/specs/all_policies.yaml
 * (test_reuse_policy.h, once per policy), and a thread-safe box whose last
 * owner is decided by a race: the thread that ends it, and only that one,
 * gets the memory. */
#define _POSIX_C_SOURCE 200809L

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

#include "all_policies.h"

#include "check.h"

static _Atomic bool fail_allocations; /* every allocation fails */
#define COUNTING_SHOULD_FAIL() fail_allocations
#include "counting_alloc.h"

#define EACH_POLICY_BODY "test_reuse_policy.h"
#include "each_policy.h"

static bool quick(void) { return getenv("PM_TEST_QUICK") != NULL; }

/* Two threads each give up one of the two owners of a box into their own token:
 * exactly one token ends up with the memory, and nothing leaks or is freed twice. */
static Managed_Item_ThreadSafe racer_handle;
static pm_reuse racer_token;
static _Atomic bool racer_running; /* the race starts once both threads run */

static void *racer(void *arg) {
    (void)arg;
    racer_running = true;
    Managed_Item_ThreadSafe_drop_reuse(&racer_handle, &racer_token);
    return NULL;
}

static void test_last_owner_race_reuses_once(long rounds) {
    long main_got = 0, other_got = 0;
    for (long r = 0; r < rounds; r++) {
        Managed_Item_ThreadSafe mine = {NULL};
        Item_ThreadSafe value = {r, r, {NULL}};
        CHECK(Managed_Blob_ThreadSafe_new(&value.tag, blob_make("raced")) == PM_OK);
        CHECK(Managed_Item_ThreadSafe_new(&mine, value) == PM_OK);
        racer_handle = Managed_Item_ThreadSafe_dup(mine);
        racer_token = (pm_reuse){NULL, 0};
        pm_reuse token = {NULL, 0};
        pthread_t t;
        racer_running = false;
        CHECK(pthread_create(&t, NULL, racer, NULL) == 0);
        while (!racer_running) {
        }
        Managed_Item_ThreadSafe_drop_reuse(&mine, &token);
        pthread_join(t, NULL);
        bool main_last = token.memory != NULL, other_last = racer_token.memory != NULL;
        CHECK(main_last != other_last); /* exactly one */
        main_got += main_last;
        other_got += other_last;
        CHECK(boxes_live == 1); /* the Item's memory, in one token; the Blob freed */
        pm_reuse_drop(&token);
        pm_reuse_drop(&racer_token);
        CHECK(boxes_live == 0 && blob_live == 0);
    }
    printf("last owner race: %ld rounds, main thread reused %ld, other %ld\n", rounds, main_got,
           other_got);
}

int main(void) {
    pm_set_allocator(counting_alloc, counting_free, NULL);
    long n = quick() ? 1000 : 100000;
    all_SingleThreaded(n);
    all_ThreadSafe(n);
    all_Local(n);
    all_Frozen(n);
    test_last_owner_race_reuses_once(quick() ? 100 : 2000);
    CHECK(boxes_live == 0 && blob_live == 0);
    pm_set_allocator(NULL, NULL, NULL);
    return check_summary("test_reuse");
}
