/* test_store_policy.h — the generational store's tests of one policy, included
 * by tests/c/test_store.c once per policy with P defined (SingleThreaded,
 * ThreadSafe, Local, Frozen), against tests/specs/stores.yaml.
 *
 * Each test is a paragraph of the store's contract (DESIGN.md "Generational
 * stores" and "Fine print for part two"); the ports say where they come from:
 *   slotmap      = the Rust crate slotmap (orlp/slotmap, src/basic.rs: its doc
 *                  tests and its `check_drops` / `qc_slotmap_equiv_hashmap` tests);
 *   upstream     = the perceus-mem crate (quichelang/quiche crates/perceus-mem,
 *                  src/store.rs and src/weak.rs tests). */

#define S(T) XCAT(Store_##T, P)
#define SF(T, op) XCAT3(Store_##T, P, op)
#define SH(T) XCAT(StoreHandle_##T, P)
#define SW(T) XCAT(StoreWeak_##T, P)
#define WF(T, op) XCAT3(StoreWeak_##T, P, op)
#define H(T) XCAT(Managed_##T, P)
#define F(T, op) XCAT3(Managed_##T, P, op)
#define V(T) XCAT(T, P)
#define TEST(name) XCAT(name, P)
/* The cell's status for a conflicting borrow, and whether the store is shared. */
#define CONFLICT XCAT(store_conflict, P)
#define SHARED XCAT(store_shared, P)

/* ------------------------------------------------------------------------ */
/* Ports of slotmap                                                          */
/* ------------------------------------------------------------------------ */

/* slotmap `insert`, `get`, `remove`, `contains_key`, `len`, `is_empty` doc tests:
 * a key finds its value; after its removal the key finds nothing (get after
 * remove is None, remove again is None); len counts values, not slots. */
static void TEST(slotmap_basic)(void) {
    S(Num) sm;
    CHECK(SF(Num, init)(&sm) == PM_OK);
    CHECK(SF(Num, len)(&sm) == 0); /* is_empty */
    SH(Num) key = {0, 0};
    CHECK(SF(Num, alloc)(&sm, 42, &key) == PM_OK);
    CHECK(key.generation == 1); /* generations start at 1 */
    const int64_t *value = NULL;
    CHECK(SF(Num, get)(&sm, key, &value) == PM_OK && *value == 42);
    SF(Num, release_get)(&sm, key);
    CHECK(WF(Num, is_alive)(WF(Num, from_handle)(key), &sm)); /* contains_key */
    /* len() counts actual elements, not capacity; removed elements don't count either */
    SH(Num) removed = {0, 0};
    CHECK(SF(Num, alloc)(&sm, 7, &removed) == PM_OK);
    CHECK(removed.index != key.index || removed.generation != key.generation);
    CHECK(SF(Num, len)(&sm) == 2);
    uint32_t count = 99;
    CHECK(SF(Num, release)(&sm, removed, &count) == PM_OK && count == 0);
    CHECK(SF(Num, len)(&sm) == 1);
    /* remove(key) twice: the second finds nothing */
    CHECK(SF(Num, release)(&sm, removed, &count) == PM_EGONE);
    CHECK(SF(Num, len)(&sm) == 1);
    /* get after remove is None; contains_key is false */
    CHECK(SF(Num, get)(&sm, removed, &value) == PM_EGONE);
    CHECK(!WF(Num, is_alive)(WF(Num, from_handle)(removed), &sm));
    /* the other key is untouched */
    CHECK(SF(Num, get)(&sm, key, &value) == PM_OK && *value == 42);
    SF(Num, release_get)(&sm, key);
    CHECK(SF(Num, release)(&sm, key, NULL) == PM_OK);
    CHECK(SF(Num, len)(&sm) == 0); /* is_empty again */
    SF(Num, fini)(&sm);
}

/* slotmap `check_drops`: insert n values, remove the even keys (n/2 dropped so
 * far), reuse some freed slots (each reused slot's key has a newer version);
 * at the end every value was dropped exactly once. */
static void TEST(slotmap_check_drops)(long n) {
    sobj_reset_log();
    long start = boxes_live;
    S(Obj) sm;
    CHECK(SF(Obj, init)(&sm) == PM_OK);
    SH(Obj) *keys = (SH(Obj) *)calloc((size_t)n, sizeof *keys);
    unsigned char *freed = (unsigned char *)calloc(1u << 16, 1); /* indices freed, by index */
    CHECK(keys != NULL && freed != NULL);
    for (long k = 0; k < n; k++) {
        CHECK(SF(Obj, alloc)(&sm, (struct sobj){k}, &keys[k]) == PM_OK);
    }
    for (long k = 0; k < n; k += 2) {
        CHECK(SF(Obj, release)(&sm, keys[k], NULL) == PM_OK);
        if (CHECK(keys[k].index < (1u << 16))) {
            freed[keys[k].index] = 1;
        }
    }
    CHECK(sobj_drops == (n + 1) / 2); /* should only have dropped the removed ones */
    CHECK(SF(Obj, len)(&sm) == (size_t)(n / 2));
    /* reuse some empty slots: they come from the freed ones, one generation on */
    long reused = n / 4;
    bool from_freed = true, newer = true;
    for (long k = 0; k < reused; k++) {
        SH(Obj) h = {0, 0};
        CHECK(SF(Obj, alloc)(&sm, (struct sobj){n + k}, &h) == PM_OK);
        from_freed = from_freed && h.index < (1u << 16) && freed[h.index];
        newer = newer && h.generation == 2;
        if (h.index < (1u << 16)) {
            freed[h.index] = 0; /* taken once */
        }
    }
    CHECK(from_freed && newer);
    CHECK(SF(Obj, len)(&sm) == (size_t)(n / 2 + reused));
    SF(Obj, fini)(&sm); /* the slot map dies: everything left is dropped once */
    CHECK(sobj_drops == n + reused);
    CHECK(boxes_live == start);
    free(keys);
    free(freed);
}

/* slotmap `qc_slotmap_equiv_hashmap`: random inserts, removals, accesses and
 * clears (drain) agree with a model map; at the end the same values are left. */
static void TEST(slotmap_equiv_model)(long operations, uint64_t seed) {
    sobj_reset_log();
    long start = boxes_live;
    S(Obj) sm;
    CHECK(SF(Obj, init)(&sm) == PM_OK);
    SH(Obj) *keys = (SH(Obj) *)calloc((size_t)operations, sizeof *keys);
    unsigned char *alive = (unsigned char *)calloc((size_t)operations, 1);
    CHECK(keys != NULL && alive != NULL);
    long inserted = 0, live = 0, dropped = 0;
    bool agree = true;
    for (long op = 0; op < operations; op++) {
        seed = seed * 6364136223846793005u + 1442695040888963407u;
        uint32_t val = (uint32_t)(seed >> 33);
        switch (val % 3) {
        case 0: /* insert */
            agree = CHECK(SF(Obj, alloc)(&sm, (struct sobj){inserted}, &keys[inserted]) == PM_OK) &&
                    agree;
            alive[inserted++] = 1;
            live++;
            break;
        case 1: { /* delete; 10% of the time clear (every key removed) */
            if (val % 10 == 0) {
                for (long k = 0; k < inserted; k++) {
                    if (alive[k]) {
                        agree = agree && SF(Obj, release)(&sm, keys[k], NULL) == PM_OK;
                        alive[k] = 0;
                        live--;
                        dropped++;
                    }
                }
                agree = agree && SF(Obj, len)(&sm) == 0 && sobj_drops == dropped;
            }
            if (inserted == 0) {
                break;
            }
            long idx = (long)(val / 3u % (uint32_t)inserted);
            pm_status status = SF(Obj, release)(&sm, keys[idx], NULL);
            if (alive[idx]) {
                agree = agree && status == PM_OK && sobj_drops == dropped + 1 &&
                        (dropped >= SOBJ_LOG_CAPACITY || sobj_log[dropped] == idx);
                alive[idx] = 0;
                live--;
                dropped++;
            } else {
                agree = agree && status == PM_EGONE;
            }
            break;
        }
        default: { /* access */
            if (inserted == 0) {
                break;
            }
            long idx = (long)(val / 3u % (uint32_t)inserted);
            const struct sobj *o = NULL;
            pm_status status = SF(Obj, get)(&sm, keys[idx], &o);
            if (alive[idx]) {
                agree = agree && status == PM_OK && o->id == idx;
                SF(Obj, release_get)(&sm, keys[idx]);
            } else {
                agree = agree && status == PM_EGONE;
            }
            agree = agree && WF(Obj, is_alive)(WF(Obj, from_handle)(keys[idx]), &sm) == alive[idx];
            break;
        }
        }
        agree = agree && SF(Obj, len)(&sm) == (size_t)live;
    }
    CHECK(agree);
    /* the values left are those the model has left */
    bool same = true;
    for (long k = 0; k < inserted; k++) {
        const struct sobj *o = NULL;
        pm_status status = SF(Obj, get)(&sm, keys[k], &o);
        same = same && (alive[k] ? status == PM_OK && o->id == k : status == PM_EGONE);
        if (status == PM_OK) {
            SF(Obj, release_get)(&sm, keys[k]);
        }
    }
    CHECK(same);
    SF(Obj, fini)(&sm);
    CHECK(sobj_drops == inserted);
    CHECK(boxes_live == start);
    free(keys);
    free(alive);
}

