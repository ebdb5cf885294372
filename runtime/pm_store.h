/* pm_store.h — storage: the generational store. Values live in slots addressed
 * by {index, generation} handles, so a handle used after its value was freed gets
 * PM_EGONE instead of touching freed memory. The inline paths (lookup, borrows,
 * retain/release, a local store's allocation) are here; the cold ones (a fresh
 * slot, freeing a slot, a shared store's allocation, fini) are in pm_store.c.
 * Part of the runtime: include "pm.h", which includes every public header.
 */
#ifndef PM_STORE_H
#define PM_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pm_box.h"
#include "pm_status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------------ */
/* The slot's state word                                                     */
/*                                                                           */
/*   bits 63..32  generation: of the value in the slot, or of the next one    */
/*   bits 31..8   owners (retain/release); 0: no value (vacant, or dying)    */
/*   bit  7       writer: a try_get_unique borrow is held                    */
/*   bits  6..0   readers: get borrows held                                  */
/*                                                                           */
/* A handle {index, generation} is live when its slot's word has its         */
/* generation and owners > 0. Every call checks that and changes the word in */
/* one step (one CAS in a shared store; a local store's word is a plain one), */
/* so a check and what it allows can never be split by another thread.       */
/* A slot is freed by whoever takes the word to owners 0 with no borrow:     */
/* the last release, or the end of the last borrow after it (the drop waits  */
/* for borrows). Freeing drops the value, then advances the generation; a     */
/* slot whose generation would pass PM_STORE_GENERATION_MAX is retired (never */
/* reused), so no stale handle ever matches a new value.                      */
/* A count that reaches PM_STORE_OWNERS_MAX is sticky, as a box's saturated   */
/* count is: the value then lives until fini.                                */
/*                                                                           */
/* Memory: a store has shards (one when local; PM_STORE_SHARDS when shared,  */
/* a thread allocating from the shard its thread number picks). A shard's    */
/* slots lie in pages of 32, 64, 128, ... slots, taken from pm_alloc zeroed  */
/* when first needed and freed by fini only: a slot never moves, so a `get`  */
/* pointer stays valid while other threads allocate. A shard's free slots    */
/* form a stack (a Treiber stack, its head tagged against ABA in a shared    */
/* store); any thread may push a slot it frees on the slot's own shard.      */
/* No lock anywhere.                                                         */
/* ------------------------------------------------------------------------ */

#define PM_STORE_READERS 0x7fu                /* readers' bits: at most 127 get borrows */
#define PM_STORE_WRITER 0x80u                 /* the try_get_unique borrow */
#define PM_STORE_BORROWS 0xffu                /* readers and writer */
#define PM_STORE_OWNER 0x100u                 /* one owner */
#define PM_STORE_OWNERS_MAX 0xffffffu         /* 24 bits; sticky from here */
#ifndef PM_STORE_GENERATION_MAX
#define PM_STORE_GENERATION_MAX UINT32_MAX    /* a test build may force a small width */
#endif
#define PM_STORE_SHARDS 16u                   /* shards of a shared store (a power of 2) */
#define PM_STORE_SHARD_BITS 4u
#define PM_STORE_FIRST_PAGE 32u               /* slots in a shard's first page; each doubles */
#define PM_STORE_PAGES 28u                    /* every page a 32-bit local index can name */

static inline uint32_t pm_store_word_generation(uint64_t word) { return (uint32_t)(word >> 32); }
static inline uint32_t pm_store_word_owners(uint64_t word) { return (uint32_t)word >> 8; }
static inline uint32_t pm_store_word_readers(uint64_t word) {
    return (uint32_t)word & PM_STORE_READERS;
}
static inline bool pm_store_word_borrowed(uint64_t word) { return (word & PM_STORE_BORROWS) != 0; }
/* The handle's value is in the slot: its generation, and at least one owner. */
static inline bool pm_store_word_is_live(uint64_t word, uint32_t generation) {
    return pm_store_word_generation(word) == generation && pm_store_word_owners(word) != 0;
}
/* A slot freed at `generation` is retired, not reused: the next would pass the last one. */
static inline bool pm_store_generation_is_last(uint32_t generation) {
    return generation >= PM_STORE_GENERATION_MAX;
}
/* Nobody owns or borrows the value any more: whoever made the word so frees the slot. */
static inline bool pm_store_word_is_dead(uint64_t word) { return (uint32_t)word == 0; }

