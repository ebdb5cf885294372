/* test_weak_policy.h — the weak-reference tests of one policy, included by
 * tests/c/test_weak.c once per policy with P defined (SingleThreaded,
 * ThreadSafe, Local, Frozen). Most are ports of Rust std's library/alloc
 * rc and sync tests (named after them); the rest cover what C adds:
 * statuses, empty handles, failing allocations and hooks. */

#define H(T) XCAT(Managed_##T, P)
#define WK(T) XCAT(Weak_##T, P)
#define F(T, op) XCAT3(Managed_##T, P, op)
#define WF(T, op) XCAT3(Weak_##T, P, op)
#define TEST(name) XCAT(name, P)

static int64_t TEST(num_of)(H(Num) h) {
    int64_t v = -1;
    CHECK(F(Num, load)(h, &v) == PM_OK);
    return v;
}

/* Rust: weak_count (sync) / weak_count (rc). */
static void TEST(rust_weak_count)(void) {
    H(Num) a = {NULL};
    CHECK(F(Num, new)(&a, 0) == PM_OK);
    CHECK(F(Num, refcount)(a) == 1 && F(Num, weak_count)(a) == 0);
    WK(Num) w = {NULL};
    CHECK(F(Num, downgrade)(a, &w) == PM_OK);
    CHECK(F(Num, refcount)(a) == 1 && F(Num, weak_count)(a) == 1);
    WK(Num) x = WF(Num, dup)(w);
    CHECK(F(Num, weak_count)(a) == 2);
    WF(Num, drop)(&w);
    WF(Num, drop)(&x);
    CHECK(w.box == NULL && x.box == NULL);
    CHECK(F(Num, refcount)(a) == 1 && F(Num, weak_count)(a) == 0);
    H(Num) c = F(Num, dup)(a);
    CHECK(F(Num, refcount)(a) == 2 && F(Num, weak_count)(a) == 0);
    WK(Num) d = {NULL};
    CHECK(F(Num, downgrade)(c, &d) == PM_OK);
    CHECK(F(Num, weak_count)(c) == 1 && F(Num, refcount)(c) == 2);
    F(Num, drop)(&a);
    F(Num, drop)(&c);
    WF(Num, drop)(&d);
    CHECK(boxes_live == 0);
}

/* Rust: weak_counts (Weak::strong_count, Weak::weak_count). */
static void TEST(rust_weak_counts)(void) {
    WK(Num) none = {NULL};
    CHECK(WF(Num, weak_count)(none) == 0 && WF(Num, strong_count)(none) == 0);
    H(Num) a = {NULL};
    CHECK(F(Num, new)(&a, 0) == PM_OK);
    WK(Num) w = {NULL};
    CHECK(F(Num, downgrade)(a, &w) == PM_OK);
    CHECK(WF(Num, strong_count)(w) == 1 && WF(Num, weak_count)(w) == 1);
    WK(Num) w2 = WF(Num, dup)(w);
    CHECK(WF(Num, strong_count)(w) == 1 && WF(Num, weak_count)(w) == 2);
    CHECK(WF(Num, strong_count)(w2) == 1 && WF(Num, weak_count)(w2) == 2);
    WF(Num, drop)(&w);
    CHECK(WF(Num, strong_count)(w2) == 1 && WF(Num, weak_count)(w2) == 1);
    H(Num) a2 = F(Num, dup)(a);
    CHECK(WF(Num, strong_count)(w2) == 2 && WF(Num, weak_count)(w2) == 1);
    F(Num, drop)(&a2);
    F(Num, drop)(&a);
    CHECK(WF(Num, strong_count)(w2) == 0 && WF(Num, weak_count)(w2) == 0);
    CHECK(boxes_live == 1); /* the memory stays for w2 */
    WF(Num, drop)(&w2);
    CHECK(boxes_live == 0);
}

/* Rust: test_live / test_dead (upgrade while alive, and once the value is gone). */
static void TEST(rust_live_and_dead)(void) {
    H(Num) x = {NULL};
    CHECK(F(Num, new)(&x, 5) == PM_OK);
    WK(Num) y = {NULL};
    CHECK(F(Num, downgrade)(x, &y) == PM_OK);
    H(Num) up = {NULL};
    CHECK(WF(Num, upgrade)(y, &up) == PM_OK);
    CHECK(F(Num, ptr_eq)(up, x) && TEST(num_of)(up) == 5);
    F(Num, drop)(&up);
    F(Num, drop)(&x);
    CHECK(WF(Num, upgrade)(y, &up) == PM_EGONE);
    CHECK(up.box == NULL); /* unchanged on failure */
    WF(Num, drop)(&y);
    CHECK(boxes_live == 0);
}

