/* test_faults.c — fault injection: every allocation of representative
 * operations is made to fail in turn, under every building-block combination
 * of tests/specs/faults.yaml (SingleThreaded, ThreadSafe, Local, Frozen).
 *
 * The allocator hook (pm_set_allocator, pm_box.h) counts live blocks and fails
 * the k-th allocation after it is armed — only that one, or that one and
 * every later one. For each scenario, k runs 1, 2, 3, ... until an armed run
 * no longer reaches k allocations (it then must succeed). Scenarios:
 *   new         — boxing a value that owns allocations;
 *   build       — building a 3-node Tree with payloads, unwinding on failure;
 *   cow_tree    — _write of a shared `fields` Tree with managed children;
 *   cow_parts   — _write of a shared Parts whose clone hook allocates 3
 *                 blocks through pm_alloc and cleans up when one fails;
 *   cow_guard   — the same through PM_WRITE_SCOPE;
 *   cow_wait    — (lock policies) _write_wait and PM_WRITE_SCOPE_WAIT;
 * plus the clone hook failing midway with a non-ENOMEM status after j of
 * its 3 allocations, for every j (-> PM_ECLONE).
 * Each failed call must return PM_ENOMEM (PM_ECLONE for the hook failure),
 * leave the caller's handle and data exactly as they were (box, count,
 * contents, borrow state: a retry then succeeds), leak nothing (live blocks
 * back to the baseline) and crash nothing (run under ASan/UBSan/valgrind).
 * The summary line counts the faults injected (docs/RELIABILITY.md).
 */
#ifndef POLICY /* ---- part 1: the failing allocator, the sweep, main ---- */

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "faults.h"

#include "check.h"

/* ---- an allocator that fails on demand ---- */

static long calls;      /* allocations since arm() */
static long fail_at;    /* 0: disarmed; k: the k-th allocation after arm() fails */
static bool fail_rest;  /* ... and so does every later one */
static bool fault_hit;  /* an injected failure happened since arm() */

/* Whether this allocation is the one (or one of those) to fail. */
static bool fault_now(void) {
    if (fail_at == 0) {
        return false;
    }
    calls++;
    if (calls == fail_at || (fail_rest && calls > fail_at)) {
        fault_hit = true;
        return true;
    }
    return false;
}

#define COUNTING_SHOULD_FAIL() fault_now()
#include "counting_alloc.h"

/* The sweep sets these; a scenario calls arm() right before the operation
 * under test and disarm() right after it. */
static long sweep_k;
static bool sweep_rest;

static void arm(void) {
    calls = 0;
    fault_hit = false;
    fail_at = sweep_k;
    fail_rest = sweep_rest;
}

static void disarm(void) { fail_at = 0; }

static long faults_injected, scenario_runs;

/* Runs `scenario` with the k-th allocation failing, k = 1, 2, ... until a run
 * passes k without reaching it, once failing only the k-th and once every
 * allocation from the k-th on. Returns the number of failure points. */
static long sweep(const char *policy, const char *name, void (*scenario)(void)) {
    long points = 0;
    for (int rest = 0; rest < 2; rest++) {
        for (long k = 1;; k++) {
            long before = boxes_live;
            sweep_k = k;
            sweep_rest = rest != 0;
            scenario();
            disarm();
            scenario_runs++;
            CHECK(boxes_live == before); /* nothing leaked, nothing freed twice */
            if (!fault_hit) {
                break;
            }
            faults_injected++;
            points += rest == 0;
            if (!CHECK(k < 64)) {
                break;
            }
        }
    }
    printf("faults: %-14s %-10s %ld allocation failure points\n", policy, name, points);
    return points;
}

/* ---- names of the per-policy part ---- */

#define CAT_(a, b) a##_##b
#define CAT(a, b) CAT_(a, b)
#define M_(N, P) Managed_##N##_##P
#define MX(N, P) M_(N, P)
#define M(N) MX(N, POLICY)    /* handle type: M(Tree) = Managed_Tree_<POLICY> */
#define V(N) CAT(N, POLICY)   /* value struct of a fields type: Tree_<POLICY> */
#define F(name) CAT(name, POLICY)
#define STR_(x) #x
#define STR(x) STR_(x)
/* The scoped forms paste their handle type; expand M(...) first. */
#define WRITE_SCOPE(H, g, hp) PM_WRITE_SCOPE(H, g, hp)
#define WRITE_SCOPE_WAIT(H, g, hp, t) PM_WRITE_SCOPE_WAIT(H, g, hp, t)

#define CELL_NONE 0
#define CELL_BORROW 1
#define CELL_RWLOCK 2

#define POLICY SingleThreaded
#define CELL CELL_BORROW
#include "test_faults.c"
#undef POLICY
#undef CELL

#define POLICY ThreadSafe
#define CELL CELL_RWLOCK
#include "test_faults.c"
#undef POLICY
#undef CELL

#define POLICY Local
#define CELL CELL_NONE
#include "test_faults.c"
#undef POLICY
#undef CELL

#define POLICY Frozen
#define CELL CELL_NONE
#include "test_faults.c"
#undef POLICY
#undef CELL

