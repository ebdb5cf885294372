/* pm_region.h — storage: the region (arena). Values are allocated by bumping a
 * pointer through chunks taken from pm_alloc, and freed all at once by
 * pm_region_reset or pm_region_fini, which first run the drops of everything
 * allocated since, newest first. The inline fast path of a local region is
 * here; the slow paths (a new chunk, a shared region's bump, reset, fini) are
 * in pm_region.c. Part of the runtime: include "pm.h", which includes every
 * public header.
 */
#ifndef PM_REGION_H
#define PM_REGION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pm_box.h"
#include "pm_status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------------ */
/* Region                                                                    */
/*                                                                           */
/* Memory: a list of chunks, newest first, each from pm_alloc. An allocation  */
/* takes bytes from the newest chunk; when they run out a new chunk is        */
/* linked in front, twice the size of the one before (PM_REGION_FIRST_CHUNK   */
/* up to PM_REGION_MAX_CHUNK), or as big as one allocation needs. What was   */
/* left in the old chunk is not used again until reset. Reset keeps the     */
/* newest chunk, the largest: a region reset and filled alike again and     */
/* again soon fits in it, and then allocates no chunk at all. A chunk's     */
/* bytes are aligned as pm_alloc's memory must be (for max_align_t); more    */
/* alignment is reached by padding.                                         */
/*                                                                           */
/* Drops: an allocation whose value has something to drop (a drop hook, or    */
/* managed fields) is preceded in its chunk by a pm_region_record: the value's */
/* address, drop function and descriptor, and the record before it. The      */
/* records form one list, newest first; reset and fini walk it, so values are */
/* dropped newest first, then the memory goes. Values with nothing to drop    */
/* record nothing.                                                           */
/*                                                                           */
/* local (shared == false): ptr/end bound the free bytes of the newest chunk  */
/*   and `drops` is the newest record, all plain fields: an allocation is an  */
/*   align, a compare and two stores (five more with a record), inline, and   */
/*   no atomic operation. One thread at a time.                              */
/* shared (shared == true): `current` is the newest chunk, and the chunk's    */
/*   own `used` count its taken bytes. An allocation takes its bytes with one */
/*   fetch_add on `used` (relaxed: bytes are all it orders; the chunk itself  */
/*   was published by `current`'s release); a thread that finds the chunk     */
/*   full allocates a new one and installs it with a CAS on `current`         */
/*   (release; it links the chunk it replaces, so the list is never torn); a  */
/*   thread that loses the CAS frees its chunk and retries on the winner's.   */
/*   Records are pushed on `shared_drops` with a CAS (release). No lock.      */
/*   Any number of threads may allocate at once.                             */
/*                                                                           */
/* Reset and fini run on one thread, with no allocation in flight: the caller */
/* orders them after every allocation (a join, a lock, a barrier). A drop     */
/* must not allocate in the region it is dropped from. Chunks are freed only  */
/* by reset and fini, so a pointer into a region stays valid until then.     */
/* ------------------------------------------------------------------------ */

#define PM_REGION_FIRST_CHUNK 4096u    /* bytes of the first chunk, header included */
#define PM_REGION_MAX_CHUNK 67108864u  /* chunks stop doubling here (64 MiB) */
#define PM_REGION_STEP 8u              /* a local region takes bytes in multiples of this */

/* The drop a record runs: pm_value_drop (pm_box.h) with the value's descriptor. */
typedef void (*pm_region_drop_fn)(const pm_box_type *type, void *value);

/* What precedes a value with something to drop, in its chunk. */
typedef struct pm_region_record pm_region_record;
struct pm_region_record {
    pm_region_record *prev; /* the record before this one, NULL for the first */
    void *value;            /* right after the record (and its padding) */
    pm_region_drop_fn drop;
    const pm_box_type *type;
};

typedef struct pm_region_chunk pm_region_chunk; /* pm_region.c */

