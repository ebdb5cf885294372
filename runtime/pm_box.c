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

pm_alloc_fn pm__alloc_hook;
void *pm__alloc_ctx;
static pm_alloc_aligned_fn pm__alloc_aligned_hook; /* NULL: pm__alloc_hook */
static pm_free_fn pm__free_hook;                   /* NULL: free */

void pm_set_allocator_aligned(pm_alloc_fn alloc, pm_alloc_aligned_fn alloc_aligned,
                              pm_free_fn free_fn, void *ctx) {
    bool reset = alloc == NULL || free_fn == NULL;
    pm__alloc_hook = reset ? NULL : alloc;
    pm__alloc_aligned_hook = reset ? NULL : alloc_aligned;
    pm__free_hook = reset ? NULL : free_fn;
    pm__alloc_ctx = reset ? NULL : ctx;
}

void pm_set_allocator(pm_alloc_fn alloc, pm_free_fn free_fn, void *ctx) {
    pm_set_allocator_aligned(alloc, NULL, free_fn, ctx);
}

void *pm__alloc_aligned_hooked(size_t size, size_t align) {
    pm_alloc_aligned_fn aligned = pm__alloc_aligned_hook;
    return aligned != NULL ? aligned(size, align, pm__alloc_ctx) : pm_alloc(size);
}

void pm_free(void *ptr, size_t size) {
    pm_free_fn hook = pm__free_hook;
    if (PM_LIKELY(hook == NULL)) {
        free(ptr);
    } else if (ptr != NULL) {
        hook(ptr, size, pm__alloc_ctx);
    }
}

/* Memory for a box of `type` of `size` bytes, at the alignment its box_align asks. */
static PM_ALWAYS_INLINE void *pm__box_memory(const pm_box_type *type, size_t size) {
    return type->box_align != 0 ? pm_alloc_aligned(size, type->box_align) : pm_alloc(size);
}