/* ---- conversion between policies: once per ordered pair (test_faults_convert.h) ---- */
#include "policy_pairs.h"
#define PAIR_FILE "test_faults_convert.h"
#include "policy_pairs.h"

#define RUN_CONVERSION(P, Q) run_conv_##P##_##Q();

int main(void) {
    pm_set_allocator(counting_alloc, counting_free, NULL);
    run_SingleThreaded();
    run_ThreadSafe();
    run_Local();
    run_Frozen();
    FOR_EACH_POLICY_PAIR(RUN_CONVERSION)
    CHECK(boxes_live == 0 && parts_live == 0);
    pm_set_allocator(NULL, NULL, NULL);

    printf("faults: %ld faults injected over %ld scenario runs, 4 policies\n", faults_injected,
           scenario_runs);
    return check_summary("test_faults");
}

#else /* ---- part 2: the scenarios, compiled once per POLICY ---- */

/* A Parts box of n parts, built unarmed. */
static M(Parts) F(parts_box)(int n) {
    M(Parts) h = {0};
    struct parts v;
    if (CHECK(parts_make(&v, n) == PM_OK) && !CHECK(faults_new(&h, v) == PM_OK)) {
        parts_drop(&v);
    }
    return h;
}

/* Whether h's cell is free again: a failed call must not leave a borrow. */
#if CELL == CELL_BORROW
#define CELL_FREE(h) ((h).box->cell.state == 0)
#elif CELL == CELL_RWLOCK
#define CELL_FREE(h) (atomic_load(&(h).box->cell.state) == 0)
#else
#define CELL_FREE(h) ((void)(h), true)
#endif

/* ---- new ---- */

static void F(scenario_new)(void) {
    struct parts v;
    if (!CHECK(parts_make(&v, 3) == PM_OK)) {
        return;
    }
    M(Parts) h = {0};
    arm();
    pm_status st = faults_new(&h, v);
    disarm();
    if (fault_hit) {
        CHECK(st == PM_ENOMEM);
        CHECK(h.box == NULL);        /* the handle is untouched */
        CHECK(parts_intact(&v, 3));  /* the caller still owns the value */
        parts_drop(&v);
    } else {
        CHECK(st == PM_OK);
        faults_drop(&h);
    }
}

/* ---- build: a caller that unwinds what it made when a call fails ---- */

static pm_status F(node)(M(Tree) *out, int64_t key, M(Tree) left, M(Tree) right) {
    struct parts v;
    V(Tree) value = {key, left, right, {0}};
    pm_status st = parts_make(&v, 2);
    if (st == PM_OK) {
        st = faults_new(&value.payload, v);
        if (st != PM_OK) {
            parts_drop(&v);
        }
    }
    if (st == PM_OK) {
        st = faults_new(out, value);
    }
    if (st != PM_OK) {
        faults_drop(&value.payload);
        faults_drop(&value.left); /* the children were handed to us */
        faults_drop(&value.right);
    }
    return st;
}

static pm_status F(build)(M(Tree) *out) {
    M(Tree) none = {0}, a = {0}, b = {0};
    pm_status st = F(node)(&a, 1, none, none);
    if (st == PM_OK) {
        st = F(node)(&b, 3, none, none);
    }
    if (st == PM_OK) {
        return F(node)(out, 2, a, b);
    }
    faults_drop(&a);
    return st;
}

static bool F(tree_intact)(M(Tree) t) {
    const V(Tree) *root = NULL, *l = NULL, *r = NULL;
    const struct parts *p = NULL;
    bool ok = false;
    if (faults_read(t, &root) == PM_OK) {
        if (faults_read(root->left, &l) == PM_OK) {
            if (faults_read(root->right, &r) == PM_OK) {
                if (faults_read(root->payload, &p) == PM_OK) {
                    ok = root->key == 2 && l->key == 1 && r->key == 3 && parts_intact(p, 2);
                    faults_release_read(root->payload);
                }
                faults_release_read(root->right);
            }
            faults_release_read(root->left);
        }
        faults_release_read(t);
    }
    return ok;
}

static void F(scenario_build)(void) {
    M(Tree) t = {0};
    arm();
    pm_status st = F(build)(&t);
    disarm();
    if (fault_hit) {
        CHECK(st == PM_ENOMEM && t.box == NULL);
    } else if (CHECK(st == PM_OK)) {
        CHECK(F(tree_intact)(t));
        faults_drop(&t);
    }
}

/* ---- copy on write of a shared `fields` Tree ---- */

