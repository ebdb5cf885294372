// test_cplusplus_all_policies.cpp — the generated header of
// tests/specs/all_policies.yaml and the runtime's pm.h, used from C++17
// (tests/test_cplusplus.py builds it with g++ and clang++, links it with the
// C-compiled generated source and runtime, and runs it).
#include <cstddef>
#include <cstdio>
#include <cstring>

#include "pm.h" // first: the runtime includes <atomic>, which must not get C linkage
// The spec's support header is a plain C header without extern "C" guards:
// wrap it (and the generated header, which has its own) for C linkage.
extern "C" {
#include "all_policies.h"
}

#include "check_cxx.hpp"

// The same steps for each Point handle type: new, dup, read, write (a copy
// on write, then in place), load, drop.
template <typename H, pm_status (*New)(H *, struct point), H (*Dup)(H),
          pm_status (*Read)(H, const struct point **), void (*ReleaseRead)(H),
          pm_status (*Write)(H *, struct point **), void (*ReleaseWrite)(H),
          pm_status (*Load)(H, struct point *), uint32_t (*Refcount)(H), void (*Drop)(H *)>
static void points() {
    H h{};
    EXPECT(New(&h, point{1, 2}) == PM_OK);
    H other = Dup(h);
    EXPECT(Refcount(h) == 2);
    const point *r = nullptr;
    if (Read(h, &r) == PM_OK) {
        EXPECT(r->x == 1 && r->y == 2);
        ReleaseRead(h);
    } else {
        EXPECT(!"read");
    }
    point *w = nullptr;
    if (Write(&h, &w) == PM_OK) { // shared: a copy that h alone owns
        EXPECT(h.box != other.box);
        w->x = 10;
        ReleaseWrite(h);
    } else {
        EXPECT(!"write");
    }
    if (Write(&h, &w) == PM_OK) { // unique: in place
        w->y = 20;
        ReleaseWrite(h);
    }
    point out{0, 0};
    EXPECT(Load(h, &out) == PM_OK && out.x == 10 && out.y == 20);
    EXPECT(Load(other, &out) == PM_OK && out.x == 1 && out.y == 2);
    Drop(&other);
    Drop(&h);
    EXPECT(h.box == nullptr);
}

#define POINTS(P)                                                                          \
    points<Managed_Point_##P, Managed_Point_##P##_new, Managed_Point_##P##_dup,             \
           Managed_Point_##P##_read, Managed_Point_##P##_release_read,                     \
           Managed_Point_##P##_write, Managed_Point_##P##_release_write,                   \
           Managed_Point_##P##_load, Managed_Point_##P##_refcount, Managed_Point_##P##_drop>()

