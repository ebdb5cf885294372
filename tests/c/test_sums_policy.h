/* test_sums_policy.h — sum types (variants:) under one policy P of tests/specs/sums.yaml,
 * included once per policy by test_sums.c (through each_policy.h). */

#define E XCAT(Managed_Expr, P)
#define EV XCAT(Expr, P)
#define EBOX XCAT(E, box)
#define L XCAT(Managed_List, P)
#define LV XCAT(List, P)
#define T XCAT(Managed_Tree, P)
#define TV XCAT(Tree, P)
#define W XCAT(Weak_Tree, P)
#define R XCAT(Managed_Res, P)
#define HO XCAT(Managed_Holder, P)
#define HOV XCAT(Holder, P)
#define PD XCAT(Managed_Pad, P)
#define PDV XCAT(Pad, P)
#define PDBOX XCAT(PD, box)

/* A nullary variant is one shared immortal box, except under a borrow cell. */
static bool XCAT(shares_nullary, P)(void) { return XCAT(E, _type).cell != PM_CELL_BORROW; }

/* Each variant's box holds its own fields only; nullary variants allocate nothing. */
static void XCAT(test_a_box_is_its_variants_size, P)(void) {
    long live = boxes_live;
    E val = {NULL}, add = {NULL}, nil = {NULL}, nil2 = {NULL}, empty = {NULL};
    CHECK(XCAT(E, new_Val)(&val, 42) == PM_OK);
    CHECK(last_size == PM_VARIANT_BOX_SIZE(EBOX, EV, Val));
    CHECK(last_size < sizeof(EBOX));
    CHECK(XCAT(E, tag)(val) == Expr_Val);
    const EV *v = NULL;
    if (CHECK(XCAT(E, read)(val, &v) == PM_OK)) {
        CHECK(v->tag == Expr_Val && v->Val.value == 42);
        XCAT(E, release_read)(val);
    }
    CHECK(XCAT(E, new_Add)(&add, XCAT(E, dup)(val), val) == PM_OK); /* takes both owners */
    CHECK(last_size == PM_VARIANT_BOX_SIZE(EBOX, EV, Add));
    CHECK(XCAT(E, refcount)(val) == 2);
    val.box = NULL; /* moved into add */
    long before = allocations;
    CHECK(XCAT(E, new_Nil)(&nil) == PM_OK);
    CHECK(XCAT(E, new_Nil)(&nil2) == PM_OK);
    CHECK(XCAT(E, tag)(nil) == Expr_Nil && XCAT(E, tag)(nil2) == Expr_Nil);
    if (XCAT(shares_nullary, P)()) {
        CHECK(allocations == before);
        CHECK(XCAT(E, ptr_eq)(nil, nil2));
        CHECK(XCAT(E, refcount)(nil) == PM_COUNT_SATURATED);
        E more = XCAT(E, dup)(nil);
        XCAT(E, drop)(&more);
        CHECK(XCAT(E, refcount)(nil) == PM_COUNT_SATURATED);
    } else {
        CHECK(allocations == before + 2);
        CHECK(last_size == PM_NULLARY_BOX_SIZE(EBOX, Expr_tag));
        CHECK(!XCAT(E, ptr_eq)(nil, nil2));
        CHECK(XCAT(E, refcount)(nil) == 1);
    }
    CHECK(XCAT(E, tag)(empty) == (Expr_tag)-1);
    XCAT(E, drop)(&nil);
    XCAT(E, drop)(&nil2);
    XCAT(E, drop)(&add);
    CHECK(boxes_live == live);
}

