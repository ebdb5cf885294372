/* test_reuse_policy.h — Perceus reuse under one policy, included by
 * tests/c/test_reuse.c once per policy with P defined. */

#define H(T) XCAT(Managed_##T, P)
#define F(T, op) XCAT3(Managed_##T, P, op)
#define V(T) XCAT(T, P)
#define TEST(name) XCAT(name, P)

/* The last owner's memory goes to the token, and the next box of its size is
 * made in it: no allocation, no free. */
static void TEST(drop_then_new_reuses_the_memory)(void) {
    pm_reuse token = {NULL, 0};
    H(Point) a = {NULL};
    CHECK(F(Point, new)(&a, (struct point){1, 2}) == PM_OK);
    void *memory = a.box;
    F(Point, drop_reuse)(&a, &token);
    CHECK(a.box == NULL && token.memory == memory && boxes_live == 1);
    long allocated = allocations;
    H(Point) b = {NULL};
    CHECK(F(Point, new_reuse)(&b, &token, (struct point){3, 4}) == PM_OK);
    CHECK((void *)b.box == memory && allocations == allocated); /* reused */
    CHECK(token.memory == NULL && token.size == 0);
    struct point p = {0, 0};
    CHECK(F(Point, load)(b, &p) == PM_OK && p.x == 3 && p.y == 4);
    CHECK(F(Point, refcount)(b) == 1);
    F(Point, drop)(&b);
    CHECK(boxes_live == 0);
}

/* A shared box is not the caller's to reuse; a borrowed one dies with its borrow. */
static void TEST(drop_reuse_of_a_shared_box_keeps_nothing)(void) {
    pm_reuse token = {NULL, 0};
    H(Point) a = {NULL};
    CHECK(F(Point, new)(&a, (struct point){1, 2}) == PM_OK);
    H(Point) b = F(Point, dup)(a);
    F(Point, drop_reuse)(&a, &token);
    CHECK(a.box == NULL && token.memory == NULL && F(Point, refcount)(b) == 1);
    F(Point, drop_reuse)(&b, NULL); /* no token: a plain drop */
    CHECK(boxes_live == 0);
}

/* Memory is matched by size: another size is freed and fresh memory taken. */
static void TEST(new_reuse_of_another_size_allocates)(void) {
    pm_reuse token = {NULL, 0};
    H(Item) item = {NULL};
    CHECK(F(Item, new)(&item, (V(Item)){1, 2, {NULL}}) == PM_OK);
    F(Item, drop_reuse)(&item, &token);
    CHECK(token.memory != NULL && token.size == XCAT(H(Item), _type).box_size);
    long allocated = allocations;
    H(Point) p = {NULL};
    bool same_size = token.size == XCAT(H(Point), _type).box_size;
    CHECK(F(Point, new_reuse)(&p, &token, (struct point){5, 6}) == PM_OK);
    CHECK(allocations == allocated + (same_size ? 0 : 1) && token.memory == NULL);
    CHECK(boxes_live == 1);
    /* A second drop into a full token frees what it held first. */
    H(Point) q = {NULL};
    CHECK(F(Point, new)(&q, (struct point){7, 8}) == PM_OK);
    F(Point, drop_reuse)(&p, &token);
    F(Point, drop_reuse)(&q, &token);
    CHECK(boxes_live == 1 && token.memory != NULL);
    pm_reuse_drop(&token);
    CHECK(boxes_live == 0 && token.memory == NULL);
    pm_reuse_drop(&token); /* empty: nothing */
    pm_reuse_drop(NULL);
}

/* _take_reuse of the only owner: the value moves out (no clone, no drop hook),
 * the memory to the token. */
static void TEST(take_reuse_moves_the_value)(void) {
    pm_reuse token = {NULL, 0};
    long live = blob_live, clones = blob_clone_calls;
    H(Blob) a = {NULL};
    CHECK(F(Blob, new)(&a, blob_make("moved")) == PM_OK);
    void *memory = a.box;
    struct blob out = {NULL, 0};
    CHECK(F(Blob, take_reuse)(&a, &out, &token) == PM_OK);
    CHECK(a.box == NULL && token.memory == memory && out.data != NULL);
    CHECK(blob_live == live + 1 && blob_clone_calls == clones); /* moved, not cloned */
    H(Blob) b = {NULL};
    CHECK(F(Blob, new_reuse)(&b, &token, out) == PM_OK && (void *)b.box == memory);
    F(Blob, drop)(&b);
    CHECK(blob_live == live && boxes_live == 0);
}

/* _take_reuse of a shared box: a clone, and this owner given up. A failing clone
 * changes nothing. */
static void TEST(take_reuse_of_a_shared_box_clones)(void) {
    pm_reuse token = {NULL, 0};
    long live = blob_live;
    H(Blob) a = {NULL};
    CHECK(F(Blob, new)(&a, blob_make("shared")) == PM_OK);
    H(Blob) b = F(Blob, dup)(a);
    struct blob out = {NULL, 0};
    blob_clone_fail = PM_ENOMEM;
    CHECK(F(Blob, take_reuse)(&a, &out, &token) == PM_ENOMEM);
    blob_clone_fail = PM_OK;
    CHECK(a.box == b.box && F(Blob, refcount)(b) == 2 && token.memory == NULL);
    CHECK(F(Blob, take_reuse)(&a, &out, &token) == PM_OK);
    CHECK(a.box == NULL && F(Blob, refcount)(b) == 1 && token.memory == NULL);
    CHECK(blob_live == live + 2);
    blob_drop(&out);
    F(Blob, drop)(&b);
    CHECK(blob_live == live && boxes_live == 0);
    /* Bad arguments: nothing changes. */
    CHECK(F(Blob, take_reuse)(&a, &out, &token) == PM_EINVAL);
    CHECK(F(Blob, new)(&a, blob_make("x")) == PM_OK);
    CHECK(F(Blob, take_reuse)(&a, NULL, &token) == PM_EINVAL);
    CHECK(F(Blob, take_reuse)(&a, &out, NULL) == PM_EINVAL);
    CHECK(F(Blob, new_reuse)(NULL, &token, out) == PM_EINVAL);
    F(Blob, drop)(&a);
    CHECK(blob_live == live && boxes_live == 0);
}