/* A store's words are plain objects: a shared store reaches them through the
 * GCC/Clang __atomic builtins, a local one by plain loads and stores, which the
 * compiler may keep in registers (every inline path takes `shared` as a constant).
 * A slot's header; the value follows at PM_STORE_VALUE_OFFSET. */
typedef struct pm_store_slot {
    uint64_t word;
    uint32_t next_free; /* the next free slot's local index + 1 (0: none) */
} pm_store_slot;

/* Where a value of alignment `align` starts in its slot, and a slot's size. */
#define PM_STORE_VALUE_OFFSET(align) \
    ((sizeof(pm_store_slot) + (size_t)(align) - 1u) & ~((size_t)(align) - 1u))
/* The value of type T in `slot` (a pm_store_slot *). */
#define PM_STORE_VALUE(slot, T) \
    ((T *)(void *)((unsigned char *)(slot) + PM_STORE_VALUE_OFFSET(PM_ALIGNOF(T))))
#define PM_STORE_SLOT_ALIGN(align) ((size_t)(align) > 8u ? (size_t)(align) : (size_t)8u)
#define PM_STORE_SLOT_SIZE(size, align)                                                    \
    ((PM_STORE_VALUE_OFFSET(align) + (size_t)(size) + PM_STORE_SLOT_ALIGN(align) - 1u) &  \
     ~(PM_STORE_SLOT_ALIGN(align) - 1u))

typedef struct pm_store_shard {
    uint64_t free_head; /* (pop count << 32) | (top's local index + 1) */
    int64_t live;       /* values allocated from here minus those freed here */
    uint32_t fresh;     /* slots ever handed out from the pages */
    unsigned char *pages[PM_STORE_PAGES];
} pm_store_shard;

/* One store of one type. Zero-initialized: not usable (init first); fini makes it so again.
 * A local store's one shard is `local`, in the store itself: a lookup is one load
 * less, and init allocates nothing. A shared store's shards are `shards`. */
typedef struct pm_store {
    pm_store_shard local;     /* the shard of a local store (unused when shared) */
    pm_store_shard *shards;   /* a shared store's shard_mask + 1, each on its own cache lines */
    size_t shard_stride;      /* bytes from one shard to the next */
    uint32_t shard_mask;      /* 0 when local */
    uint32_t shard_bits;      /* index = (local index << shard_bits) | shard */
    bool shared;              /* any thread may call at once (atomic operations) */
    size_t slot_size;
    size_t value_offset;
    const pm_box_type *type;  /* the value's type: its drop, its name (PM_DEBUG); NULL: zero */
    bool drops;               /* the value has something to drop (a hook, managed fields) */
} pm_store;

/* ------------------------------------------------------------------------ */
/* Runtime calls (the generated Store_N_P_* wrap them)                       */
/* ------------------------------------------------------------------------ */

/* An empty store of values of `slot_size`/`value_offset` (PM_STORE_SLOT_SIZE,
 * PM_STORE_VALUE_OFFSET) of `type`, dropped by pm_value_drop if `drops`. shared:
 * every call but init/fini may come from any thread at once. PM_OK, PM_EINVAL
 * (NULL, a zero slot size), PM_ENOMEM. */
pm_status pm_store_init(pm_store *s, bool shared, size_t slot_size, size_t value_offset,
                        const pm_box_type *type, bool drops);
/* Drops every value still in the store (owned, or borrowed after its last owner
 * left), frees its memory; the store is zero after. NULL: nothing. No other call
 * may be in flight. */
void pm_store_fini(pm_store *s);
/* Values in the store: allocated and not yet freed (a value whose last owner
 * left while borrowed counts until its borrow ends). A snapshot while threads run. */
size_t pm_store_len(const pm_store *s);

/* pm_store_take's out-of-line path: a shared store's allocation (from the
 * thread's shard), or a local store's with no free slot (a fresh one). */
pm_status pm_store_take_slow(pm_store *s, pm_store_slot **slot, uint32_t *index,
                             uint32_t *generation);
/* The slot at `index`, NULL if there is none (never allocated, out of range). */
static inline pm_store_slot *pm_store_slot_at(const pm_store *s, uint32_t index);
/* The slot was made dead by the caller: drop its value, advance or retire it. */
void pm_store_free_slot(const pm_store *s, pm_store_slot *slot, uint32_t index);
/* PM_DEBUG: a release of a borrow nobody held (reported, counted, ignored). */
void pm_store_release_mismatch(const pm_store *s, uint32_t index, bool unique);

/* ------------------------------------------------------------------------ */
/* Inline paths                                                              */
/* ------------------------------------------------------------------------ */