/* _new boxes a whole value by its tag; a tag that is none of the type's changes nothing. */
static void XCAT(test_new_dispatches_on_the_tag, P)(void) {
    long live = boxes_live;
    EV value = {.tag = Expr_Var, .Var = {"x"}};
    E var = {NULL};
    CHECK(XCAT(E, new)(&var, value) == PM_OK);
    CHECK(XCAT(E, tag)(var) == Expr_Var);
    CHECK(last_size == PM_VARIANT_BOX_SIZE(EBOX, EV, Var));
    const EV *v = NULL;
    if (CHECK(XCAT(E, read)(var, &v) == PM_OK)) {
        CHECK(strcmp(v->Var.name, "x") == 0);
        XCAT(E, release_read)(var);
    }
    EV bad = {.tag = (Expr_tag)99};
    E none = {NULL};
    long before = allocations;
    CHECK(XCAT(E, new)(&none, bad) == PM_EINVAL);
    CHECK(none.box == NULL && allocations == before);
    CHECK(XCAT(E, new)(NULL, value) == PM_EINVAL);
    /* _new_reuse: the token is empty afterwards, on failure too. */
    pm_reuse token = {NULL, 0};
    XCAT(E, drop_reuse)(&var, &token);
    CHECK(token.memory != NULL);
    CHECK(XCAT(E, new_reuse)(&none, &token, bad) == PM_EINVAL);
    CHECK(token.memory == NULL && none.box == NULL);
    EV nil = {.tag = Expr_Nil};
    CHECK(XCAT(E, new_reuse)(&none, &token, nil) == PM_OK);
    CHECK(XCAT(E, tag)(none) == Expr_Nil);
    XCAT(E, drop)(&none);
    CHECK(boxes_live == live);
}

/* Copy on write of a shared variant copies its bytes and gives its handles a new owner. */
static void XCAT(test_copy_on_write_of_a_variant, P)(void) {
    long live = boxes_live;
    E x = {NULL}, y = {NULL}, a = {NULL};
    CHECK(XCAT(E, new_Val)(&x, 1) == PM_OK);
    CHECK(XCAT(E, new_Zero)(&y) == PM_OK);
    CHECK(XCAT(E, new_Add)(&a, x, y) == PM_OK);
    E b = XCAT(E, dup)(a);
    EV *w = NULL;
    CHECK(XCAT(E, write)(&a, &w) == PM_OK);
    CHECK(!XCAT(E, ptr_eq)(a, b));
    CHECK(last_size == PM_VARIANT_BOX_SIZE(EBOX, EV, Add));
    if (CHECK(w != NULL && w->tag == Expr_Add)) {
        CHECK(XCAT(E, refcount)(w->Add.left) == 2);
        CHECK(XCAT(E, ptr_eq)(w->Add.left, x));
        XCAT(E, drop)(&w->Add.left); /* a variant's fields may be written */
        CHECK(XCAT(E, new_Val)(&w->Add.left, 9) == PM_OK);
    }
    XCAT(E, release_write)(a);
    CHECK(XCAT(E, refcount)(x) == 1);
    XCAT(E, drop)(&a);
    XCAT(E, drop)(&b);
    CHECK(boxes_live == live);
}

/* Perceus reuse: variants of one box size share memory; _take_reuse moves only the variant's bytes. */
static void XCAT(test_reuse_across_variants_of_one_size, P)(void) {
    long live = boxes_live;
    CHECK(PM_VARIANT_BOX_SIZE(EBOX, EV, Ln) == PM_VARIANT_BOX_SIZE(EBOX, EV, Val));
    E x = {NULL}, ln = {NULL}, val = {NULL};
    CHECK(XCAT(E, new_Val)(&x, 5) == PM_OK);
    CHECK(XCAT(E, new_Ln)(&ln, x) == PM_OK);
    pm_reuse token = {NULL, 0};
    EV out;
    memset(&out, 0xAB, sizeof out);
    CHECK(XCAT(E, take_reuse)(&ln, &out, &token) == PM_OK);
    CHECK(ln.box == NULL && out.tag == Expr_Ln && XCAT(E, ptr_eq)(out.Ln.arg, x));
    CHECK(token.memory != NULL && token.size == PM_VARIANT_BOX_SIZE(EBOX, EV, Ln));
    const unsigned char *bytes = (const unsigned char *)&out;
    for (size_t k = PM_VARIANT_VALUE_SIZE(EV, Ln); k < sizeof out; k++) {
        CHECK(bytes[k] == 0xAB); /* beyond the variant: untouched, never read from the box */
    }
    long before = allocations;
    CHECK(XCAT(E, new_Val_reuse)(&val, &token, 7) == PM_OK);
    CHECK(allocations == before && token.memory == NULL);
    CHECK(XCAT(E, tag)(val) == Expr_Val);
    /* An Add's memory does not fit a Val: freed, and a Val allocated. */
    E add = {NULL};
    CHECK(XCAT(E, new_Add)(&add, out.Ln.arg, val) == PM_OK);
    CHECK(XCAT(E, take_reuse)(&add, &out, &token) == PM_OK);
    CHECK(token.size == PM_VARIANT_BOX_SIZE(EBOX, EV, Add));
    E other = {NULL};
    CHECK(XCAT(E, new_Val_reuse)(&other, &token, 8) == PM_OK);
    CHECK(allocations == before + 2 && token.memory == NULL);
    XCAT(E, drop)(&other);
    XCAT(EV, drop)(&out); /* the Add's two fields */
    CHECK(out.Add.left.box == NULL && out.Add.right.box == NULL);
    CHECK(boxes_live == live);
}

