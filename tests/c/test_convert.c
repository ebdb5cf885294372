/* test_convert.c — conversion between policies, Managed_N_P_to_Q (DESIGN.md, "Moving
 * data between contexts"), checked against tests/specs/all_policies.yaml for every
 * ordered pair of its four policies (SingleThreaded, ThreadSafe, Local, Frozen).
 *
 * The per-pair part at the bottom is compiled twelve times: this file includes itself
 * with FROM, TO and FROM_CELL defined. For each pair and type:
 *   - a unique box keeps its value (no clone hook): in place, with no allocation, when
 *     the descriptors give both boxes the same size (the box pointer is unchanged),
 *     else moved to exactly one new box;
 *   - a shared box is cloned (the clone hook once), this owner is given up, the other
 *     owners still see the old value;
 *   - a unique box with a borrow held is refused with the borrow's status, and nothing
 *     changes;
 *   - managed fields without an explicit policy are converted too (Item's Blob tag;
 *     Node's next: 1,000,000-node lists, unique and shared, and a 100,000-node mixed
 *     one, each converted on a thread with a 256 KiB stack), a field with an explicit
 *     policy is left alone (Pinned's origin);
 *   - Blob's clone and drop hooks are counted: no leak, no double drop;
 *   - under an atomic counter, a shared list converts while another thread reads it,
 *     dups and drops its head, and drops its own owner (run under ThreadSanitizer too).
 * PM_TEST_QUICK (set for valgrind) shortens the long lists to 2,000 nodes, a
 * ThreadSanitizer build to 100,000. Failed allocations are swept in
 * tests/c/test_faults.c. A failed CHECK prints "FAIL file:line: expr (in function)";
 * main returns 1 if any failed.
 */
#ifndef FROM /* ---- part 1: harness, the pairs, main ---- */

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "all_policies.h"

#include "check.h"
#include "counting_alloc.h"

static bool quick(void) { return getenv("PM_TEST_QUICK") != NULL; }

/* ThreadSanitizer makes each node ~15x slower: a shorter list there (still far past
 * what a recursive walk survives on a 256 KiB stack). */
#if defined(__SANITIZE_THREAD__)
#define UNDER_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define UNDER_TSAN 1
#endif
#endif

/* The long lists. */
static size_t long_list(void) {
#ifdef UNDER_TSAN
    return quick() ? 2000u : 100000u;
#else
    return quick() ? 2000u : 1000000u;
#endif
}

/* Whether a unique box converts in place between these two descriptors. */
static bool same_box_size(const pm_box_type *a, const pm_box_type *b) {
    return a->box_size == b->box_size;
}

/* Runs job(arg) on a thread with a small stack: a conversion that recursed per node
 * would overflow it. */
static void on_small_stack(void *(*job)(void *), void *arg) {
    pthread_attr_t attr;
    pthread_t thread;
    CHECK(pthread_attr_init(&attr) == 0);
    CHECK(pthread_attr_setstacksize(&attr, 256u * 1024u) == 0);
    if (CHECK(pthread_create(&thread, &attr, job, arg) == 0)) {
        CHECK(pthread_join(thread, NULL) == 0);
    }
    pthread_attr_destroy(&attr);
}

/* ---- names of the per-pair part ---- */

#define CAT_(a, b) a##_##b
#define CAT(a, b) CAT_(a, b)
#define M_(N, P) Managed_##N##_##P
#define MX(N, P) M_(N, P)
#define MF(N) MX(N, FROM)                 /* handle types: MF(Node) = Managed_Node_<FROM> */
#define MT(N) MX(N, TO)
#define BOXF(N) CAT(MF(N), box)           /* box type: BOXF(Node) = Managed_Node_<FROM>_box */
#define VF(N) CAT(N, FROM)                /* value structs: VF(Node) = Node_<FROM> */
#define VT(N) CAT(N, TO)
#define DF(N) CAT(MF(N), _type)           /* descriptors: DF(Node) = Managed_Node_<FROM>__type */
#define DT(N) CAT(MT(N), _type)
#define CONV_(N, P, Q) Managed_##N##_##P##_to_##Q
#define CONVX(N, P, Q) CONV_(N, P, Q)
#define CONV(N) CONVX(N, FROM, TO)        /* CONV(Node) = Managed_Node_<FROM>_to_<TO> */
#define F(name) CAT(CAT(name, FROM), TO)  /* test function names */
#define STR_(x) #x
#define STR(x) STR_(x)

