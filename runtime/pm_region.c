/* pm_region.c — the region's slow paths: a new chunk, a shared region's
 * allocation, reset and fini. The state and its orderings are described in
 * pm_region.h. */
#include "pm.h"

#include <stddef.h>
#include <string.h>

/* A chunk: its header, then `size` bytes aligned for any type. */
struct pm_region_chunk {
    pm_region_chunk *prev; /* the chunk before this one (older), NULL for the oldest */
    size_t size;           /* bytes of data[] */
    /* shared: bytes of data[] taken; may pass `size` by the adds that found the
     * chunk full (those bytes are not used). Unused by a local region. */
    PM_ATOMIC(size_t) used;
    max_align_t data[];
};

/* Chunks' data is aligned to this; a shared region takes bytes in multiples of it. */
#define PM__REGION_GRAIN (_Alignof(max_align_t))
#define PM__REGION_HEADER offsetof(pm_region_chunk, data)

static char *pm__chunk_data(pm_region_chunk *chunk) { return (char *)chunk->data; }

static size_t pm__chunk_bytes(const pm_region_chunk *chunk) {
    return PM__REGION_HEADER + chunk->size;
}

/* A chunk after `prev` (NULL: the first) with room for `need` bytes: twice prev's
 * size up to PM_REGION_MAX_CHUNK, or bigger when `need` asks. NULL when `need`
 * is too big or pm_alloc fails. `used` is 0, `prev` unset. */
static pm_region_chunk *pm__chunk_new(const pm_region_chunk *prev, size_t need) {
    size_t bytes = PM_REGION_FIRST_CHUNK;
    if (prev != NULL) {
        size_t before = pm__chunk_bytes(prev);
        bytes = before >= PM_REGION_MAX_CHUNK / 2 ? PM_REGION_MAX_CHUNK : 2 * before;
    }
    if (need > SIZE_MAX - PM__REGION_HEADER - PM__REGION_GRAIN) {
        return NULL;
    }
    if (bytes - PM__REGION_HEADER < need) {
        bytes = PM__REGION_HEADER + need;
        bytes += PM__REGION_GRAIN - 1 - (bytes + PM__REGION_GRAIN - 1) % PM__REGION_GRAIN;
    }
    pm_region_chunk *chunk = (pm_region_chunk *)pm_alloc(bytes);
    if (chunk != NULL) {
        chunk->prev = NULL;
        chunk->size = bytes - PM__REGION_HEADER;
        atomic_init(&chunk->used, (size_t)0);
    }
    return chunk;
}

/* The bytes an allocation needs from a fresh chunk (or PM_ENOMEM's SIZE_MAX):
 * the record's, the value's, and what aligning may skip past the chunk's grain. */
static size_t pm__region_need(size_t size, size_t head, size_t align) {
    size_t extra = align > PM__REGION_GRAIN ? align - PM__REGION_GRAIN : 0;
    if (size > SIZE_MAX / 4 || head + extra > SIZE_MAX / 4) {
        return SIZE_MAX;
    }
    size_t need = head + size + extra;
    return need + (PM__REGION_GRAIN - need % PM__REGION_GRAIN) % PM__REGION_GRAIN;
}

static pm_status pm__region_alloc_local(pm_region *r, size_t size, size_t align,
                                        pm_region_drop_fn drop, const pm_box_type *type,
                                        void **out) {
    size_t need = pm__region_need(size, drop != NULL ? pm_region_record_space(align) : 0, align);
    pm_region_chunk *chunk = need == SIZE_MAX ? NULL : pm__chunk_new(r->chunks, need);
    if (chunk == NULL) {
        return PM_ENOMEM;
    }
    chunk->prev = r->chunks;
    r->chunks = chunk;
    r->ptr = pm__chunk_data(chunk);
    r->end = r->ptr + chunk->size;
    return pm_region_alloc(r, size, align, drop, type, out); /* fits: `need` bytes are free */
}