/* Rust: get_mut — unique only with one owner and no weak reference. */
static void TEST(rust_get_mut)(void) {
    H(Num) x = {NULL};
    CHECK(F(Num, new)(&x, 3) == PM_OK);
    CHECK(F(Num, is_unique)(x));
    H(Num) y = F(Num, dup)(x);
    CHECK(!F(Num, is_unique)(x));
    F(Num, drop)(&y);
    CHECK(F(Num, is_unique)(x));
    WK(Num) w = {NULL};
    CHECK(F(Num, downgrade)(x, &w) == PM_OK);
    CHECK(!F(Num, is_unique)(x));
    WF(Num, drop)(&w);
    CHECK(F(Num, is_unique)(x));
    F(Num, drop)(&x);
    CHECK(boxes_live == 0);
}

/* Rust: test_cowarc_clone_weak — make_mut with a weak reference moves the value:
 * the weak reference never sees the write, and upgrades to nothing after. */
static void TEST(rust_cowarc_clone_weak)(void) {
    H(Num) cow0 = {NULL};
    CHECK(F(Num, new)(&cow0, 75) == PM_OK);
    WK(Num) cow1_weak = {NULL};
    CHECK(F(Num, downgrade)(cow0, &cow1_weak) == PM_OK);
    H(Num) up = {NULL};
    CHECK(WF(Num, upgrade)(cow1_weak, &up) == PM_OK && TEST(num_of)(up) == 75);
    F(Num, drop)(&up);
    void *old_box = cow0.box;
    long allocated = allocations;
    int64_t *v = NULL;
    CHECK(F(Num, write)(&cow0, &v) == PM_OK);
    *v += 1;
    F(Num, release_write)(cow0);
    CHECK(TEST(num_of)(cow0) == 76);
    CHECK((void *)cow0.box != old_box && allocations == allocated + 1); /* moved, once */
    CHECK(WF(Num, upgrade)(cow1_weak, &up) == PM_EGONE);
    CHECK(WF(Num, strong_count)(cow1_weak) == 0);
    CHECK(F(Num, is_unique)(cow0) && F(Num, weak_count)(cow0) == 0);
    /* Without weak references the next write is in place again. */
    old_box = cow0.box;
    CHECK(F(Num, write)(&cow0, &v) == PM_OK);
    *v += 1;
    F(Num, release_write)(cow0);
    CHECK((void *)cow0.box == old_box && TEST(num_of)(cow0) == 77);
    CHECK(boxes_live == 2); /* cow0, and the old box's memory for cow1_weak */
    WF(Num, drop)(&cow1_weak);
    F(Num, drop)(&cow0);
    CHECK(boxes_live == 0);
}

/* Rust: test_cowarc_clone_make_mut — shared owners get a clone, as without weak. */
static void TEST(rust_cowarc_clone_make_mut)(void) {
    H(Num) cow0 = {NULL};
    CHECK(F(Num, new)(&cow0, 75) == PM_OK);
    H(Num) cow1 = F(Num, dup)(cow0);
    H(Num) cow2 = F(Num, dup)(cow1);
    WK(Num) weak = {NULL};
    CHECK(F(Num, downgrade)(cow2, &weak) == PM_OK);
    int64_t *v = NULL;
    CHECK(F(Num, write)(&cow0, &v) == PM_OK);
    *v += 1;
    F(Num, release_write)(cow0);
    CHECK(F(Num, write)(&cow1, &v) == PM_OK);
    *v += 2;
    F(Num, release_write)(cow1);
    CHECK(F(Num, write)(&cow2, &v) == PM_OK); /* now unique but for `weak`: moved */
    *v += 3;
    F(Num, release_write)(cow2);
    CHECK(TEST(num_of)(cow0) == 76 && TEST(num_of)(cow1) == 77 && TEST(num_of)(cow2) == 78);
    CHECK(!F(Num, ptr_eq)(cow0, cow1) && !F(Num, ptr_eq)(cow1, cow2));
    H(Num) up = {NULL};
    CHECK(WF(Num, upgrade)(weak, &up) == PM_EGONE); /* it saw 75 and nothing since */
    F(Num, drop)(&cow0);
    F(Num, drop)(&cow1);
    F(Num, drop)(&cow2);
    WF(Num, drop)(&weak);
    CHECK(boxes_live == 0);
}

