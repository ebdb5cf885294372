/* pm_box.c — the cold paths of a heap box, written once for every generated
 * type: creation, copy on write, destruction without recursion, the value's
 * clone and drop, and the contended _load. Each reads the type's const
 * pm_box_type (pm_box.h), so a generated instance carries data, not code. */
#include "pm.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------------ */
/* Allocation hooks                                                          */
/* ------------------------------------------------------------------------ */

static void *pm__default_alloc(size_t size, void *ctx) {
    (void)ctx;
    return malloc(size);
}

static void pm__default_free(void *ptr, size_t size, void *ctx) {
    (void)size;
    (void)ctx;
    free(ptr);
}

static pm_alloc_fn pm__alloc_hook = pm__default_alloc;
static pm_free_fn pm__free_hook = pm__default_free;
static void *pm__alloc_ctx;

void pm_set_allocator(pm_alloc_fn alloc, pm_free_fn free_fn, void *ctx) {
    if (alloc == NULL || free_fn == NULL) {
        pm__alloc_hook = pm__default_alloc;
        pm__free_hook = pm__default_free;
        pm__alloc_ctx = NULL;
        return;
    }
    pm__alloc_hook = alloc;
    pm__free_hook = free_fn;
    pm__alloc_ctx = ctx;
}

void *pm_alloc(size_t size) { return pm__alloc_hook(size, pm__alloc_ctx); }

void pm_free(void *ptr, size_t size) {
    if (ptr != NULL) {
        pm__free_hook(ptr, size, pm__alloc_ctx);
    }
}

/* ------------------------------------------------------------------------ */
/* The blocks of a box, by the kinds its descriptor names                    */
/*                                                                           */
/* Each cold path below is written once, as an always-inline function of the */
/* block kinds, and PM__BY_KINDS calls it with constant kinds for each        */
/* combination a policy can have: every kind switch folds away, so the       */
/* generic path costs what a per-type copy did.                              */
/* ------------------------------------------------------------------------ */

#define PM__KINDS(counter, cell) ((unsigned)(counter) * 4u + (unsigned)(cell))
#define PM__BY_KINDS(type, fn, ...)                                                            \
    (PM__KINDS((type)->counter, (type)->cell) == PM__KINDS(PM_COUNTER_PLAIN, PM_CELL_BORROW)   \
         ? fn(type, PM_COUNTER_PLAIN, PM_CELL_BORROW, __VA_ARGS__)                             \
     : PM__KINDS((type)->counter, (type)->cell) == PM__KINDS(PM_COUNTER_ATOMIC, PM_CELL_RWLOCK) \
         ? fn(type, PM_COUNTER_ATOMIC, PM_CELL_RWLOCK, __VA_ARGS__)                            \
     : PM__KINDS((type)->counter, (type)->cell) == PM__KINDS(PM_COUNTER_PLAIN, PM_CELL_NONE)   \
         ? fn(type, PM_COUNTER_PLAIN, PM_CELL_NONE, __VA_ARGS__)                               \
     : PM__KINDS((type)->counter, (type)->cell) == PM__KINDS(PM_COUNTER_ATOMIC, PM_CELL_NONE)  \
         ? fn(type, PM_COUNTER_ATOMIC, PM_CELL_NONE, __VA_ARGS__)                              \
         : fn(type, (type)->counter, (type)->cell, __VA_ARGS__))

static PM_ALWAYS_INLINE void *pm__value_of(const pm_box_type *type, void *box) {
    return (char *)box + type->value_offset;
}

static PM_ALWAYS_INLINE void *pm__cell_of(const pm_box_type *type, void *box) {
    return (char *)box + type->cell_offset;
}

/* The snapshot words of a box whose value fits one; NULL otherwise. */
static PM_ALWAYS_INLINE pm_snap_word *pm__snap_of(const pm_box_type *type, void *box) {
    return type->snap_offset == 0 ? NULL : (pm_snap_word *)(void *)((char *)box + type->snap_offset);
}

/* A bitwise copy of a value: whole words while they last (no call for small values). */
static PM_ALWAYS_INLINE void pm__copy_bytes(void *dst, const void *src, size_t size) {
    size_t at = 0;
    for (; size - at >= sizeof(uint64_t) && at < 8 * sizeof(uint64_t); at += sizeof(uint64_t)) {
        uint64_t w;
        memcpy(&w, (const char *)src + at, sizeof w);
        memcpy((char *)dst + at, &w, sizeof w);
    }
    if (at < size) {
        memcpy((char *)dst + at, (const char *)src + at, size - at);
    }
}

