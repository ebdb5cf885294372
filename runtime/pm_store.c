/* pm_store.c — the generational store's cold paths: init and fini, a fresh slot
 * (a new page), a shared store's allocation, freeing a slot. The state word, the
 * pages and the free stacks are described in pm_store.h. */
#include "pm.h"

#include <stdio.h>
#include <string.h>

#define PM__STORE_LINE 64u /* shards start on their own cache lines */

/* The shard a thread allocates from in a shared store: threads are numbered
 * in the order they first allocate, so the first PM_STORE_SHARDS threads each
 * have a shard to themselves. */
static PM_ATOMIC(uint32_t) pm__store_threads;
static _Thread_local uint32_t pm__store_thread_number; /* 0: not numbered yet */

static uint32_t pm__store_thread_shard(const pm_store *s) {
    uint32_t number = pm__store_thread_number;
    if (number == 0) {
        number = atomic_fetch_add_explicit(&pm__store_threads, 1, memory_order_relaxed) + 1u;
        if (number == 0) { /* 2^32 threads later: skip the "unnumbered" value */
            number = 1;
        }
        pm__store_thread_number = number;
    }
    return (number - 1u) & s->shard_mask;
}

static size_t pm__store_page_slots(uint32_t page) { return (size_t)PM_STORE_FIRST_PAGE << page; }

/* A page must be aligned as its slots are. pm_alloc's memory is aligned for any
 * standard type (16 bytes here), which covers a slot unless its value asks for
 * more; then the value's offset in the slot is that alignment, and the page is
 * padded to it, with the address pm_alloc gave stored just before it. */
static size_t pm__store_page_align(const pm_store *s) {
    return s->value_offset > sizeof(pm_store_slot) ? s->value_offset : 0u;
}

static size_t pm__store_page_bytes(const pm_store *s, uint32_t page) {
    size_t align = pm__store_page_align(s);
    return pm__store_page_slots(page) * s->slot_size + (align != 0 ? align + sizeof(void *) : 0u);
}

static unsigned char *pm__store_page_alloc(const pm_store *s, uint32_t page) {
    size_t bytes = pm__store_page_bytes(s, page), align = pm__store_page_align(s);
    unsigned char *memory = (unsigned char *)pm_alloc(bytes);
    if (memory == NULL || align == 0) {
        return memory;
    }
    uintptr_t at = ((uintptr_t)memory + sizeof(void *) + align - 1u) & ~(uintptr_t)(align - 1u);
    unsigned char *base = memory + (at - (uintptr_t)memory);
    memcpy(base - sizeof(void *), &memory, sizeof memory);
    return base;
}

static void pm__store_page_free(const pm_store *s, uint32_t page, unsigned char *base) {
    if (base == NULL) {
        return;
    }
    unsigned char *memory = base;
    if (pm__store_page_align(s) != 0) {
        memcpy(&memory, base - sizeof(void *), sizeof memory);
    }
    pm_free(memory, pm__store_page_bytes(s, page));
}

static void pm__store_shard_init(pm_store_shard *shard) {
    for (uint32_t p = 0; p < PM_STORE_PAGES; p++) {
        shard->pages[p] = NULL; /* a null pointer need not be all-zero bytes */
    }
}

pm_status pm_store_init(pm_store *s, bool shared, size_t slot_size, size_t value_offset,
                        const pm_box_type *type, bool drops) {
    if (s == NULL || type == NULL || slot_size == 0 || value_offset < sizeof(pm_store_slot) ||
        value_offset > slot_size) {
        return PM_EINVAL;
    }
    /* The last page's bytes must be countable. */
    if (slot_size > SIZE_MAX / pm__store_page_slots(PM_STORE_PAGES - 1u)) {
        return PM_ENOMEM;
    }
    uint32_t count = shared ? PM_STORE_SHARDS : 1u;
    size_t stride = (sizeof(pm_store_shard) + PM__STORE_LINE - 1u) & ~(size_t)(PM__STORE_LINE - 1u);
    pm_store_shard *shards = NULL;
    if (shared) {
        shards = (pm_store_shard *)pm_alloc(stride * count);
        if (shards == NULL) {
            return PM_ENOMEM;
        }
        memset(shards, 0, stride * count);
        for (uint32_t k = 0; k < count; k++) {
            pm__store_shard_init((pm_store_shard *)((unsigned char *)shards + (size_t)k * stride));
        }
    }
    memset(&s->local, 0, sizeof s->local);
    pm__store_shard_init(&s->local);
    s->shards = shards;
    s->shard_stride = stride;
    s->shard_mask = count - 1u;
    s->shard_bits = shared ? PM_STORE_SHARD_BITS : 0u;
    s->shared = shared;
    s->slot_size = slot_size;
    s->value_offset = value_offset;
    s->type = type;
    s->drops = drops;
    return PM_OK;
}