/* ------------------------------------------------------------------------ */
/* Ports of the upstream crate's store tests                                 */
/* ------------------------------------------------------------------------ */

/* upstream store.rs `test_alloc_and_get` and `test_generation_validation`: a
 * value is found by its handle; after its release the handle is stale (PM_EGONE);
 * the next alloc reuses the slot with a new generation, and the old handle stays
 * stale. */
static void TEST(upstream_generation_validation)(void) {
    sobj_reset_log();
    S(Obj) store;
    CHECK(SF(Obj, init)(&store) == PM_OK);
    SH(Obj) h = {0, 0};
    CHECK(SF(Obj, alloc)(&store, (struct sobj){42}, &h) == PM_OK);
    const struct sobj *o = NULL;
    CHECK(SF(Obj, get)(&store, h, &o) == PM_OK && o->id == 42);
    SF(Obj, release_get)(&store, h);
    CHECK(SF(Obj, len)(&store) == 1);

    SH(Obj) h1 = {0, 0};
    CHECK(SF(Obj, alloc)(&store, (struct sobj){1}, &h1) == PM_OK);
    CHECK(SF(Obj, release)(&store, h1, NULL) == PM_OK);
    CHECK(sobj_drops == 1 && sobj_log[0] == 1);
    CHECK(SF(Obj, get)(&store, h1, &o) == PM_EGONE); /* h1 is stale */
    SH(Obj) h2 = {0, 0};
    CHECK(SF(Obj, alloc)(&store, (struct sobj){2}, &h2) == PM_OK);
    CHECK(h2.index == h1.index && h2.generation == h1.generation + 1); /* the slot, reused */
    CHECK(SF(Obj, get)(&store, h2, &o) == PM_OK && o->id == 2);
    SF(Obj, release_get)(&store, h2);
    CHECK(SF(Obj, get)(&store, h1, &o) == PM_EGONE); /* h1 still stale */
    CHECK(SF(Obj, retain)(&store, h1, NULL) == PM_EGONE);
    CHECK(SF(Obj, release)(&store, h1, NULL) == PM_EGONE);
    CHECK(sobj_drops == 1); /* the stale release dropped nothing */
    CHECK(SF(Obj, ref_count)(&store, h2, &(uint32_t){0}) == PM_OK);
    SF(Obj, fini)(&store);
    CHECK(sobj_drops == 3);
}

/* upstream store.rs `test_retain_release`: the count goes 1, 2, 1, then the
 * value is freed and ref_count finds nothing. */
static void TEST(upstream_retain_release)(void) {
    sobj_reset_log();
    S(Obj) store;
    CHECK(SF(Obj, init)(&store) == PM_OK);
    SH(Obj) h = {0, 0};
    CHECK(SF(Obj, alloc)(&store, (struct sobj){42}, &h) == PM_OK);
    uint32_t count = 0;
    CHECK(SF(Obj, ref_count)(&store, h, &count) == PM_OK && count == 1);
    CHECK(SF(Obj, retain)(&store, h, &count) == PM_OK && count == 2);
    CHECK(SF(Obj, ref_count)(&store, h, &count) == PM_OK && count == 2);
    CHECK(SF(Obj, retain)(&store, h, NULL) == PM_OK); /* count may be NULL */
    CHECK(SF(Obj, release)(&store, h, NULL) == PM_OK);
    CHECK(SF(Obj, release)(&store, h, &count) == PM_OK && count == 1);
    CHECK(SF(Obj, ref_count)(&store, h, &count) == PM_OK && count == 1);
    CHECK(sobj_drops == 0);
    CHECK(SF(Obj, release)(&store, h, &count) == PM_OK && count == 0);
    CHECK(sobj_drops == 1 && sobj_log[0] == 42); /* freed at zero */
    CHECK(SF(Obj, ref_count)(&store, h, &count) == PM_EGONE);
    CHECK(SF(Obj, len)(&store) == 0);
    SF(Obj, fini)(&store);
    CHECK(sobj_drops == 1);
}

/* upstream store.rs `test_fbip_try_get_unique`: the only owner gets the value
 * for writing in place and get sees the write; with a second owner try_get_unique
 * is refused (PM_ESHARED); back to one owner it works again. */
static void TEST(upstream_fbip_try_get_unique)(void) {
    sobj_reset_log();
    S(Obj) store;
    CHECK(SF(Obj, init)(&store) == PM_OK);
    SH(Obj) h = {0, 0};
    CHECK(SF(Obj, alloc)(&store, (struct sobj){3}, &h) == PM_OK);
    struct sobj *u = NULL;
    if (CHECK(SF(Obj, try_get_unique)(&store, h, &u) == PM_OK)) {
        u->id = 4; /* v.push(4) */
        SF(Obj, release_unique)(&store, h);
    }
    const struct sobj *o = NULL;
    CHECK(SF(Obj, get)(&store, h, &o) == PM_OK && o->id == 4);
    SF(Obj, release_get)(&store, h);
    CHECK(SF(Obj, retain)(&store, h, NULL) == PM_OK);
    u = NULL;
    CHECK(SF(Obj, try_get_unique)(&store, h, &u) == PM_ESHARED && u == NULL);
    CHECK(SF(Obj, release)(&store, h, NULL) == PM_OK);
    CHECK(SF(Obj, try_get_unique)(&store, h, &u) == PM_OK && u != NULL && u->id == 4);
    SF(Obj, release_unique)(&store, h);
    CHECK(SF(Obj, release)(&store, h, NULL) == PM_OK && sobj_drops == 1);
    SF(Obj, fini)(&store);
}

/* upstream weak.rs `test_weak_from_handle`, `test_weak_after_release`,
 * `test_weak_upgrade`, `test_weak_upgrade_after_release`: a weak handle is alive
 * while the value is; upgrade retains (count 2), and the upgraded handle keeps
 * the value after the original is released; a dead weak handle does not upgrade,
 * not even once the slot holds a new value. */
static void TEST(upstream_weak)(void) {
    sobj_reset_log();
    S(Obj) store;
    CHECK(SF(Obj, init)(&store) == PM_OK);
    SH(Obj) handle = {0, 0};
    CHECK(SF(Obj, alloc)(&store, (struct sobj){42}, &handle) == PM_OK);
    SW(Obj) weak = WF(Obj, from_handle)(handle);
    CHECK(weak.index == handle.index && weak.generation == handle.generation);
    CHECK(WF(Obj, is_alive)(weak, &store));
    /* test_weak_upgrade */
    uint32_t count = 0;
    CHECK(SF(Obj, ref_count)(&store, handle, &count) == PM_OK && count == 1);
    SH(Obj) upgraded = {0, 0};
    CHECK(WF(Obj, upgrade)(weak, &store, &upgraded) == PM_OK);
    CHECK(upgraded.index == handle.index && upgraded.generation == handle.generation);
    CHECK(SF(Obj, ref_count)(&store, handle, &count) == PM_OK && count == 2);
    CHECK(SF(Obj, release)(&store, handle, &count) == PM_OK && count == 1);
    CHECK(SF(Obj, ref_count)(&store, upgraded, &count) == PM_OK && count == 1);
    const struct sobj *o = NULL;
    CHECK(SF(Obj, get)(&store, upgraded, &o) == PM_OK && o->id == 42); /* still alive */
    SF(Obj, release_get)(&store, upgraded);
    CHECK(sobj_drops == 0);
    /* test_weak_after_release, test_weak_upgrade_after_release */
    CHECK(SF(Obj, release)(&store, upgraded, NULL) == PM_OK && sobj_drops == 1);
    CHECK(!WF(Obj, is_alive)(weak, &store));
    SH(Obj) none = {12345, 6789};
    CHECK(WF(Obj, upgrade)(weak, &store, &none) == PM_EGONE);
    CHECK(none.index == 12345 && none.generation == 6789); /* *out untouched */
    SH(Obj) next = {0, 0};
    CHECK(SF(Obj, alloc)(&store, (struct sobj){43}, &next) == PM_OK);
    CHECK(next.index == weak.index); /* the same slot ... */
    CHECK(!WF(Obj, is_alive)(weak, &store)); /* ... is not the weak handle's value */
    CHECK(WF(Obj, upgrade)(weak, &store, &none) == PM_EGONE);
    CHECK(WF(Obj, is_alive)(WF(Obj, from_handle)(next), &store));
    SF(Obj, fini)(&store);
    CHECK(sobj_drops == 2);
}

/* ------------------------------------------------------------------------ */
/* Error paths                                                               */
/* ------------------------------------------------------------------------ */

/* A handle that names no live value changes nothing: `count` and `out` are left
 * alone and no value is dropped. */
static void TEST(expect_gone)(S(Obj) *s, SH(Obj) h) {
    uint32_t count = 77;
    const struct sobj *o = NULL;
    struct sobj *u = NULL;
    SH(Obj) out = {5, 5};
    CHECK(SF(Obj, retain)(s, h, &count) == PM_EGONE && count == 77);
    CHECK(SF(Obj, release)(s, h, &count) == PM_EGONE && count == 77);
    CHECK(SF(Obj, ref_count)(s, h, &count) == PM_EGONE && count == 77);
    CHECK(SF(Obj, get)(s, h, &o) == PM_EGONE && o == NULL);
    CHECK(SF(Obj, try_get_unique)(s, h, &u) == PM_EGONE && u == NULL);
    CHECK(!WF(Obj, is_alive)(WF(Obj, from_handle)(h), s));
    CHECK(WF(Obj, upgrade)(WF(Obj, from_handle)(h), s, &out) == PM_EGONE);
    CHECK(out.index == 5 && out.generation == 5);
}