/* The Perceus map over a unique list allocates nothing; a long list drops in constant stack. */
static void XCAT(test_list_map_in_place, P)(long n) {
    long live = boxes_live;
    L list = {NULL};
    CHECK(XCAT(L, new_Empty)(&list) == PM_OK);
    for (long k = 0; k < n; k++) {
        CHECK(XCAT(L, new_Cons)(&list, (int32_t)k, list) == PM_OK);
    }
    long before = allocations;
    pm_reuse token = {NULL, 0};
    L mapped = {NULL};
    CHECK(XCAT(L, new_Empty)(&mapped) == PM_OK);
    long reversed = 0;
    while (XCAT(L, tag)(list) == List_Cons) {
        LV cell;
        /* The match tests the taken value's tag, as a compiler's would: then gcc sees which
         * member of `cell` the take wrote. */
        if (!CHECK(XCAT(L, take_reuse)(&list, &cell, &token) == PM_OK) || cell.tag != List_Cons) {
            break;
        }
        list = cell.Cons.tail;
        CHECK(XCAT(L, new_Cons_reuse)(&mapped, &token, cell.Cons.head * 2, mapped) == PM_OK);
        reversed++;
    }
    long extra = XCAT(shares_nullary, P)() ? 0 : 1; /* the second Empty */
    CHECK(reversed == n && allocations == before + extra);
    const LV *v = NULL;
    if (n > 0 && CHECK(XCAT(L, read)(mapped, &v) == PM_OK)) {
        CHECK(v->Cons.head == 0);
        XCAT(L, release_read)(mapped);
    }
    XCAT(L, drop)(&list);
    XCAT(L, drop)(&mapped);
    CHECK(boxes_live == live);
}

/* Moving a value out: a unique variant moves, a shared one is cloned, nullary ones are shared. */
static void XCAT(test_moving_out, P)(void) {
    long live = boxes_live;
    E x = {NULL}, ln = {NULL}, nil = {NULL};
    CHECK(XCAT(E, new_Val)(&x, 3) == PM_OK);
    CHECK(XCAT(E, new_Ln)(&ln, x) == PM_OK);
    EV out;
    CHECK(XCAT(E, try_unwrap)(&ln, &out) == PM_OK);
    CHECK(ln.box == NULL && out.tag == Expr_Ln);
    XCAT(EV, drop)(&out);
    CHECK(XCAT(E, new_Nil)(&nil) == PM_OK);
    E nil_owner = XCAT(E, dup)(nil);
    CHECK(XCAT(E, into_inner)(&nil_owner, &out) == PM_OK);
    CHECK(nil_owner.box == NULL && out.tag == Expr_Nil);
    if (XCAT(shares_nullary, P)()) {
        E again = XCAT(E, dup)(nil);
        CHECK(XCAT(E, try_unwrap)(&again, &out) == PM_ESHARED); /* immortal: never unique */
        CHECK(XCAT(E, unwrap_or_drop)(&again, &out) == PM_ESHARED);
        CHECK(again.box == NULL);
    }
    XCAT(E, drop)(&nil);
    CHECK(boxes_live == live);
}