#define CELL_NONE 0
#define CELL_BORROW 1
#define CELL_RWLOCK 2

#include "policy_pairs.h"
#define PAIR_FILE "test_convert.c"
#include "policy_pairs.h"

/* The layouts the design promises: {plain, none} <-> {atomic, none} in place for every
 * type, and (outside PM_DEBUG, whose cells are wider) every `fields` type in place
 * between any two policies (its header is the destroy list's link, 16 bytes). */
static void test_layouts(void) {
    CHECK(same_box_size(&Managed_Point_Local__type, &Managed_Point_Frozen__type));
    CHECK(same_box_size(&Managed_Blob_Local__type, &Managed_Blob_Frozen__type));
    CHECK(same_box_size(&Managed_Item_Local__type, &Managed_Item_Frozen__type));
    CHECK(same_box_size(&Managed_Node_Local__type, &Managed_Node_Frozen__type));
#ifndef PM_DEBUG
    CHECK(same_box_size(&Managed_Node_SingleThreaded__type, &Managed_Node_ThreadSafe__type));
    CHECK(same_box_size(&Managed_Item_SingleThreaded__type, &Managed_Item_Local__type));
#endif
    /* A snapshot makes ThreadSafe's Point box larger: moved, not in place. */
    CHECK(!same_box_size(&Managed_Point_SingleThreaded__type, &Managed_Point_ThreadSafe__type));
}

/* Tally's two policies come from its contexts (sync, parallel). */
static void test_tally(void) {
    Managed_Tally_SingleThreaded h = {0};
    Managed_Tally_ThreadSafe out = {0};
    Managed_Tally_SingleThreaded back = {0};
    if (!CHECK(all_policies_new(&h, 41) == PM_OK)) {
        return;
    }
    CHECK(Managed_Tally_SingleThreaded_to_ThreadSafe(&h, &out) == PM_OK && h.box == NULL);
    int64_t v = 0;
    CHECK(all_policies_load(out, &v) == PM_OK && v == 41);
    CHECK(Managed_Tally_ThreadSafe_to_SingleThreaded(&out, &back) == PM_OK && out.box == NULL);
    CHECK(all_policies_load(back, &v) == PM_OK && v == 41);
    all_policies_drop(&back);
}

#define RUN_PAIR(P, Q) run_##P##_##Q();

int main(void) {
    pm_set_allocator(counting_alloc, counting_free, NULL);
    test_layouts();
    test_tally();
    FOR_EACH_POLICY_PAIR(RUN_PAIR)
    CHECK(boxes_live == 0); /* every box freed exactly once */
    CHECK(blob_live == 0);  /* every blob dropped exactly once */
    pm_set_allocator(NULL, NULL, NULL);
    return check_summary("test_convert");
}

#else /* ---- part 2: the behaviours, compiled once per (FROM, TO) ---- */

/* The status a held borrow of a FROM box gets. */
#if FROM_CELL == CELL_BORROW
#define F_BORROWED PM_EBORROWED
#elif FROM_CELL == CELL_RWLOCK
#define F_BORROWED PM_EBUSY
#endif

/* ---- refusals ---- */

static void F(test_einval)(void) {
    MF(Point) empty = {0};
    MT(Point) out = {0};
    CHECK(CONV(Point)(NULL, &out) == PM_EINVAL);
    CHECK(CONV(Point)(&empty, &out) == PM_EINVAL && out.box == NULL);
    MF(Point) h = {0};
    if (CHECK(all_policies_new(&h, ((struct point){1, 2})) == PM_OK)) {
        void *box = h.box;
        CHECK(CONV(Point)(&h, NULL) == PM_EINVAL && h.box == box);
        all_policies_drop(&h);
    }
}

/* ---- a bitwise-copyable value ---- */