/* A borrow held on the only owner's box: the borrow's status, nothing changes
 * (cells that track borrows only). */
static void TEST(take_reuse_while_borrowed)(void) {
    pm_reuse token = {NULL, 0};
    H(Point) a = {NULL};
    CHECK(F(Point, new)(&a, (struct point){1, 1}) == PM_OK);
    const struct point *r = NULL;
    CHECK(F(Point, read)(a, &r) == PM_OK);
    struct point out = {0, 0};
    pm_status st = F(Point, take_reuse)(&a, &out, &token);
    if (XCAT(H(Point), _type).cell == PM_CELL_NONE) {
        CHECK(st == PM_OK && out.x == 1 && a.box == NULL); /* nothing tracks borrows */
        pm_reuse_drop(&token);
    } else {
        CHECK((st == PM_EBORROWED || st == PM_EBUSY) && a.box != NULL && token.memory == NULL);
        F(Point, release_read)(a);
        F(Point, drop)(&a);
    }
    CHECK(boxes_live == 0);
}

/* _new_reuse out of memory: PM_ENOMEM, the token empty, the caller still owns value. */
static void TEST(new_reuse_out_of_memory)(void) {
    pm_reuse token = {NULL, 0};
    H(Item) item = {NULL};
    CHECK(F(Item, new)(&item, (V(Item)){1, 2, {NULL}}) == PM_OK);
    F(Item, drop_reuse)(&item, &token); /* an Item's memory: not a Blob's size */
    long live = blob_live;
    struct blob value = blob_make("kept");
    H(Blob) b = {NULL};
    bool same_size = token.size == XCAT(H(Blob), _type).box_size;
    fail_allocations = true;
    pm_status st = F(Blob, new_reuse)(&b, &token, value);
    fail_allocations = false;
    CHECK(same_size ? st == PM_OK : (st == PM_ENOMEM && b.box == NULL));
    CHECK(token.memory == NULL && boxes_live == (same_size ? 1 : 0));
    if (st == PM_OK) {
        F(Blob, drop)(&b);
    } else {
        blob_drop(&value);
    }
    CHECK(blob_live == live && boxes_live == 0);
}

/* The Perceus map: increment every node of a unique list, taking each node apart
 * and building the new one in its memory: no allocation at all. A shared list
 * is copied node by node instead, and the original stays as it was. */
static H(Node) TEST(list)(long n) {
    H(Node) head = {NULL};
    for (long k = n; k > 0; k--) {
        H(Node) node = {NULL};
        if (!CHECK(F(Node, new)(&node, (V(Node)){k, head}) == PM_OK)) {
            break;
        }
        head = node;
    }
    return head;
}

static H(Node) TEST(map_increment)(H(Node) list) {
    /* Reverse-accumulate, as a compiler would emit a tail-recursive map, then reverse. */
    H(Node) acc = {NULL};
    pm_reuse token = {NULL, 0};
    for (int pass = 0; pass < 2; pass++) {
        while (list.box != NULL) {
            V(Node) node;
            if (!CHECK(F(Node, take_reuse)(&list, &node, &token) == PM_OK)) {
                return acc;
            }
            list = node.next; /* moved out of the node: we own it now */
            node.value += pass == 0 ? 1 : 0;
            node.next = acc;
            CHECK(F(Node, new_reuse)(&acc, &token, node) == PM_OK);
        }
        list = acc;
        acc.box = NULL;
    }
    return list;
}

static void TEST(perceus_map)(long n) {
    H(Node) list = TEST(list)(n);
    long allocated = allocations;
    list = TEST(map_increment)(list);
    CHECK(allocations == allocated); /* every node made in a dead node's memory */
    CHECK(boxes_live == n);
    long k = 1;
    for (H(Node) at = list; at.box != NULL; k++) {
        const V(Node) *v = NULL;
        CHECK(F(Node, read)(at, &v) == PM_OK && v->value == k + 1);
        H(Node) next = v->next;
        F(Node, release_read)(at);
        at = next;
    }
    CHECK(k == n + 1);
    /* Shared: the original is untouched, the map allocates its own nodes. */
    H(Node) keep = F(Node, dup)(list);
    allocated = allocations;
    H(Node) mapped = TEST(map_increment)(list);
    CHECK(allocations > allocated && !F(Node, ptr_eq)(mapped, keep));
    const V(Node) *v = NULL;
    CHECK(F(Node, read)(keep, &v) == PM_OK && v->value == 2);
    F(Node, release_read)(keep);
    CHECK(F(Node, read)(mapped, &v) == PM_OK && v->value == 3);
    F(Node, release_read)(mapped);
    F(Node, drop)(&keep);
    F(Node, drop)(&mapped);
    CHECK(boxes_live == 0);
}

static void TEST(all)(long n) {
    TEST(drop_then_new_reuses_the_memory)();
    TEST(drop_reuse_of_a_shared_box_keeps_nothing)();
    TEST(new_reuse_of_another_size_allocates)();
    TEST(take_reuse_moves_the_value)();
    TEST(take_reuse_of_a_shared_box_clones)();
    TEST(take_reuse_while_borrowed)();
    TEST(new_reuse_out_of_memory)();
    TEST(perceus_map)(n);
}

#undef H
#undef F
#undef V
#undef TEST