/* A variant's managed field of a type with hooks: dropped once, with the value. */
static void XCAT(test_hooked_field_in_a_variant, P)(void) {
    long live = boxes_live, res = res_live;
    R r = {NULL};
    E lbl = {NULL};
    CHECK(XCAT(R, new)(&r, res_make(1)) == PM_OK);
    CHECK(XCAT(E, new_Lbl)(&lbl, r, 3) == PM_OK);
    E copy = XCAT(E, dup)(lbl);
    EV *w = NULL;
    CHECK(XCAT(E, write)(&copy, &w) == PM_OK); /* copied: the Res gains an owner, no clone */
    CHECK(res_live == res + 1 && XCAT(R, refcount)(r) == 2);
    XCAT(E, release_write)(copy);
    XCAT(E, drop)(&copy);
    XCAT(E, drop)(&lbl);
    CHECK(res_live == res && boxes_live == live);
}

/* Weak references in a variant: an upgrade works while the parent lives, then PM_EGONE. */
static void XCAT(test_weak_field_in_a_variant, P)(void) {
    long live = boxes_live;
    T leaf = {NULL}, parent = {NULL}, child = {NULL};
    W none = {NULL}, up = {NULL};
    CHECK(XCAT(T, new_Leaf)(&leaf) == PM_OK);
    CHECK(XCAT(T, new_Node)(&parent, none, leaf, 1) == PM_OK);
    CHECK(XCAT(T, downgrade)(parent, &up) == PM_OK);
    CHECK(XCAT(T, new_Leaf)(&leaf) == PM_OK);
    CHECK(XCAT(T, new_Node)(&child, up, leaf, 2) == PM_OK);
    CHECK(XCAT(T, weak_count)(parent) == 1);
    const TV *v = NULL;
    T back = {NULL};
    if (CHECK(XCAT(T, read)(child, &v) == PM_OK)) {
        CHECK(XCAT(W, upgrade)(v->Node.parent, &back) == PM_OK);
        CHECK(XCAT(T, ptr_eq)(back, parent));
        XCAT(T, drop)(&back);
        XCAT(T, drop)(&parent);
        CHECK(XCAT(W, upgrade)(v->Node.parent, &back) == PM_EGONE);
        XCAT(T, release_read)(child);
    }
    XCAT(T, drop)(&child); /* its weak field lets the parent's memory go */
    CHECK(boxes_live == live);
}

/* A `fields` type holding sum types clones and drops them. */
static void XCAT(test_holder_of_sum_types, P)(void) {
    long live = boxes_live;
    HOV value = {{NULL}, {NULL}};
    CHECK(XCAT(E, new_Val)(&value.expr, 4) == PM_OK);
    CHECK(XCAT(L, new_Empty)(&value.list) == PM_OK);
    CHECK(XCAT(L, new_Cons)(&value.list, 1, value.list) == PM_OK);
    HOV copy;
    CHECK(XCAT(HOV, clone)(&copy, &value) == PM_OK);
    CHECK(XCAT(E, refcount)(value.expr) == 2 && XCAT(L, refcount)(value.list) == 2);
    HO holder = {NULL};
    CHECK(XCAT(HO, new)(&holder, value) == PM_OK);
    XCAT(HOV, drop)(&copy);
    XCAT(HO, drop)(&holder);
    CHECK(boxes_live == live);
}

/* Every allocation fails in turn: each call that fails changes nothing, and nothing leaks. */
static void XCAT(test_allocation_failures, P)(void) {
    long live = boxes_live, faults = 0;
    for (long k = 0;; k++) {
        fail_after = k;
        E x = {NULL}, y = {NULL}, a = {NULL}, nil = {NULL};
        pm_reuse token = {NULL, 0};
        bool done = false;
        if (XCAT(E, new_Val)(&x, 1) != PM_OK || XCAT(E, new_Val)(&y, 2) != PM_OK) {
            faults++;
            XCAT(E, drop)(&x);
        } else if (XCAT(E, new_Add)(&a, x, y) != PM_OK) {
            faults++;
            CHECK(a.box == NULL); /* the caller still owns x and y */
            XCAT(E, drop)(&x);
            XCAT(E, drop)(&y);
        } else {
            x.box = y.box = NULL;
            E b = XCAT(E, dup)(a);
            EV *w = NULL;
            pm_status status = XCAT(E, write)(&a, &w);
            if (status != PM_OK) {
                faults++;
                CHECK(status == PM_ENOMEM && XCAT(E, ptr_eq)(a, b));
                CHECK(XCAT(E, refcount)(a) == 2);
            } else {
                XCAT(E, release_write)(a);
                EV out;
                CHECK(XCAT(E, take_reuse)(&a, &out, &token) == PM_OK); /* unique: no allocation */
                E again = {NULL};
                if (XCAT(E, new_Add_reuse)(&again, &token, out.Add.left, out.Add.right) != PM_OK) {
                    CHECK(0); /* the token fits: no allocation */
                    XCAT(EV, drop)(&out);
                }
                XCAT(E, drop)(&again);
                if (XCAT(E, new_Nil)(&nil) != PM_OK) {
                    faults++;
                    CHECK(nil.box == NULL && !XCAT(shares_nullary, P)());
                } else {
                    done = true;
                }
            }
            XCAT(E, drop)(&a);
            XCAT(E, drop)(&b);
        }
        XCAT(E, drop)(&nil);
        pm_reuse_drop(&token);
        fail_after = -1;
        CHECK(boxes_live == live);
        if (done) {
            break;
        }
    }
    CHECK(faults == (XCAT(shares_nullary, P)() ? 4 : 5));
}

