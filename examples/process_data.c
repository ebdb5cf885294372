/* process_data: the seed proposal's example, with perceus-mem in C.
 *
 *   @threadsafe
 *   def process_data(items):
 *       for item in items:
 *           item.value += 1
 *
 * Single-threaded, the update is FBIP: in place when `items` is unique, a copy
 * when it is shared (the other owner keeps its snapshot). Thread-safe, several
 * threads share one box and update it under its lock; no update is lost.
 */
#include "items.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { ITEM_COUNT = 5, THREADS = 4, ROUNDS = 1000 };

pm_status item_vec_clone(struct item_vec *dst, const struct item_vec *src) {
    struct item *data = malloc(src->len * sizeof *data);
    if (data == NULL) {
        return PM_ENOMEM;
    }
    memcpy(data, src->data, src->len * sizeof *data);
    dst->len = src->len;
    dst->data = data;
    return PM_OK;
}

void item_vec_free(struct item_vec *v) { free(v->data); }

static pm_status make_items(struct item_vec *out) {
    out->data = malloc(ITEM_COUNT * sizeof *out->data);
    if (out->data == NULL) {
        return PM_ENOMEM;
    }
    out->len = ITEM_COUNT;
    for (size_t i = 0; i < ITEM_COUNT; i++) {
        out->data[i] = (struct item){.id = (int64_t)i, .value = 10 * (int64_t)i};
    }
    return PM_OK;
}

static void print_items(const char *label, Managed_Items_SingleThreaded items) {
    const struct item_vec *v;
    if (Managed_Items_SingleThreaded_read(items, &v) != PM_OK) {
        return;
    }
    printf("  %-9s [", label);
    for (size_t i = 0; i < v->len; i++) {
        printf("%s%" PRId64, i ? ", " : "", v->data[i].value);
    }
    printf("]  (refcount %" PRIu32 ")\n", Managed_Items_SingleThreaded_refcount(items));
    Managed_Items_SingleThreaded_release_read(items);
}

/* fn process_data(items: Managed<Vec<Item>, SingleThreaded>) -> Result<(), QuicheException> */
static pm_status process_data(Managed_Items_SingleThreaded *items) {
    PM_WRITE_SCOPE(Managed_Items_SingleThreaded, guard, items);
    if (guard.status != PM_OK) {
        return guard.status; /* the `?` of the seed: no panic, a status */
    }
    for (size_t i = 0; i < guard.value->len; i++) {
        guard.value->data[i].value += 1;
    }
    return PM_OK; /* the write borrow ends here, on every path */
}

static int single_threaded(void) {
    struct item_vec vec;
    if (make_items(&vec) != PM_OK) {
        return 1;
    }
    Managed_Items_SingleThreaded items = {0};
    pm_status status = Managed_Items_SingleThreaded_new(&items, vec);
    if (status != PM_OK) {
        item_vec_free(&vec); /* on failure the value is still ours */
        fprintf(stderr, "new: %s\n", pm_status_str(status));
        return 1;
    }
    printf("single-threaded (SingleThreaded policy):\n");
    print_items("start", items);

    const Managed_Items_SingleThreaded_box *before = items.box;
    status = process_data(&items);
    printf("  process_data on a unique box: %s, updated in place: %s\n", pm_status_str(status),
           items.box == before ? "yes" : "no");
    print_items("after", items);

    Managed_Items_SingleThreaded snapshot = Managed_Items_SingleThreaded_dup(items);
    status = process_data(&items); /* shared now: FBIP copies, the snapshot is untouched */
    printf("  process_data on a shared box: %s, copied on write: %s\n", pm_status_str(status),
           items.box != snapshot.box ? "yes" : "no");
    print_items("items", items);
    print_items("snapshot", snapshot);

    Managed_Items_SingleThreaded_drop(&snapshot);
    Managed_Items_SingleThreaded_drop(&items);
    return status == PM_OK ? 0 : 1;
}

struct worker {
    Managed_Items_ThreadSafe items; /* this thread's own owner */
    pm_status status;
};

/* The @threadsafe process_data: update the shared box in place, under its lock. */
static void *process_data_threadsafe(void *arg) {
    struct worker *w = arg;
    for (int round = 0; round < ROUNDS && w->status == PM_OK; round++) {
        struct item_vec *v;
        w->status = Managed_Items_ThreadSafe_write_shared_wait(w->items, &v, PM_FOREVER);
        if (w->status == PM_OK) {
            for (size_t i = 0; i < v->len; i++) {
                v->data[i].value += 1;
            }
            Managed_Items_ThreadSafe_release_write(w->items);
        }
    }
    Managed_Items_ThreadSafe_drop(&w->items); /* handles move into threads and die there */
    return NULL;
}

static int thread_safe(void) {
    struct item_vec vec;
    if (make_items(&vec) != PM_OK) {
        return 1;
    }
    Managed_Items_ThreadSafe items = {0};
    if (Managed_Items_ThreadSafe_new(&items, vec) != PM_OK) {
        item_vec_free(&vec);
        return 1;
    }
    printf("thread-safe (ThreadSafe policy): %d threads x %d rounds of process_data\n",
           THREADS, ROUNDS);
    struct worker workers[THREADS];
    pthread_t threads[THREADS];
    int started = 0;
    for (int t = 0; t < THREADS; t++) {
        workers[t] = (struct worker){Managed_Items_ThreadSafe_dup(items), PM_OK};
        if (pthread_create(&threads[t], NULL, process_data_threadsafe, &workers[t]) != 0) {
            Managed_Items_ThreadSafe_drop(&workers[t].items);
            break;
        }
        started++;
    }
    int failed = started != THREADS;
    for (int t = 0; t < started; t++) {
        pthread_join(threads[t], NULL);
        failed |= workers[t].status != PM_OK;
    }
    const struct item_vec *v;
    if (Managed_Items_ThreadSafe_read_wait(items, &v, PM_FOREVER) == PM_OK) {
        for (size_t i = 0; i < v->len; i++) {
            int64_t expected = 10 * (int64_t)i + (int64_t)started * ROUNDS;
            printf("  item %zu: %" PRId64 " (expected %" PRId64 ")\n", i, v->data[i].value,
                   expected);
            failed |= v->data[i].value != expected;
        }
        Managed_Items_ThreadSafe_release_read(items);
    }
    printf("  refcount after the threads dropped theirs: %" PRIu32 "\n",
           Managed_Items_ThreadSafe_refcount(items));
    failed |= Managed_Items_ThreadSafe_refcount(items) != 1;
    Managed_Items_ThreadSafe_drop(&items);
    printf("  %s\n", failed ? "FAILED" : "no update lost");
    return failed;
}

int main(void) {
    int failed = single_threaded();
    failed |= thread_safe();
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