/* Every call given an empty handle: PM_EINVAL, or nothing for the void ones. */
static void TEST(expect_empty)(S(Obj) *s, SH(Obj) h) {
    uint32_t count = 77;
    const struct sobj *o = NULL;
    struct sobj *u = NULL;
    SH(Obj) out = {5, 5};
    uint64_t mismatches = pm_debug_release_mismatches();
    CHECK(SF(Obj, retain)(s, h, &count) == PM_EINVAL && count == 77);
    CHECK(SF(Obj, release)(s, h, &count) == PM_EINVAL && count == 77);
    CHECK(SF(Obj, ref_count)(s, h, &count) == PM_EINVAL && count == 77);
    CHECK(SF(Obj, get)(s, h, &o) == PM_EINVAL && o == NULL);
    CHECK(SF(Obj, try_get_unique)(s, h, &u) == PM_EINVAL && u == NULL);
    SF(Obj, release_get)(s, h);
    SF(Obj, release_unique)(s, h);
    CHECK(pm_debug_release_mismatches() == mismatches); /* an empty handle: not a mismatch */
    SW(Obj) w = WF(Obj, from_handle)(h);
    CHECK(w.generation == 0);
    CHECK(!WF(Obj, is_alive)(w, s));
    CHECK(WF(Obj, upgrade)(w, s, &out) == PM_EINVAL);
    CHECK(out.index == 5 && out.generation == 5);
}

/* NULL store or out; the empty handle; an index never allocated; a stale or
 * future generation; a release of a borrow nobody holds (ignored; counted by
 * pm_debug_release_mismatches under PM_DEBUG). None of them changes the store. */
static void TEST(error_paths)(void) {
    sobj_reset_log();
    long start = boxes_live;
    CHECK(SF(Obj, init)(NULL) == PM_EINVAL);
    SF(Obj, fini)(NULL);
    CHECK(SF(Obj, len)(NULL) == 0);
    S(Obj) s;
    CHECK(SF(Obj, init)(&s) == PM_OK);
    SH(Obj) h = {0, 0};
    CHECK(SF(Obj, alloc)(NULL, (struct sobj){1}, &h) == PM_EINVAL && h.generation == 0);
    CHECK(SF(Obj, alloc)(&s, (struct sobj){1}, NULL) == PM_EINVAL);
    CHECK(SF(Obj, len)(&s) == 0 && sobj_drops == 0);
    CHECK(SF(Obj, alloc)(&s, (struct sobj){1}, &h) == PM_OK);

    /* NULL store, NULL out */
    uint32_t count = 77;
    const struct sobj *o = NULL;
    struct sobj *u = NULL;
    SH(Obj) out = {5, 5};
    SW(Obj) w = WF(Obj, from_handle)(h);
    uint64_t mismatches = pm_debug_release_mismatches();
    CHECK(SF(Obj, retain)(NULL, h, &count) == PM_EINVAL && count == 77);
    CHECK(SF(Obj, release)(NULL, h, &count) == PM_EINVAL && count == 77);
    CHECK(SF(Obj, ref_count)(NULL, h, &count) == PM_EINVAL && count == 77);
    CHECK(SF(Obj, ref_count)(&s, h, NULL) == PM_EINVAL);
    CHECK(SF(Obj, get)(NULL, h, &o) == PM_EINVAL && o == NULL);
    CHECK(SF(Obj, get)(&s, h, NULL) == PM_EINVAL);
    CHECK(SF(Obj, try_get_unique)(NULL, h, &u) == PM_EINVAL && u == NULL);
    CHECK(SF(Obj, try_get_unique)(&s, h, NULL) == PM_EINVAL);
    SF(Obj, release_get)(NULL, h);
    SF(Obj, release_unique)(NULL, h);
    CHECK(!WF(Obj, is_alive)(w, NULL));
    CHECK(WF(Obj, upgrade)(w, NULL, &out) == PM_EINVAL && out.index == 5);
    CHECK(WF(Obj, upgrade)(w, &s, NULL) == PM_EINVAL);
    CHECK(pm_debug_release_mismatches() == mismatches);
    CHECK(SF(Obj, ref_count)(&s, h, &count) == PM_OK && count == 1); /* nothing changed */
    u = NULL;
    CHECK(SF(Obj, try_get_unique)(&s, h, &u) == PM_OK && u != NULL); /* no borrow was left */
    SF(Obj, release_unique)(&s, h);

    /* the empty handle: generation 0, whatever its index */
    TEST(expect_empty)(&s, (SH(Obj)){0, 0});
    TEST(expect_empty)(&s, (SH(Obj)){h.index, 0});

    /* an index never allocated: far out, past every page, or in a page but never handed out */
    TEST(expect_gone)(&s, (SH(Obj)){999999, 1});
    TEST(expect_gone)(&s, (SH(Obj)){UINT32_MAX, 1});
    TEST(expect_gone)(&s, (SH(Obj)){h.index + 16, 1});
    SF(Obj, release_get)(&s, (SH(Obj)){999999, 1}); /* ignored */
    SF(Obj, release_unique)(&s, (SH(Obj)){UINT32_MAX, 1});
    /* a generation the slot has not reached yet */
    TEST(expect_gone)(&s, (SH(Obj)){h.index, h.generation + 1});
    CHECK(SF(Obj, ref_count)(&s, h, &count) == PM_OK && count == 1);

    /* a release of a borrow nobody holds: ignored, and counted under PM_DEBUG */
    mismatches = pm_debug_release_mismatches();
    SF(Obj, release_get)(&s, h); /* no reader */
    CHECK(pm_debug_release_mismatches() == mismatches + MISMATCH_STEP);
    SF(Obj, release_unique)(&s, h); /* no writer */
    CHECK(pm_debug_release_mismatches() == mismatches + 2 * MISMATCH_STEP);
    CHECK(SF(Obj, get)(&s, h, &o) == PM_OK && o->id == 1);
    SF(Obj, release_unique)(&s, h); /* a reader, but no writer: the reader stays */
    CHECK(pm_debug_release_mismatches() == mismatches + 3 * MISMATCH_STEP);
    CHECK(SF(Obj, try_get_unique)(&s, h, &u) == CONFLICT);
    SF(Obj, release_get)(&s, h);
    SF(Obj, release_get)(&s, h); /* one release too many */
    CHECK(pm_debug_release_mismatches() == mismatches + 4 * MISMATCH_STEP);
    CHECK(SF(Obj, try_get_unique)(&s, h, &u) == PM_OK); /* the extra release took nothing */
    SF(Obj, release_get)(&s, h); /* a writer, but no reader: the writer stays */
    CHECK(pm_debug_release_mismatches() == mismatches + 5 * MISMATCH_STEP);
    CHECK(SF(Obj, get)(&s, h, &o) == CONFLICT);
    SF(Obj, release_unique)(&s, h);
    CHECK(SF(Obj, ref_count)(&s, h, &count) == PM_OK && count == 1 && sobj_drops == 0);

    /* a stale handle */
    SH(Obj) stale = h;
    CHECK(SF(Obj, release)(&s, h, NULL) == PM_OK && sobj_drops == 1);
    TEST(expect_gone)(&s, stale);
    mismatches = pm_debug_release_mismatches();
    SF(Obj, release_get)(&s, stale);
    SF(Obj, release_unique)(&s, stale);
    CHECK(pm_debug_release_mismatches() == mismatches + 2 * MISMATCH_STEP);
    CHECK(SF(Obj, alloc)(&s, (struct sobj){2}, &h) == PM_OK && h.index == stale.index);
    TEST(expect_gone)(&s, stale); /* stale also once the slot holds a new value */
    SF(Obj, release_get)(&s, stale); /* ... and its borrows are not the new value's */
    CHECK(SF(Obj, try_get_unique)(&s, h, &u) == PM_OK && u->id == 2);
    SF(Obj, release_unique)(&s, stale);
    CHECK(SF(Obj, get)(&s, h, &o) == CONFLICT); /* the stale release left the writer alone */
    SF(Obj, release_unique)(&s, h);
    CHECK(sobj_drops == 1 && SF(Obj, len)(&s) == 1);

    SF(Obj, fini)(&s);
    CHECK(sobj_drops == 2 && boxes_live == start);
    /* fini leaves the store zero: fini again does nothing; no call finds anything */
    SF(Obj, fini)(&s);
    CHECK(SF(Obj, len)(&s) == 0);
    CHECK(sobj_drops == 2);
}

/* ------------------------------------------------------------------------ */
/* Borrows                                                                   */
/* ------------------------------------------------------------------------ */

/* A get borrow keeps the value alive across its last release: the drop waits
 * for release_get (exactly one drop then), while the handle is already PM_EGONE
 * and len still counts the value. The same with try_get_unique's borrow, and
 * with several readers (the last one's release_get drops). */
