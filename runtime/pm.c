/* pm.c — status names, the allocator hook, counter saturation, drain. */
#include "pm.h"

#include <stdlib.h>

const char *pm_status_str(pm_status status) {
    switch (status) {
    case PM_OK: return "PM_OK";
    case PM_EBORROWED: return "PM_EBORROWED";
    case PM_EBUSY: return "PM_EBUSY";
    case PM_ETIMEDOUT: return "PM_ETIMEDOUT";
    case PM_EDEADLK: return "PM_EDEADLK";
    case PM_ENOMEM: return "PM_ENOMEM";
    case PM_ECLONE: return "PM_ECLONE";
    case PM_EOVERFLOW: return "PM_EOVERFLOW";
    case PM_EINVAL: return "PM_EINVAL";
    }
    return "PM_E?";
}

static void *pm_default_alloc(size_t size, void *ctx) {
    (void)ctx;
    return malloc(size);
}

static void pm_default_free(void *ptr, size_t size, void *ctx) {
    (void)size;
    (void)ctx;
    free(ptr);
}

static pm_alloc_fn pm_alloc_hook = pm_default_alloc;
static pm_free_fn pm_free_hook = pm_default_free;
static void *pm_alloc_ctx;

void pm_set_allocator(pm_alloc_fn alloc, pm_free_fn free_fn, void *ctx) {
    if (alloc == NULL || free_fn == NULL) {
        pm_alloc_hook = pm_default_alloc;
        pm_free_hook = pm_default_free;
        pm_alloc_ctx = NULL;
        return;
    }
    pm_alloc_hook = alloc;
    pm_free_hook = free_fn;
    pm_alloc_ctx = ctx;
}

void *pm_alloc(size_t size) { return pm_alloc_hook(size, pm_alloc_ctx); }

void pm_free(void *ptr, size_t size) {
    if (ptr != NULL) {
        pm_free_hook(ptr, size, pm_alloc_ctx);
    }
}

void pm__count_atomic_saturate(pm_count_atomic *c) {
    /* Relaxed: an immortal box is never destroyed, so nothing to order; the
     * store re-centres the count in the sticky range so it cannot wrap. */
    atomic_store_explicit(&c->n, PM_COUNT_STICKY, memory_order_relaxed);
}

void pm_drain(pm_dead *first) {
    pm_dead *list = first;
    while (list != NULL) {
        pm_dead *dead = list;
        list = dead->next;
        dead->release(dead, &list);
    }
}

void pm_metrics_fprint(FILE *out, const pm_metrics *m) {
    /* Relaxed loads: a snapshot for people, not a synchronization point. */
    fprintf(out,
            "%s acquisitions=%llu contended=%llu waits=%llu timeouts=%llu copies_on_write=%llu "
            "in_place_writes=%llu saturations=%llu\n",
            m->name,
            (unsigned long long)atomic_load_explicit(&m->acquisitions, memory_order_relaxed),
            (unsigned long long)atomic_load_explicit(&m->contended, memory_order_relaxed),
            (unsigned long long)atomic_load_explicit(&m->waits, memory_order_relaxed),
            (unsigned long long)atomic_load_explicit(&m->timeouts, memory_order_relaxed),
            (unsigned long long)atomic_load_explicit(&m->copies_on_write, memory_order_relaxed),
            (unsigned long long)atomic_load_explicit(&m->in_place_writes, memory_order_relaxed),
            (unsigned long long)atomic_load_explicit(&m->saturations, memory_order_relaxed));
}
