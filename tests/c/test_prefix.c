/* test_prefix.c — two generated modules in one program (tests/test_prefix.py): both are
 * module `expr` and both define `Expr` (tests/specs/prefixed_a.yaml, prefixed_b.yaml),
 * generated into a/ and b/. Their prefixes (`a`, `b`) keep every name apart: both
 * headers are included (two include guards), both sources linked, and each module's
 * handles, value structs, functions and _Generic macros are used side by side. */
#include <string.h>

#include "a/expr.h"
#include "b/expr.h"

#include "check.h"
#include "counting_alloc.h"

/* a: a tree (2 + 3) * 4 of a_Expr_SingleThreaded values, each node tagged (an obj of
 * weak_support.c, whose hooks count the live ones). */
static a_Managed_Expr_SingleThreaded a_node(int64_t value, a_Managed_Expr_SingleThreaded left,
                                            a_Managed_Expr_SingleThreaded right, int64_t tag) {
    a_Managed_Expr_SingleThreaded out = {0};
    a_Expr_SingleThreaded e = {value, left, right, {0}};
    if (!CHECK(a_Managed_Tag_SingleThreaded_new(&e.tag, obj_make(tag)) == PM_OK)) {
        return out;
    }
    if (!CHECK(a_expr_new(&out, e) == PM_OK)) {
        a_Expr_SingleThreaded_drop(&e);
    }
    return out;
}

/* Leaves hold their value; an inner node's value is 0 for +, 1 for *. */
static int64_t a_eval(a_Managed_Expr_SingleThreaded h) {
    const a_Expr_SingleThreaded *e = NULL;
    if (!CHECK(a_expr_read(h, &e) == PM_OK)) {
        return -1;
    }
    int64_t result = e->value;
    if (e->left.box != NULL) {
        int64_t l = a_eval(e->left), r = a_eval(e->right);
        result = e->value == 0 ? l + r : l * r;
    }
    a_expr_release_read(h);
    return result;
}

static void test_module_a(void) {
    a_Managed_Expr_SingleThreaded none = {0};
    a_Managed_Expr_SingleThreaded sum =
        a_node(0, a_node(2, none, none, 102), a_node(3, none, none, 103), 100);
    a_Managed_Expr_SingleThreaded product = a_node(1, sum, a_node(4, none, none, 104), 101);
    CHECK(a_eval(product) == 20);
    CHECK(obj_live == 5);

    /* dup, refcount, and copy on write through the generic macros. */
    a_Managed_Expr_SingleThreaded copy = a_expr_dup(product);
    CHECK(a_expr_refcount(product) == 2);
    CHECK(!a_expr_is_unique(copy));
    a_Expr_SingleThreaded *w = NULL;
    if (CHECK(a_expr_write(&copy, &w) == PM_OK)) {
        w->value = 0; /* (2 + 3) + 4 in the copy alone */
        a_expr_release_write(copy);
    }
    CHECK(copy.box != product.box);
    CHECK(a_eval(copy) == 9 && a_eval(product) == 20);
    CHECK(obj_live == 5); /* the copy shares the tags (managed fields are dup'ed) */

    /* Conversion to the other policy, and _get of its cell none. */
    a_Managed_Expr_Frozen frozen = {0};
    CHECK(a_Managed_Expr_SingleThreaded_to_Frozen(&copy, &frozen) == PM_OK);
    CHECK(copy.box == NULL);
    const a_Expr_Frozen *f = a_expr_get(frozen);
    if (CHECK(f != NULL && f->value == 0)) {
        const a_Expr_Frozen *four = a_expr_get(f->right);
        CHECK(four != NULL && four->value == 4 && a_expr_get(f->left) != NULL);
    }

    /* Weak references of Tag, and the descriptor's name. */
    const a_Expr_SingleThreaded *e = NULL;
    a_Managed_Tag_SingleThreaded tag = {0};
    if (CHECK(a_expr_read(product, &e) == PM_OK)) {
        tag = a_expr_dup(e->tag);
        a_expr_release_read(product);
    }
    a_Weak_Tag_SingleThreaded weak = {0};
    CHECK(a_expr_downgrade(tag, &weak) == PM_OK);
    CHECK(a_Managed_Tag_SingleThreaded_weak_count(tag) == 1);
    a_expr_drop(&product);
    a_Managed_Tag_SingleThreaded again = {0};
    CHECK(a_Weak_Tag_SingleThreaded_upgrade(weak, &again) == PM_OK);
    const struct obj *o = NULL;
    if (CHECK(a_expr_read(again, &o) == PM_OK)) {
        CHECK(*o->payload == 101);
        a_expr_release_read(again);
    }
    a_expr_drop(&again);
    a_expr_drop(&tag);
    CHECK(a_Weak_Tag_SingleThreaded_upgrade(weak, &again) == PM_EGONE);
    a_Weak_Tag_SingleThreaded_drop(&weak);
    CHECK(strcmp(a_Managed_Tag_SingleThreaded__type.name, "a_Managed_Tag_SingleThreaded")
          == 0);

    /* The frozen copy keeps its own tree and tags alive. */
    CHECK(obj_live > 0);
    a_expr_drop(&frozen);
    CHECK(obj_live == 0);

    /* copy: trivial under a lock: _load and a blocking read. */
    a_Managed_Count_ThreadSafe count = {0};
    CHECK(a_expr_new(&count, 7) == PM_OK);
    int64_t loaded = 0;
    CHECK(a_expr_load(count, &loaded) == PM_OK && loaded == 7);
    const int64_t *r = NULL;
    CHECK(a_expr_read_wait(count, &r, PM_FOREVER) == PM_OK && *r == 7);
    a_expr_release_read(count);
    a_expr_drop(&count);
}