static void F(scenario_cow_tree)(void) {
    M(Tree) t = {0};
    if (!CHECK(F(build)(&t) == PM_OK)) {
        return;
    }
    M(Tree) other = faults_dup(t);
    M(Tree) left = t.box->value.left;
    uint32_t left_rc = faults_refcount(left);
    V(Tree) *w = NULL;
    arm();
    pm_status st = faults_write(&other, &w);
    disarm();
    if (fault_hit) {
        CHECK(st == PM_ENOMEM);
        CHECK(other.box == t.box && faults_refcount(t) == 2); /* handle unchanged */
        CHECK(faults_refcount(left) == left_rc);               /* children untouched */
        CHECK(F(tree_intact)(t) && CELL_FREE(t));
        /* The failure left nothing borrowed: a retry succeeds. */
        if (CHECK(faults_write(&other, &w) == PM_OK)) {
            faults_release_write(other);
        }
    } else if (CHECK(st == PM_OK)) {
        CHECK(other.box != t.box && faults_refcount(t) == 1);
        CHECK(w->left.box == left.box && faults_refcount(left) == left_rc + 1);
        w->key = 20;
        faults_release_write(other);
        CHECK(F(tree_intact)(t)); /* the other owner keeps the old value */
    }
    faults_drop(&other);
    faults_drop(&t);
}

/* ---- copy on write of a shared Parts: the clone hook allocates ---- */

/* The checks after a _write-like call on `other`, a dup of `h`. */
static void F(check_cow_parts)(pm_status st, pm_status want, M(Parts) h, M(Parts) *other,
                               struct parts *w, bool scoped) {
    if (fault_hit || want == PM_ECLONE) {
        CHECK(st == want);
        CHECK(other->box == h.box && faults_refcount(h) == 2);
        const struct parts *r = NULL;
        if (CHECK(faults_read(h, &r) == PM_OK)) {
            CHECK(parts_intact(r, 3));
            faults_release_read(h);
        }
        CHECK(CELL_FREE(h));
    } else if (CHECK(st == PM_OK)) {
        CHECK(other->box != h.box && faults_refcount(h) == 1 && parts_intact(w, 3));
        CHECK(w->part[0] != h.box->value.part[0]); /* a deep copy */
        if (!scoped) {
            faults_release_write(*other);
        }
    }
}

static void F(scenario_cow_parts)(void) {
    M(Parts) h = F(parts_box)(3);
    M(Parts) other = faults_dup(h);
    struct parts *w = NULL;
    arm();
    pm_status st = faults_write(&other, &w);
    disarm();
    F(check_cow_parts)(st, PM_ENOMEM, h, &other, w, false);
    faults_drop(&other);
    faults_drop(&h);
}

static void F(scenario_cow_guard)(void) {
    M(Parts) h = F(parts_box)(3);
    M(Parts) other = faults_dup(h);
    {
        arm();
        WRITE_SCOPE(M(Parts), g, &other);
        disarm();
        F(check_cow_parts)(g.status, PM_ENOMEM, h, &other, g.value, true);
    }
    CHECK(CELL_FREE(other));
    faults_drop(&other);
    faults_drop(&h);
}

#if CELL == CELL_RWLOCK
static void F(scenario_cow_wait)(void) {
    M(Parts) h = F(parts_box)(3);
    M(Parts) other = faults_dup(h);
    struct parts *w = NULL;
    arm();
    pm_status st = faults_write_wait(&other, &w, PM_FOREVER);
    disarm();
    F(check_cow_parts)(st, PM_ENOMEM, h, &other, w, false);
    faults_drop(&other);
    other = faults_dup(h);
    {
        arm();
        WRITE_SCOPE_WAIT(M(Parts), g, &other, 1000u * 1000u);
        disarm();
        F(check_cow_parts)(g.status, PM_ENOMEM, h, &other, g.value, true);
    }
    faults_drop(&other);
    faults_drop(&h);
}
#endif

/* ---- the clone hook fails midway, not for memory: PM_ECLONE ---- */

static void F(test_clone_fails_midway)(void) {
    long points = 0;
    for (int j = 0; j < 3; j++) {
        long before = boxes_live;
        M(Parts) h = F(parts_box)(3);
        M(Parts) other = faults_dup(h);
        struct parts *w = NULL;
        parts_fail_after = j; /* fail after copying j parts */
        pm_status st = faults_write(&other, &w);
        parts_fail_after = -1;
        fault_hit = false;
        F(check_cow_parts)(st, PM_ECLONE, h, &other, w, false);
        faults_drop(&other);
        faults_drop(&h);
        CHECK(boxes_live == before);
        faults_injected++;
        points++;
    }
    printf("faults: %-14s %-10s %ld clone hook failure points (PM_ECLONE)\n", STR(POLICY),
           "clone_hook", points);
}

static void F(run)(void) {
    const char *p = STR(POLICY);
    CHECK(sweep(p, "new", F(scenario_new)) == 1);          /* the box */
    CHECK(sweep(p, "build", F(scenario_build)) == 12);     /* 3 x (2 parts, payload, node) */
    CHECK(sweep(p, "cow_tree", F(scenario_cow_tree)) == 1); /* the copy's box only */
    CHECK(sweep(p, "cow_parts", F(scenario_cow_parts)) == 4); /* the box, then 3 parts */
    CHECK(sweep(p, "cow_guard", F(scenario_cow_guard)) == 4);
#if CELL == CELL_RWLOCK
    CHECK(sweep(p, "cow_wait", F(scenario_cow_wait)) == 4);
#endif
    F(test_clone_fails_midway)();
}

#undef CELL_FREE

#endif