static inline pm_store_shard *pm__store_shard(const pm_store *s, uint32_t shard) {
    if (!s->shared) {
        return (pm_store_shard *)&s->local; /* the store's own words; const is the caller's */
    }
    return (pm_store_shard *)((unsigned char *)s->shards + (size_t)shard * s->shard_stride);
}

/* Page p holds the 32 * 2^p slots from 32 * (2^p - 1): local index i is in page
 * log2(i + 32) - 5, at (i + 32) - 2^(page + 5). Every 32-bit i names one of the
 * PM_STORE_PAGES pages, so a lookup needs no bounds check. */
static inline uint32_t pm__store_page_of(uint32_t local) {
    return 63u - (uint32_t)__builtin_clzll((uint64_t)local + PM_STORE_FIRST_PAGE) - 5u;
}

static PM_ALWAYS_INLINE pm_store_slot *pm__store_local_slot(pm_store_shard *shard,
                                                            uint32_t local, bool shared,
                                                            size_t slot_size) {
    uint32_t page = pm__store_page_of(local);
    /* acquire: the page's zeroed bytes were published by its installing CAS */
    unsigned char *const *at = &shard->pages[page];
    unsigned char *base = shared ? __atomic_load_n(at, __ATOMIC_ACQUIRE) : *at;
    if (base == NULL) {
        return NULL;
    }
    uint64_t first = ((uint64_t)PM_STORE_FIRST_PAGE << page) - PM_STORE_FIRST_PAGE;
    return (pm_store_slot *)(base + (size_t)((uint64_t)local - first) * slot_size);
}

/* The slot at `index`, NULL if there is none (never allocated, out of range).
 * `shared` is the store's, as a constant: a local store has one shard. */
static PM_ALWAYS_INLINE pm_store_slot *pm__store_slot(const pm_store *s, uint32_t index,
                                                      bool shared, size_t slot_size) {
    /* A zero store (never initialized, or finished) has no slot. Tested first also
     * for speed: measured, a lookup without this early load of the store ran twice
     * as long (bench/notes.md). */
    if (s->type == NULL) {
        return NULL;
    }
    if (!shared) {
        return pm__store_local_slot((pm_store_shard *)&s->local, index, false, slot_size);
    }
    pm_store_shard *shard = pm__store_shard(s, index & s->shard_mask);
    return pm__store_local_slot(shard, index >> s->shard_bits, true, slot_size);
}

static inline pm_store_slot *pm_store_slot_at(const pm_store *s, uint32_t index) {
    return pm__store_slot(s, index, s->shared, s->slot_size);
}

static inline void *pm_store_value(const pm_store *s, pm_store_slot *slot) {
    return (unsigned char *)slot + s->value_offset;
}

static PM_ALWAYS_INLINE uint64_t pm__store_load(const pm_store_slot *slot, bool shared) {
    /* acquire: a live word's value bytes were published by the allocating thread's release */
    return shared ? __atomic_load_n(&slot->word, __ATOMIC_ACQUIRE) : slot->word;
}

/* Replace *seen by `want`: a local store just stores (nobody else changes the
 * word); a shared one CASes, and on failure *seen is the word now. acq_rel:
 * a borrow's acquire pairs with the release of the borrow or publish before it. */
static PM_ALWAYS_INLINE bool pm__store_cas(pm_store_slot *slot, uint64_t *seen, uint64_t want,
                                           bool shared) {
    if (!shared) {
        slot->word = want;
        return true;
    }
    return __atomic_compare_exchange_n(&slot->word, seen, want, true, __ATOMIC_ACQ_REL,
                                       __ATOMIC_ACQUIRE);
}

/* The value of a live handle becomes owned by the store: the word goes from
 * vacant to one owner at `generation`. release: the value's bytes before it. */
static PM_ALWAYS_INLINE void pm_store_publish(pm_store_slot *slot, uint32_t generation,
                                              bool shared) {
    uint64_t word = ((uint64_t)generation << 32) | PM_STORE_OWNER;
    if (shared) {
        __atomic_store_n(&slot->word, word, __ATOMIC_RELEASE);
    } else {
        slot->word = word;
    }
}

/* The shard's count of values in the store, by `delta`. */
static PM_ALWAYS_INLINE void pm__store_count(pm_store_shard *shard, int64_t delta, bool shared) {
    if (shared) {
        __atomic_fetch_add(&shard->live, delta, __ATOMIC_RELAXED);
    } else {
        shard->live += delta;
    }
}