/* Every box starts with its counter. */
static PM_ALWAYS_INLINE void pm__count_init(pm_counter_kind counter, void *box) {
    if (counter == PM_COUNTER_ATOMIC) {
        pm_count_atomic_init(box);
    } else {
        pm_count_plain_init(box);
    }
}

static PM_ALWAYS_INLINE void pm__count_inc(pm_counter_kind counter, void *box) {
    if (counter == PM_COUNTER_ATOMIC) {
        pm_count_atomic_inc(box);
    } else {
        pm_count_plain_inc(box);
    }
}

static PM_ALWAYS_INLINE bool pm__count_dec(pm_counter_kind counter, void *box) {
    return counter == PM_COUNTER_ATOMIC ? pm_count_atomic_dec(box) : pm_count_plain_dec(box);
}

/* A count that really reaches 0 (a weak-referenced box's two counts). */
static PM_ALWAYS_INLINE bool pm__count_release(pm_counter_kind counter, void *count) {
    return counter == PM_COUNTER_ATOMIC ? pm_count_atomic_release(count)
                                        : pm_count_plain_release(count);
}

static PM_ALWAYS_INLINE bool pm__has_weak(const pm_box_type *type) {
    return type->weak_offset != 0;
}

static PM_ALWAYS_INLINE void *pm__weak_of(const pm_box_type *type, void *box) {
    return (char *)box + type->weak_offset;
}

/* One owner fewer: true when it was the last. Weak references read the owner
 * count, so it must really reach 0 for them. */
static PM_ALWAYS_INLINE uint32_t pm__count_get(pm_counter_kind counter, void *box) {
    return counter == PM_COUNTER_ATOMIC ? pm_count_atomic_get(box) : pm_count_plain_get(box);
}

static PM_ALWAYS_INLINE bool pm__box_release_owner(const pm_box_type *type,
                                                   pm_counter_kind counter, void *box) {
    return pm__has_weak(type) ? pm__count_release(counter, box) : pm__count_dec(counter, box);
}

/* Keeps a dead box's memory in a token, freeing what the token held. */
static void pm__reuse_keep(pm_reuse *token, void *memory, size_t size) {
    pm_reuse_drop(token);
    token->memory = memory;
    token->size = size;
}

/* The value is gone: the memory goes now (to `token` when there is one), or
 * with the last weak reference. */
static PM_ALWAYS_INLINE void pm__box_release_memory(const pm_box_type *type, void *box,
                                                    pm_reuse *token) {
    if (!pm__has_weak(type) || pm__count_release(type->counter, pm__weak_of(type, box))) {
        if (token != NULL) {
            pm__reuse_keep(token, box, type->box_size);
        } else {
            pm_free(box, type->box_size);
        }
    }
}

static PM_ALWAYS_INLINE void pm__box_free_memory(const pm_box_type *type, void *box) {
    pm__box_release_memory(type, box, NULL);
}

/* A count of 0 or 1 for a fresh box's owners and, with weak: true, the
 * owners' one weak reference. */
static PM_ALWAYS_INLINE void pm__counts_init(const pm_box_type *type, pm_counter_kind counter,
                                             void *box) {
    pm__count_init(counter, box);
    if (pm__has_weak(type)) {
        pm__count_init(counter, pm__weak_of(type, box));
    }
}

/* A fresh cell, free (`held` false) or already write-borrowed by its creator. */
static PM_ALWAYS_INLINE void pm__cell_init(const pm_box_type *type, pm_cell_kind cell_kind,
                                           void *box, bool held) {
    void *cell = pm__cell_of(type, box);
    switch (cell_kind) {
    case PM_CELL_BORROW:
        if (held) {
            pm_cell_borrow_init_write(cell);
        } else {
            pm_cell_borrow_init(cell);
        }
        pm_cell_borrow_name(cell, type->name);
        break;
    case PM_CELL_RWLOCK:
        if (held) {
            pm_rwlock_init_write(cell);
        } else {
            pm_rwlock_init(cell);
        }
        pm_rwlock_name(cell, type->name);
        break;
    case PM_CELL_NONE: break;
    }
}