void pm_store_fini(pm_store *s) {
    if (s == NULL || s->type == NULL) {
        return; /* zero: never initialized, or finished */
    }
    uint32_t count = s->shard_mask + 1u;
    /* Drops first, pages after: a drop may release another value of this store. */
    for (uint32_t k = 0; k < count; k++) {
        pm_store_shard *shard = pm__store_shard(s, k);
        uint32_t fresh = shard->fresh; /* fini: no call in flight */
        for (uint32_t local = 0; local < fresh; local++) {
            pm_store_slot *slot = pm__store_local_slot(shard, local, s->shared, s->slot_size);
            if (slot == NULL) {
                continue;
            }
            uint64_t word = slot->word;
            if (!pm_store_word_is_dead(word)) {
                /* owned or still borrowed: dead now, dropped once */
                slot->word = word & ~(uint64_t)UINT32_MAX;
                if (s->drops) {
                    pm_value_drop(s->type, pm_store_value(s, slot));
                }
            }
        }
    }
    for (uint32_t k = 0; k < count; k++) {
        pm_store_shard *shard = pm__store_shard(s, k);
        for (uint32_t p = 0; p < PM_STORE_PAGES; p++) {
            pm__store_page_free(s, p, shard->pages[p]);
        }
    }
    if (s->shared) {
        pm_free(s->shards, s->shard_stride * count);
    }
    memset(s, 0, sizeof *s);
    pm__store_shard_init(&s->local);
}

size_t pm_store_len(const pm_store *s) {
    if (s == NULL || s->type == NULL) {
        return 0;
    }
    int64_t live = 0;
    for (uint32_t k = 0; k <= s->shard_mask; k++) {
        live += __atomic_load_n(&pm__store_shard(s, k)->live, __ATOMIC_RELAXED);
    }
    return live > 0 ? (size_t)live : 0u; /* shards' counts are read one by one */
}

/* A never-used slot of `shard`: its page is made first (zeroed: its words are
 * vacant at generation 0), then the slot is claimed, so a failure takes nothing. */
