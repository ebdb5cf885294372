/* pm_box.h — storage: the heap box. The allocator every box comes from, the
 * const descriptor (pm_box_type) each generated handle type hands to the
 * runtime, and the cold paths of a box written once for every type:
 * creation, copy on write, destruction without recursion, the value's clone
 * and drop, and the contended _load (pm_box.c).
 *
 * A box is laid out by generated code as
 *     struct { <counter> rc; [<cell> cell;] T value; [pm_snap_word snap[];] }
 * with the counter first; a box whose value holds handles wraps rc and cell
 * in a union with pm_dead, so that a dying box's header becomes the destroy
 * list's link. A type with weak references (weak: true) has a second count
 * after rc, `weak` (the weak references, plus one for all owners together),
 * and its link shares a union with the cell only: rc must still read 0 for
 * weak references while the box is dying. The descriptor records the sizes
 * and offsets of that layout.
 *
 * A sum type (variants:) has one box size per variant: its value starts with
 * the tag (an enum, int-sized), and a box holds only the bytes up to the end
 * of its variant's fields. The descriptor's `variants` table, indexed by the
 * tag, gives each variant's sizes and managed fields; every cold path reads a
 * box's sizes and fields through it (pm_variant).
 */
#ifndef PM_BOX_H
#define PM_BOX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h> /* malloc, for the inline pm_alloc */

#include "pm_metrics.h"
#include "pm_status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------------ */
/* Allocation                                                                */
/* ------------------------------------------------------------------------ */

/* All boxes are allocated through these. Default: malloc/free. */
typedef void *(*pm_alloc_fn)(size_t size, void *ctx);
typedef void (*pm_free_fn)(void *ptr, size_t size, void *ctx);

/* Memory for a box of a type with `box_align`: `size` bytes (a multiple of `align`, a
 * power of two) at a multiple of `align`; freed by the pm_free_fn installed with it. */
typedef void *(*pm_alloc_aligned_fn)(size_t size, size_t align, void *ctx);

/* Replace the allocator (NULL, NULL restores malloc/free). Not thread-safe
 * with respect to concurrent allocation: set it before using boxes. The boxes
 * of a type with `box_align` then come from `alloc` too, placed as it places
 * any memory: pm_set_allocator_aligned gives them a hook that aligns them. */
void pm_set_allocator(pm_alloc_fn alloc, pm_free_fn free_fn, void *ctx);

/* The same, with `alloc_aligned` for the boxes of types with `box_align` (NULL:
 * `alloc`, as pm_set_allocator). */
void pm_set_allocator_aligned(pm_alloc_fn alloc, pm_alloc_aligned_fn alloc_aligned,
                              pm_free_fn free_fn, void *ctx);

/* The installed allocation hook; NULL: malloc (pm_set_allocator's business only). */
extern pm_alloc_fn pm__alloc_hook;
extern void *pm__alloc_ctx;

/* pm_alloc_aligned with an allocator installed: its aligned hook, else its hook. */
void *pm__alloc_aligned_hooked(size_t size, size_t align);

/* Inline, so the default allocator costs a test and a call of malloc. (pm_free stays a
 * call, a test and a tail jump to free: inline, it made gcc 12 see a use of an
 * uninitialized variant in sum-type matches, -Wmaybe-uninitialized in bench/perceus.) */
static inline void *pm_alloc(size_t size) {
    pm_alloc_fn hook = pm__alloc_hook;
    return PM_LIKELY(hook == NULL) ? malloc(size) : hook(size, pm__alloc_ctx);
}

void pm_free(void *ptr, size_t size); /* NULL: nothing */

/* The bytes of a box of a type with `box_align: align` (a power of two): its size
 * rounded up to a multiple of align, so that no other allocation shares its last line. */
#define PM_BOX_ALIGN_UP(size, align) (((size) + ((size_t)(align) - 1u)) & ~((size_t)(align) - 1u))

/* Whether `p` is a multiple of `align` (a power of two): reused memory suits such a box. */
static inline bool pm_alloc_is_aligned(const void *p, size_t align) {
    return ((uintptr_t)p & (align - 1u)) == 0;
}

/* The boxes of a type with `box_align`: `size` bytes (a multiple of `align`, a power of
 * two) at a multiple of `align`, so that a contended box's count, lock and value start
 * on one cache line (64) and share none with other memory. The default allocator gives
 * them aligned_alloc (malloc when its alignment suffices); an installed allocator, its
 * aligned hook (pm_set_allocator_aligned), else its plain one. pm_free frees them. */
static inline void *pm_alloc_aligned(size_t size, size_t align) {
    if (PM_LIKELY(pm__alloc_hook == NULL)) {
        return align <= PM_ALIGNOF(max_align_t) ? malloc(size) : aligned_alloc(align, size);
    }
    return pm__alloc_aligned_hooked(size, align);
}

/* ------------------------------------------------------------------------ */
/* The descriptor of a box type                                              */
/* ------------------------------------------------------------------------ */