static void F(test_point_unique)(void) {
    MF(Point) h = {0};
    if (!CHECK(all_policies_new(&h, ((struct point){3, 4})) == PM_OK)) {
        return;
    }
    void *old = h.box;
    long allocs = allocations, live = boxes_live;
    MT(Point) out = {0};
    CHECK(CONV(Point)(&h, &out) == PM_OK);
    CHECK(h.box == NULL && out.box != NULL);
    if (same_box_size(&DF(Point), &DT(Point))) {
        CHECK((void *)out.box == old && allocations == allocs); /* in place */
    } else {
        CHECK((void *)out.box != old && allocations == allocs + 1); /* moved */
    }
    CHECK(boxes_live == live);
    CHECK(all_policies_refcount(out) == 1 && all_policies_is_unique(out));
    struct point p = {0, 0};
    CHECK(all_policies_load(out, &p) == PM_OK && p.x == 3 && p.y == 4);
    /* The new box works under its policy: a write in place, seen by _load. */
    struct point *w = NULL;
    if (CHECK(all_policies_write(&out, &w) == PM_OK)) {
        w->x = 30;
        all_policies_release_write(out);
    }
    CHECK(all_policies_load(out, &p) == PM_OK && p.x == 30 && p.y == 4);
    all_policies_drop(&out);
    CHECK(boxes_live == live - 1);
}

static void F(test_point_shared)(void) {
    MF(Point) h = {0};
    if (!CHECK(all_policies_new(&h, ((struct point){5, 6})) == PM_OK)) {
        return;
    }
    MF(Point) other = all_policies_dup(h);
    void *old = h.box;
    long allocs = allocations;
    MT(Point) out = {0};
    CHECK(CONV(Point)(&h, &out) == PM_OK);
    CHECK(h.box == NULL && out.box != NULL && (void *)out.box != old);
    CHECK(allocations == allocs + 1);
    CHECK(all_policies_refcount(other) == 1 && all_policies_refcount(out) == 1);
    struct point p = {0, 0};
    struct point *w = NULL;
    if (CHECK(all_policies_write(&other, &w) == PM_OK)) { /* the other owner, unique now */
        CHECK((void *)other.box == old);
        w->x = 50;
        all_policies_release_write(other);
    }
    CHECK(all_policies_load(out, &p) == PM_OK && p.x == 5 && p.y == 6); /* a copy */
    CHECK(all_policies_load(other, &p) == PM_OK && p.x == 50);
    all_policies_drop(&other);
    all_policies_drop(&out);
}

#ifdef F_BORROWED
static void F(test_point_borrowed)(void) {
    MF(Point) h = {0};
    if (!CHECK(all_policies_new(&h, ((struct point){7, 8})) == PM_OK)) {
        return;
    }
    void *old = h.box;
    long allocs = allocations;
    MT(Point) out = {0};
    const struct point *r = NULL;
    if (CHECK(all_policies_read(h, &r) == PM_OK)) {
        CHECK(CONV(Point)(&h, &out) == F_BORROWED);
        CHECK(h.box == old && out.box == NULL && allocations == allocs);
        CHECK(r->x == 7 && all_policies_refcount(h) == 1);
        all_policies_release_read(h);
    }
    struct point *w = NULL;
    if (CHECK(all_policies_write(&h, &w) == PM_OK)) {
        CHECK(CONV(Point)(&h, &out) == F_BORROWED && h.box == old && out.box == NULL);
        all_policies_release_write(h);
    }
    CHECK(CONV(Point)(&h, &out) == PM_OK && h.box == NULL); /* the borrows ended: it converts */
    all_policies_drop(&out);
}
#endif

/* ---- a value with clone and drop hooks ---- */

static void F(test_blob)(void) {
    long clones = blob_clone_calls, blobs = blob_live;
    MF(Blob) h = {0};
    struct blob b = blob_make("blob");
    if (!CHECK(all_policies_new(&h, b) == PM_OK)) {
        blob_drop(&b);
        return;
    }
    /* Unique: moved or in place, never cloned. */
    void *old = h.box;
    MT(Blob) out = {0};
    CHECK(CONV(Blob)(&h, &out) == PM_OK && h.box == NULL);
    CHECK(same_box_size(&DF(Blob), &DT(Blob)) == ((void *)out.box == old));
    const struct blob *r = NULL;
    if (CHECK(all_policies_read(out, &r) == PM_OK)) {
        CHECK(r->data == b.data && strcmp(r->data, "blob") == 0); /* the same buffer */
        all_policies_release_read(out);
    }
    CHECK(blob_clone_calls == clones && blob_live == blobs + 1);

    /* Shared: cloned once; the other owner keeps the old buffer. */
    MT(Blob) other = all_policies_dup(out);
    MF(Blob) back = {0};
    CHECK(CONVX(Blob, TO, FROM)(&out, &back) == PM_OK && out.box == NULL);
    CHECK(blob_clone_calls == clones + 1 && blob_live == blobs + 2);
    CHECK(all_policies_refcount(other) == 1 && all_policies_refcount(back) == 1);
    if (CHECK(all_policies_read(back, &r) == PM_OK)) {
        CHECK(r->data != b.data && strcmp(r->data, "blob") == 0);
        all_policies_release_read(back);
    }

    /* The clone hook fails: PM_ECLONE, nothing changes, nothing leaks. */
    MF(Blob) again = all_policies_dup(back);
    void *box = back.box;
    long live = boxes_live;
    blob_clone_fail = PM_EINVAL;
    CHECK(CONV(Blob)(&back, &out) == PM_ECLONE);
    blob_clone_fail = PM_OK;
    CHECK(back.box == box && out.box == NULL && all_policies_refcount(back) == 2);
    CHECK(boxes_live == live && blob_live == blobs + 2);
    all_policies_drop(&again);
    all_policies_drop(&back);
    all_policies_drop(&other);
    CHECK(blob_live == blobs);
}