static PM_ALWAYS_INLINE void pm__cell_forget(const pm_box_type *type, pm_cell_kind cell_kind,
                                             void *box) {
    switch (cell_kind) {
    case PM_CELL_BORROW: pm_cell_borrow_forget(pm__cell_of(type, box)); break;
    case PM_CELL_RWLOCK: pm_rwlock_forget(pm__cell_of(type, box)); break;
    case PM_CELL_NONE: break;
    }
}

/* The box's last owner left: true if a borrow is still held (the cell is now
 * marked orphaned, and the release of its last borrow reports it), false if the
 * box may be destroyed now. Cell none has no borrows. */
static PM_ALWAYS_INLINE bool pm__cell_orphan(const pm_box_type *type, void *box) {
    bool held = false;
    switch (type->cell) {
    case PM_CELL_BORROW: held = pm_cell_borrow_orphan(pm__cell_of(type, box)); break;
    case PM_CELL_RWLOCK: held = pm_rwlock_orphan(pm__cell_of(type, box)); break;
    case PM_CELL_NONE: break;
    }
#ifdef PM_DEBUG
    if (held) {
        fprintf(stderr,
                "perceus-mem: %s %p: its last owner was dropped during a borrow; it is "
                "freed when that borrow's scope ends (a plain release leaks it)\n",
                type->name, box);
    }
#endif
    return held;
}

static PM_ALWAYS_INLINE bool pm__cell_writer_quiet(const pm_box_type *type,
                                                   pm_cell_kind cell_kind, void *box) {
    switch (cell_kind) {
    case PM_CELL_BORROW: return pm_cell_borrow_writer_quiet(pm__cell_of(type, box));
    case PM_CELL_RWLOCK: return pm_rwlock_writer_quiet(pm__cell_of(type, box));
    case PM_CELL_NONE: break;
    }
    return true;
}

/* Relaxed: metrics order nothing, they only count. */
static void pm__metric_add(PM_ATOMIC(uint64_t) *counter) {
    atomic_fetch_add_explicit(counter, 1u, memory_order_relaxed);
}

/* A read borrow that keeps writers of `box` out while it is copied. */
static PM_ALWAYS_INLINE pm_status pm__cell_read(const pm_box_type *type, pm_cell_kind cell_kind,
                                                void *box, bool wait, uint64_t timeout_ns) {
    void *cell = pm__cell_of(type, box);
    pm_status status = PM_OK;
    switch (cell_kind) {
    case PM_CELL_BORROW:
        status = wait ? pm_cell_borrow_read_wait(cell, timeout_ns) : pm_cell_borrow_try_read(cell);
        break;
    case PM_CELL_RWLOCK:
        status = pm_rwlock_try_read(cell);
        if (status != PM_OK && wait) {
            if (type->metrics != NULL) {
                pm__metric_add(&type->metrics->waits);
            }
            status = pm_rwlock_read_wait(cell, timeout_ns);
        }
        break;
    case PM_CELL_NONE: return PM_OK; /* a shared value is never written: copy it freely */
    }
    return PM_UNLIKELY(type->metrics != NULL) ? pm__metric_borrow(type->metrics, status) : status;
}

static PM_ALWAYS_INLINE void pm__cell_release_read(const pm_box_type *type,
                                                   pm_cell_kind cell_kind, void *box) {
    switch (cell_kind) {
    case PM_CELL_BORROW: pm_cell_borrow_release_read(pm__cell_of(type, box)); break;
    case PM_CELL_RWLOCK: pm_rwlock_release_read(pm__cell_of(type, box)); break;
    case PM_CELL_NONE: break;
    }
}

/* A managed field is a handle: one box pointer, read and cleared bytewise
 * (the field's pointer type is the generated box's, not void *). */
static PM_ALWAYS_INLINE void *pm__field_box(const void *field) {
    void *box;
    memcpy(&box, field, sizeof box);
    return box;
}

static PM_ALWAYS_INLINE void pm__field_clear(void *field) {
    void *none = NULL;
    memcpy(field, &none, sizeof none);
}

/* ------------------------------------------------------------------------ */
/* Creation                                                                  */
/* ------------------------------------------------------------------------ */

static PM_ALWAYS_INLINE void *pm__box_alloc(const pm_box_type *type, pm_counter_kind counter,
                                            pm_cell_kind cell, int unused) {
    (void)unused;
    void *box = pm_alloc(type->box_size);
    if (PM_LIKELY(box != NULL)) {
        pm__counts_init(type, counter, box);
        pm__cell_init(type, cell, box, false);
    }
    return box;
}