static pm_status pm__region_alloc_shared(pm_region *r, size_t size, size_t align,
                                         pm_region_drop_fn drop, const pm_box_type *type,
                                         void **out) {
    size_t head = drop != NULL ? pm_region_record_space(align) : 0;
    size_t need = pm__region_need(size, head, align);
    if (need == SIZE_MAX) {
        return PM_ENOMEM;
    }
    char *block;
    /* Acquire: the chunk's header, written before the CAS that installed it. */
    pm_region_chunk *chunk = atomic_load_explicit(&r->current, memory_order_acquire);
    for (;;) {
        if (chunk != NULL && need <= chunk->size) {
            /* Relaxed: the bytes are this thread's alone; nothing else to order. */
            size_t at = atomic_fetch_add_explicit(&chunk->used, need, memory_order_relaxed);
            if (at <= chunk->size - need) {
                block = pm__chunk_data(chunk) + at;
                break;
            }
        }
        pm_region_chunk *fresh = pm__chunk_new(chunk, need);
        if (fresh == NULL) {
            return PM_ENOMEM;
        }
        fresh->prev = chunk;
        atomic_init(&fresh->used, need); /* the first `need` bytes are ours */
        /* Release: publishes fresh's header (and its link to chunk). On failure,
         * acquire: the winner's chunk, whose header we read next. */
        if (atomic_compare_exchange_strong_explicit(&r->current, &chunk, fresh,
                                                    memory_order_acq_rel,
                                                    memory_order_acquire)) {
            block = pm__chunk_data(fresh);
            break;
        }
        pm_free(fresh, pm__chunk_bytes(fresh)); /* another thread installed one: use it */
    }
    uintptr_t at = ((uintptr_t)block + (align - 1)) & ~(uintptr_t)(align - 1);
    block += at - (uintptr_t)block;
    if (drop != NULL) {
        pm_region_record *record = (pm_region_record *)(void *)block;
        record->value = block + head;
        record->drop = drop;
        record->type = type;
        /* Relaxed load: the CAS below checks it. Release: the record's fields are
         * written before it is reachable (reset also follows a join of its own). */
        pm_region_record *newest = atomic_load_explicit(&r->shared_drops, memory_order_relaxed);
        do {
            record->prev = newest;
        } while (!atomic_compare_exchange_weak_explicit(&r->shared_drops, &newest, record,
                                                        memory_order_release,
                                                        memory_order_relaxed));
    }
    *out = block + head;
    return PM_OK;
}

pm_status pm_region_alloc_slow(pm_region *r, size_t size, size_t align, pm_region_drop_fn drop,
                               const pm_box_type *type, void **out) {
    if (r == NULL || out == NULL || align == 0 || (align & (align - 1)) != 0) {
        return PM_EINVAL;
    }
    return r->shared ? pm__region_alloc_shared(r, size, align, drop, type, out)
                     : pm__region_alloc_local(r, size, align, drop, type, out);
}

pm_status pm_region_init(pm_region *r, bool shared) {
    if (r == NULL) {
        return PM_EINVAL;
    }
    r->ptr = NULL;
    r->end = NULL;
    r->drops = NULL;
    r->chunks = NULL;
    atomic_init(&r->current, (pm_region_chunk *)NULL);
    atomic_init(&r->shared_drops, (pm_region_record *)NULL);
    r->shared = shared;
    return PM_OK;
}

/* Runs every record's drop, newest first, and empties the list; returns the
 * newest chunk. The caller has ordered this after every allocation (pm_region.h):
 * relaxed loads suffice, acquire costs nothing here and pairs with the pushes. */
static pm_region_chunk *pm__region_drop_all(pm_region *r) {
    pm_region_record *record;
    pm_region_chunk *newest;
    if (r->shared) {
        record = atomic_load_explicit(&r->shared_drops, memory_order_acquire);
        atomic_store_explicit(&r->shared_drops, (pm_region_record *)NULL, memory_order_relaxed);
        newest = atomic_load_explicit(&r->current, memory_order_acquire);
    } else {
        record = r->drops;
        r->drops = NULL;
        newest = r->chunks;
    }
    while (record != NULL) {
        pm_region_record *prev = record->prev; /* before the drop: it may scribble */
        record->drop(record->type, record->value);
        record = prev;
    }
    return newest;
}

static void pm__chunks_free(pm_region_chunk *chunk) {
    while (chunk != NULL) {
        pm_region_chunk *prev = chunk->prev;
        pm_free(chunk, pm__chunk_bytes(chunk));
        chunk = prev;
    }
}

void pm_region_reset(pm_region *r) {
    if (r == NULL) {
        return;
    }
    pm_region_chunk *kept = pm__region_drop_all(r);
    if (kept == NULL) {
        return;
    }
    pm__chunks_free(kept->prev);
    kept->prev = NULL;
    if (r->shared) {
        atomic_store_explicit(&kept->used, (size_t)0, memory_order_relaxed);
    } else {
        r->ptr = pm__chunk_data(kept);
        r->end = r->ptr + kept->size;
    }
}

void pm_region_fini(pm_region *r) {
    if (r == NULL) {
        return;
    }
    pm__chunks_free(pm__region_drop_all(r));
    (void)pm_region_init(r, r->shared);
}