/* ---- a `fields` value with a managed field of the enclosing policy ---- */

static MF(Item) F(item)(int64_t id, MF(Blob) *tag_out) {
    MF(Item) item = {0};
    VF(Item) v = {id, id * 10, {0}};
    struct blob b = blob_make("tag");
    if (CHECK(all_policies_new(&v.tag, b) == PM_OK)) {
        if (tag_out != NULL) {
            *tag_out = all_policies_dup(v.tag);
        }
        if (!CHECK(all_policies_new(&item, v) == PM_OK)) {
            all_policies_drop(&v.tag);
        }
    } else {
        blob_drop(&b);
    }
    return item;
}

/* out's Item has id and a tag reading "tag"; returns the tag's box. */
static void *F(item_check)(MT(Item) out, int64_t id) {
    const VT(Item) *v = NULL;
    const struct blob *t = NULL;
    void *tag = NULL;
    if (CHECK(all_policies_read(out, &v) == PM_OK)) {
        CHECK(v->id == id && v->value == id * 10);
        tag = v->tag.box;
        if (CHECK(all_policies_read(v->tag, &t) == PM_OK)) {
            CHECK(strcmp(t->data, "tag") == 0);
            all_policies_release_read(v->tag);
        }
        CHECK(all_policies_refcount(v->tag) == 1);
        all_policies_release_read(out);
    }
    return tag;
}

static void F(test_item)(void) {
    long clones = blob_clone_calls, blobs = blob_live;
    /* Unique Item, unique tag: both keep their values. */
    MF(Item) h = F(item)(1, NULL);
    void *old = h.box, *old_tag = h.box->value.tag.box;
    long allocs = allocations;
    MT(Item) out = {0};
    CHECK(CONV(Item)(&h, &out) == PM_OK && h.box == NULL);
    bool item_in_place = same_box_size(&DF(Item), &DT(Item));
    bool tag_in_place = same_box_size(&DF(Blob), &DT(Blob));
    CHECK(((void *)out.box == old) == item_in_place);
    CHECK((F(item_check)(out, 1) == old_tag) == tag_in_place);
    CHECK(allocations == allocs + !item_in_place + !tag_in_place);
    CHECK(blob_clone_calls == clones);
    all_policies_drop(&out);

    /* Unique Item, shared tag: the tag is cloned, this Item's owner of it given up. */
    MF(Blob) tag = {0};
    h = F(item)(2, &tag);
    old = h.box;
    CHECK(CONV(Item)(&h, &out) == PM_OK);
    CHECK(((void *)out.box == old) == item_in_place);
    CHECK(F(item_check)(out, 2) != tag.box && all_policies_refcount(tag) == 1);
    CHECK(blob_clone_calls == clones + 1);
    all_policies_drop(&out);
    all_policies_drop(&tag);

    /* Shared Item: cloned, and its tag with it; the other owner keeps both. */
    h = F(item)(3, NULL);
    MF(Item) other = all_policies_dup(h);
    old_tag = h.box->value.tag.box;
    CHECK(CONV(Item)(&h, &out) == PM_OK && h.box == NULL);
    CHECK((void *)out.box != (void *)other.box && all_policies_refcount(other) == 1);
    CHECK(F(item_check)(out, 3) != old_tag);
    CHECK(other.box->value.tag.box == old_tag && all_policies_refcount(other.box->value.tag) == 1);
    CHECK(blob_clone_calls == clones + 2);
    all_policies_drop(&out);

    /* ... and when the tag's clone hook fails, nothing changes. */
    h = all_policies_dup(other);
    long live = boxes_live;
    blob_clone_fail = PM_ENOMEM;
    CHECK(CONV(Item)(&h, &out) == PM_ENOMEM);
    blob_clone_fail = PM_OK;
    CHECK(h.box == other.box && out.box == NULL && all_policies_refcount(other) == 2);
    CHECK(all_policies_refcount(other.box->value.tag) == 1 && boxes_live == live);
    all_policies_drop(&h);
    all_policies_drop(&other);
    CHECK(blob_live == blobs);
}