static void TEST(borrow_defers_drop)(void) {
    sobj_reset_log();
    long start = boxes_live;
    S(Obj) s;
    CHECK(SF(Obj, init)(&s) == PM_OK);
    SH(Obj) h = {0, 0};
    CHECK(SF(Obj, alloc)(&s, (struct sobj){10}, &h) == PM_OK);
    const struct sobj *o = NULL;
    CHECK(SF(Obj, get)(&s, h, &o) == PM_OK);
    uint32_t count = 99;
    CHECK(SF(Obj, release)(&s, h, &count) == PM_OK && count == 0);
    CHECK(sobj_drops == 0 && o->id == 10); /* the drop waits */
    TEST(expect_gone)(&s, h); /* ... but the handle is gone */
    CHECK(SF(Obj, len)(&s) == 1);
    SF(Obj, release_get)(&s, h);
    CHECK(sobj_drops == 1 && sobj_log[0] == 10);
    CHECK(SF(Obj, len)(&s) == 0);
    TEST(expect_gone)(&s, h);
    uint64_t mismatches = pm_debug_release_mismatches();
    SF(Obj, release_get)(&s, h); /* the borrow ended already */
    CHECK(pm_debug_release_mismatches() == mismatches + MISMATCH_STEP);
    CHECK(sobj_drops == 1);

    /* two readers: the second release_get drops */
    CHECK(SF(Obj, alloc)(&s, (struct sobj){11}, &h) == PM_OK);
    const struct sobj *o2 = NULL;
    CHECK(SF(Obj, get)(&s, h, &o) == PM_OK && SF(Obj, get)(&s, h, &o2) == PM_OK && o == o2);
    CHECK(SF(Obj, release)(&s, h, NULL) == PM_OK);
    SF(Obj, release_get)(&s, h);
    CHECK(sobj_drops == 1 && o2->id == 11);
    SF(Obj, release_get)(&s, h);
    CHECK(sobj_drops == 2 && sobj_log[1] == 11);

    /* the unique borrow, written to, then its owner leaves: dropped at release_unique */
    CHECK(SF(Obj, alloc)(&s, (struct sobj){12}, &h) == PM_OK);
    struct sobj *u = NULL;
    CHECK(SF(Obj, try_get_unique)(&s, h, &u) == PM_OK);
    u->id = 13;
    CHECK(SF(Obj, release)(&s, h, &count) == PM_OK && count == 0);
    CHECK(sobj_drops == 2 && u->id == 13);
    TEST(expect_gone)(&s, h);
    CHECK(SF(Obj, len)(&s) == 1);
    SF(Obj, release_unique)(&s, h);
    CHECK(sobj_drops == 3 && sobj_log[2] == 13);
    CHECK(SF(Obj, len)(&s) == 0);

    /* the slot is reused afterwards, one generation on (unless that was its last) */
    SH(Obj) next = {0, 0};
    CHECK(SF(Obj, alloc)(&s, (struct sobj){14}, &next) == PM_OK);
    if (h.generation < PM_STORE_GENERATION_MAX) {
        CHECK(next.index == h.index && next.generation == h.generation + 1);
    } else {
        CHECK(next.index != h.index); /* retired */
    }
    TEST(expect_gone)(&s, h);
    SF(Obj, fini)(&s);
    CHECK(sobj_drops == 4 && boxes_live == start);
}

/* get vs try_get_unique: readers share, a writer excludes everyone; a conflict
 * reports the cell's status (PM_EBUSY: rwlock cell; PM_EBORROWED: the others);
 * more than one owner is PM_ESHARED; at most 127 readers, then the cell's status. */
static void TEST(borrow_conflicts)(void) {
    sobj_reset_log();
    S(Obj) s;
    CHECK(SF(Obj, init)(&s) == PM_OK);
    SH(Obj) h = {0, 0};
    CHECK(SF(Obj, alloc)(&s, (struct sobj){20}, &h) == PM_OK);
    const struct sobj *o = NULL;
    struct sobj *u = NULL;
    CHECK(SF(Obj, get)(&s, h, &o) == PM_OK);
    CHECK(SF(Obj, try_get_unique)(&s, h, &u) == CONFLICT && u == NULL);
    CHECK(SF(Obj, get)(&s, h, &o) == PM_OK); /* readers share */
    SF(Obj, release_get)(&s, h);
    CHECK(SF(Obj, try_get_unique)(&s, h, &u) == CONFLICT);
    SF(Obj, release_get)(&s, h);
    CHECK(SF(Obj, try_get_unique)(&s, h, &u) == PM_OK && u->id == 20);
    o = NULL;
    CHECK(SF(Obj, get)(&s, h, &o) == CONFLICT && o == NULL);
    struct sobj *u2 = NULL;
    CHECK(SF(Obj, try_get_unique)(&s, h, &u2) == CONFLICT && u2 == NULL);
    /* retain and release are not borrows: allowed under one */
    uint32_t count = 0;
    CHECK(SF(Obj, retain)(&s, h, &count) == PM_OK && count == 2);
    CHECK(SF(Obj, release)(&s, h, &count) == PM_OK && count == 1);
    SF(Obj, release_unique)(&s, h);
    CHECK(SF(Obj, get)(&s, h, &o) == PM_OK);
    SF(Obj, release_get)(&s, h);

    /* more owners: PM_ESHARED, whether or not a borrow is held */
    CHECK(SF(Obj, retain)(&s, h, NULL) == PM_OK);
    CHECK(SF(Obj, try_get_unique)(&s, h, &u) == PM_ESHARED);
    CHECK(SF(Obj, release)(&s, h, NULL) == PM_OK);

    /* 127 readers, then the cell's status; the writer waits for all of them */
    bool all = true;
    for (int k = 0; k < 127; k++) {
        all = all && SF(Obj, get)(&s, h, &o) == PM_OK && o->id == 20;
    }
    CHECK(all);
    CHECK(SF(Obj, get)(&s, h, &o) == CONFLICT);
    CHECK(SF(Obj, try_get_unique)(&s, h, &u) == CONFLICT);
    SF(Obj, release_get)(&s, h);
    CHECK(SF(Obj, get)(&s, h, &o) == PM_OK); /* room for one again */
    CHECK(SF(Obj, get)(&s, h, &o) == CONFLICT);
    for (int k = 0; k < 127; k++) {
        SF(Obj, release_get)(&s, h);
    }
    CHECK(SF(Obj, try_get_unique)(&s, h, &u) == PM_OK);
    SF(Obj, release_unique)(&s, h);
    CHECK(SF(Obj, ref_count)(&s, h, &count) == PM_OK && count == 1 && sobj_drops == 0);
    /* the last release with 127 readers: dropped by the last release_get */
    for (int k = 0; k < 127; k++) {
        CHECK(SF(Obj, get)(&s, h, &o) == PM_OK);
    }
    CHECK(SF(Obj, release)(&s, h, NULL) == PM_OK);
    for (int k = 0; k < 127; k++) {
        all = all && sobj_drops == 0;
        SF(Obj, release_get)(&s, h);
    }
    CHECK(all && sobj_drops == 1);
    SF(Obj, fini)(&s);
    CHECK(sobj_drops == 1);
}

/* ------------------------------------------------------------------------ */
/* Drops                                                                     */
/* ------------------------------------------------------------------------ */

/* Obj's hook runs exactly once per value: at its last release, or at fini for
 * every value still there (owned, or borrowed after its last owner left, or
 * with a unique borrow held); fini leaves boxes_live where it was before init. */
static void TEST(drops_once)(long n) {
    sobj_reset_log();
    long start = boxes_live;
    S(Obj) s;
    CHECK(SF(Obj, init)(&s) == PM_OK);
    SH(Obj) *hs = (SH(Obj) *)calloc((size_t)n, sizeof *hs);
    CHECK(hs != NULL);
    for (long k = 0; k < n; k++) {
        CHECK(SF(Obj, alloc)(&s, (struct sobj){k}, &hs[k]) == PM_OK);
    }
    CHECK(SF(Obj, len)(&s) == (size_t)n);
    /* every third released, every third retained twice, the others left as they are */
    long released = 0;
    for (long k = 0; k < n; k++) {
        if (k % 3 == 0) {
            CHECK(SF(Obj, release)(&s, hs[k], NULL) == PM_OK);
            released++;
        } else if (k % 3 == 1) {
            CHECK(SF(Obj, retain)(&s, hs[k], NULL) == PM_OK);
            CHECK(SF(Obj, retain)(&s, hs[k], NULL) == PM_OK);
        }
    }
    CHECK(sobj_drops == released);
    bool once = true;
    for (long k = 0; k < released && k < SOBJ_LOG_CAPACITY; k++) {
        once = once && sobj_log[k] == 3 * k;
    }
    CHECK(once);
    CHECK(SF(Obj, len)(&s) == (size_t)(n - released));
    /* one borrowed after its last owner left, one with a unique borrow held */
    const struct sobj *o = NULL;
    struct sobj *u = NULL;
    if (n > 5) {
        CHECK(SF(Obj, get)(&s, hs[2], &o) == PM_OK && SF(Obj, release)(&s, hs[2], NULL) == PM_OK);
        CHECK(SF(Obj, try_get_unique)(&s, hs[5], &u) == PM_OK);
    }
    CHECK(sobj_drops == released);
    SF(Obj, fini)(&s); /* every live value dropped, once */
    CHECK(sobj_drops == n);
    if (n <= SOBJ_LOG_CAPACITY) {
        unsigned char *seen = (unsigned char *)calloc((size_t)n, 1);
        bool each_once = seen != NULL;
        for (long k = 0; k < n && seen != NULL; k++) {
            int64_t id = sobj_log[k];
            each_once = each_once && id >= 0 && id < n && !seen[id];
            if (id >= 0 && id < n) {
                seen[id] = 1;
            }
        }
        CHECK(each_once);
        free(seen);
    }
    CHECK(boxes_live == start);
    free(hs);
}

