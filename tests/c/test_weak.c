/* test_weak.c — weak references (weak: true, tests/specs/weak.yaml) under every
 * building-block combination: the Rust std rc/sync weak and make_mut tests
 * (test_weak_policy.h, once per policy), boxes of other types unchanged, and
 * thread races for the thread-safe policies: an upgrade racing the last drop
 * never brings a box back; a weak reference never observes an in-place write. */
#define _POSIX_C_SOURCE 200809L

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

#include "weak.h"

#include "check.h"

static _Atomic bool fail_allocations; /* every allocation fails */
#define COUNTING_FAIL_AFTER /* and fail_after */
#define COUNTING_SHOULD_FAIL() (fail_allocations || counting_fail_after())
#include "counting_alloc.h"

#define EACH_POLICY_BODY "test_weak_policy.h"
#include "each_policy.h"

static bool quick(void) { return getenv("PM_TEST_QUICK") != NULL; }

/* Types without weak: true keep their box: count, cell, value, nothing more. */
static void test_boxes_without_weak_unchanged(void) {
    struct st_box {
        pm_count_plain rc;
        pm_cell_borrow cell;
        int64_t value;
    };
    struct ts_box {
        pm_count_atomic rc;
        pm_rwlock cell;
        int64_t value;
    };
    CHECK(sizeof(Managed_Plain_SingleThreaded_box) == sizeof(struct st_box));
    CHECK(offsetof(Managed_Plain_SingleThreaded_box, value) == offsetof(struct st_box, value));
    CHECK(Managed_Plain_ThreadSafe__type.weak_offset == 0);
    CHECK(Managed_Plain_ThreadSafe__type.value_offset == offsetof(struct ts_box, value));
    /* A weak-referenced box has the weak count right after the owner count. */
    CHECK(Managed_Num_SingleThreaded__type.weak_offset == sizeof(pm_count_plain));
    CHECK(Managed_Num_Frozen__type.weak_offset == sizeof(pm_count_atomic));
}

/* Conversion of a weak-referenced box: with weak references it is not the caller's
 * alone, so the value is copied and the weak references see it go; without, it
 * changes policy as any unique box (in place when the boxes have the same size). */
static void test_conversion_with_weak_references(void) {
    Managed_Num_Local a = {NULL};
    CHECK(Managed_Num_Local_new(&a, 5) == PM_OK);
    Weak_Num_Local w = {NULL};
    CHECK(Managed_Num_Local_downgrade(a, &w) == PM_OK);
    Managed_Num_Frozen b = {NULL};
    CHECK(Managed_Num_Local_to_Frozen(&a, &b) == PM_OK && a.box == NULL);
    CHECK((void *)b.box != (void *)w.box); /* copied */
    int64_t v = 0;
    CHECK(Managed_Num_Frozen_load(b, &v) == PM_OK && v == 5);
    Managed_Num_Local up = {NULL};
    CHECK(Weak_Num_Local_upgrade(w, &up) == PM_EGONE);
    Weak_Num_Local_drop(&w);
    void *memory = b.box;
    Managed_Num_Local c = {NULL};
    CHECK(Managed_Num_Frozen_to_Local(&b, &c) == PM_OK && (void *)c.box == memory);
    CHECK(Managed_Num_Local_weak_count(c) == 0 && Managed_Num_Local_refcount(c) == 1);
    Managed_Num_Local_drop(&c);
    Managed_Obj_SingleThreaded o = {NULL};
    CHECK(Managed_Obj_SingleThreaded_new(&o, obj_make(9)) == PM_OK);
    Managed_Obj_ThreadSafe ot = {NULL};
    CHECK(Managed_Obj_SingleThreaded_to_ThreadSafe(&o, &ot) == PM_OK);
    CHECK(Managed_Obj_ThreadSafe_weak_count(ot) == 0 && Managed_Obj_ThreadSafe_is_unique(ot));
    Managed_Obj_ThreadSafe_drop(&ot);
    CHECK(boxes_live == 0 && obj_live == 0);
}

/* ---- threads ---- */

#define RACE(T, name) XCAT(name, T)

static _Atomic bool upgrader_running; /* the race starts once the upgrader runs */

/* An upgrade racing the last drop on another thread: it either gets a live
 * value (and its owner), or PM_EGONE for ever after; never a box brought back. */