/* box_align: 32 (Pad): each variant's box is its own size rounded up to 32 bytes, whichever
 * constructor made it; the default allocator places it at a multiple of 32. */
static void XCAT(test_box_align_per_variant, P)(void) {
    const pm_variant *shapes = XCAT(PD, _type).variants;
    CHECK(XCAT(PD, _type).box_align == 32);
    CHECK(shapes[Pad_Small].box_size ==
          PM_BOX_ALIGN_UP(PM_VARIANT_BOX_SIZE(PDBOX, PDV, Small), 32));
    CHECK(shapes[Pad_Big].box_size == PM_BOX_ALIGN_UP(PM_VARIANT_BOX_SIZE(PDBOX, PDV, Big), 32));
    CHECK(shapes[Pad_Small].box_size < shapes[Pad_Big].box_size);
    PD small = {NULL}, big = {NULL}, again = {NULL};
    CHECK(XCAT(PD, new_Small)(&small, 1) == PM_OK);
    CHECK(last_size == shapes[Pad_Small].box_size);
    CHECK(XCAT(PD, new_Big)(&big, 2, 3, 4, 5, 6, small) == PM_OK); /* takes small's owner */
    CHECK(last_size == shapes[Pad_Big].box_size);
    pm_reuse token = {NULL, 0};
    XCAT(PD, drop_reuse)(&big, &token); /* its Small goes too, the Big's memory stays */
    CHECK(token.size == shapes[Pad_Big].box_size);
    CHECK(XCAT(PD, new_Small_reuse)(&again, &token, 5) == PM_OK); /* another size: fresh */
    CHECK(last_size == shapes[Pad_Small].box_size && token.memory == NULL);
    XCAT(PD, drop)(&again);
    pm_set_allocator(NULL, NULL, NULL); /* the default allocator aligns */
    CHECK(XCAT(PD, new_Small)(&small, 6) == PM_OK && ((uintptr_t)small.box & 31u) == 0);
    CHECK(XCAT(PD, new_Big)(&big, 7, 8, 9, 10, 11, small) == PM_OK);
    CHECK(((uintptr_t)big.box & 31u) == 0);
    XCAT(PD, drop)(&big);
    pm_set_allocator(sized_alloc, sized_free, NULL);
}

static void XCAT(test_sums, P)(long n) {
    XCAT(test_a_box_is_its_variants_size, P)();
    XCAT(test_new_dispatches_on_the_tag, P)();
    XCAT(test_copy_on_write_of_a_variant, P)();
    XCAT(test_reuse_across_variants_of_one_size, P)();
    XCAT(test_list_map_in_place, P)(0);
    XCAT(test_list_map_in_place, P)(n);
    XCAT(test_moving_out, P)();
    XCAT(test_hooked_field_in_a_variant, P)();
    XCAT(test_weak_field_in_a_variant, P)();
    XCAT(test_holder_of_sum_types, P)();
    XCAT(test_allocation_failures, P)();
    XCAT(test_box_align_per_variant, P)();
}

#undef E
#undef EV
#undef EBOX
#undef L
#undef LV
#undef T
#undef TV
#undef W
#undef R
#undef HO
#undef HOV
#undef PD
#undef PDV
#undef PDBOX