/* Pair's managed field: the box it owns is released with the slot's value (the
 * count goes back down; the Obj is dropped when its last owner goes), and at
 * fini too. */
static void TEST(drops_managed_field)(void) {
    sobj_reset_log();
    long start = boxes_live;
    S(Pair) s;
    CHECK(SF(Pair, init)(&s) == PM_OK);
    H(Obj) obj = {NULL};
    CHECK(F(Obj, new)(&obj, (struct sobj){42}) == PM_OK);
    H(Obj) kept = F(Obj, dup)(obj);
    CHECK(F(Obj, refcount)(kept) == 2);
    SH(Pair) h = {0, 0};
    CHECK(SF(Pair, alloc)(&s, (V(Pair)){1, obj}, &h) == PM_OK); /* moves obj in */
    CHECK(F(Obj, refcount)(kept) == 2);
    const V(Pair) *pair = NULL;
    CHECK(SF(Pair, get)(&s, h, &pair) == PM_OK && pair->tag == 1 && pair->obj.box == kept.box);
    SF(Pair, release_get)(&s, h);
    CHECK(SF(Pair, retain)(&s, h, NULL) == PM_OK);
    CHECK(SF(Pair, release)(&s, h, NULL) == PM_OK);
    CHECK(F(Obj, refcount)(kept) == 2); /* a slot's owners are not the field's */
    long live = boxes_live;
    CHECK(SF(Pair, release)(&s, h, NULL) == PM_OK);
    CHECK(F(Obj, refcount)(kept) == 1 && sobj_drops == 0);
    CHECK(boxes_live == live); /* the field's box is still kept's */
    F(Obj, drop)(&kept);
    CHECK(sobj_drops == 1 && sobj_log[0] == 42 && boxes_live == live - 1);
    /* the field's box is the slot's only: released with it, the Obj dropped */
    CHECK(F(Obj, new)(&obj, (struct sobj){43}) == PM_OK);
    CHECK(SF(Pair, alloc)(&s, (V(Pair)){2, obj}, &h) == PM_OK);
    CHECK(SF(Pair, release)(&s, h, NULL) == PM_OK);
    CHECK(sobj_drops == 2 && sobj_log[1] == 43 && boxes_live == live - 1);
    /* at fini */
    CHECK(F(Obj, new)(&obj, (struct sobj){44}) == PM_OK);
    CHECK(SF(Pair, alloc)(&s, (V(Pair)){3, obj}, &h) == PM_OK);
    SF(Pair, fini)(&s);
    CHECK(sobj_drops == 3 && sobj_log[2] == 44);
    CHECK(boxes_live == start);
}

/* Expr (a sum type) in slots: an Add's children (boxes, a tree of them) are
 * released with the slot's value, at release or at fini; a Val or a Nil has
 * nothing to release. FBIP: the unique borrow replaces a child in place. */
static void TEST(drops_sum_type)(void) {
    long start = boxes_live;
    S(Expr) s;
    CHECK(SF(Expr, init)(&s) == PM_OK);
    H(Expr) a = {NULL}, b = {NULL}, c = {NULL}, d = {NULL}, sum = {NULL}, tree = {NULL};
    CHECK(F(Expr, new_Val)(&a, 1) == PM_OK && F(Expr, new_Val)(&b, 2) == PM_OK);
    CHECK(F(Expr, new_Val)(&c, 3) == PM_OK && F(Expr, new_Val)(&d, 4) == PM_OK);
    CHECK(F(Expr, new_Add)(&sum, a, b) == PM_OK);   /* 1 + 2 */
    CHECK(F(Expr, new_Add)(&tree, sum, c) == PM_OK); /* (1 + 2) + 3 */
    SH(Expr) h = {0, 0};
    CHECK(SF(Expr, alloc)(&s, (V(Expr)){.tag = Expr_Add, .Add = {tree, d}}, &h) == PM_OK);
    long live = boxes_live;
    const V(Expr) *e = NULL;
    if (CHECK(SF(Expr, get)(&s, h, &e) == PM_OK)) {
        CHECK(e->tag == Expr_Add && F(Expr, tag)(e->Add.left) == Expr_Add);
        CHECK(F(Expr, tag)(e->Add.right) == Expr_Val);
        SF(Expr, release_get)(&s, h);
    }
    V(Expr) *u = NULL;
    if (CHECK(SF(Expr, try_get_unique)(&s, h, &u) == PM_OK)) {
        F(Expr, drop)(&u->Add.right); /* replace 4 with 9 */
        CHECK(F(Expr, new_Val)(&u->Add.right, 9) == PM_OK);
        SF(Expr, release_unique)(&s, h);
    }
    CHECK(boxes_live == live);
    CHECK(SF(Expr, release)(&s, h, NULL) == PM_OK);
    CHECK(boxes_live == live - 6); /* all six boxes released */
    /* Val and Nil values: nothing of theirs to release */
    SH(Expr) val = {0, 0}, nil = {0, 0};
    CHECK(SF(Expr, alloc)(&s, (V(Expr)){.tag = Expr_Val, .Val = {5}}, &val) == PM_OK);
    CHECK(SF(Expr, alloc)(&s, (V(Expr)){.tag = Expr_Nil}, &nil) == PM_OK);
    CHECK(SF(Expr, get)(&s, val, &e) == PM_OK && e->tag == Expr_Val && e->Val.value == 5);
    SF(Expr, release_get)(&s, val);
    CHECK(SF(Expr, release)(&s, val, NULL) == PM_OK);
    /* at fini: a tree still in the store */
    CHECK(F(Expr, new_Val)(&a, 6) == PM_OK && F(Expr, new_Val)(&b, 7) == PM_OK);
    CHECK(F(Expr, new_Add)(&sum, a, b) == PM_OK && F(Expr, new_Val)(&c, 8) == PM_OK);
    CHECK(SF(Expr, alloc)(&s, (V(Expr)){.tag = Expr_Add, .Add = {sum, c}}, &h) == PM_OK);
    CHECK(SF(Expr, len)(&s) == 2); /* the tree and the Nil */
    SF(Expr, fini)(&s);
    CHECK(boxes_live == start);
}

/* Num has nothing to drop; Wide values are 64-byte aligned in their slots, and
 * neighbours do not overlap. (Called last, after every policy's other tests: a
 * misaligned value stops an UBSan build right there.) */
static void TEST(plain_values)(long n) {
    long start = boxes_live;
    S(Num) nums;
    S(Wide) wides;
    CHECK(SF(Num, init)(&nums) == PM_OK && SF(Wide, init)(&wides) == PM_OK);
    SH(Wide) *hs = (SH(Wide) *)calloc((size_t)n, sizeof *hs);
    CHECK(hs != NULL);
    bool aligned = true, intact = true;
    for (long k = 0; k < n; k++) {
        struct swide w = {{k, k + 1, k + 2, k + 3}};
        CHECK(SF(Wide, alloc)(&wides, w, &hs[k]) == PM_OK);
        SH(Num) num = {0, 0};
        CHECK(SF(Num, alloc)(&nums, k * 3, &num) == PM_OK);
        if (k % 2 == 0) {
            CHECK(SF(Num, release)(&nums, num, NULL) == PM_OK);
        }
    }
    for (long k = 0; k < n; k++) {
        const struct swide *w = NULL;
        if (SF(Wide, get)(&wides, hs[k], &w) == PM_OK) {
            aligned = aligned && ((uintptr_t)w & 63u) == 0;
            intact = intact && w->lanes[0] == k && w->lanes[3] == k + 3;
            SF(Wide, release_get)(&wides, hs[k]);
        } else {
            intact = false;
        }
        struct swide *u = NULL;
        if (SF(Wide, try_get_unique)(&wides, hs[k], &u) == PM_OK) {
            aligned = aligned && ((uintptr_t)u & 63u) == 0;
            memset(u, 0x5a, sizeof *u); /* its own 64 bytes */
            SF(Wide, release_unique)(&wides, hs[k]);
        }
    }
    /* pm_alloc's memory is only 16-byte aligned: the store pads an over-aligned
     * value's pages (this found it landing at address % 64 == 48). */
    CHECK(aligned);
    CHECK(intact);
    CHECK(SF(Num, len)(&nums) == (size_t)(n / 2));
    SF(Num, fini)(&nums);
    SF(Wide, fini)(&wides);
    CHECK(boxes_live == start);
    free(hs);
}

/* ------------------------------------------------------------------------ */
/* Fault injection                                                           */
/* ------------------------------------------------------------------------ */