/* b: a list of doubles, b_Expr_SingleThreaded { double value; next }. */
static void test_module_b(void) {
    b_Managed_Expr_SingleThreaded list = {0};
    for (int k = 1; k <= 3; k++) {
        b_Expr_SingleThreaded cell = {k / 2.0, list};
        b_Managed_Expr_SingleThreaded next = {0};
        if (!CHECK(b_expr_new(&next, cell) == PM_OK)) {
            b_Expr_SingleThreaded_drop(&cell);
            return;
        }
        list = next;
    }
    b_Managed_Expr_SingleThreaded other = b_expr_dup(list);
    CHECK(b_expr_refcount(list) == 2);
    b_Expr_SingleThreaded *w = NULL;
    if (CHECK(b_expr_write(&other, &w) == PM_OK)) {
        w->value = 10.0;
        b_expr_release_write(other);
    }
    double sum = 0.0;
    const b_Expr_SingleThreaded *e = NULL;
    for (b_Managed_Expr_SingleThreaded h = list, next; h.box != NULL; h = next) {
        if (!CHECK(b_expr_read(h, &e) == PM_OK)) {
            break;
        }
        sum += e->value;
        next = e->next; /* the list keeps it alive */
        b_expr_release_read(h);
    }
    CHECK(sum == 3.0);
    CHECK(b_Managed_Expr_SingleThreaded_refcount(list) == 1);
    b_expr_drop(&other);
    b_expr_drop(&list);
}

int main(void) {
    pm_set_allocator(counting_alloc, counting_free, NULL);
    /* One name, two types: each module's own struct. */
    CHECK(sizeof(a_Expr_SingleThreaded) != sizeof(b_Expr_SingleThreaded));
    test_module_a();
    test_module_b();
#ifdef PM_METRICS
    CHECK(a_expr_metrics(NULL, 0) == 5); /* Expr, Tag under two policies; Count */
    CHECK(b_expr_metrics(NULL, 0) == 1);
#endif
    CHECK(boxes_live == 0);
    CHECK(obj_live == 0);
    return check_summary("test_prefix");
}