void *pm_box_alloc(const pm_box_type *type) { return PM__BY_KINDS(type, pm__box_alloc, 0); }

void *pm_box_alloc_cyclic(const pm_box_type *type) {
    void *box = pm_alloc(type->box_size);
    if (box != NULL) {
        if (type->counter == PM_COUNTER_ATOMIC) {
            pm_count_atomic_init_zero(box);
            pm_count_atomic_init(pm__weak_of(type, box));
        } else {
            pm_count_plain_init_zero(box);
            pm_count_plain_init(pm__weak_of(type, box));
        }
    }
    return box;
}

void pm_box_publish_cyclic(const pm_box_type *type, void *box) {
    pm__cell_init(type, type->cell, box, false);
    pm_snap_word *snap = pm__snap_of(type, box);
    if (snap != NULL) {
        pm_snap_init(snap, pm__value_of(type, box), type->value_size);
    }
    if (type->counter == PM_COUNTER_ATOMIC) {
        pm_count_atomic_publish(box);
    } else {
        pm_count_plain_publish(box);
    }
}

void pm_box_weak_drop(const pm_box_type *type, void *box) {
    if (pm__count_release(type->counter, pm__weak_of(type, box))) {
        pm_free(box, type->box_size);
    }
}

/* ------------------------------------------------------------------------ */
/* Destruction: a dying box holding handles is pushed on a list, never       */
/* recursed into, so a chain of any length is dropped in constant C stack.  */
/* ------------------------------------------------------------------------ */

/* The last owner of a box without managed fields: drop hook, then the memory
 * (to `token`, when there is one). */
static PM_ALWAYS_INLINE void pm__box_free(const pm_box_type *type, pm_counter_kind counter,
                                          pm_cell_kind cell, void *box, pm_reuse *token) {
    (void)counter;
    if (type->drop != NULL) {
        type->drop(pm__value_of(type, box));
    }
    pm__cell_forget(type, cell, box);
    pm__box_release_memory(type, box, token);
}

/* Its header is dead: reuse it as the list link (the box's layout makes room
 * at dead_offset: the whole header, or the cell of a weak-referenced box). */
static pm_dead *pm__box_bury(const pm_box_type *type, void *box, pm_dead *list) {
    pm__cell_forget(type, type->cell, box);
    pm_dead *dead = (pm_dead *)(void *)((char *)box + type->dead_offset);
    dead->next = list;
    dead->type = type;
    return dead;
}

/* A weak field lets go: the last weak reference frees the (dead) box. */
static PM_ALWAYS_INLINE void pm__weak_field_drop(const pm_field *field, void *child) {
    if (child != NULL) {
        pm_box_weak_drop(field->type, child);
    }
}

/* Boxes holding handles: drop each field's owner, queueing the boxes that die too.
 * The first box's memory goes to `token` when there is one. */
static PM_NOINLINE void pm__box_drain(const pm_box_type *type, void *box, pm_reuse *token) {
    pm_dead *list = pm__box_bury(type, box, NULL);
    while (list != NULL) {
        pm_dead *dead = list;
        const pm_box_type *dead_type = dead->type;
        void *dead_box = (char *)dead - dead_type->dead_offset;
        char *value = pm__value_of(dead_type, dead_box);
        list = dead->next;
        for (size_t k = 0; k < dead_type->field_count; k++) {
            const pm_field *field = &dead_type->fields[k];
            void *child = pm__field_box(value + field->offset);
            if (field->weak) {
                pm__weak_field_drop(field, child);
                continue;
            }
            if (child == NULL || !pm__box_release_owner(field->type, field->type->counter, child) ||
                pm__cell_orphan(field->type, child)) {
                continue; /* still owned, or borrowed: its last borrow's end destroys it */
            }
            if (field->type->field_count != 0) {
                list = pm__box_bury(field->type, child, list);
            } else {
                pm__box_free(field->type, field->type->counter, field->type->cell, child, NULL);
            }
        }
        if (dead_type->drop != NULL) {
            dead_type->drop(value);
        }
        pm__box_release_memory(dead_type, dead_box, dead_box == box ? token : NULL);
    }
}