/* init failing on its first allocation: PM_ENOMEM, and the store is not usable (a
 * local store's init allocates nothing: its one shard is in the store itself).
 * Then every allocation failing in turn: a failed alloc returns PM_ENOMEM, leaves
 * *out, len and every other value alone, and the caller still owns `value` (not
 * dropped: the caller drops it); the next alloc works again; nothing leaks. */
static void TEST(faults)(long n) {
    sobj_reset_log();
    long start = boxes_live;
    S(Obj) s;
    memset(&s, 0, sizeof s);
    fail_after = 0;
    pm_status first = SF(Obj, init)(&s);
    fail_after = -1;
    CHECK(first == PM_ENOMEM || (first == PM_OK && !s.store.shared));
    CHECK(boxes_live == start && SF(Obj, len)(&s) == 0);
    if (first == PM_OK) {
        SF(Obj, fini)(&s);
        CHECK(boxes_live == start);
    }
    SH(Obj) h = {5, 5};
    CHECK(SF(Obj, alloc)(&s, (struct sobj){1}, &h) == PM_EINVAL); /* a zero store: init first */
    CHECK(h.index == 5 && h.generation == 5 && sobj_drops == 0);
    SF(Obj, fini)(&s);

    SH(Obj) *hs = (SH(Obj) *)calloc((size_t)n, sizeof *hs);
    CHECK(hs != NULL);
    for (long fail = 0;; fail++) {
        sobj_reset_log();
        CHECK(SF(Obj, init)(&s) == PM_OK);
        long made = 0, failed = 0, ours = 0;
        bool untouched = true;
        fail_after = fail;
        for (long k = 0; k < n; k++) {
            size_t len = SF(Obj, len)(&s);
            long drops = sobj_drops;
            SH(Obj) out = {7, 7};
            pm_status status = SF(Obj, alloc)(&s, (struct sobj){k}, &out);
            if (status != PM_OK) {
                CHECK(status == PM_ENOMEM);
                untouched = untouched && out.index == 7 && out.generation == 7 &&
                            SF(Obj, len)(&s) == len && sobj_drops == drops;
                sobj_drop(&(struct sobj){k}); /* still ours */
                ours++;
                failed++;
                continue;
            }
            hs[made++] = out;
        }
        fail_after = -1;
        CHECK(untouched);
        CHECK(SF(Obj, len)(&s) == (size_t)made && sobj_drops == ours);
        /* the values made are all there, each its own */
        bool found = true;
        for (long k = 0; k < made; k++) {
            const struct sobj *o = NULL;
            found = found && SF(Obj, get)(&s, hs[k], &o) == PM_OK && o->id >= 0 && o->id < n;
            SF(Obj, release_get)(&s, hs[k]);
        }
        CHECK(found);
        for (long k = 0; k < made; k += 2) {
            CHECK(SF(Obj, release)(&s, hs[k], NULL) == PM_OK);
        }
        SF(Obj, fini)(&s);
        CHECK(sobj_drops == made + ours);
        CHECK(boxes_live == start);
        if (failed == 0) {
            break;
        }
    }
    /* a Pair whose alloc fails: the caller still owns its managed field (each Obj
     * box is an allocation too: few values, or the failures in turn are n^2) */
    n = n < 100 ? n : 100;
    for (long fail = 0;; fail++) {
        sobj_reset_log();
        S(Pair) pairs;
        CHECK(SF(Pair, init)(&pairs) == PM_OK);
        long made = 0, failed = 0;
        fail_after = fail;
        for (long k = 0; k < n; k++) {
            H(Obj) obj = {NULL};
            if (F(Obj, new)(&obj, (struct sobj){k}) != PM_OK) {
                failed++;
                continue;
            }
            SH(Pair) out = {0, 0};
            pm_status status = SF(Pair, alloc)(&pairs, (V(Pair)){k, obj}, &out);
            made++;
            if (status != PM_OK) {
                CHECK(status == PM_ENOMEM && out.generation == 0);
                CHECK(F(Obj, refcount)(obj) == 1 && sobj_drops == 0);
                F(Obj, drop)(&obj); /* still ours */
                CHECK(sobj_drops == 1);
                sobj_reset_log();
                made--;
                failed++;
            }
        }
        fail_after = -1;
        CHECK(SF(Pair, len)(&pairs) == (size_t)made && sobj_drops == 0);
        SF(Pair, fini)(&pairs);
        CHECK(sobj_drops == made);
        CHECK(boxes_live == start);
        if (failed == 0) {
            break;
        }
    }
    free(hs);
}

/* ------------------------------------------------------------------------ */
/* Generations: retirement; owner saturation                                 */
/* ------------------------------------------------------------------------ */

/* A slot at generation PM_STORE_GENERATION_MAX (put there by a test hook) holds
 * one more value; after it the slot is retired: the next alloc takes another
 * index, and no handle of the old one ever works again. */
static void TEST(retire_last_generation)(void) {
    sobj_reset_log();
    long start = boxes_live;
    S(Obj) s;
    CHECK(SF(Obj, init)(&s) == PM_OK);
    SH(Obj) first = {0, 0};
    CHECK(SF(Obj, alloc)(&s, (struct sobj){1}, &first) == PM_OK);
    CHECK(pm__store_test_set_generation(&s.store, first.index, PM_STORE_GENERATION_MAX - 1u));
    TEST(expect_gone)(&s, first); /* generation 1 is no longer the slot's */
    SH(Obj) h = {first.index, PM_STORE_GENERATION_MAX - 1u};
    CHECK(SF(Obj, release)(&s, h, NULL) == PM_OK && sobj_drops == 1);
    SH(Obj) last = {0, 0};
    CHECK(SF(Obj, alloc)(&s, (struct sobj){2}, &last) == PM_OK);
    CHECK(last.index == first.index && last.generation == PM_STORE_GENERATION_MAX);
    const struct sobj *o = NULL;
    CHECK(SF(Obj, get)(&s, last, &o) == PM_OK && o->id == 2);
    SF(Obj, release_get)(&s, last);
    CHECK(SF(Obj, release)(&s, last, NULL) == PM_OK && sobj_drops == 2);
    CHECK(SF(Obj, len)(&s) == 0);
    bool elsewhere = true;
    SH(Obj) hs[64];
    for (int k = 0; k < 64; k++) {
        CHECK(SF(Obj, alloc)(&s, (struct sobj){10 + k}, &hs[k]) == PM_OK);
        elsewhere = elsewhere && hs[k].index != first.index;
        if (k % 2 == 0) { /* and some slots reused meanwhile */
            CHECK(SF(Obj, release)(&s, hs[k], NULL) == PM_OK);
        }
    }
    CHECK(elsewhere);
    TEST(expect_gone)(&s, first);
    TEST(expect_gone)(&s, h);
    TEST(expect_gone)(&s, last);
    TEST(expect_gone)(&s, (SH(Obj)){first.index, 1});
    CHECK(SF(Obj, len)(&s) == 32);
    SF(Obj, fini)(&s);
    CHECK(sobj_drops == 2 + 64);
    CHECK(boxes_live == start);
}

#if PM_STORE_GENERATION_MAX < 100
/* A build with a small generation width (-DPM_STORE_GENERATION_MAX=3u,
 * test_store_retire): one slot allocated and released again and again holds
 * generations 1..PM_STORE_GENERATION_MAX, then is retired: the next alloc takes
 * another index, and a retired index is never handed out again; every stale
 * handle stays PM_EGONE; len and the drops stay exact. */
static void TEST(retire_small_width)(long rounds) {
    sobj_reset_log();
    long start = boxes_live;
    S(Obj) s;
    CHECK(SF(Obj, init)(&s) == PM_OK);
    enum { INDICES = 1 << 20 };
    unsigned char *uses = (unsigned char *)calloc(INDICES, 1); /* values each index held */
    SH(Obj) *stale = (SH(Obj) *)calloc((size_t)rounds, sizeof *stale);
    CHECK(uses != NULL && stale != NULL);
    SH(Obj) h = {0, 0};
    CHECK(SF(Obj, alloc)(&s, (struct sobj){0}, &h) == PM_OK);
    uint32_t first = h.index;
    /* generations 1, 2, ..., MAX of the same index */
    for (uint32_t g = 1; g <= PM_STORE_GENERATION_MAX; g++) {
        if (g > 1) {
            CHECK(SF(Obj, alloc)(&s, (struct sobj){g}, &h) == PM_OK);
        }
        CHECK(h.index == first && h.generation == g);
        CHECK(SF(Obj, release)(&s, h, NULL) == PM_OK);
        TEST(expect_gone)(&s, h);
    }
    CHECK(SF(Obj, alloc)(&s, (struct sobj){99}, &h) == PM_OK);
    CHECK(h.index != first && h.generation == 1); /* retired: another slot */
    CHECK(SF(Obj, release)(&s, h, NULL) == PM_OK);
    long drops = (long)PM_STORE_GENERATION_MAX + 1;
    CHECK(sobj_drops == drops);
    for (uint32_t g = 1; g <= PM_STORE_GENERATION_MAX + 1u; g++) {
        TEST(expect_gone)(&s, (SH(Obj)){first, g});
    }
    uses[first % INDICES] = PM_STORE_GENERATION_MAX;
    uses[h.index % INDICES] = 1;

    /* many rounds, a few values live at a time: no index holds more than MAX
     * values, each index's generations go 1, 2, ... in turn */
    bool in_range = true, sequential = true, never_after = true, all_gone = true;
    SH(Obj) live[3] = {{0, 0}, {0, 0}, {0, 0}};
    for (long r = 0; r < rounds; r++) {
        SH(Obj) *slot = &live[r % 3];
        if (slot->generation != 0) {
            CHECK(SF(Obj, release)(&s, *slot, NULL) == PM_OK);
            drops++;
        }
        CHECK(SF(Obj, alloc)(&s, (struct sobj){1000 + r}, slot) == PM_OK);
        uint32_t index = slot->index;
        in_range = in_range && index < INDICES;
        if (index < INDICES) {
            never_after = never_after && uses[index] < PM_STORE_GENERATION_MAX;
            sequential = sequential && slot->generation == (uint32_t)uses[index] + 1u;
            uses[index]++;
        }
        stale[r] = *slot;
        if (r % 97 == 0) { /* now and then: every earlier handle not live is gone */
            for (long q = 0; q < r - 3; q++) {
                const struct sobj *o = NULL;
                all_gone = all_gone && SF(Obj, get)(&s, stale[q], &o) == PM_EGONE;
            }
        }
    }
    CHECK(in_range && sequential && never_after && all_gone);
    CHECK(sobj_drops == drops);
    CHECK(SF(Obj, len)(&s) == (rounds >= 3 ? 3u : (size_t)rounds));
    for (long q = 0; q + 3 < rounds; q++) {
        TEST(expect_gone)(&s, stale[q]);
    }
    SF(Obj, fini)(&s);
    CHECK(sobj_drops == drops + (rounds >= 3 ? 3 : rounds));
    CHECK(boxes_live == start);
    free(uses);
    free(stale);
}
#endif