/* A local store's pop: the top of its free stack (*local), NULL when empty. */
static PM_ALWAYS_INLINE pm_store_slot *pm__store_pop_local(pm_store_shard *shard,
                                                           size_t slot_size, uint32_t *local) {
    uint32_t top = (uint32_t)shard->free_head;
    if (top == 0) {
        return NULL;
    }
    pm_store_slot *slot = pm__store_local_slot(shard, top - 1u, false, slot_size);
    if (slot != NULL) { /* always: a free slot's page exists */
        shard->free_head = slot->next_free;
        *local = top - 1u;
    }
    return slot;
}

/* A local store's dead slot, its value dropped, goes back: to the top of the free
 * stack at the next generation, or retired if that would pass the last one. */
static PM_ALWAYS_INLINE void pm__store_recycle_local(const pm_store *s, pm_store_slot *slot,
                                                     uint32_t local) {
    pm_store_shard *shard = (pm_store_shard *)&s->local;
    pm__store_count(shard, -1, false);
    uint32_t generation = pm_store_word_generation(slot->word);
    if (pm_store_generation_is_last(generation)) {
        return; /* retired: it stays dead, off the free stack */
    }
    slot->word = (uint64_t)(generation + 1u) << 32;
    slot->next_free = (uint32_t)shard->free_head;
    shard->free_head = (uint64_t)local + 1u;
}

/* The caller made the slot dead: free it (inline for a local store with nothing to drop). */
static PM_ALWAYS_INLINE void pm__store_free(const pm_store *s, pm_store_slot *slot,
                                            uint32_t index, bool shared) {
    if (!shared && !s->drops) {
        pm__store_recycle_local(s, slot, index);
    } else {
        pm_store_free_slot(s, slot, index);
    }
}

/* A read borrow: PM_OK and *value; PM_EGONE (not live); `conflict` (the cell's
 * status) when a unique borrow is held or every reader's bit is taken. */
static PM_ALWAYS_INLINE pm_status pm_store_get(const pm_store *s, uint32_t index,
                                               uint32_t generation, pm_status conflict,
                                               bool shared, size_t slot_size,
                                               pm_store_slot **borrowed) {
    pm_store_slot *slot = pm__store_slot(s, index, shared, slot_size);
    if (slot == NULL) {
        return PM_EGONE;
    }
    uint64_t word = pm__store_load(slot, shared);
    do {
        if (!pm_store_word_is_live(word, generation)) {
            return PM_EGONE;
        }
        if ((word & PM_STORE_WRITER) != 0 || pm_store_word_readers(word) == PM_STORE_READERS) {
            return conflict;
        }
    } while (!pm__store_cas(slot, &word, word + 1u, shared));
    *borrowed = slot;
    return PM_OK;
}

/* The exclusive borrow of try_get_unique: only with one owner (PM_ESHARED) and
 * no borrow (`conflict`). */
static PM_ALWAYS_INLINE pm_status pm_store_get_unique(const pm_store *s, uint32_t index,
                                                      uint32_t generation, pm_status conflict,
                                                      bool shared, size_t slot_size,
                                                      pm_store_slot **borrowed) {
    pm_store_slot *slot = pm__store_slot(s, index, shared, slot_size);
    if (slot == NULL) {
        return PM_EGONE;
    }
    uint64_t word = pm__store_load(slot, shared);
    do {
        if (!pm_store_word_is_live(word, generation)) {
            return PM_EGONE;
        }
        if (pm_store_word_owners(word) != 1u) {
            return PM_ESHARED;
        }
        if (pm_store_word_borrowed(word)) {
            return conflict;
        }
    } while (!pm__store_cas(slot, &word, word | PM_STORE_WRITER, shared));
    *borrowed = slot;
    return PM_OK;
}

/* The end of a borrow (unique: the writer's, else one reader's). The last one
 * after the last owner left frees the slot. A borrow nobody held: ignored
 * (reported under PM_DEBUG). */
static PM_ALWAYS_INLINE void pm_store_end_borrow(const pm_store *s, uint32_t index,
                                                 uint32_t generation, bool unique, bool shared,
                                                 size_t slot_size) {
    pm_store_slot *slot = pm__store_slot(s, index, shared, slot_size);
    if (slot == NULL || generation == 0) {
        return;
    }
    uint64_t word = pm__store_load(slot, shared);
    uint64_t want;
    do {
        bool held = pm_store_word_generation(word) == generation &&
                    (unique ? (word & PM_STORE_WRITER) != 0 : pm_store_word_readers(word) != 0);
        if (!held) {
#ifdef PM_DEBUG
            pm_store_release_mismatch(s, index, unique);
#endif
            return;
        }
        want = unique ? word & ~(uint64_t)PM_STORE_WRITER : word - 1u;
    } while (!pm__store_cas(slot, &word, want, shared));
    if (pm_store_word_is_dead(want)) {
        pm__store_free(s, slot, index, shared);
    }
}