static pm_status pm__store_fresh(pm_store *s, pm_store_shard *shard, uint32_t *local_out,
                                 pm_store_slot **slot) {
    uint32_t local = __atomic_load_n(&shard->fresh, __ATOMIC_RELAXED);
    for (;;) {
        uint32_t page = pm__store_page_of(local);
        if (local > (UINT32_MAX >> s->shard_bits) || page >= PM_STORE_PAGES - 1u) {
            return PM_ENOMEM; /* every index of the shard is used */
        }
        if (__atomic_load_n(&shard->pages[page], __ATOMIC_ACQUIRE) == NULL) {
            unsigned char *base = pm__store_page_alloc(s, page);
            if (base == NULL) {
                return PM_ENOMEM;
            }
            memset(base, 0, pm__store_page_slots(page) * s->slot_size);
            unsigned char *none = NULL;
            /* release: the zeroed words before the page's address */
            if (!__atomic_compare_exchange_n(&shard->pages[page], &none, base, false,
                                             __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
                pm__store_page_free(s, page, base); /* another thread installed it first */
            }
        }
        if (!s->shared) {
            shard->fresh = local + 1u;
            break;
        }
        if (__atomic_compare_exchange_n(&shard->fresh, &local, local + 1u, true,
                                        __ATOMIC_RELAXED, __ATOMIC_RELAXED)) {
            break;
        }
    }
    *local_out = local;
    *slot = pm__store_local_slot(shard, local, s->shared, s->slot_size);
    return PM_OK;
}

/* The top of a shared shard's free stack, NULL when it is empty. The pop count
 * in the head's high half makes a CAS fail after any pop since the head was
 * read, so a slot popped and pushed back meanwhile is never taken twice. */
static pm_store_slot *pm__store_pop_shared(pm_store *s, pm_store_shard *shard, uint32_t *local) {
    uint64_t head = __atomic_load_n(&shard->free_head, __ATOMIC_ACQUIRE);
    for (;;) {
        uint32_t top = (uint32_t)head;
        if (top == 0) {
            return NULL;
        }
        pm_store_slot *slot = pm__store_local_slot(shard, top - 1u, s->shared, s->slot_size);
        if (slot == NULL) {
            return NULL; /* never: a free slot's page exists (and gcc -O3 asks) */
        }
        /* may be stale if the slot was popped meanwhile: then the CAS fails */
        uint32_t next = __atomic_load_n(&slot->next_free, __ATOMIC_RELAXED);
        uint64_t want = (((head >> 32) + 1u) << 32) | next;
        if (__atomic_compare_exchange_n(&shard->free_head, &head, want, true, __ATOMIC_ACQUIRE,
                                        __ATOMIC_ACQUIRE)) {
            *local = top - 1u;
            return slot;
        }
    }
}

pm_status pm_store_take_slow(pm_store *s, pm_store_slot **slot, uint32_t *index,
                             uint32_t *generation) {
    if (s == NULL || s->type == NULL) {
        return PM_EINVAL;
    }
    uint32_t shard_number = s->shared ? pm__store_thread_shard(s) : 0u;
    pm_store_shard *shard = pm__store_shard(s, shard_number);
    uint32_t local = 0;
    pm_store_slot *taken = s->shared ? pm__store_pop_shared(s, shard, &local)
                                     : pm__store_pop_local(shard, s->slot_size, &local);
    if (taken == NULL) {
        pm_status status = pm__store_fresh(s, shard, &local, &taken);
        if (status != PM_OK) {
            return status;
        }
    }
    pm__store_count(shard, 1, s->shared);
    uint32_t current = pm_store_word_generation(
        s->shared ? __atomic_load_n(&taken->word, __ATOMIC_RELAXED) : taken->word);
    *slot = taken;
    *index = (local << s->shard_bits) | shard_number;
    *generation = current == 0 ? 1u : current; /* a fresh slot's first value is generation 1 */
    return PM_OK;
}

void pm_store_free_slot(const pm_store *s, pm_store_slot *slot, uint32_t index) {
    if (s->drops) {
        pm_value_drop(s->type, pm_store_value(s, slot));
    }
    if (!s->shared) {
        pm__store_recycle_local(s, slot, index);
        return;
    }
    pm_store_shard *shard = pm__store_shard(s, index & s->shard_mask);
    uint32_t local = index >> s->shard_bits;
    pm__store_count(shard, -1, true);
    uint32_t generation =
        pm_store_word_generation(__atomic_load_n(&slot->word, __ATOMIC_RELAXED));
    if (pm_store_generation_is_last(generation)) {
        return; /* retired: its generation would wrap; it stays dead, off the free stack */
    }
    /* Still dead (no owner, no borrow) at the next generation: no handle matches it. */
    __atomic_store_n(&slot->word, (uint64_t)(generation + 1u) << 32, __ATOMIC_RELAXED);
    uint64_t head = __atomic_load_n(&shard->free_head, __ATOMIC_RELAXED);
    uint64_t want;
    do {
        __atomic_store_n(&slot->next_free, (uint32_t)head, __ATOMIC_RELAXED);
        want = (head & ~(uint64_t)UINT32_MAX) | (local + 1u);
        /* release: the drop and the new word before the slot can be popped */
    } while (!__atomic_compare_exchange_n(&shard->free_head, &head, want, true, __ATOMIC_RELEASE,
                                          __ATOMIC_RELAXED));
}

void pm_store_release_mismatch(const pm_store *s, uint32_t index, bool unique) {
    pm__debug_release_mismatch(pm_store_slot_at(s, index), s->type->name,
                               unique ? PM_LOCK_WRITE : PM_LOCK_READ);
}