typedef struct pm_region {
    /* local */
    char *ptr;              /* the newest chunk's next free byte (NULL: no chunk yet) */
    char *end;              /* one past its last byte */
    pm_region_record *drops; /* the newest record, NULL when there is none */
    pm_region_chunk *chunks; /* the newest chunk */
    /* shared */
    PM_ATOMIC(pm_region_chunk *) current;
    PM_ATOMIC(pm_region_record *) shared_drops;
    bool shared;
} pm_region;

/* An empty region (no memory yet: the first allocation takes a chunk).
 * PM_OK, or PM_EINVAL for NULL. */
pm_status pm_region_init(pm_region *r, bool shared);

/* Runs the drops of every value allocated since init or the last reset, newest
 * first, and frees every chunk but the newest, which is kept for what comes
 * next. Pointers into the region are invalid afterwards. NULL: nothing. */
void pm_region_reset(pm_region *r);

/* Runs the drops, newest first, and frees every chunk; the region is empty
 * (init it again to use it). NULL: nothing. */
void pm_region_fini(pm_region *r);

/* Out of line: a shared region's allocation, and a local one's when the
 * newest chunk is full. */
pm_status pm_region_alloc_slow(pm_region *r, size_t size, size_t align, pm_region_drop_fn drop,
                               const pm_box_type *type, void **out);

/* Bytes before a value of alignment `align` that has a record: the record,
 * padded so that the value after it is aligned. */
static inline size_t pm_region_record_space(size_t align) {
    return (sizeof(pm_region_record) + align - 1) & ~(align - 1);
}

/* `size` bytes aligned to `align` (a power of two) in *out; with a `drop`, a
 * record that runs drop(type, value) at reset/fini. The caller stores the
 * value before the region's next reset. PM_OK; PM_ENOMEM (a chunk could not
 * be allocated) or PM_EINVAL (NULL, an alignment that is not a power of two):
 * then nothing has changed. A local region, when the bytes fit in its newest
 * chunk, inline with no atomic operation. */
static PM_ALWAYS_INLINE pm_status pm_region_alloc(pm_region *r, size_t size, size_t align,
                                                  pm_region_drop_fn drop,
                                                  const pm_box_type *type, void **out) {
    if (PM_UNLIKELY(r == NULL || out == NULL || align == 0 || (align & (align - 1)) != 0)) {
        return PM_EINVAL;
    }
    size += size == 0; /* every value has an address of its own */
    if (drop != NULL && align < PM_ALIGNOF(pm_region_record)) {
        align = PM_ALIGNOF(pm_region_record);
    }
    if (PM_LIKELY(!r->shared && size <= SIZE_MAX / 2 && align <= SIZE_MAX / 4)) {
        size_t head = drop != NULL ? pm_region_record_space(align) : 0;
        /* A local region's ptr stays a multiple of PM_REGION_STEP: a value aligned to
         * no more than that needs no aligning, and its test is one compare. */
        size_t taken = (size + (PM_REGION_STEP - 1)) & ~(size_t)(PM_REGION_STEP - 1);
        uintptr_t ptr = (uintptr_t)r->ptr, end = (uintptr_t)r->end, at = ptr;
        if (align > PM_REGION_STEP) {
            at = (ptr + (align - 1)) & ~(uintptr_t)(align - 1);
            at = at <= end ? at : end; /* past the end: no room (the test below fails) */
        }
        if (PM_LIKELY(end - at >= head + taken)) {
            char *block = r->ptr + (at - ptr);
            r->ptr = block + head + taken;
            if (drop != NULL) {
                pm_region_record *record = (pm_region_record *)(void *)block;
                record->prev = r->drops;
                record->value = block + head;
                record->drop = drop;
                record->type = type;
                r->drops = record;
            }
            *out = block + head;
            return PM_OK;
        }
    }
    return pm_region_alloc_slow(r, size, align, drop, type, out);
}

#ifdef __cplusplus
}
#endif

#endif /* PM_REGION_H */
