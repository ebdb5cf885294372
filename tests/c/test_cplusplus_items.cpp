// test_cplusplus_items.cpp — the generated header of examples/items.yaml used
// from C++17 (tests/test_cplusplus.py): the spec's hooks are defined here,
// with C linkage, and the handles used through new/dup/read/write/drop.
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "pm.h" // first: the runtime includes <atomic>, which must not get C linkage
// The spec's support header is a plain C header without extern "C" guards:
// wrap it (and the generated header, which has its own) for C linkage.
extern "C" {
#include "items.h"
}

extern "C" pm_status item_vec_clone(struct item_vec *dst, const struct item_vec *src) {
    dst->len = src->len;
    dst->data = static_cast<struct item *>(std::malloc(src->len * sizeof *src->data + 1));
    if (dst->data == nullptr) {
        return PM_ENOMEM;
    }
    std::memcpy(dst->data, src->data, src->len * sizeof *src->data);
    return PM_OK;
}

extern "C" void item_vec_free(struct item_vec *v) { std::free(v->data); }

#include "check_cxx.hpp"

static item_vec make(size_t n) {
    item_vec v{n, static_cast<item *>(std::malloc(n * sizeof(item)))};
    for (size_t i = 0; i < n && v.data != nullptr; i++) {
        v.data[i] = item{static_cast<int64_t>(i), static_cast<int64_t>(10 * i)};
    }
    return v;
}

int main() {
    Managed_Items_SingleThreaded s{};
    EXPECT(Managed_Items_SingleThreaded_new(&s, make(3)) == PM_OK);
    Managed_Items_SingleThreaded s2 = Managed_Items_SingleThreaded_dup(s);
    item_vec *w = nullptr;
    if (Managed_Items_SingleThreaded_write(&s2, &w) == PM_OK) { // copy on write via the hook
        w->data[0].value = -1;
        Managed_Items_SingleThreaded_release_write(s2);
    }
    const item_vec *r = nullptr;
    if (Managed_Items_SingleThreaded_read(s, &r) == PM_OK) {
        EXPECT(r->len == 3 && r->data[0].value == 0);
        Managed_Items_SingleThreaded_release_read(s);
    }
    Managed_Items_SingleThreaded_drop(&s2);
    Managed_Items_SingleThreaded_drop(&s);

    Managed_Items_ThreadSafe t{};
    EXPECT(Managed_Items_ThreadSafe_new(&t, make(2)) == PM_OK);
    Managed_Items_ThreadSafe t2 = Managed_Items_ThreadSafe_dup(t);
    if (Managed_Items_ThreadSafe_write_wait(&t2, &w, PM_FOREVER) == PM_OK) {
        EXPECT(t2.box != t.box);
        w->data[1].value = 99;
        Managed_Items_ThreadSafe_release_write(t2);
    }
    if (Managed_Items_ThreadSafe_read_wait(t2, &r, PM_FOREVER) == PM_OK) {
        EXPECT(r->data[1].value == 99);
        Managed_Items_ThreadSafe_release_read(t2);
    }
    EXPECT(Managed_Items_ThreadSafe_refcount(t) == 1);
    Managed_Items_ThreadSafe_drop(&t2);
    Managed_Items_ThreadSafe_drop(&t);
    return expect_summary("test_cplusplus_items");
}