/* Rust: try_unwrap / into_inner — one owner suffices; weak references then see nothing. */
static void TEST(rust_try_unwrap)(void) {
    int64_t out = 0;
    H(Num) x = {NULL};
    CHECK(F(Num, new)(&x, 3) == PM_OK);
    CHECK(F(Num, try_unwrap)(&x, &out) == PM_OK && out == 3 && x.box == NULL);
    CHECK(F(Num, new)(&x, 4) == PM_OK);
    H(Num) y = F(Num, dup)(x);
    CHECK(F(Num, try_unwrap)(&x, &out) == PM_ESHARED && x.box != NULL);
    F(Num, drop)(&y);
    WK(Num) w = {NULL};
    CHECK(F(Num, downgrade)(x, &w) == PM_OK);
    CHECK(F(Num, try_unwrap)(&x, &out) == PM_OK && out == 4 && x.box == NULL);
    H(Num) up = {NULL};
    CHECK(WF(Num, upgrade)(w, &up) == PM_EGONE);
    CHECK(boxes_live == 1);
    WF(Num, drop)(&w);
    /* into_inner and unwrap_or_drop the same way. */
    CHECK(F(Num, new)(&x, 5) == PM_OK);
    CHECK(F(Num, downgrade)(x, &w) == PM_OK);
    CHECK(F(Num, into_inner)(&x, &out) == PM_OK && out == 5 && x.box == NULL);
    CHECK(WF(Num, upgrade)(w, &up) == PM_EGONE);
    WF(Num, drop)(&w);
    CHECK(F(Num, new)(&x, 6) == PM_OK);
    CHECK(F(Num, downgrade)(x, &w) == PM_OK);
    y = F(Num, dup)(x);
    CHECK(F(Num, unwrap_or_drop)(&x, &out) == PM_ESHARED && x.box == NULL);
    CHECK(F(Num, unwrap_or_drop)(&y, &out) == PM_OK && out == 6 && y.box == NULL);
    CHECK(WF(Num, upgrade)(w, &up) == PM_EGONE);
    WF(Num, drop)(&w);
    CHECK(boxes_live == 0);
}

/* Rust: the value is dropped when the last owner goes, the memory when the last
 * weak reference goes (drop counted by the Obj hook, memory by the allocator). */
static void TEST(rust_drop_value_before_memory)(void) {
    long live = obj_live;
    H(Obj) a = {NULL};
    CHECK(F(Obj, new)(&a, obj_make(7)) == PM_OK);
    WK(Obj) w = {NULL};
    CHECK(F(Obj, downgrade)(a, &w) == PM_OK);
    WK(Obj) w2 = WF(Obj, dup)(w);
    CHECK(obj_live == live + 1);
    F(Obj, drop)(&a);
    CHECK(obj_live == live && boxes_live == 1);
    WF(Obj, drop)(&w);
    CHECK(boxes_live == 1);
    WF(Obj, drop)(&w2);
    CHECK(boxes_live == 0);
    /* A clone (copy on write of a shared Obj) runs the clone hook; its failure
     * changes nothing. */
    CHECK(F(Obj, new)(&a, obj_make(8)) == PM_OK);
    H(Obj) b = F(Obj, dup)(a);
    CHECK(F(Obj, downgrade)(b, &w) == PM_OK);
    struct obj *o = NULL;
    obj_clone_fail = PM_ECLONE;
    CHECK(F(Obj, write)(&a, &o) == PM_ECLONE && F(Obj, ptr_eq)(a, b));
    obj_clone_fail = PM_OK;
    CHECK(F(Obj, write)(&a, &o) == PM_OK && !F(Obj, ptr_eq)(a, b));
    *o->payload = 9;
    F(Obj, release_write)(a);
    CHECK(obj_live == live + 2);
    F(Obj, drop)(&a);
    F(Obj, drop)(&b);
    CHECK(obj_live == live);
    WF(Obj, drop)(&w);
    CHECK(boxes_live == 0);
}