/* One owner more (PM_EGONE if not live): *count is the count after it
 * (PM_COUNT_SATURATED once sticky). */
static PM_ALWAYS_INLINE pm_status pm_store_retain(const pm_store *s, uint32_t index,
                                                  uint32_t generation, bool shared,
                                                  size_t slot_size, uint32_t *count) {
    pm_store_slot *slot = pm__store_slot(s, index, shared, slot_size);
    if (slot == NULL) {
        return PM_EGONE;
    }
    uint64_t word = pm__store_load(slot, shared);
    do {
        if (!pm_store_word_is_live(word, generation)) {
            return PM_EGONE;
        }
        if (pm_store_word_owners(word) == PM_STORE_OWNERS_MAX) {
            *count = PM_COUNT_SATURATED;
            return PM_OK;
        }
    } while (!pm__store_cas(slot, &word, word + PM_STORE_OWNER, shared));
    uint32_t after = pm_store_word_owners(word) + 1u;
    *count = after == PM_STORE_OWNERS_MAX ? PM_COUNT_SATURATED : after; /* sticky from here */
    return PM_OK;
}

/* One owner fewer (PM_EGONE if not live): *count is the count after it. The
 * last owner frees the slot, unless a borrow is held: its end does. */
static PM_ALWAYS_INLINE pm_status pm_store_release(const pm_store *s, uint32_t index,
                                                   uint32_t generation, bool shared,
                                                   size_t slot_size, uint32_t *count) {
    pm_store_slot *slot = pm__store_slot(s, index, shared, slot_size);
    if (slot == NULL) {
        return PM_EGONE;
    }
    uint64_t word = pm__store_load(slot, shared);
    uint64_t want;
    do {
        if (!pm_store_word_is_live(word, generation)) {
            return PM_EGONE;
        }
        if (pm_store_word_owners(word) == PM_STORE_OWNERS_MAX) {
            *count = PM_COUNT_SATURATED;
            return PM_OK;
        }
        want = word - PM_STORE_OWNER;
    } while (!pm__store_cas(slot, &word, want, shared));
    *count = pm_store_word_owners(want);
    if (pm_store_word_is_dead(want)) {
        pm__store_free(s, slot, index, shared);
    }
    return PM_OK;
}

/* The owner count of a live handle (PM_COUNT_SATURATED once sticky), else PM_EGONE. */
static PM_ALWAYS_INLINE pm_status pm_store_owners(const pm_store *s, uint32_t index,
                                                  uint32_t generation, bool shared,
                                                  size_t slot_size, uint32_t *count) {
    pm_store_slot *slot = pm__store_slot(s, index, shared, slot_size);
    if (slot == NULL) {
        return PM_EGONE;
    }
    uint64_t word = pm__store_load(slot, shared);
    if (!pm_store_word_is_live(word, generation)) {
        return PM_EGONE;
    }
    uint32_t owners = pm_store_word_owners(word);
    *count = owners == PM_STORE_OWNERS_MAX ? PM_COUNT_SATURATED : owners;
    return PM_OK;
}

/* A slot for a new value, the caller's until pm_store_publish: PM_OK with *slot,
 * *index and *generation; PM_ENOMEM (a page could not be had, or every index is
 * used) and nothing changed. Inline: a local store's pop of its free stack. */
static PM_ALWAYS_INLINE pm_status pm_store_take(pm_store *s, bool shared, size_t slot_size,
                                                pm_store_slot **slot, uint32_t *index,
                                                uint32_t *generation) {
    uint32_t local = 0;
    pm_store_slot *taken = NULL;
    if (!shared) {
        taken = pm__store_pop_local(&s->local, slot_size, &local);
    }
    if (taken == NULL) {
        return pm_store_take_slow(s, slot, index, generation);
    }
    pm__store_count(&s->local, 1, false);
    *slot = taken;
    *index = local;
    *generation = pm_store_word_generation(taken->word);
    return PM_OK;
}

#ifdef __cplusplus
}
#endif

#endif /* PM_STORE_H */