void pm_box_destroy_reuse(const pm_box_type *type, void *box, pm_reuse *token) {
    if (pm__cell_orphan(type, box)) {
        return; /* deferred: the scope that still borrows it destroys it at its end */
    }
    if (type->field_count != 0) {
        pm__box_drain(type, box, token);
        return;
    }
    PM__BY_KINDS(type, pm__box_free, box, token);
}

void pm_box_destroy(const pm_box_type *type, void *box) { pm_box_destroy_reuse(type, box, NULL); }

/* ------------------------------------------------------------------------ */
/* The value: clone and drop                                                 */
/* ------------------------------------------------------------------------ */

static PM_ALWAYS_INLINE pm_status pm__value_clone(const pm_box_type *type, void *dst,
                                                  const void *src) {
    if (type->clone != NULL) {
        pm_status status = type->clone(dst, src);
        /* The hook's own PM_ENOMEM stays; any other failure is the hook's. */
        return status == PM_OK || status == PM_ENOMEM ? status : PM_ECLONE;
    }
    pm__copy_bytes(dst, src, type->value_size);
    for (size_t k = 0; k < type->field_count; k++) {
        const pm_field *field = &type->fields[k];
        void *child = pm__field_box((const char *)src + field->offset);
        if (child == NULL) {
            continue;
        }
        if (field->weak) { /* never fails: saturates */
            if (field->type->counter == PM_COUNTER_ATOMIC) {
                pm_count_atomic_inc_weak(pm__weak_of(field->type, child));
            } else {
                pm_count_plain_inc_weak(pm__weak_of(field->type, child));
            }
        } else {
            pm__count_inc(field->type->counter, child); /* never fails: saturates */
        }
    }
    return PM_OK;
}

pm_status pm_value_clone(const pm_box_type *type, void *dst, const void *src) {
    if (dst == NULL || src == NULL) {
        return PM_EINVAL;
    }
    return pm__value_clone(type, dst, src);
}

void pm_value_drop(const pm_box_type *type, void *value) {
    if (value == NULL) {
        return;
    }
    if (type->drop != NULL) {
        type->drop(value);
    }
    for (size_t k = 0; k < type->field_count; k++) {
        const pm_field *field = &type->fields[k];
        char *at = (char *)value + field->offset;
        void *child = pm__field_box(at);
        pm__field_clear(at);
        if (field->weak) {
            pm__weak_field_drop(field, child);
        } else if (child != NULL &&
                   pm__box_release_owner(field->type, field->type->counter, child)) {
            pm_box_destroy(field->type, child);
        }
    }
}

/* ------------------------------------------------------------------------ */
/* Copy on write                                                             */
/* ------------------------------------------------------------------------ */

/* Clones the shared box's value into a fresh allocation (count and cell not set). */
static PM_ALWAYS_INLINE pm_status pm__box_copy_of(const pm_box_type *type, pm_cell_kind cell,
                                                  void *shared, void **out, bool wait,
                                                  uint64_t timeout_ns) {
    void *copy = NULL;
    pm_snap_word *snap = pm__snap_of(type, shared);
    /* No writer holds or waits: copy the published snapshot without the read
     * lock (two atomic RMWs fewer on a line other threads use). If a publish
     * overlaps, the lock decides below, into the same allocation. */
    if (snap != NULL && pm__cell_writer_quiet(type, cell, shared)) {
        copy = pm_alloc(type->box_size);
        if (copy == NULL) {
            return PM_ENOMEM;
        }
        if (pm_snap_try_load(snap, pm__value_of(type, copy), type->value_size)) {
            *out = copy;
            return PM_OK;
        }
    }
    pm_status status = pm__cell_read(type, cell, shared, wait, timeout_ns);
    if (status != PM_OK) {
        pm_free(copy, type->box_size);
        return status;
    }
    if (copy == NULL) {
        copy = pm_alloc(type->box_size);
    }
    status = copy == NULL ? PM_ENOMEM
                          : pm__value_clone(type, pm__value_of(type, copy),
                                            pm__value_of(type, shared));
    pm__cell_release_read(type, cell, shared);
    if (status != PM_OK) {
        pm_free(copy, type->box_size);
        return status;
    }
    *out = copy;
    return PM_OK;
}

static PM_ALWAYS_INLINE pm_status pm__cell_try_write(const pm_box_type *type,
                                                     pm_cell_kind cell_kind, void *box);