/* Moving out of a weak-referenced box needs memory: failing changes nothing. */
static void TEST(move_from_weak_out_of_memory)(void) {
    H(Obj) a = {NULL};
    CHECK(F(Obj, new)(&a, obj_make(1)) == PM_OK);
    WK(Obj) w = {NULL};
    CHECK(F(Obj, downgrade)(a, &w) == PM_OK);
    void *old_box = a.box;
    struct obj *o = NULL;
    fail_allocations = true;
    CHECK(F(Obj, write)(&a, &o) == PM_ENOMEM);
    fail_allocations = false;
    CHECK(a.box == old_box && F(Obj, refcount)(a) == 1 && WF(Obj, strong_count)(w) == 1);
    H(Obj) up = {NULL};
    CHECK(WF(Obj, upgrade)(w, &up) == PM_OK); /* still alive: nothing changed */
    F(Obj, drop)(&up);
    F(Obj, drop)(&a);
    WF(Obj, drop)(&w);
    CHECK(boxes_live == 0);
}

/* Empty handles and NULL arguments. */
static void TEST(empty_handles)(void) {
    H(Num) none = {NULL};
    WK(Num) wnone = {NULL};
    WK(Num) w = {NULL};
    H(Num) h = {NULL};
    CHECK(F(Num, downgrade)(none, &w) == PM_EINVAL && w.box == NULL);
    CHECK(WF(Num, upgrade)(wnone, &h) == PM_EINVAL && h.box == NULL);
    CHECK(F(Num, weak_count)(none) == 0);
    WK(Num) d = WF(Num, dup)(wnone);
    CHECK(d.box == NULL);
    WF(Num, drop)(&d);
    WF(Num, drop)(NULL);
    CHECK(F(Num, new)(&h, 1) == PM_OK);
    CHECK(F(Num, downgrade)(h, NULL) == PM_EINVAL);
    CHECK(F(Num, downgrade)(h, &w) == PM_OK);
    CHECK(WF(Num, upgrade)(w, NULL) == PM_EINVAL);
    WF(Num, drop)(&w);
    F(Num, drop)(&h);
    CHECK(boxes_live == 0);
}

/* Rust: test_arc_cyclic_with_zero_refs / test_arc_cyclic_with_one_ref. */
static pm_status TEST(init_zero_refs)(XCAT(Tree, P) *value, WK(Tree) self, void *ctx) {
    (void)ctx;
    CHECK(WF(Tree, strong_count)(self) == 0);
    H(Tree) up = {NULL};
    CHECK(WF(Tree, upgrade)(self, &up) == PM_EGONE);
    value->value = 0;
    value->parent.box = NULL;
    value->child.box = NULL;
    return PM_OK;
}

static pm_status TEST(init_one_ref)(XCAT(Tree, P) *value, WK(Tree) self, void *ctx) {
    value->value = 1;
    value->parent = WF(Tree, dup)(self); /* points at itself */
    value->child.box = NULL;
    if (ctx != NULL) { /* fail, keeping one copy outside and releasing our own */
        *(WK(Tree) *)ctx = WF(Tree, dup)(self);
        WF(Tree, drop)(&value->parent);
        return PM_ECLONE;
    }
    return PM_OK;
}

static void TEST(rust_new_cyclic)(void) {
    H(Tree) zero = {NULL};
    CHECK(F(Tree, new_cyclic)(&zero, TEST(init_zero_refs), NULL) == PM_OK);
    CHECK(F(Tree, refcount)(zero) == 1 && F(Tree, weak_count)(zero) == 0);
    F(Tree, drop)(&zero);
    CHECK(boxes_live == 0);

    H(Tree) one = {NULL};
    CHECK(F(Tree, new_cyclic)(&one, TEST(init_one_ref), NULL) == PM_OK);
    CHECK(F(Tree, refcount)(one) == 1 && F(Tree, weak_count)(one) == 1);
    H(Tree) self = {NULL};
    const XCAT(Tree, P) *v = NULL;
    CHECK(F(Tree, read)(one, &v) == PM_OK);
    CHECK(WF(Tree, upgrade)(v->parent, &self) == PM_OK && F(Tree, ptr_eq)(self, one));
    F(Tree, release_read)(one);
    F(Tree, drop)(&self);
    F(Tree, drop)(&one); /* drops the value, whose weak field was the last weak */
    CHECK(boxes_live == 0);

    /* init fails: its status; what it kept outside upgrades to nothing; freed with it. */
    WK(Tree) kept = {NULL};
    H(Tree) failed = {NULL};
    CHECK(F(Tree, new_cyclic)(&failed, TEST(init_one_ref), &kept) == PM_ECLONE);
    CHECK(failed.box == NULL && kept.box != NULL && boxes_live == 1);
    CHECK(WF(Tree, upgrade)(kept, &self) == PM_EGONE);
    WF(Tree, drop)(&kept);
    CHECK(boxes_live == 0);
    /* Out of memory: nothing allocated, init never called. */
    fail_allocations = true;
    CHECK(F(Tree, new_cyclic)(&failed, TEST(init_one_ref), &kept) == PM_ENOMEM);
    fail_allocations = false;
    CHECK(failed.box == NULL && kept.box == NULL);
    CHECK(F(Tree, new_cyclic)(NULL, TEST(init_one_ref), NULL) == PM_EINVAL);
    CHECK(F(Tree, new_cyclic)(&failed, NULL, NULL) == PM_EINVAL);
}