/* The building blocks, as the descriptor names them. */
typedef enum pm_counter_kind { PM_COUNTER_PLAIN = 1, PM_COUNTER_ATOMIC } pm_counter_kind;
typedef enum pm_cell_kind { PM_CELL_NONE = 0, PM_CELL_BORROW, PM_CELL_RWLOCK } pm_cell_kind;

typedef struct pm_box_type pm_box_type;

/* A managed field of the value: a handle (one box pointer) at `offset`; an
 * owner, or a weak reference (`weak`) for a {weak: M} field. */
typedef struct pm_field {
    size_t offset;
    const pm_box_type *type;
    bool weak;
} pm_field;

/* One shape of a box: its bytes, its value's bytes and its managed fields. A
 * sum type has one per variant; other types have their descriptor's. */
typedef struct pm_variant {
    size_t box_size;   /* bytes allocated per box of this variant */
    size_t value_size; /* the value's bytes: the tag and this variant's fields */
    const pm_field *fields;
    size_t field_count;
} pm_variant;

/* The bytes of a box of variant `member` of sum type `value_type`, and of its value. */
#define PM_VARIANT_VALUE_SIZE(value_type, member) \
    (offsetof(value_type, member) + sizeof(((value_type *)0)->member))
#define PM_VARIANT_BOX_SIZE(box_type, value_type, member) \
    (offsetof(box_type, value) + PM_VARIANT_VALUE_SIZE(value_type, member))
/* The same for a variant without fields: the value is its tag. */
#define PM_NULLARY_BOX_SIZE(box_type, tag_type) (offsetof(box_type, value) + sizeof(tag_type))

struct pm_box_type {
    const char *name;    /* the handle type: lock names (PM_DEBUG), metrics */
    size_t box_size;     /* bytes allocated per box, snapshot included */
    size_t box_align;    /* boxes start at a multiple of it (box_align:); 0: as pm_alloc's */
    size_t value_offset; /* where T lives in the box */
    size_t value_size;   /* sizeof(T) */
    size_t cell_offset;  /* where the cell lives (cell != PM_CELL_NONE) */
    size_t snap_offset;  /* the snapshot words; 0: no snapshot (none, or T too wide) */
    size_t weak_offset;  /* the weak count; 0: the type has no weak references */
    size_t dead_offset;  /* where a dying box keeps its destroy list link (pm_dead) */
    pm_counter_kind counter;
    pm_cell_kind cell;
    /* Clones a value (NULL: a bitwise copy, then one more owner per managed field). */
    pm_status (*clone)(void *dst, const void *src);
    /* Drops a value's resources (NULL: nothing besides its managed fields). */
    void (*drop)(void *value);
    const pm_field *fields; /* managed fields, dropped without recursion */
    size_t field_count;
    /* Sum types: the shape of each variant, indexed by the tag (an int-sized enum at
     * the start of the value); NULL otherwise. box_size and value_size above are
     * then the largest variant's, and fields are the variants'. */
    const pm_variant *variants;
    size_t variant_count;
    pm_metrics *metrics; /* NULL unless built with PM_METRICS */
    /* Conversion between policies (pm_box_convert); zero for a type under one policy. */
    size_t policy;                    /* this policy's index among the module's policies */
    const pm_box_type *const *family; /* the same type under each of its policies, by index */
    size_t family_count;
};

/* ------------------------------------------------------------------------ */
/* Cold paths                                                                */
/* ------------------------------------------------------------------------ */

/* A box with count 1 and a free cell, value unset; NULL when allocation fails. */
void *pm_box_alloc(const pm_box_type *type);

/* The last owner left: drop the value, free the box. Boxes whose fields lose
 * their last owner too are queued, not recursed into: constant C stack.
 * A box still borrowed (a scope that outlived its last owner) is not freed:
 * its cell is marked orphaned, and the guard that ends its last borrow calls
 * pm_box_destroy again (the cell's release verb returns true then). */
void pm_box_destroy(const pm_box_type *type, void *box);

/* A box for _new_cyclic: no owner yet (count 0), one weak reference (the one
 * lent to init, which becomes the owners' one), no cell yet; NULL on failure. */
void *pm_box_alloc_cyclic(const pm_box_type *type);

/* _new_cyclic's init succeeded: the cell, the snapshot, then the first owner
 * (upgrades succeed from here on). */
void pm_box_publish_cyclic(const pm_box_type *type, void *box);

/* One weak reference fewer; the last one frees the memory (the value is gone). */
void pm_box_weak_drop(const pm_box_type *type, void *box);

/* Copy on write: clone the shared box's value into a new box, held for write
 * by the caller (count 1), and give up the caller's owner of `shared`. A box
 * with one owner and weak references (weak: true) is not cloned: the value
 * moves to the new box and the weak references stay with the old one, which
 * they can no longer upgrade (Rust's Arc::make_mut).
 * `wait`: wait up to timeout_ns for a writer of `shared` to finish. On any
 * failure (the borrow's status, PM_ENOMEM, PM_ECLONE) nothing has changed. */
