/* test_region_policy.h — the region tests of one policy, included by
 * tests/c/test_region.c once per policy with P defined (SingleThreaded,
 * ThreadSafe, Local, Frozen): Region_N_P_alloc of a type with a drop hook,
 * with nothing to drop, over-aligned, with a managed field, a sum type; drop
 * order, chunk reuse, every allocation failing in turn, threads at once. */

#define H(T) XCAT(Managed_##T, P)
#define V(T) XCAT(T, P)
#define F(T, op) XCAT3(Managed_##T, P, op)
#define RA(T) XCAT3(Region_##T, P, alloc)
#define TEST(name) XCAT(name, P)

/* Values dropped exactly once, newest first; Num and Vec record nothing; reset
 * keeps one chunk, and the same allocations again take no new one. */
static void TEST(drop_order)(bool shared, long n) {
    pm_region r;
    CHECK(pm_region_init(&r, shared) == PM_OK);
    for (int round = 0; round < 3; round++) {
        robj_reset_log();
        long chunks_before = boxes_live, allocations_before = allocations;
        for (long k = 0; k < n; k++) {
            struct robj *o = NULL;
            CHECK(RA(Obj)(&r, (struct robj){k}, &o) == PM_OK && o != NULL && o->id == k);
            int64_t *num = NULL;
            CHECK(RA(Num)(&r, k * 3, &num) == PM_OK && *num == k * 3);
            V(Vec) *vec = NULL;
            CHECK(RA(Vec)(&r, (V(Vec)){(double)k, 0.5}, &vec) == PM_OK && vec->x == (double)k);
            void *wide = NULL; /* over-aligned, straight from the runtime */
            CHECK(pm_region_alloc(&r, 24, 64, NULL, NULL, &wide) == PM_OK);
            CHECK(((uintptr_t)wide & 63u) == 0);
            memset(wide, 0x5a, 24);
        }
        CHECK(robj_drops == 0);
        if (round > 0 && n <= 32) {
            CHECK(allocations == allocations_before); /* the kept chunk was enough */
        }
        (void)chunks_before;
        pm_region_reset(&r);
        CHECK(robj_drops == n);
        bool ordered = true;
        for (long k = 0; k < n && k < ROBJ_LOG_CAPACITY; k++) {
            ordered = ordered && robj_log[k] == n - 1 - k;
        }
        CHECK(ordered);
        CHECK(boxes_live == 1); /* one chunk kept */
    }
    /* Reset of a region with nothing allocated since: nothing happens. */
    robj_reset_log();
    pm_region_reset(&r);
    CHECK(robj_drops == 0 && boxes_live == 1);
    /* Two values with nothing to drop lie side by side: no record between them. */
    if (!shared) {
        int64_t *a = NULL, *b = NULL;
        CHECK(RA(Num)(&r, 1, &a) == PM_OK && RA(Num)(&r, 2, &b) == PM_OK);
        CHECK((char *)b - (char *)a == (ptrdiff_t)sizeof(int64_t));
    }
    CHECK(RA(Obj)(&r, (struct robj){7}, NULL) == PM_EINVAL);
    CHECK(RA(Obj)(NULL, (struct robj){7}, &(struct robj *){NULL}) == PM_EINVAL);
    pm_region_fini(&r);
    CHECK(boxes_live == 0);
    pm_region_fini(&r); /* again: nothing */
}

/* Managed fields (a fields type, a sum type's variants) are dropped at reset:
 * the boxes they own are released, their hooks run. */
static void TEST(managed_fields)(bool shared) {
    pm_region r;
    CHECK(pm_region_init(&r, shared) == PM_OK);
    robj_reset_log();
    H(Obj) obj = {NULL};
    CHECK(F(Obj, new)(&obj, (struct robj){42}) == PM_OK);
    H(Obj) kept = F(Obj, dup)(obj);
    V(Pair) *pair = NULL;
    CHECK(RA(Pair)(&r, (V(Pair)){1, obj}, &pair) == PM_OK && pair->obj.box == obj.box);
    CHECK(F(Obj, refcount)(kept) == 2);
    H(Expr) left = {NULL}, right = {NULL};
    CHECK(F(Expr, new_Val)(&left, 1) == PM_OK && F(Expr, new_Val)(&right, 2) == PM_OK);
    V(Expr) sum = {.tag = Expr_Add, .Add = {left, right}};
    V(Expr) *expr = NULL;
    CHECK(RA(Expr)(&r, sum, &expr) == PM_OK && expr->tag == Expr_Add);
    V(Expr) *nil = NULL;
    CHECK(RA(Expr)(&r, (V(Expr)){.tag = Expr_Nil}, &nil) == PM_OK && nil->tag == Expr_Nil);
    long live = boxes_live; /* chunk, Obj's box, two Val boxes */
    pm_region_reset(&r);
    CHECK(F(Obj, refcount)(kept) == 1 && robj_drops == 0);
    CHECK(boxes_live == live - 2); /* the Val boxes went, the chunk stayed */
    F(Obj, drop)(&kept);
    CHECK(robj_drops == 1 && robj_log[0] == 42);
    pm_region_fini(&r);
    CHECK(boxes_live == 0);
}