#ifdef F_BORROWED
/* A unique Item whose unique tag is borrowed: refused, the Item untouched. */
static void F(test_item_tag_borrowed)(void) {
    MF(Item) h = F(item)(4, NULL);
    void *old = h.box;
    MF(Blob) tag = h.box->value.tag; /* not an owner: the Item's */
    MT(Item) out = {0};
    const struct blob *t = NULL;
    long live = boxes_live;
    if (CHECK(all_policies_read(tag, &t) == PM_OK)) {
        CHECK(CONV(Item)(&h, &out) == F_BORROWED);
        CHECK(h.box == old && out.box == NULL && boxes_live == live);
        CHECK(h.box->value.tag.box == tag.box && all_policies_refcount(h) == 1);
        all_policies_release_read(tag);
    }
    /* The Item's own cell is free again: a write borrow is granted. */
    VF(Item) *w = NULL;
    if (CHECK(all_policies_write(&h, &w) == PM_OK)) {
        CHECK((void *)h.box == old && w->id == 4);
        all_policies_release_write(h);
    }
    all_policies_drop(&h);
}
#endif

/* ---- a field with an explicit policy stays as it is ---- */

static void F(test_pinned)(void) {
    Managed_Point_Frozen origin = {0};
    if (!CHECK(all_policies_new(&origin, ((struct point){9, 9})) == PM_OK)) {
        return;
    }
    MF(Pinned) h = {0};
    VF(Pinned) v = {1, all_policies_dup(origin), {0}};
    struct blob b = blob_make("pin");
    CHECK(all_policies_new(&v.tag, b) == PM_OK);
    CHECK(all_policies_new(&h, v) == PM_OK);
    MT(Pinned) out = {0};
    CHECK(CONV(Pinned)(&h, &out) == PM_OK);
    CHECK(out.box->value.origin.box == origin.box && all_policies_refcount(origin) == 2);
    /* Shared: the copy holds the same origin, one more owner of it. */
    MT(Pinned) other = all_policies_dup(out);
    CHECK(CONVX(Pinned, TO, FROM)(&out, &h) == PM_OK);
    CHECK(h.box->value.origin.box == origin.box && all_policies_refcount(origin) == 3);
    CHECK(h.box->value.tag.box != NULL && all_policies_refcount(h.box->value.tag) == 1);
    all_policies_drop(&other);
    CHECK(all_policies_refcount(origin) == 2);
    all_policies_drop(&h);
    CHECK(all_policies_refcount(origin) == 1);
    all_policies_drop(&origin);
}

/* ---- lists: iterative in both directions, unique, shared, mixed ---- */

/* A list of n nodes valued 0..n-1; boxes[k] gets node k's box when not NULL. */
static MF(Node) F(list)(size_t n, void **boxes) {
    MF(Node) head = {0};
    for (size_t k = n; k-- > 0;) {
        MF(Node) node = {0};
        VF(Node) v = {(int64_t)k, head};
        if (!CHECK(all_policies_new(&node, v) == PM_OK)) {
            all_policies_drop(&head);
            return node;
        }
        head = node;
        if (boxes != NULL) {
            boxes[k] = node.box;
        }
    }
    return head;
}

/* Whether h is a list of n nodes valued 0..n-1, each owned once (node k's box at
 * boxes[k] when `boxes` is given). Borrows each node in turn, never two at once. */