static PM_ALWAYS_INLINE void pm__cell_release_write(const pm_box_type *type,
                                                    pm_cell_kind cell_kind, void *box);

/* The owner count 1 -> 0: no weak reference can upgrade from here on. */
static PM_ALWAYS_INLINE bool pm__count_retire(pm_counter_kind counter, void *box) {
    return counter == PM_COUNTER_ATOMIC ? pm_count_atomic_retire(box) : pm_count_plain_retire(box);
}

/* Arc::make_mut with weak references: the caller is the only owner of `box`, which
 * weak references still point at. The value moves (no clone) to a fresh box held for
 * write; `box` keeps only the weak references, whose upgrades fail from now on.
 * PM_ESHARED if an upgrade made a second owner first (then: copy), the borrow's
 * status, PM_ENOMEM; on failure nothing changed. */
static PM_ALWAYS_INLINE pm_status pm__box_move_from_weak(const pm_box_type *type,
                                                         pm_counter_kind counter,
                                                         pm_cell_kind cell, void *box,
                                                         void **out) {
    pm_status status = pm__cell_try_write(type, cell, box); /* no borrow of ours is held */
    if (status != PM_OK) {
        return status;
    }
    void *moved = pm_alloc(type->box_size); /* first: failing must change nothing */
    if (moved == NULL || !pm__count_retire(counter, box)) {
        pm__cell_release_write(type, cell, box);
        pm_free(moved, type->box_size);
        return moved == NULL ? PM_ENOMEM : PM_ESHARED;
    }
    pm__copy_bytes(pm__value_of(type, moved), pm__value_of(type, box), type->value_size);
    pm__cell_release_write(type, cell, box); /* PM_DEBUG: not held past here */
    pm__cell_forget(type, cell, box);
    pm__box_free_memory(type, box); /* the owners' weak reference */
    pm__counts_init(type, counter, moved);
    pm__cell_init(type, cell, moved, true);
    pm_snap_word *snap = pm__snap_of(type, moved);
    if (snap != NULL) {
        pm_snap_init(snap, pm__value_of(type, moved), type->value_size);
    }
    *out = moved;
    return PM_OK;
}

static PM_ALWAYS_INLINE pm_status pm__box_copy_for_write(const pm_box_type *type,
                                                         pm_counter_kind counter,
                                                         pm_cell_kind cell, void *shared,
                                                         void **out, bool wait,
                                                         uint64_t timeout_ns) {
    void *copy = NULL;
    if (pm__has_weak(type) && pm__count_get(counter, shared) == 1u) {
        pm_status moved = pm__box_move_from_weak(type, counter, cell, shared, out);
        /* PM_ESHARED: an upgrade came first. A borrow in the way, when the caller
         * waits: an upgrader's, maybe; the copy below waits for it. */
        bool borrowed = moved == PM_EBUSY || moved == PM_EBORROWED;
        if (moved != PM_ESHARED && !(wait && borrowed)) {
            return moved;
        }
    }
    pm_status status = pm__box_copy_of(type, cell, shared, &copy, wait, timeout_ns);
    if (status != PM_OK) {
        return status;
    }
    pm__counts_init(type, counter, copy);
    pm__cell_init(type, cell, copy, true); /* held for write from the start: nobody else sees it */
    pm_snap_word *snap = pm__snap_of(type, copy);
    if (snap != NULL) {
        pm_snap_init(snap, pm__value_of(type, copy), type->value_size);
    }
    if (pm__box_release_owner(type, counter, shared)) {
        pm_box_destroy(type, shared); /* the other owners left while we copied */
    }
    if (PM_UNLIKELY(type->metrics != NULL)) {
        pm__metric_add(&type->metrics->copies_on_write);
    }
    *out = copy;
    return PM_OK;
}

pm_status pm_box_copy_for_write(const pm_box_type *type, void *shared, void **out, bool wait,
                                uint64_t timeout_ns) {
    return PM__BY_KINDS(type, pm__box_copy_for_write, shared, out, wait, timeout_ns);
}

/* ------------------------------------------------------------------------ */
/* Moving out                                                                */
/* ------------------------------------------------------------------------ */

/* An exclusive borrow proves no borrow is held; nobody else can take one, the caller
 * being the only owner, so it is kept until the box is freed. */