/* Every allocation failing in turn: a failed Region_N_P_alloc changes nothing and
 * the caller still owns its value (and drops it); everything is dropped once. */
static void TEST(faults)(bool shared, long n) {
    for (long fail = 0;; fail++) {
        robj_reset_log();
        pm_region r;
        CHECK(pm_region_init(&r, shared) == PM_OK);
        long made = 0, failed = 0;
        fail_after = fail;
        for (long k = 0; k < n; k++) {
            H(Obj) obj = {NULL};
            if (F(Obj, new)(&obj, (struct robj){k}) != PM_OK) {
                failed++;
                continue;
            }
            made++;
            V(Pair) *pair = NULL;
            pm_status status = RA(Pair)(&r, (V(Pair)){k, obj}, &pair);
            if (status != PM_OK) {
                CHECK(status == PM_ENOMEM && pair == NULL);
                CHECK(F(Obj, refcount)(obj) == 1);
                F(Obj, drop)(&obj); /* still ours */
                failed++;
            }
            struct robj *o = NULL;
            status = RA(Obj)(&r, (struct robj){n + k}, &o);
            if (status != PM_OK) {
                CHECK(status == PM_ENOMEM && o == NULL);
                robj_drop(&(struct robj){n + k}); /* still ours */
                failed++;
            }
            made++;
        }
        fail_after = -1;
        pm_region_fini(&r);
        CHECK(robj_drops == made);
        CHECK(boxes_live == 0);
        if (failed == 0) {
            break;
        }
    }
}

struct TEST(worker) {
    pm_region *region;
    long first, count;
};

static void *TEST(allocate)(void *arg) {
    struct TEST(worker) *w = (struct TEST(worker) *)arg;
    for (long k = w->first; k < w->first + w->count; k++) {
        struct robj *o = NULL;
        CHECK(RA(Obj)(w->region, (struct robj){k}, &o) == PM_OK && o->id == k);
        int64_t *num = NULL;
        CHECK(RA(Num)(w->region, k, &num) == PM_OK && *num == k);
        void *wide = NULL; /* over-aligned; now and then bigger than a chunk */
        size_t size = k % 997 == 0 ? (size_t)1 << 21 : 40; /* 2 MiB */
        CHECK(pm_region_alloc(w->region, size, 64, NULL, NULL, &wide) == PM_OK);
        CHECK(((uintptr_t)wide & 63u) == 0);
        memset(wide, 0x5a, size);
        CHECK(o->id == k && *num == k); /* nobody else was given these bytes */
    }
    return NULL;
}

/* A shared region: `threads` threads allocate at once; every value is dropped
 * exactly once, each thread's newest first. */
static void TEST(threads)(int threads, long per_thread) {
    pm_region r;
    CHECK(pm_region_init(&r, true) == PM_OK);
    for (int round = 0; round < 2; round++) {
        robj_reset_log();
        pthread_t ids[4];
        struct TEST(worker) workers[4];
        for (int t = 0; t < threads; t++) {
            workers[t] = (struct TEST(worker)){&r, t * per_thread, per_thread};
            CHECK(pthread_create(&ids[t], NULL, TEST(allocate), &workers[t]) == 0);
        }
        for (int t = 0; t < threads; t++) {
            CHECK(pthread_join(ids[t], NULL) == 0);
        }
        if (round == 0) {
            pm_region_reset(&r);
            CHECK(boxes_live == 1);
        } else {
            pm_region_fini(&r);
            CHECK(boxes_live == 0);
        }
        long total = threads * per_thread;
        CHECK(robj_drops == total);
        if (total <= ROBJ_LOG_CAPACITY) {
            static unsigned char seen[ROBJ_LOG_CAPACITY];
            int64_t last[4] = {INT64_MAX, INT64_MAX, INT64_MAX, INT64_MAX};
            memset(seen, 0, sizeof seen);
            bool once = true, ordered = true;
            for (long k = 0; k < total; k++) {
                int64_t id = robj_log[k];
                once = once && id >= 0 && id < total && !seen[id];
                if (id >= 0 && id < total) {
                    seen[id] = 1;
                    long t = id / per_thread;
                    ordered = ordered && id < last[t];
                    last[t] = id;
                }
            }
            CHECK(once && ordered);
        }
    }
}

static void TEST(all)(long n) {
    TEST(drop_order)(false, 16);
    TEST(drop_order)(true, 16);
    TEST(drop_order)(false, n);
    TEST(drop_order)(true, n);
    TEST(managed_fields)(false);
    TEST(managed_fields)(true);
    TEST(faults)(false, 300);
    TEST(faults)(true, 300);
    TEST(threads)(2, n);
    TEST(threads)(4, n / 2);
}

#undef H
#undef V
#undef F
#undef RA
#undef TEST