static bool F(list_ok)(MT(Node) h, size_t n, void *const *boxes) {
    size_t k = 0;
    bool ok = true;
    while (h.box != NULL && ok) {
        const VT(Node) *v = NULL;
        if (all_policies_read(h, &v) != PM_OK) {
            return false;
        }
        ok = v->value == (int64_t)k && all_policies_refcount(h) == 1 &&
             (boxes == NULL || (void *)h.box == boxes[k]);
        MT(Node) next = v->next;
        all_policies_release_read(h);
        h = next;
        k++;
    }
    return ok && k == n;
}

/* Whether h, a list still under FROM (what the other owners keep), has n nodes valued
 * first, first + 1, ... */
static bool F(old_list_ok)(MF(Node) h, size_t n, size_t first) {
    size_t k = 0;
    for (; h.box != NULL; h = h.box->value.next, k++) {
        if (h.box->value.value != (int64_t)(first + k)) {
            return false;
        }
    }
    return k == n;
}

typedef struct F(list_job) {
    MF(Node) *h;
    MT(Node) *out;
    pm_status status;
} F(list_job);

static void *F(convert_job)(void *arg) {
    F(list_job) *job = arg;
    job->status = CONV(Node)(job->h, job->out);
    return NULL;
}

/* Converts on a 256 KiB stack. */
static pm_status F(convert_list)(MF(Node) *h, MT(Node) *out) {
    F(list_job) job = {h, out, PM_EINVAL};
    on_small_stack(F(convert_job), &job);
    return job.status;
}

static void F(test_list_unique)(void) {
    size_t n = long_list();
    void **boxes = malloc(n * sizeof *boxes);
    if (!CHECK(boxes != NULL)) {
        return;
    }
    MF(Node) h = F(list)(n, boxes);
    long allocs = allocations, live = boxes_live;
    MT(Node) out = {0};
    CHECK(F(convert_list)(&h, &out) == PM_OK && h.box == NULL);
    if (same_box_size(&DF(Node), &DT(Node))) {
        CHECK(allocations == allocs);            /* every node in place */
        CHECK(F(list_ok)(out, n, boxes));
    } else {
        CHECK(allocations == allocs + (long)n); /* every node moved */
        CHECK(F(list_ok)(out, n, NULL));
    }
    CHECK(boxes_live == live);
    all_policies_drop(&out); /* iterative too */
    CHECK(boxes_live == live - (long)n);
    free(boxes);
}

static void F(test_list_shared)(void) {
    size_t n = long_list();
    MF(Node) h = F(list)(n, NULL);
    MF(Node) other = all_policies_dup(h);
    long allocs = allocations;
    MT(Node) out = {0};
    CHECK(F(convert_list)(&h, &out) == PM_OK && h.box == NULL);
    CHECK(allocations == allocs + (long)n); /* every node copied */
    CHECK(F(list_ok)(out, n, NULL));
    CHECK(all_policies_refcount(other) == 1);
    CHECK(F(old_list_ok)(other, n, 0)); /* the other owner's list is untouched */
    all_policies_drop(&out);
    all_policies_drop(&other);
}

/* Unique nodes down to node m, which has another owner: the prefix keeps its boxes,
 * node m and everything after it is copied. */
static void F(test_list_mixed)(void) {
    size_t n = long_list() / 10, m = n / 3; /* the tenth of a long list is long enough */
    void **boxes = malloc(n * sizeof *boxes);
    if (!CHECK(boxes != NULL)) {
        return;
    }
    MF(Node) h = F(list)(n, boxes);
    MF(Node) tail = {(BOXF(Node) *)boxes[m]};
    tail = all_policies_dup(tail);
    long allocs = allocations;
    bool in_place = same_box_size(&DF(Node), &DT(Node));
    MT(Node) out = {0};
    CHECK(F(convert_list)(&h, &out) == PM_OK && h.box == NULL);
    CHECK(allocations == allocs + (long)(in_place ? n - m : n));
    CHECK(F(list_ok)(out, n, NULL));
    if (in_place) {
        MT(Node) at = out;
        bool kept = true;
        for (size_t k = 0; k < n; k++) { /* the prefix in place, the rest copies */
            kept = kept && ((void *)at.box == boxes[k]) == (k < m);
            at = at.box->value.next;
        }
        CHECK(kept);
    }
    CHECK(all_policies_refcount(tail) == 1 && F(old_list_ok)(tail, n - m, m));
    all_policies_drop(&out);
    all_policies_drop(&tail);
    free(boxes);
}