pm_status pm_box_copy_for_write(const pm_box_type *type, void *shared, void **out, bool wait,
                                uint64_t timeout_ns);

/* _load's slow path. A lock with a snapshot: retry the snapshot briefly, then
 * copy under a read lock, waiting for the publisher to finish. A lock without
 * one (value too wide): a read lock tried for a brief spin, else PM_EBUSY.
 * A borrow cell: a try (PM_EBORROWED). Never waits on the caller's own borrow. */
pm_status pm_box_load_contended(const pm_box_type *type, void *box, void *out);

/* Moving the value out of a box its caller is the only owner of: if no borrow is held,
 * copies the value's bytes to `out` (no clone, no drop hook) and frees the box; otherwise
 * the borrow's status (PM_EBORROWED, PM_EBUSY) and nothing changes. With weak references
 * (weak: true) the owner count goes 1 -> 0 first (PM_ESHARED if an upgrade came first;
 * a count already 0 is the caller's own last release), and the memory stays for them. */
pm_status pm_box_take(const pm_box_type *type, void *box, void *out);

/* A clone of a shared box's value into `out`, under a read borrow (not waiting). PM_OK, the
 * borrow's status, PM_ENOMEM or PM_ECLONE; on failure `out` is unspecified, nothing leaks. */
pm_status pm_box_clone_out(const pm_box_type *type, void *box, void *out);

/* Conversion between policies (the generated Managed_N_P_to_Q): `box`, of which the
 * caller holds one owner, becomes a box of `to`, the same type under another policy
 * of the module (`to` is in from->family). A unique box (count 1, no borrow held)
 * keeps its value without a clone: in place, without allocating, when the two box
 * layouts have the same size (the value moves inside the box if their value offsets
 * differ), else moved (its bytes, no hook) to a new box; a shared one is cloned into
 * a new box (clone hook, or a copy whose managed fields gain an owner) and the
 * caller's owner of it is given up. Every managed field whose type differs between the
 * two (one without an explicit policy) is converted the same way, without recursion.
 * PM_OK: *out is the new box, the caller's owner of `box` is consumed. Otherwise
 * nothing has changed (every allocation made is freed): PM_EINVAL (NULL, `to` not of
 * from's family), a held borrow's status (PM_EBORROWED, PM_EBUSY; also PM_EOVERFLOW
 * when a shared box cannot be read), PM_ENOMEM, PM_ECLONE. */
pm_status pm_box_convert(const pm_box_type *from, const pm_box_type *to, void *box, void **out);

/* The value's clone and drop: the generated N_P_clone / N_P_drop and the hook thunks.
 * Clone: PM_OK, PM_EINVAL (NULL), PM_ENOMEM or PM_ECLONE from a hook. Drop
 * leaves every managed field empty. */
pm_status pm_value_clone(const pm_box_type *type, void *dst, const void *src);
void pm_value_drop(const pm_box_type *type, void *value);

/* ------------------------------------------------------------------------ */
/* Perceus reuse: a dead box's memory for the next box of the same size      */
/* ------------------------------------------------------------------------ */

/* At most one dead box's memory, kept for the next box of the same size, of
 * any type. Zero-initialized: empty. Not shared between threads. */
typedef struct pm_reuse {
    void *memory; /* NULL: empty */
    size_t size;
} pm_reuse;

/* Frees the memory a token holds (if any); the token is empty after. NULL: nothing.
 * Inline: an empty token costs one test, and the token's address never reaches a
 * call, so a compiler keeps the token in registers. */
static PM_ALWAYS_INLINE void pm_reuse_drop(pm_reuse *token) {
    if (token != NULL && token->memory != NULL) {
        pm_free(token->memory, token->size);
        token->memory = NULL;
        token->size = 0;
    }
}

/* Memory for a new box of `type` (of a sum type: its largest variant): the token's
 * when it holds that size, else a fresh allocation (the token's other memory is
 * freed first). The token is empty afterwards, also when this fails (NULL). The
 * generated _new_reuse and _new_V_reuse do the same inline, at the variant's size. */
void *pm_reuse_alloc(pm_reuse *token, const pm_box_type *type);

/* _drop_reuse: the caller's release ended the last owner: drop the value (hook,
 * fields, without recursion) and keep the box's memory in *token, freeing what
 * it held. A box still borrowed or weakly referenced goes the ordinary way,
 * and the token is left as it was. A NULL token: pm_box_destroy. */
void pm_box_destroy_reuse(const pm_box_type *type, void *box, pm_reuse *token);

/* _take_reuse: pm_box_take, with the memory going to *token (freeing what it
 * held) instead of being freed; a weakly referenced box's memory stays with its
 * weak references. On failure nothing changes, the token included. */
pm_status pm_box_take_reuse(const pm_box_type *type, void *box, void *out, pm_reuse *token);

/* A dead box's header, reused as the destroy list's link. */
typedef struct pm_dead pm_dead;
struct pm_dead {
    pm_dead *next;
    const pm_box_type *type;
};

#ifdef __cplusplus
}
#endif

#endif /* PM_BOX_H */