/* Whether memory at `p` (a reuse token's) is aligned as a box of `type` must be. */
static PM_ALWAYS_INLINE bool pm__box_aligned_at(const pm_box_type *type, const void *p) {
    return type->box_align == 0 || pm_alloc_is_aligned(p, type->box_align);
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

/* The shape of a value (its variant's, for a sum type): the sizes of its box and
 * value, and its managed fields. A sum type's tag is immutable and outlives the
 * value's drop, so any box not yet freed can be asked. */
static PM_ALWAYS_INLINE pm_variant pm__shape_of_value(const pm_box_type *type, const void *value) {
    if (PM_LIKELY(type->variants == NULL)) {
        pm_variant shape = {type->box_size, type->value_size, type->fields, type->field_count};
        return shape;
    }
    unsigned tag; /* the enum's bytes: pmgen asserts they are an int's */
    memcpy(&tag, value, sizeof tag);
    return type->variants[tag];
}

static PM_ALWAYS_INLINE pm_variant pm__shape_of(const pm_box_type *type, void *box) {
    return pm__shape_of_value(type, pm__value_of(type, box));
}

static PM_ALWAYS_INLINE void *pm__cell_of(const pm_box_type *type, void *box) {
    return (char *)box + type->cell_offset;
}

/* The snapshot words of a box whose value fits one; NULL otherwise. */
static PM_ALWAYS_INLINE pm_snap_word *pm__snap_of(const pm_box_type *type, void *box) {
    return type->snap_offset == 0 ? NULL : (pm_snap_word *)(void *)((char *)box + type->snap_offset);
}

/* A fresh box's snapshot (if it keeps one), as of its value now. */
static PM_ALWAYS_INLINE void pm__snap_init_of(const pm_box_type *type, void *box) {
    pm_snap_word *snap = pm__snap_of(type, box);
    if (snap != NULL) {
        pm_snap_init(snap, pm__value_of(type, box), type->value_size);
    }
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

static PM_ALWAYS_INLINE void pm__count_init_zero(pm_counter_kind counter, void *count) {
    if (counter == PM_COUNTER_ATOMIC) {
        pm_count_atomic_init_zero(count);
    } else {
        pm_count_plain_init_zero(count);
    }
}

static PM_ALWAYS_INLINE void pm__count_inc_weak(pm_counter_kind counter, void *weak) {
    if (counter == PM_COUNTER_ATOMIC) {
        pm_count_atomic_inc_weak(weak);
    } else {
        pm_count_plain_inc_weak(weak);
    }
}

static PM_ALWAYS_INLINE void pm__count_publish(pm_counter_kind counter, void *count) {
    if (counter == PM_COUNTER_ATOMIC) {
        pm_count_atomic_publish(count);
    } else {
        pm_count_plain_publish(count);
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
        size_t size = pm__shape_of(type, box).box_size;
        if (token != NULL) {
            pm__reuse_keep(token, box, size);
        } else {
            pm_free(box, size);
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
    void *box = pm__box_memory(type, type->box_size);
    if (PM_LIKELY(box != NULL)) {
        pm__counts_init(type, counter, box);
        pm__cell_init(type, cell, box, false);
    }
    return box;
}

void *pm_box_alloc(const pm_box_type *type) { return PM__BY_KINDS(type, pm__box_alloc, 0); }

void *pm_box_alloc_cyclic(const pm_box_type *type) {
    void *box = pm__box_memory(type, type->box_size);
    if (box != NULL) {
        pm__count_init_zero(type->counter, box);
        pm__count_init(type->counter, pm__weak_of(type, box));
    }
    return box;
}

void pm_box_publish_cyclic(const pm_box_type *type, void *box) {
    pm__cell_init(type, type->cell, box, false);
    pm__snap_init_of(type, box);
    pm__count_publish(type->counter, box);
}

void pm_box_weak_drop(const pm_box_type *type, void *box) {
    if (pm__count_release(type->counter, pm__weak_of(type, box))) {
        pm_free(box, pm__shape_of(type, box).box_size);
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
        pm_variant shape = pm__shape_of_value(dead_type, value);
        list = dead->next;
        for (size_t k = 0; k < shape.field_count; k++) {
            const pm_field *field = &shape.fields[k];
            void *child = pm__field_box(value + field->offset);
            if (field->weak) {
                pm__weak_field_drop(field, child);
                continue;
            }
            if (child == NULL || !pm__box_release_owner(field->type, field->type->counter, child) ||
                pm__cell_orphan(field->type, child)) {
                continue; /* still owned, or borrowed: its last borrow's end destroys it */
            }
            if (pm__shape_of(field->type, child).field_count != 0) {
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
    if (pm__shape_of(type, box).field_count != 0) {
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
    pm_variant shape = pm__shape_of_value(type, src);
    pm__copy_bytes(dst, src, shape.value_size);
    for (size_t k = 0; k < shape.field_count; k++) {
        const pm_field *field = &shape.fields[k];
        void *child = pm__field_box((const char *)src + field->offset);
        if (child == NULL) {
            continue;
        }
        if (field->weak) { /* never fails: saturates */
            pm__count_inc_weak(field->type->counter, pm__weak_of(field->type, child));
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
    pm_variant shape = pm__shape_of_value(type, value);
    for (size_t k = 0; k < shape.field_count; k++) {
        const pm_field *field = &shape.fields[k];
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
    size_t box_size = pm__shape_of(type, shared).box_size; /* a tag never changes */
    pm_snap_word *snap = pm__snap_of(type, shared);
    /* No writer holds or waits: copy the published snapshot without the read
     * lock (two atomic RMWs fewer on a line other threads use). If a publish
     * overlaps, the lock decides below, into the same allocation. */
    if (snap != NULL && pm__cell_writer_quiet(type, cell, shared)) {
        copy = pm__box_memory(type, box_size);
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
        pm_free(copy, box_size);
        return status;
    }
    if (copy == NULL) {
        copy = pm__box_memory(type, box_size);
    }
    status = copy == NULL ? PM_ENOMEM
                          : pm__value_clone(type, pm__value_of(type, copy),
                                            pm__value_of(type, shared));
    pm__cell_release_read(type, cell, shared);
    if (status != PM_OK) {
        pm_free(copy, box_size);
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
    pm_variant shape = pm__shape_of(type, box);
    void *moved = pm__box_memory(type, shape.box_size); /* first: failing must change nothing */
    if (moved == NULL || !pm__count_retire(counter, box)) {
        pm__cell_release_write(type, cell, box);
        pm_free(moved, shape.box_size);
        return moved == NULL ? PM_ENOMEM : PM_ESHARED;
    }
    pm__copy_bytes(pm__value_of(type, moved), pm__value_of(type, box), shape.value_size);
    pm__cell_release_write(type, cell, box); /* PM_DEBUG: not held past here */
    pm__cell_forget(type, cell, box);
    pm__box_free_memory(type, box); /* the owners' weak reference */
    pm__counts_init(type, counter, moved);
    pm__cell_init(type, cell, moved, true);
    pm__snap_init_of(type, moved);
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
    pm__snap_init_of(type, copy);
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
    pm__copy_bytes(out, pm__value_of(type, box), pm__shape_of(type, box).value_size);
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

void *pm_reuse_alloc(pm_reuse *token, const pm_box_type *type) {
    size_t size = type->box_size;
    if (token->memory != NULL && token->size == size && pm__box_aligned_at(type, token->memory)) {
        void *memory = token->memory;
        token->memory = NULL;
        token->size = 0;
        if (PM_UNLIKELY(type->metrics != NULL)) {
            pm__metric_add(&type->metrics->reused);
        }
        return memory;
    }
    pm_reuse_drop(token);
    return pm__box_memory(type, size);
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

/* ------------------------------------------------------------------------ */
/* Conversion between policies                                               */
/*                                                                           */
/* Two passes, so that a failure anywhere changes nothing. The plan walks,   */
/* from the caller's owner, every box it reaches through boxes the caller    */
/* alone owns, without recursion. A unique box is checked for borrows; if    */
/* its layout differs from the target's, its new box is allocated (a move).  */
/* A shared box is cloned, with everything below it, into new boxes of the   */
/* target policy (a copy). The plan changes nothing anyone else can see: it  */
/* points each slot (a managed field of a unique box's value, or the root)   */
/* at its result, tagged, and a unique box with fields lends its header to   */
/* the work list, as pm_box_destroy does. The commit cannot fail: it gives   */
/* each box its new header, moves the moved values, and gives up the        */
/* caller's owners of the copied boxes. When the plan fails, the undo        */
/* restores every slot and header and frees what the plan made.              */
/* ------------------------------------------------------------------------ */

/* A slot's result during the plan, in the low bits of the box address it holds
 * (a box is at least 4-aligned: it starts with its 32-bit counter). Untagged: the
 * box itself, converted in place. */
#define PM__CONV_MOVED ((uintptr_t)1)  /* a new box; the old one's address is in it */
#define PM__CONV_COPIED ((uintptr_t)2) /* a copy of a shared box; the old one is logged */
#define PM__CONV_TAGS ((uintptr_t)3)

/* The header of a box with managed fields while it waits in a work list: a unique
 * box converted in place, or the new box of a move (`from` tagged PM__CONV_MOVED),
 * or a copy whose fields are not copied yet. The box's layout keeps room for it
 * (the pm_dead union). */
typedef struct pm__conv_rec pm__conv_rec;
struct pm__conv_rec {
    pm__conv_rec *next;
    uintptr_t from; /* the box's type before the conversion, | PM__CONV_MOVED */
};

/* A shared box the plan copied: the slot that held the caller's owner of it. */
typedef struct pm__conv_copy {
    void *slot;
    void *old;
    const pm_box_type *from;
} pm__conv_copy;

#define PM__CONV_LOCAL_COPIES 8
#define PM__CONV_CHUNK_COPIES 128

typedef struct pm__conv_chunk pm__conv_chunk;
struct pm__conv_chunk {
    pm__conv_chunk *older;
    size_t count;
    pm__conv_copy copy[PM__CONV_CHUNK_COPIES];
};

/* One conversion's state: its work lists and the log of its copies (the first few
 * here, on the C stack; then chunks from pm_alloc). */
typedef struct pm__conv {
    size_t policy; /* the target policy's index in its module */
    const pm_box_type *last_from, *last_to; /* the last family look-up */
    pm__conv_rec *todo;    /* unique boxes whose fields are still to plan */
    pm__conv_rec *planned; /* unique boxes whose fields are planned */
    size_t local_copies;
    pm__conv_copy local[PM__CONV_LOCAL_COPIES];
    pm__conv_chunk *chunks; /* newest first */
} pm__conv;

/* `from`'s type under the target policy; NULL if it has none. */
static const pm_box_type *pm__conv_target(pm__conv *c, const pm_box_type *from) {
    if (from != c->last_from) {
        const pm_box_type *to = NULL;
        for (size_t k = 0; k < from->family_count && to == NULL; k++) {
            if (from->family[k]->policy == c->policy) {
                to = from->family[k];
            }
        }
        c->last_from = from;
        c->last_to = to;
    }
    return c->last_to;
}

/* The one test that the caller's owner is the only way to a box: count 1, and no
 * weak reference (weak: true; the weak count is locked while the owner count is
 * read, as _is_unique does). Acquire: the owners that left happen-before. */
static PM_ALWAYS_INLINE bool pm__box_unique(const pm_box_type *type, void *box) {
    if (pm__has_weak(type)) {
        return type->counter == PM_COUNTER_ATOMIC
                   ? pm_count_atomic_is_unique_weak(box, pm__weak_of(type, box))
                   : pm_count_plain_is_unique_weak(box, pm__weak_of(type, box));
    }
    return type->counter == PM_COUNTER_ATOMIC ? pm_count_atomic_is_unique(box)
                                              : pm_count_plain_is_unique(box);
}

/* PM_OK if no borrow of a box the caller alone owns is held (then none can start:
 * nobody else reaches it), else the status a write borrow would get. */
static pm_status pm__cell_unborrowed(const pm_box_type *type, void *box) {
    switch (type->cell) {
    case PM_CELL_BORROW:
        return pm_cell_borrow_in_use(pm__cell_of(type, box)) ? PM_EBORROWED : PM_OK;
    case PM_CELL_RWLOCK: return pm_rwlock_in_use(pm__cell_of(type, box)) ? PM_EBUSY : PM_OK;
    case PM_CELL_NONE: break;
    }
    return PM_OK;
}

/* A unique box keeps its address when both layouts have boxes of the same size (the
 * value then moves inside the box if the two put it at different offsets). */
static bool pm__conv_in_place(const pm_box_type *from, const pm_box_type *to) {
    return from->box_size == to->box_size;
}

/* A box of `to` whose value is in place gets its header: count 1, a free cell, the
 * snapshot of its value. */
static void pm__conv_init(const pm_box_type *to, void *box) {
    pm__counts_init(to, to->counter, box);
    pm__cell_init(to, to->cell, box, false);
    pm__snap_init_of(to, box);
}

/* A unique box converted in place: its value where `to` keeps it, then its header. */
static void pm__conv_reinit(const pm_box_type *from, const pm_box_type *to, void *box) {
    pm__cell_forget(from, from->cell, box);
    if (from->value_offset != to->value_offset) {
        memmove(pm__value_of(to, box), pm__value_of(from, box), from->value_size);
    }
    pm__conv_init(to, box);
}

/* A slot of a value (a handle) holding a box address and a tag. */
static PM_ALWAYS_INLINE uintptr_t pm__slot_get(const void *slot) {
    return (uintptr_t)pm__field_box(slot);
}

static PM_ALWAYS_INLINE void pm__slot_set(void *slot, void *box, uintptr_t tag) {
    void *tagged = (void *)((uintptr_t)box | tag);
    memcpy(slot, &tagged, sizeof tagged);
}

static PM_ALWAYS_INLINE void *pm__slot_box(uintptr_t slot) {
    return (void *)(slot & ~PM__CONV_TAGS);
}

/* Where a move's new box keeps the old box's address until the commit: in its value
 * when it has fields (its header is a work-list record; a handle fits the value),
 * else first. */
static void *pm__conv_origin_at(const pm_box_type *to, void *moved) {
    return (char *)moved + (to->field_count != 0 ? to->value_offset : 0);
}

static PM_ALWAYS_INLINE const pm_box_type *pm__rec_from(const pm__conv_rec *rec) {
    return (const pm_box_type *)(rec->from & ~PM__CONV_TAGS);
}

/* The box whose value holds a record's fields while the conversion lasts. */
static void *pm__rec_source(const pm__conv_rec *rec, const pm_box_type *to) {
    if ((rec->from & PM__CONV_MOVED) == 0) {
        return (void *)rec;
    }
    return pm__field_box(pm__conv_origin_at(to, (void *)rec));
}

/* --- the copy of a shared box, everything below it included ------------------ */

/* Clones `box`'s value into a new box of `to` (header not set) under a read borrow:
 * the clone hook, or a bitwise copy whose managed fields gain an owner. */
static pm_status pm__conv_clone_box(const pm_box_type *from, const pm_box_type *to, void *box,
                                    void **out) {
    void *copy = pm__box_memory(to, to->box_size);
    if (copy == NULL) {
        return PM_ENOMEM;
    }
    pm_status status = pm__cell_read(from, from->cell, box, false, 0);
    if (status == PM_OK) {
        status = pm__value_clone(from, pm__value_of(to, copy), pm__value_of(from, box));
        pm__cell_release_read(from, from->cell, box);
    }
    if (status != PM_OK) {
        pm_free(copy, to->box_size);
        return status;
    }
    *out = copy;
    return PM_OK;
}

/* A copy's fields from the k-th on still hold the owners the clone gave the old
 * boxes: give them up, leaving the fields empty. */
static void pm__conv_drop_olds(const pm_box_type *from, const pm_box_type *to, char *value,
                               size_t k) {
    for (; k < from->field_count; k++) {
        const pm_box_type *field_from = from->fields[k].type;
        void *slot = value + from->fields[k].offset;
        void *old = pm__field_box(slot);
        if (field_from == to->fields[k].type || old == NULL) {
            continue;
        }
        pm__field_clear(slot);
        if (pm__box_release_owner(field_from, field_from->counter, old)) {
            pm_box_destroy(field_from, old);
        }
    }
}

/* A new box of `to` holding a copy of shared `box`, with every field whose type
 * changes copied the same way (a work list of the copies, not recursion). Each old
 * box below the first is held by an owner the clone of its parent gave it until its
 * own copy is made. On failure all that was made is destroyed. */
static pm_status pm__conv_copy_deep(pm__conv *c, const pm_box_type *from,
                                    const pm_box_type *to, void *box, void **out) {
    void *root = NULL;
    pm_status status = pm__conv_clone_box(from, to, box, &root);
    if (status != PM_OK) {
        return status;
    }
    if (from->field_count == 0) {
        pm__conv_init(to, root);
        *out = root;
        return PM_OK;
    }
    pm__conv_rec *todo = root;
    todo->next = NULL;
    todo->from = (uintptr_t)from;
    while (todo != NULL) {
        pm__conv_rec *rec = todo;
        const pm_box_type *rec_from = pm__rec_from(rec);
        const pm_box_type *rec_to = pm__conv_target(c, rec_from);
        char *value = pm__value_of(rec_to, rec);
        todo = rec->next;
        size_t k = 0;
        for (; k < rec_from->field_count; k++) {
            const pm_box_type *field_from = rec_from->fields[k].type;
            const pm_box_type *field_to = rec_to->fields[k].type;
            void *slot = value + rec_from->fields[k].offset;
            void *old = pm__field_box(slot);
            if (field_from == field_to || old == NULL) {
                continue; /* an explicit policy: the same handle, given an owner by the clone */
            }
            void *copy = NULL;
            status = pm__conv_clone_box(field_from, field_to, old, &copy);
            if (status != PM_OK) {
                break;
            }
            pm__slot_set(slot, copy, 0);
            if (pm__box_release_owner(field_from, field_from->counter, old)) {
                pm_box_destroy(field_from, old); /* its other owners left meanwhile */
            }
            if (field_from->field_count != 0) {
                pm__conv_rec *child = copy;
                child->next = todo;
                child->from = (uintptr_t)field_from;
                todo = child;
            } else {
                pm__conv_init(field_to, copy);
            }
        }
        if (status != PM_OK) {
            pm__conv_drop_olds(rec_from, rec_to, value, k);
            pm__conv_init(rec_to, rec);
            while (todo != NULL) {
                rec = todo;
                rec_from = pm__rec_from(rec);
                rec_to = pm__conv_target(c, rec_from);
                todo = rec->next;
                pm__conv_drop_olds(rec_from, rec_to, pm__value_of(rec_to, rec), 0);
                pm__conv_init(rec_to, rec);
            }
            pm_box_destroy(to, root); /* now a whole tree of `to` boxes */
            return status;
        }
        pm__conv_init(rec_to, rec);
    }
    *out = root;
    return PM_OK;
}

/* --- the log of copies ----------------------------------------------------------- */

/* Room for one more copy (not counted until pm__conv_log_add); NULL: no memory. */
static pm__conv_copy *pm__conv_log_room(pm__conv *c) {
    if (c->local_copies < PM__CONV_LOCAL_COPIES) {
        return &c->local[c->local_copies];
    }
    if (c->chunks == NULL || c->chunks->count == PM__CONV_CHUNK_COPIES) {
        pm__conv_chunk *chunk = pm_alloc(sizeof *chunk);
        if (chunk == NULL) {
            return NULL;
        }
        chunk->older = c->chunks;
        chunk->count = 0;
        c->chunks = chunk;
    }
    return &c->chunks->copy[c->chunks->count];
}

static void pm__conv_log_add(pm__conv *c) {
    if (c->local_copies < PM__CONV_LOCAL_COPIES) {
        c->local_copies++;
    } else {
        c->chunks->count++;
    }
}

/* Commit: give up the caller's owner of each copied box. Undo: destroy each copy and
 * give its slot the old box back. Then the log's memory goes. */
static void pm__conv_copy_end(pm__conv *c, const pm__conv_copy *copy, bool commit) {
    if (commit) {
        if (pm__box_release_owner(copy->from, copy->from->counter, copy->old)) {
            pm_box_destroy(copy->from, copy->old); /* the other owners left meanwhile */
        }
        return;
    }
    pm_box_destroy(pm__conv_target(c, copy->from), pm__slot_box(pm__slot_get(copy->slot)));
    pm__slot_set(copy->slot, copy->old, 0);
}

static void pm__conv_log_end(pm__conv *c, bool commit) {
    for (size_t k = 0; k < c->local_copies; k++) {
        pm__conv_copy_end(c, &c->local[k], commit);
    }
    while (c->chunks != NULL) {
        pm__conv_chunk *chunk = c->chunks;
        for (size_t k = 0; k < chunk->count; k++) {
            pm__conv_copy_end(c, &chunk->copy[k], commit);
        }
        c->chunks = chunk->older;
        pm_free(chunk, sizeof *chunk);
    }
}

/* --- plan ---------------------------------------------------------------------- */

/* One slot holding the caller's owner of a box of `from`: decide, allocate, copy. */
static pm_status pm__conv_plan_slot(pm__conv *c, const pm_box_type *from,
                                    const pm_box_type *to, void *slot) {
    void *box = pm__field_box(slot);
    if (box == NULL) {
        return PM_OK;
    }
    if (!pm__box_unique(from, box)) {
        pm__conv_copy *log = pm__conv_log_room(c);
        if (log == NULL) {
            return PM_ENOMEM;
        }
        void *copy = NULL;
        pm_status status = pm__conv_copy_deep(c, from, to, box, &copy);
        if (status != PM_OK) {
            return status;
        }
        log->slot = slot;
        log->old = box;
        log->from = from;
        pm__conv_log_add(c);
        pm__slot_set(slot, copy, PM__CONV_COPIED);
        return PM_OK;
    }
    pm_status status = pm__cell_unborrowed(from, box);
    if (status != PM_OK) {
        return status;
    }
    void *result = box;
    uintptr_t tag = 0;
    if (!pm__conv_in_place(from, to)) {
        result = pm__box_memory(to, to->box_size);
        if (result == NULL) {
            return PM_ENOMEM;
        }
        pm__slot_set(pm__conv_origin_at(to, result), box, 0);
        tag = PM__CONV_MOVED;
    }
    if (from->field_count != 0) {
        pm__conv_rec *rec = result;
        rec->next = c->todo;
        rec->from = (uintptr_t)from | tag;
        c->todo = rec;
    }
    pm__slot_set(slot, result, tag);
    return PM_OK;
}

/* The fields of a unique box (or of the old box of a move) whose type changes. */
static pm_status pm__conv_plan_fields(pm__conv *c, pm__conv_rec *rec) {
    const pm_box_type *from = pm__rec_from(rec);
    const pm_box_type *to = pm__conv_target(c, from);
    char *value = pm__value_of(from, pm__rec_source(rec, to));
    for (size_t k = 0; k < from->field_count; k++) {
        if (from->fields[k].type != to->fields[k].type) {
            pm_status status = pm__conv_plan_slot(c, from->fields[k].type, to->fields[k].type,
                                                  value + from->fields[k].offset);
            if (status != PM_OK) {
                return status;
            }
        }
    }
    return PM_OK;
}

/* --- commit -------------------------------------------------------------------- */

/* The value of `old` moves to `moved`, which gets its header; `old` is freed. */
static void pm__conv_move(const pm_box_type *from, const pm_box_type *to, void *old,
                          void *moved) {
    pm__copy_bytes(pm__value_of(to, moved), pm__value_of(from, old), from->value_size);
    pm__cell_forget(from, from->cell, old);
    pm_free(old, from->box_size);
    pm__conv_init(to, moved);
}

/* A planned slot gets its final box. A box with fields is finished by its record. */
static void pm__conv_commit_slot(const pm_box_type *from, const pm_box_type *to, void *slot) {
    uintptr_t planned = pm__slot_get(slot);
    void *box = pm__slot_box(planned);
    if (box == NULL) {
        return;
    }
    if ((planned & PM__CONV_TAGS) == 0) {
        if (from->field_count == 0) {
            pm__conv_reinit(from, to, box); /* in place */
        }
        return;
    }
    if ((planned & PM__CONV_MOVED) != 0 && from->field_count == 0) {
        pm__conv_move(from, to, pm__field_box(pm__conv_origin_at(to, box)), box);
    }
    pm__slot_set(slot, box, 0);
}

static void pm__conv_commit(pm__conv *c, const pm_box_type *from, const pm_box_type *to,
                            void *root) {
    pm__conv_rec *rec = c->planned;
    while (rec != NULL) {
        pm__conv_rec *next = rec->next;
        const pm_box_type *rec_from = pm__rec_from(rec);
        const pm_box_type *rec_to = pm__conv_target(c, rec_from);
        void *source = pm__rec_source(rec, rec_to);
        char *value = pm__value_of(rec_from, source);
        for (size_t k = 0; k < rec_from->field_count; k++) {
            if (rec_from->fields[k].type != rec_to->fields[k].type) {
                pm__conv_commit_slot(rec_from->fields[k].type, rec_to->fields[k].type,
                                     value + rec_from->fields[k].offset);
            }
        }
        if (source != rec) {
            pm__conv_move(rec_from, rec_to, source, rec);
        } else {
            pm__conv_reinit(rec_from, rec_to, rec);
        }
        rec = next;
    }
    pm__conv_commit_slot(from, to, root);
    pm__conv_log_end(c, true);
}

/* --- undo ---------------------------------------------------------------------- */

/* A planned slot gets its old box back; a leaf's new box is freed (a record's is
 * freed with the records). Copies were undone by the log. */
static void pm__conv_undo_slot(const pm_box_type *from, const pm_box_type *to, void *slot) {
    uintptr_t planned = pm__slot_get(slot);
    if ((planned & PM__CONV_MOVED) == 0) {
        return;
    }
    void *moved = pm__slot_box(planned);
    void *old = pm__field_box(pm__conv_origin_at(to, moved));
    if (from->field_count == 0) {
        pm_free(moved, to->box_size);
    }
    pm__slot_set(slot, old, 0);
}

static void pm__conv_undo_list(pm__conv *c, pm__conv_rec *list, bool slots) {
    while (list != NULL) {
        pm__conv_rec *rec = list;
        const pm_box_type *from = pm__rec_from(rec);
        const pm_box_type *to = pm__conv_target(c, from);
        list = rec->next;
        if (slots) {
            char *value = pm__value_of(from, pm__rec_source(rec, to));
            for (size_t k = 0; k < from->field_count; k++) {
                if (from->fields[k].type != to->fields[k].type) {
                    pm__conv_undo_slot(from->fields[k].type, to->fields[k].type,
                                       value + from->fields[k].offset);
                }
            }
        } else if ((rec->from & PM__CONV_MOVED) != 0) {
            pm_free(rec, to->box_size); /* the old box was never touched */
        } else {
            pm__counts_init(from, from->counter, rec); /* the header it lent to the list */
            pm__cell_init(from, from->cell, rec, false);
        }
    }
}

static void pm__conv_undo(pm__conv *c, const pm_box_type *from, const pm_box_type *to,
                          void *root) {
    pm__conv_log_end(c, false);
    pm__conv_undo_slot(from, to, root);
    /* Slots first, while every new box still holds its old box's address (the slots of
     * the boxes still to plan are untouched), then the records' headers. */
    pm__conv_undo_list(c, c->planned, true);
    pm__conv_undo_list(c, c->planned, false);
    pm__conv_undo_list(c, c->todo, false);
}

pm_status pm_box_convert(const pm_box_type *from, const pm_box_type *to, void *box, void **out) {
    if (from == NULL || to == NULL || box == NULL || out == NULL || from == to) {
        return PM_EINVAL;
    }
    pm__conv c;
    c.policy = to->policy;
    c.last_from = NULL;
    c.last_to = NULL;
    c.todo = NULL;
    c.planned = NULL;
    c.local_copies = 0;
    c.chunks = NULL;
    if (pm__conv_target(&c, from) != to) {
        return PM_EINVAL; /* not the same type under another policy of the module */
    }
    void *root = box;
    pm_status status = pm__conv_plan_slot(&c, from, to, &root);
    while (status == PM_OK && c.todo != NULL) {
        pm__conv_rec *rec = c.todo;
        c.todo = rec->next;
        rec->next = c.planned;
        c.planned = rec;
        status = pm__conv_plan_fields(&c, rec);
    }
    if (status != PM_OK) {
        pm__conv_undo(&c, from, to, &root);
        return status;
    }
    pm__conv_commit(&c, from, to, &root);
    *out = root;
    return PM_OK;
}