/* A tree built top-down with _new_cyclic: each child is made inside its parent's
 * init and points weakly at it (strong down, weak up: a cycle that frees). */
struct TEST(build) {
    WK(Tree) parent;
    long depth;
};

static pm_status TEST(init_node)(XCAT(Tree, P) *value, WK(Tree) self, void *ctx) {
    struct TEST(build) *b = ctx;
    value->value = b->depth;
    value->parent = WF(Tree, dup)(b->parent);
    value->child.box = NULL;
    if (b->depth > 1) {
        struct TEST(build) next = {self, b->depth - 1};
        pm_status status = F(Tree, new_cyclic)(&value->child, TEST(init_node), &next);
        if (status != PM_OK) {
            WF(Tree, drop)(&value->parent); /* init releases what it stored */
            return status;
        }
    }
    return PM_OK;
}

static void TEST(parent_pointers)(long depth) {
    struct TEST(build) b = {{NULL}, depth};
    H(Tree) root = {NULL};
    CHECK(F(Tree, new_cyclic)(&root, TEST(init_node), &b) == PM_OK);
    CHECK(boxes_live == depth);
    /* Walk down: every child's parent upgrades to the node above it. */
    H(Tree) node = F(Tree, dup)(root);
    long seen = 0;
    while (node.box != NULL) {
        seen++;
        const XCAT(Tree, P) *v = NULL;
        if (!CHECK(F(Tree, read)(node, &v) == PM_OK)) {
            break;
        }
        H(Tree) child = F(Tree, dup)(v->child);
        F(Tree, release_read)(node);
        if (child.box != NULL) {
            CHECK(F(Tree, read)(child, &v) == PM_OK);
            H(Tree) up = {NULL};
            CHECK(WF(Tree, upgrade)(v->parent, &up) == PM_OK && F(Tree, ptr_eq)(up, node));
            F(Tree, release_read)(child);
            F(Tree, drop)(&up);
        }
        F(Tree, drop)(&node);
        node = child;
    }
    CHECK(seen == depth);
    F(Tree, drop)(&root);
    CHECK(boxes_live == 0);
    /* Every allocation failing in turn: PM_ENOMEM and nothing left. */
    for (long k = 0; k < depth; k++) {
        fail_after = k;
        CHECK(F(Tree, new_cyclic)(&root, TEST(init_node), &b) == PM_ENOMEM);
        fail_after = -1;
        CHECK(root.box == NULL && boxes_live == 0);
    }
}

/* A long chain of owners whose every node also points weakly at one sentinel:
 * dropping the head frees the chain in constant C stack, each node giving up
 * its weak reference on the way; the sentinel's memory goes with the last. */
static void TEST(long_chain_with_weak_fields)(long n) {
    H(Tree) sentinel = {NULL};
    CHECK(F(Tree, new)(&sentinel, (XCAT(Tree, P)){-1, {NULL}, {NULL}}) == PM_OK);
    H(Tree) head = {NULL};
    for (long k = 0; k < n; k++) {
        XCAT(Tree, P) value = {k, {NULL}, head};
        CHECK(F(Tree, downgrade)(sentinel, &value.parent) == PM_OK);
        if (!CHECK(F(Tree, new)(&head, value) == PM_OK)) {
            break;
        }
    }
    CHECK(F(Tree, weak_count)(sentinel) == (uint32_t)n);
    F(Tree, drop)(&sentinel); /* its value goes; its memory stays for the chain */
    CHECK(boxes_live == n + 1);
    F(Tree, drop)(&head);
    CHECK(boxes_live == 0);
}