// The C++ view of a box has the layout the C-compiled descriptor describes.
#define SAME_LAYOUT(H)                                                              \
    EXPECT(offsetof(H##_box, value) == H##__type.value_offset &&                  \
           sizeof(((H##_box *)nullptr)->value) == H##__type.value_size)
#define SAME_CELL(H) EXPECT(offsetof(H##_box, cell) == H##__type.cell_offset)

static void layouts() {
    SAME_LAYOUT(Managed_Point_SingleThreaded);
    SAME_CELL(Managed_Point_SingleThreaded);
    SAME_LAYOUT(Managed_Point_ThreadSafe);
    SAME_CELL(Managed_Point_ThreadSafe);
    EXPECT(PM_SNAP_OFFSET(Managed_Point_ThreadSafe_box, sizeof(point)) ==
           Managed_Point_ThreadSafe__type.snap_offset);
    EXPECT(PM_SNAP_BOX_SIZE(Managed_Point_ThreadSafe_box, sizeof(point)) ==
           Managed_Point_ThreadSafe__type.box_size);
    SAME_LAYOUT(Managed_Point_Frozen);
    SAME_LAYOUT(Managed_Node_SingleThreaded); // the header in a union with the destroy link
    SAME_CELL(Managed_Node_SingleThreaded);
    SAME_LAYOUT(Managed_Node_ThreadSafe);
    SAME_CELL(Managed_Node_ThreadSafe);
    EXPECT(sizeof(Managed_Node_ThreadSafe_box) == Managed_Node_ThreadSafe__type.box_size);
    SAME_LAYOUT(Managed_Mixed_ThreadSafe);
    SAME_LAYOUT(Managed_Wide_ThreadSafe);
    EXPECT(Managed_Wide_ThreadSafe__type.snap_offset == 0);
}

static int32_t read_in_scope(Managed_Point_ThreadSafe h) {
    PM_READ_SCOPE(Managed_Point_ThreadSafe, g, h);
    return g.status == PM_OK ? g.value->x : -1;
}

int main() {
    layouts();
    POINTS(SingleThreaded);
    POINTS(ThreadSafe);
    POINTS(Local);
    POINTS(Frozen);

    // A fields type holding a handle with clone/drop hooks, under a lock.
    Managed_Blob_ThreadSafe tag{};
    EXPECT(Managed_Blob_ThreadSafe_new(&tag, blob_make("tag")) == PM_OK);
    Managed_Item_ThreadSafe item{};
    Item_ThreadSafe value{7, 8, tag};
    EXPECT(Managed_Item_ThreadSafe_new(&item, value) == PM_OK);
    Managed_Item_ThreadSafe item2 = Managed_Item_ThreadSafe_dup(item);
    Item_ThreadSafe *iw = nullptr;
    if (Managed_Item_ThreadSafe_write_wait(&item2, &iw, PM_FOREVER) == PM_OK) {
        EXPECT(Managed_Blob_ThreadSafe_refcount(iw->tag) == 2); // the copy dups its field
        iw->value = 9;
        Managed_Item_ThreadSafe_release_write(item2);
    }
    const Item_ThreadSafe *ir = nullptr;
    if (Managed_Item_ThreadSafe_read_wait(item, &ir, PM_FOREVER) == PM_OK) {
        EXPECT(ir->value == 8 && std::strcmp(ir->tag.box->value.data, "tag") == 0);
        Managed_Item_ThreadSafe_release_read(item);
    }
    Managed_Item_ThreadSafe_drop(&item2);
    Managed_Item_ThreadSafe_drop(&item);

    // A wide copy: trivial value (no snapshot) and a scoped borrow.
    Managed_Wide_ThreadSafe wide{};
    struct wide wv{};
    wv.v[3] = 3;
    EXPECT(Managed_Wide_ThreadSafe_new(&wide, wv) == PM_OK);
    struct wide wout{};
    EXPECT(Managed_Wide_ThreadSafe_load(wide, &wout) == PM_OK && wout.v[3] == 3);
    Managed_Wide_ThreadSafe_drop(&wide);
    Managed_Point_ThreadSafe p{};
    EXPECT(Managed_Point_ThreadSafe_new(&p, point{5, 6}) == PM_OK);
    EXPECT(read_in_scope(p) == 5);
    // A write borrow downgraded to a read borrow: shared, and _load sees the write.
    point *pw = nullptr;
    if (Managed_Point_ThreadSafe_write_shared(p, &pw) == PM_OK) {
        pw->x = 7;
        EXPECT(Managed_Point_ThreadSafe_downgrade_write(p) == PM_OK);
        point pout{0, 0};
        EXPECT(Managed_Point_ThreadSafe_load(p, &pout) == PM_OK && pout.x == 7);
        EXPECT(read_in_scope(p) == 7);
        Managed_Point_ThreadSafe_release_read(p);
    } else {
        EXPECT(!"write_shared");
    }
    EXPECT(Managed_Point_ThreadSafe_downgrade_write(p) == PM_EINVAL); // not write-borrowed
    Managed_Point_ThreadSafe_drop(&p);

    EXPECT(atomic_load_explicit(&blob_live, memory_order_relaxed) == 0);
    EXPECT(std::strcmp(pm_status_str(PM_EBUSY), "PM_EBUSY") == 0);
    return expect_summary("test_cplusplus_all_policies");
}
