/* test_uv.c — the Tokio counterpart: thread-safe handles moved into libuv's
 * thread pool with uv_queue_work and dropped in the after-work callbacks on
 * the loop thread, against tests/specs/all_policies.yaml.
 *
 * The loop thread owns K shared boxes. Each of JOBS jobs takes a dup of box
 * j%K (the handle moves into the job), and in the pool:
 *   reads it (read_wait), adds 1 under write_shared_wait, and FBIP-writes a
 *   second dup (a copy only the job owns, kept in the job);
 * then on the loop thread, the after-work callback checks the job's result
 * and drops both handles. Jobs are queued in waves from after-work callbacks
 * too, so handles are created, moved and dropped while others are in flight.
 * Invariants, exact: every job ran and completed once; box k's value == the
 * number of jobs on it (no lost update); every count ends at 1; more than one
 * pool thread did work; zero boxes and blobs live. Runs under TSan
 * (libuv's queue is a pthread mutex, which TSan sees).
 */
#define _POSIX_C_SOURCE 200809L /* uv.h needs pthread_rwlock_t and friends */

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <uv.h>

#include "all_policies.h"

#include "check.h"
#include "counting_alloc.h"

enum { K = 4, JOBS = 20000, WAVE = 100, MAX_WORKERS = 64 };

typedef struct job {
    uv_work_t req;
    int index;
    Managed_Item_ThreadSafe handle; /* moved in by the loop thread */
    Managed_Item_ThreadSafe copy;   /* made by the worker's FBIP write */
    bool read_ok, wrote, copied;
} job;

static Managed_Item_ThreadSafe boxes[K];
static uv_loop_t loop;
static pthread_t loop_thread;
static long queued, completed;
static _Atomic long worked;
static pthread_t workers[MAX_WORKERS];
static _Atomic int nworkers;
static pthread_mutex_t workers_lock = PTHREAD_MUTEX_INITIALIZER;

static void note_worker(void) {
    pthread_t self = pthread_self();
    pthread_mutex_lock(&workers_lock);
    int n = nworkers;
    bool known = false;
    for (int i = 0; i < n; i++) {
        known = known || pthread_equal(workers[i], self);
    }
    if (!known && n < MAX_WORKERS) {
        workers[n] = self;
        nworkers = n + 1;
    }
    pthread_mutex_unlock(&workers_lock);
}

static void work(uv_work_t *req) {
    job *j = req->data;
    note_worker();
    worked++;
    const Item_ThreadSafe *r = NULL;
    if (Managed_Item_ThreadSafe_read_wait(j->handle, &r, PM_FOREVER) == PM_OK) {
        j->read_ok = r->id == j->index % K;
        Managed_Item_ThreadSafe_release_read(j->handle);
    }
    Item_ThreadSafe *w = NULL;
    if (Managed_Item_ThreadSafe_write_shared_wait(j->handle, &w, PM_FOREVER) == PM_OK) {
        w->value++;
        Managed_Item_ThreadSafe_release_write(j->handle);
        j->wrote = true;
    }
    j->copy = Managed_Item_ThreadSafe_dup(j->handle);
    if (Managed_Item_ThreadSafe_write_wait(&j->copy, &w, PM_FOREVER) == PM_OK) {
        j->copied = j->copy.box != j->handle.box && Managed_Item_ThreadSafe_is_unique(j->copy);
        w->value = -1;
        Managed_Item_ThreadSafe_release_write(j->copy);
    }
}

static void queue_wave(void);

static void after_work(uv_work_t *req, int status) {
    job *j = req->data;
    CHECK(status == 0);
    CHECK(pthread_equal(pthread_self(), loop_thread)); /* callbacks run on the loop thread */
    CHECK(j->read_ok && j->wrote && j->copied);
    CHECK(j->copy.box->value.value == -1); /* the worker's copy, ours now */
    Managed_Item_ThreadSafe_drop(&j->copy);
    Managed_Item_ThreadSafe_drop(&j->handle);
    CHECK(j->handle.box == NULL && j->copy.box == NULL);
    free(j);
    completed++;
    if (completed % WAVE == 0) {
        queue_wave(); /* more jobs while the last of this wave are in flight */
    }
}

static void queue_wave(void) {
    for (int n = 0; n < WAVE && queued < JOBS; n++) {
        job *j = calloc(1, sizeof *j);
        if (!CHECK(j != NULL)) {
            return;
        }
        j->index = (int)queued;
        j->req.data = j;
        j->handle = Managed_Item_ThreadSafe_dup(boxes[queued % K]); /* moves into the job */
        if (!CHECK(uv_queue_work(&loop, &j->req, work, after_work) == 0)) {
            Managed_Item_ThreadSafe_drop(&j->handle);
            free(j);
            return;
        }
        queued++;
    }
}

int main(void) {
    pm_set_allocator(counting_alloc, counting_free, NULL);
    loop_thread = pthread_self();
    CHECK(uv_loop_init(&loop) == 0);
    for (int k = 0; k < K; k++) {
        Item_ThreadSafe v = {.id = k, .value = 0, .tag = {0}};
        CHECK(Managed_Blob_ThreadSafe_new(&v.tag, blob_make("uv")) == PM_OK);
        CHECK(Managed_Item_ThreadSafe_new(&boxes[k], v) == PM_OK);
    }
    queue_wave();
    queue_wave();
    CHECK(uv_run(&loop, UV_RUN_DEFAULT) == 0);
    CHECK(uv_loop_close(&loop) == 0);

    CHECK(queued == JOBS && completed == JOBS && worked == JOBS);
    CHECK(nworkers > 1);
    for (int k = 0; k < K; k++) {
        CHECK(boxes[k].box->value.value == JOBS / K); /* no lost update */
        CHECK(Managed_Item_ThreadSafe_refcount(boxes[k]) == 1);
        Managed_Item_ThreadSafe_drop(&boxes[k]);
    }
    CHECK(boxes_live == 0 && blob_live == 0);
    pm_set_allocator(NULL, NULL, NULL);
    uv_library_shutdown();

    printf("test_uv: %ld jobs on %d pool threads, %d boxes, handles dropped on the loop thread\n",
           completed, (int)nworkers, K);
    return check_summary("test_uv");
}