/* Saturation: a weak count at its limit turns sticky (the memory is never freed,
 * never freed early); an upgrade at the owner limit makes the box immortal. */
static void TEST(saturation)(void) {
    H(Num) h = {NULL};
    CHECK(F(Num, new)(&h, 1) == PM_OK);
    h.box->weak.n = PM_COUNT_MAX;
    WK(Num) w = {NULL};
    CHECK(F(Num, downgrade)(h, &w) == PM_OK);
    CHECK(F(Num, weak_count)(h) == PM_COUNT_SATURATED);
    WK(Num) w2 = WF(Num, dup)(w);
    WF(Num, drop)(&w);
    WF(Num, drop)(&w2);
    CHECK(F(Num, weak_count)(h) == PM_COUNT_SATURATED);
    XCAT(XCAT(Managed_Num, P), box) *box = h.box;
    F(Num, drop)(&h);
    CHECK(boxes_live == 1); /* the value is gone, the memory stays for ever */
    box->weak.n = 1;          /* the test frees it by hand */
    pm_box_weak_drop(&XCAT(XCAT(Managed_Num, P), _type), box);
    CHECK(boxes_live == 0);

    CHECK(F(Num, new)(&h, 2) == PM_OK);
    CHECK(F(Num, downgrade)(h, &w) == PM_OK);
    h.box->rc.n = PM_COUNT_MAX;
    H(Num) up = {NULL};
    CHECK(WF(Num, upgrade)(w, &up) == PM_OK); /* at the limit: immortal, not wrapped */
    CHECK(F(Num, refcount)(h) == PM_COUNT_SATURATED);
    F(Num, drop)(&up);
    F(Num, drop)(&h);
    CHECK(WF(Num, upgrade)(w, &up) == PM_OK && TEST(num_of)(up) == 2);
    F(Num, drop)(&up);
    box = w.box;
    WF(Num, drop)(&w);
    box->rc.n = 1; /* the test frees it by hand */
    F(Num, drop)(&(H(Num)){box});
    CHECK(boxes_live == 0);
}

/* Reuse: a box's memory goes to a token only when no weak reference keeps it. */
static void TEST(reuse_with_weak_references)(void) {
    pm_reuse token = {NULL, 0};
    H(Num) a = {NULL};
    CHECK(F(Num, new)(&a, 1) == PM_OK);
    WK(Num) w = {NULL};
    CHECK(F(Num, downgrade)(a, &w) == PM_OK);
    F(Num, drop_reuse)(&a, &token);
    CHECK(token.memory == NULL && boxes_live == 1); /* the memory stays for w */
    H(Num) up = {NULL};
    CHECK(WF(Num, upgrade)(w, &up) == PM_EGONE);
    WF(Num, drop)(&w);
    CHECK(boxes_live == 0);
    CHECK(F(Num, new)(&a, 2) == PM_OK);
    void *memory = a.box;
    F(Num, drop_reuse)(&a, &token); /* no weak reference: kept */
    CHECK(token.memory == memory);
    CHECK(F(Num, new_reuse)(&a, &token, 3) == PM_OK && (void *)a.box == memory);
    CHECK(F(Num, downgrade)(a, &w) == PM_OK);
    int64_t out = 0;
    CHECK(F(Num, take_reuse)(&a, &out, &token) == PM_OK && out == 3 && a.box == NULL);
    CHECK(token.memory == NULL && WF(Num, upgrade)(w, &up) == PM_EGONE);
    WF(Num, drop)(&w);
    CHECK(boxes_live == 0);
}

static void TEST(all)(long n) {
    TEST(rust_weak_count)();
    TEST(rust_weak_counts)();
    TEST(rust_live_and_dead)();
    TEST(rust_get_mut)();
    TEST(rust_cowarc_clone_weak)();
    TEST(rust_cowarc_clone_make_mut)();
    TEST(rust_try_unwrap)();
    TEST(rust_drop_value_before_memory)();
    TEST(move_from_weak_out_of_memory)();
    TEST(empty_handles)();
    TEST(saturation)();
    TEST(reuse_with_weak_references)();
    TEST(rust_new_cyclic)();
    TEST(parent_pointers)(50);
    TEST(long_chain_with_weak_fields)(n);
}

#undef H
#undef WK
#undef F
#undef WF
#undef TEST