static PM_ALWAYS_INLINE pm_status pm__cell_try_write(const pm_box_type *type,
                                                     pm_cell_kind cell_kind, void *box) {
    switch (cell_kind) {
    case PM_CELL_BORROW: return pm_cell_borrow_try_write(pm__cell_of(type, box));
    case PM_CELL_RWLOCK: return pm_rwlock_try_write(pm__cell_of(type, box));
    case PM_CELL_NONE: break;
    }
    return PM_OK;
}

static PM_ALWAYS_INLINE void pm__cell_release_write(const pm_box_type *type,
                                                    pm_cell_kind cell_kind, void *box) {
    switch (cell_kind) {
    case PM_CELL_BORROW: pm_cell_borrow_release_write(pm__cell_of(type, box)); break;
    case PM_CELL_RWLOCK: pm_rwlock_release_write(pm__cell_of(type, box)); break;
    case PM_CELL_NONE: break;
    }
}

static PM_ALWAYS_INLINE pm_status pm__box_take(const pm_box_type *type, pm_counter_kind counter,
                                               pm_cell_kind cell, void *box, void *out,
                                               pm_reuse *token) {
    pm_status status = pm__cell_try_write(type, cell, box);
    if (status != PM_OK) {
        return status;
    }
    /* Weak references: the owner count must read 0 before the value leaves
     * (0 already: the caller's own last release, as in _unwrap_or_drop). */
    if (pm__has_weak(type) && pm__count_get(counter, box) != 0u &&
        !pm__count_retire(counter, box)) {
        pm__cell_release_write(type, cell, box);
        return PM_ESHARED; /* an upgrade made a second owner first */
    }
    if (cell == PM_CELL_RWLOCK) {
        pm_rwlock_release_write(pm__cell_of(type, box)); /* PM_DEBUG: not held past here */
    }
    pm__copy_bytes(out, pm__value_of(type, box), type->value_size);
    pm__cell_forget(type, cell, box);
    pm__box_release_memory(type, box, token);
    return PM_OK;
}

pm_status pm_box_take(const pm_box_type *type, void *box, void *out) {
    return PM__BY_KINDS(type, pm__box_take, box, out, NULL);
}

pm_status pm_box_take_reuse(const pm_box_type *type, void *box, void *out, pm_reuse *token) {
    return PM__BY_KINDS(type, pm__box_take, box, out, token);
}

/* ------------------------------------------------------------------------ */
/* Perceus reuse                                                             */
/* ------------------------------------------------------------------------ */

void pm_reuse_drop(pm_reuse *token) {
    if (token != NULL) {
        pm_free(token->memory, token->size);
        token->memory = NULL;
        token->size = 0;
    }
}

void *pm_reuse_alloc(pm_reuse *token, const pm_box_type *type) {
    if (token->memory != NULL && token->size == type->box_size) {
        void *memory = token->memory;
        token->memory = NULL;
        token->size = 0;
        if (PM_UNLIKELY(type->metrics != NULL)) {
            pm__metric_add(&type->metrics->reused);
        }
        return memory;
    }
    pm_reuse_drop(token);
    return pm_alloc(type->box_size);
}

static PM_ALWAYS_INLINE pm_status pm__box_clone_out(const pm_box_type *type,
                                                    pm_counter_kind counter, pm_cell_kind cell,
                                                    void *box, void *out) {
    (void)counter;
    pm_status status = pm__cell_read(type, cell, box, false, 0);
    if (status != PM_OK) {
        return status;
    }
    status = pm__value_clone(type, out, pm__value_of(type, box));
    pm__cell_release_read(type, cell, box);
    return status;
}

pm_status pm_box_clone_out(const pm_box_type *type, void *box, void *out) {
    return PM__BY_KINDS(type, pm__box_clone_out, box, out);
}

/* ------------------------------------------------------------------------ */
/* _load when the snapshot is busy or absent                                 */
/* ------------------------------------------------------------------------ */

pm_status pm_box_load_contended(const pm_box_type *type, void *box, void *out) {
    void *value = pm__value_of(type, box);
    if (type->cell == PM_CELL_RWLOCK) {
        return pm__snap_load_contended(pm__cell_of(type, box), pm__snap_of(type, box), out, value,
                                       type->value_size);
    }
    pm_status status = pm__cell_read(type, type->cell, box, false, 0);
    if (status == PM_OK) {
        pm__copy_bytes(out, value, type->value_size);
        pm__cell_release_read(type, type->cell, box);
    }
    return status;
}