/* Owner saturation: a count that reaches PM_STORE_OWNERS_MAX (put near it by a
 * test hook) is sticky: retain and release leave it, ref_count and both report
 * PM_COUNT_SATURATED, the value lives until fini, which drops it once. */
static void TEST(owner_saturation)(void) {
    sobj_reset_log();
    long start = boxes_live;
    S(Obj) s;
    CHECK(SF(Obj, init)(&s) == PM_OK);
    SH(Obj) h = {0, 0};
    CHECK(SF(Obj, alloc)(&s, (struct sobj){500}, &h) == PM_OK);
    CHECK(pm__store_test_set_owners(&s.store, h.index, PM_STORE_OWNERS_MAX - 2u));
    uint32_t count = 0;
    CHECK(SF(Obj, ref_count)(&s, h, &count) == PM_OK && count == PM_STORE_OWNERS_MAX - 2u);
    CHECK(SF(Obj, retain)(&s, h, &count) == PM_OK && count == PM_STORE_OWNERS_MAX - 1u);
    CHECK(SF(Obj, release)(&s, h, &count) == PM_OK && count == PM_STORE_OWNERS_MAX - 2u);
    CHECK(SF(Obj, retain)(&s, h, &count) == PM_OK);
    CHECK(SF(Obj, retain)(&s, h, &count) == PM_OK); /* reaches PM_STORE_OWNERS_MAX: sticky */
    /* the retain that makes the count sticky reports it as ref_count does */
    CHECK(count == PM_COUNT_SATURATED);
    CHECK(SF(Obj, ref_count)(&s, h, &count) == PM_OK && count == PM_COUNT_SATURATED);
    bool sticky = true;
    for (int k = 0; k < 5; k++) {
        sticky = sticky && SF(Obj, retain)(&s, h, &count) == PM_OK && count == PM_COUNT_SATURATED;
    }
    for (int k = 0; k < 10; k++) {
        sticky = sticky && SF(Obj, release)(&s, h, &count) == PM_OK && count == PM_COUNT_SATURATED;
    }
    CHECK(sticky);
    CHECK(SF(Obj, ref_count)(&s, h, &count) == PM_OK && count == PM_COUNT_SATURATED);
    CHECK(sobj_drops == 0);
    /* borrows still work; the unique one needs one owner: refused */
    const struct sobj *o = NULL;
    struct sobj *u = NULL;
    CHECK(SF(Obj, get)(&s, h, &o) == PM_OK && o->id == 500);
    SF(Obj, release_get)(&s, h);
    CHECK(SF(Obj, try_get_unique)(&s, h, &u) == PM_ESHARED);
    SH(Obj) up = {0, 0};
    CHECK(WF(Obj, upgrade)(WF(Obj, from_handle)(h), &s, &up) == PM_OK);
    CHECK(WF(Obj, is_alive)(WF(Obj, from_handle)(h), &s));
    CHECK(SF(Obj, len)(&s) == 1 && sobj_drops == 0);
    SF(Obj, fini)(&s); /* the immortal value is dropped by fini, once */
    CHECK(sobj_drops == 1 && sobj_log[0] == 500);
    CHECK(boxes_live == start);
}

/* ------------------------------------------------------------------------ */
/* Threads (ThreadSafe and Frozen: shared stores)                           */
/* ------------------------------------------------------------------------ */

struct TEST(own_worker) {
    S(Obj) *s;
    long first, count;
};

/* Each thread's own values: alloc, get, retain/release, FBIP, release. */
static void *TEST(own_values)(void *arg) {
    struct TEST(own_worker) *w = (struct TEST(own_worker) *)arg;
    SH(Obj) *hs = (SH(Obj) *)calloc((size_t)w->count, sizeof *hs);
    bool ok = hs != NULL;
    for (long k = 0; ok && k < w->count; k++) {
        ok = SF(Obj, alloc)(w->s, (struct sobj){w->first + k}, &hs[k]) == PM_OK;
    }
    for (long k = 0; ok && k < w->count; k++) {
        const struct sobj *o = NULL;
        struct sobj *u = NULL;
        uint32_t count = 0;
        ok = SF(Obj, get)(w->s, hs[k], &o) == PM_OK && o->id == w->first + k;
        ok = ok && SF(Obj, retain)(w->s, hs[k], &count) == PM_OK && count == 2;
        ok = ok && SF(Obj, try_get_unique)(w->s, hs[k], &u) == PM_ESHARED;
        SF(Obj, release_get)(w->s, hs[k]);
        ok = ok && SF(Obj, release)(w->s, hs[k], &count) == PM_OK && count == 1;
        ok = ok && SF(Obj, try_get_unique)(w->s, hs[k], &u) == PM_OK && u->id == w->first + k;
        if (u != NULL) {
            u->id = w->first + k; /* written in place: the one owner */
            SF(Obj, release_unique)(w->s, hs[k]);
        }
    }
    for (long k = 0; ok && k < w->count; k++) {
        uint32_t count = 99;
        ok = SF(Obj, release)(w->s, hs[k], &count) == PM_OK && count == 0;
    }
    CHECK(ok);
    free(hs);
    return NULL;
}

/* 4 threads each alloc, use and release their values at once: every value is
 * dropped exactly once, len is 0 after, the memory goes at fini. */
static void TEST(threads_own_values)(long per_thread) {
    sobj_reset_log();
    long start = boxes_live;
    S(Obj) s;
    CHECK(SF(Obj, init)(&s) == PM_OK);
    for (int round = 0; round < 2; round++) { /* the second round reuses the slots */
        sobj_reset_log();
        pthread_t ids[4];
        struct TEST(own_worker) workers[4];
        for (int t = 0; t < 4; t++) {
            workers[t] = (struct TEST(own_worker)){&s, t * per_thread, per_thread};
            CHECK(pthread_create(&ids[t], NULL, TEST(own_values), &workers[t]) == 0);
        }
        for (int t = 0; t < 4; t++) {
            CHECK(pthread_join(ids[t], NULL) == 0);
        }
        CHECK(SF(Obj, len)(&s) == 0);
        CHECK(sobj_drops == 4 * per_thread);
        long total = 4 * per_thread;
        if (total <= SOBJ_LOG_CAPACITY) {
            unsigned char *seen = (unsigned char *)calloc((size_t)total, 1);
            bool once = seen != NULL;
            for (long k = 0; once && k < total; k++) {
                int64_t id = sobj_log[k];
                once = id >= 0 && id < total && !seen[id];
                if (once) {
                    seen[id] = 1;
                }
            }
            CHECK(once);
            free(seen);
        }
    }
    SF(Obj, fini)(&s);
    CHECK(sobj_drops == 4 * per_thread);
    CHECK(boxes_live == start);
}

/* Handles shared between threads: a writer releases and re-allocates values in
 * a few published places; readers get (and upgrade) whatever handles they saw,
 * current or stale. A value's id is its handle, so a reader can tell: it only
 * ever sees PM_EGONE or the value its handle was allocated with, never a newer
 * one, and never a dropped one while it holds its borrow. */
#define STORE_SHARED_PLACES 8
struct TEST(shared_places) {
    S(Obj) *s;
    _Atomic uint64_t handles[STORE_SHARED_PLACES]; /* (index << 32) | generation; 0: none */
    _Atomic bool done;
    _Atomic long seen_live, seen_gone;
    long rounds;
};

static uint64_t TEST(encode)(SH(Obj) h) { return ((uint64_t)h.index << 32) | h.generation; }
static SH(Obj) TEST(decode)(uint64_t e) { return (SH(Obj)){(uint32_t)(e >> 32), (uint32_t)e}; }