#define UPGRADE_RACE(T)                                                                  \
    static void *RACE(T, upgrader)(void *arg) {                                          \
        Weak_Num_##T *w = arg;                                                           \
        long got = 0;                                                                    \
        upgrader_running = true;                                                         \
        for (;;) {                                                                       \
            Managed_Num_##T h = {NULL};                                                  \
            pm_status st = Weak_Num_##T##_upgrade(*w, &h);                               \
            if (st == PM_EGONE) {                                                        \
                break;                                                                   \
            }                                                                            \
            int64_t v = 0;                                                               \
            CHECK(st == PM_OK && Managed_Num_##T##_load(h, &v) == PM_OK && v == 42);     \
            Managed_Num_##T##_drop(&h);                                                  \
            got++;                                                                       \
        }                                                                                \
        Managed_Num_##T h = {NULL};                                                      \
        CHECK(Weak_Num_##T##_upgrade(*w, &h) == PM_EGONE); /* and for ever after */     \
        return (void *)got;                                                              \
    }                                                                                    \
    static void RACE(T, test_upgrade_races_last_drop)(long rounds) {                     \
        long upgrades = 0;                                                               \
        for (long r = 0; r < rounds; r++) {                                              \
            Managed_Num_##T h = {NULL};                                                  \
            Weak_Num_##T w = {NULL};                                                     \
            CHECK(Managed_Num_##T##_new(&h, 42) == PM_OK);                               \
            CHECK(Managed_Num_##T##_downgrade(h, &w) == PM_OK);                          \
            pthread_t t;                                                                 \
            upgrader_running = false;                                                    \
            CHECK(pthread_create(&t, NULL, RACE(T, upgrader), &w) == 0);                 \
            while (!upgrader_running) {                                                  \
            }                                                                            \
            for (volatile long spin = r % 2000; spin > 0; spin--) {                      \
            }                                                                            \
            Managed_Num_##T##_drop(&h);                                                  \
            void *got;                                                                   \
            pthread_join(t, &got);                                                       \
            upgrades += (long)got;                                                       \
            CHECK(Weak_Num_##T##_strong_count(w) == 0);                                  \
            Weak_Num_##T##_drop(&w);                                                     \
            CHECK(boxes_live == 0);                                                      \
        }                                                                                \
        printf("upgrade vs last drop (%s): %ld rounds, %ld upgrades won\n", #T, rounds,  \
               upgrades);                                                                \
    }

/* A weak reference never observes an in-place write: another thread holds an
 * owner, gives it up for a weak reference and upgrades it again and again while
 * this one writes as soon as it looks like the only owner. Whatever the other
 * thread upgraded to keeps the value it had. */
#define WRITE_RACE(T)                                                                    \
    static void *RACE(T, watcher)(void *arg) {                                           \
        Managed_Num_##T *mine = arg;                                                     \
        Weak_Num_##T w = {NULL};                                                         \
        CHECK(Managed_Num_##T##_downgrade(*mine, &w) == PM_OK);                          \
        Managed_Num_##T##_drop(mine);                                                    \
        for (int k = 0; k < 200; k++) {                                                  \
            Managed_Num_##T h = {NULL};                                                  \
            if (Weak_Num_##T##_upgrade(w, &h) != PM_OK) {                                \
                break;                                                                   \
            }                                                                            \
            int64_t before = 0, after = 0;                                               \
            CHECK(Managed_Num_##T##_load(h, &before) == PM_OK);                          \
            for (volatile int spin = 0; spin < 50; spin++) {                             \
            }                                                                            \
            CHECK(Managed_Num_##T##_load(h, &after) == PM_OK);                           \
            CHECK(before == after && before == 1);                                       \
            Managed_Num_##T##_drop(&h);                                                  \
        }                                                                                \
        Weak_Num_##T##_drop(&w);                                                         \
        return NULL;                                                                     \
    }                                                                                    \
    static void RACE(T, test_weak_never_sees_a_write)(long rounds) {                     \
        for (long r = 0; r < rounds; r++) {                                              \
            Managed_Num_##T h = {NULL};                                                  \
            CHECK(Managed_Num_##T##_new(&h, 1) == PM_OK);                                \
            Managed_Num_##T theirs = Managed_Num_##T##_dup(h);                           \
            pthread_t t;                                                                 \
            CHECK(pthread_create(&t, NULL, RACE(T, watcher), &theirs) == 0);             \
            for (int k = 2; k < 50; k++) {                                               \
                int64_t *v = NULL;                                                       \
                if (Managed_Num_##T##_write(&h, &v) == PM_OK) {                          \
                    *v = k;                                                              \
                    Managed_Num_##T##_release_write(h);                                  \
                }                                                                        \
            }                                                                            \
            pthread_join(t, NULL);                                                       \
            int64_t v = 0;                                                               \
            CHECK(Managed_Num_##T##_load(h, &v) == PM_OK && v == 49);                    \
            Managed_Num_##T##_drop(&h);                                                  \
            CHECK(boxes_live == 0);                                                      \
        }                                                                                \
    }

UPGRADE_RACE(ThreadSafe)
UPGRADE_RACE(Frozen)
WRITE_RACE(ThreadSafe)
WRITE_RACE(Frozen)

int main(void) {
    pm_set_allocator(counting_alloc, counting_free, NULL);
    long n = quick() ? 1000 : 100000;
    long rounds = quick() ? 50 : 1000;
    test_boxes_without_weak_unchanged();
    test_conversion_with_weak_references();
    all_SingleThreaded(n);
    all_ThreadSafe(n);
    all_Local(n);
    all_Frozen(n);
    test_upgrade_races_last_drop_ThreadSafe(rounds);
    test_upgrade_races_last_drop_Frozen(rounds);
    test_weak_never_sees_a_write_ThreadSafe(rounds / 5);
    test_weak_never_sees_a_write_Frozen(rounds / 5);
    CHECK(boxes_live == 0 && obj_live == 0);
    pm_set_allocator(NULL, NULL, NULL);
    return check_summary("test_weak");
}