#ifdef F_BORROWED
/* A borrow of one node deep in a unique list: refused, every node as it was. */
static void F(test_list_borrowed)(void) {
    size_t n = 1000, m = 700;
    void *boxes[1000];
    MF(Node) h = F(list)(n, boxes);
    MF(Node) node = {(BOXF(Node) *)boxes[m]}; /* not an owner: node m-1's */
    const VF(Node) *v = NULL;
    MT(Node) out = {0};
    long live = boxes_live;
    if (CHECK(all_policies_read(node, &v) == PM_OK)) {
        CHECK(CONV(Node)(&h, &out) == F_BORROWED);
        CHECK(h.box == boxes[0] && out.box == NULL && boxes_live == live);
        all_policies_release_read(node);
    }
    /* Every node: its box, value, count and free cell (a write borrow is granted). */
    MF(Node) at = h;
    for (size_t k = 0; k < n && at.box != NULL; k++) {
        VF(Node) *w = NULL;
        CHECK((void *)at.box == boxes[k] && all_policies_refcount(at) == 1);
        if (CHECK(all_policies_write(&at, &w) == PM_OK)) {
            CHECK(w->value == (int64_t)k && (void *)at.box == boxes[k]);
            all_policies_release_write(at);
        }
        at = at.box->value.next;
    }
    CHECK(CONV(Node)(&h, &out) == PM_OK && F(list_ok)(out, n, NULL));
    all_policies_drop(&out);
}
#endif

/* ---- a shared list converted while another thread uses and drops its own owner ---- */

typedef struct F(user) {
    MF(Node) other; /* the thread's owner of the list */
    bool drop;      /* drop it once the conversion has started */
    PM_ATOMIC(bool) started, stop;
    bool ok;
} F(user);

/* Reads the head, and dups and drops it, until told to stop; with `drop`, drops its own
 * owner as soon as the conversion has started (racing its end), or at the latest when
 * told to stop. */
static void *F(user_job)(void *arg) {
    F(user) *u = arg;
    for (long rounds = 0; !atomic_load(&u->stop) || rounds < 100; rounds++) {
        MF(Node) mine = all_policies_dup(u->other);
        const VF(Node) *v = NULL;
        if (all_policies_read(mine, &v) == PM_OK) {
            u->ok = u->ok && v->value == 0;
            all_policies_release_read(mine);
        }
        all_policies_drop(&mine);
        if (u->drop && atomic_load(&u->started)) {
            break;
        }
    }
    if (u->drop) {
        all_policies_drop(&u->other);
    }
    return NULL;
}

static void F(test_list_shared_racing)(bool drop) {
    if (DF(Node).counter != PM_COUNTER_ATOMIC) {
        return; /* a plain counter is one thread's */
    }
    size_t n = long_list() / 50;
    MF(Node) h = F(list)(n, NULL);
    F(user) u = {.other = all_policies_dup(h), .drop = drop, .ok = true};
    atomic_init(&u.started, false);
    atomic_init(&u.stop, false);
    pthread_t thread;
    if (!CHECK(pthread_create(&thread, NULL, F(user_job), &u) == 0)) {
        all_policies_drop(&u.other);
        all_policies_drop(&h);
        return;
    }
    MT(Node) out = {0};
    atomic_store(&u.started, true);
    CHECK(CONV(Node)(&h, &out) == PM_OK && h.box == NULL);
    atomic_store(&u.stop, true);
    CHECK(pthread_join(thread, NULL) == 0);
    CHECK(u.ok && F(list_ok)(out, n, NULL));
    if (!drop) {
        CHECK(all_policies_refcount(u.other) == 1 && F(old_list_ok)(u.other, n, 0));
        all_policies_drop(&u.other);
    }
    all_policies_drop(&out);
}

static void F(run)(void) {
    F(test_einval)();
    F(test_point_unique)();
    F(test_point_shared)();
    F(test_blob)();
    F(test_item)();
    F(test_pinned)();
    F(test_list_unique)();
    F(test_list_shared)();
    F(test_list_mixed)();
    F(test_list_shared_racing)(false);
    F(test_list_shared_racing)(true);
#ifdef F_BORROWED
    F(test_point_borrowed)();
    F(test_item_tag_borrowed)();
    F(test_list_borrowed)();
#endif
    printf("test_convert: %s -> %s done\n", STR(FROM), STR(TO));
}

#undef F_BORROWED

#endif