static void *TEST(shared_writer)(void *arg) {
    struct TEST(shared_places) *p = (struct TEST(shared_places) *)arg;
    bool ok = true;
    for (long r = 0; ok && r < p->rounds; r++) {
        SH(Obj) h = {0, 0};
        ok = SF(Obj, alloc)(p->s, (struct sobj){-2}, &h) == PM_OK;
        struct sobj *u = NULL;
        /* nobody else knows h yet: the one owner, no borrow */
        ok = ok && SF(Obj, try_get_unique)(p->s, h, &u) == PM_OK;
        if (!ok) {
            break;
        }
        u->id = (int64_t)TEST(encode)(h);
        SF(Obj, release_unique)(p->s, h);
        uint64_t old = atomic_exchange(&p->handles[r % STORE_SHARED_PLACES], TEST(encode)(h));
        if (old != 0) {
            ok = SF(Obj, release)(p->s, TEST(decode)(old), NULL) == PM_OK;
        }
    }
    CHECK(ok);
    atomic_store(&p->done, true);
    return NULL;
}

static void *TEST(shared_reader)(void *arg) {
    struct TEST(shared_places) *p = (struct TEST(shared_places) *)arg;
    uint64_t kept[16] = {0}; /* handles seen before: stale sooner or later */
    bool ok = true;
    long live = 0, gone = 0;
    for (unsigned k = 0; ok; k++) {
        bool last = atomic_load(&p->done);
        uint64_t e = atomic_load(&p->handles[k % STORE_SHARED_PLACES]);
        if (k % 3 == 0) {
            uint64_t seen = e;
            e = kept[k % 16] != 0 ? kept[k % 16] : e;
            kept[k % 16] = seen;
        }
        if (e != 0) {
            SH(Obj) h = TEST(decode)(e);
            const struct sobj *o = NULL;
            pm_status status = SF(Obj, get)(p->s, h, &o);
            if (status == PM_OK) {
                ok = o->id == (int64_t)e; /* the value of this handle */
                sched_yield();
                ok = ok && o->id == (int64_t)e; /* not dropped while borrowed */
                SF(Obj, release_get)(p->s, h);
                live++;
            } else {
                ok = status == PM_EGONE;
                gone++;
            }
            if (k % 5 == 0) { /* an owner of our own for a while */
                SH(Obj) up = {0, 0};
                status = WF(Obj, upgrade)(WF(Obj, from_handle)(h), p->s, &up);
                if (status == PM_OK) {
                    ok = ok && SF(Obj, get)(p->s, up, &o) == PM_OK && o->id == (int64_t)e;
                    SF(Obj, release_get)(p->s, up);
                    ok = ok && SF(Obj, release)(p->s, up, NULL) == PM_OK;
                } else {
                    ok = ok && status == PM_EGONE;
                }
            }
        }
        if (last && k >= 64) {
            break;
        }
        if (k % 64 == 0) {
            sched_yield();
        }
    }
    CHECK(ok);
    atomic_fetch_add(&p->seen_live, live);
    atomic_fetch_add(&p->seen_gone, gone);
    return NULL;
}

static void TEST(threads_stale_handles)(long rounds) {
    sobj_reset_log();
    long start = boxes_live;
    S(Obj) s;
    CHECK(SF(Obj, init)(&s) == PM_OK);
    struct TEST(shared_places) *p =
        (struct TEST(shared_places) *)calloc(1, sizeof(struct TEST(shared_places)));
    if (!CHECK(p != NULL)) {
        return;
    }
    p->s = &s;
    p->rounds = rounds;
    for (int k = 0; k < STORE_SHARED_PLACES; k++) {
        atomic_init(&p->handles[k], 0);
    }
    atomic_init(&p->done, false);
    atomic_init(&p->seen_live, 0);
    atomic_init(&p->seen_gone, 0);
    pthread_t ids[4];
    CHECK(pthread_create(&ids[0], NULL, TEST(shared_writer), p) == 0);
    for (int t = 1; t < 4; t++) {
        CHECK(pthread_create(&ids[t], NULL, TEST(shared_reader), p) == 0);
    }
    for (int t = 0; t < 4; t++) {
        CHECK(pthread_join(ids[t], NULL) == 0);
    }
    long left = 0;
    for (int k = 0; k < STORE_SHARED_PLACES; k++) {
        uint64_t e = atomic_load(&p->handles[k]);
        if (e != 0) {
            CHECK(SF(Obj, release)(&s, TEST(decode)(e), NULL) == PM_OK);
            left++;
        }
    }
    CHECK(left == (rounds < STORE_SHARED_PLACES ? rounds : STORE_SHARED_PLACES));
    CHECK(atomic_load(&p->seen_live) + atomic_load(&p->seen_gone) > 0);
    CHECK(SF(Obj, len)(&s) == 0);
    CHECK(sobj_drops == rounds);
    SF(Obj, fini)(&s);
    CHECK(sobj_drops == rounds);
    CHECK(boxes_live == start);
    free(p);
}

/* A borrow in one thread, the last release in another: the drop happens at the
 * borrow's end, in the borrowing thread. */
struct TEST(holder) {
    S(Obj) *s;
    SH(Obj) h;
    bool unique;
    _Atomic int stage; /* 1: borrowed; 2: released by the other thread; 3: borrow ended */
    long drops_before;
};

static void TEST(wait_stage)(_Atomic int *stage, int want) {
    while (atomic_load(stage) < want) {
        sched_yield();
    }
}

static void *TEST(hold_borrow)(void *arg) {
    struct TEST(holder) *x = (struct TEST(holder) *)arg;
    const struct sobj *o = NULL;
    struct sobj *u = NULL;
    bool ok = x->unique ? SF(Obj, try_get_unique)(x->s, x->h, &u) == PM_OK
                        : SF(Obj, get)(x->s, x->h, &o) == PM_OK;
    if (u != NULL) {
        o = u;
    }
    atomic_store(&x->stage, 1);
    TEST(wait_stage)(&x->stage, 2);
    ok = ok && o != NULL && o->id == 777 && sobj_drops == x->drops_before; /* kept alive */
    if (x->unique) {
        SF(Obj, release_unique)(x->s, x->h);
    } else {
        SF(Obj, release_get)(x->s, x->h);
    }
    ok = ok && sobj_drops == x->drops_before + 1; /* dropped by the borrow's end */
    CHECK(ok);
    atomic_store(&x->stage, 3);
    return NULL;
}

static void TEST(threads_borrow_across_release)(void) {
    long start = boxes_live;
    S(Obj) s;
    CHECK(SF(Obj, init)(&s) == PM_OK);
    for (int unique = 0; unique < 2; unique++) {
        sobj_reset_log();
        struct TEST(holder) x;
        x.s = &s;
        x.unique = unique != 0;
        x.drops_before = 0;
        atomic_init(&x.stage, 0);
        CHECK(SF(Obj, alloc)(&s, (struct sobj){777}, &x.h) == PM_OK);
        pthread_t id;
        CHECK(pthread_create(&id, NULL, TEST(hold_borrow), &x) == 0);
        TEST(wait_stage)(&x.stage, 1);
        const struct sobj *o = NULL;
        struct sobj *u = NULL;
        if (x.unique) {
            CHECK(SF(Obj, get)(&s, x.h, &o) == CONFLICT);
        } else {
            CHECK(SF(Obj, try_get_unique)(&s, x.h, &u) == CONFLICT);
        }
        uint32_t count = 99;
        CHECK(SF(Obj, release)(&s, x.h, &count) == PM_OK && count == 0); /* the last owner */
        CHECK(sobj_drops == 0 && SF(Obj, len)(&s) == 1);
        TEST(expect_gone)(&s, x.h);
        atomic_store(&x.stage, 2);
        CHECK(pthread_join(id, NULL) == 0);
        CHECK(atomic_load(&x.stage) == 3);
        CHECK(sobj_drops == 1 && sobj_log[0] == 777 && SF(Obj, len)(&s) == 0);
    }
    SF(Obj, fini)(&s);
    CHECK(boxes_live == start);
}

/* ------------------------------------------------------------------------ */

static void TEST(all)(long n) {
    TEST(slotmap_basic)();
    TEST(slotmap_check_drops)(1000);
    TEST(slotmap_equiv_model)(n, 0x5eed + (uint64_t)n);
    TEST(upstream_generation_validation)();
    TEST(upstream_retain_release)();
    TEST(upstream_fbip_try_get_unique)();
    TEST(upstream_weak)();
    TEST(error_paths)();
    TEST(borrow_defers_drop)();
    TEST(borrow_conflicts)();
    TEST(drops_once)(n);
    TEST(drops_managed_field)();
    TEST(drops_sum_type)();
    TEST(faults)(n / 2);
    TEST(retire_last_generation)();
#if PM_STORE_GENERATION_MAX < 100
    TEST(retire_small_width)(n);
#endif
    TEST(owner_saturation)();
    if (SHARED) {
        TEST(threads_own_values)(n / 4);
        TEST(threads_stale_handles)(n);
        TEST(threads_borrow_across_release)();
    }
}

#undef S
#undef SF
#undef SH
#undef SW
#undef WF
#undef H
#undef F
#undef V
#undef TEST
#undef CONFLICT
#undef SHARED
