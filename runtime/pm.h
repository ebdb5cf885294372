/* pm.h — the perceus-mem runtime: status codes, reference counters, borrow
 * cells and a reader-writer lock that pmgen-generated code links against.
 *
 * Plain C11. Every call returns a status or cannot fail; nothing here aborts,
 * asserts, exits or traps. Hot paths are small inline functions over one
 * documented state word each; slow paths live out of line in pm.c/pm_rwlock.c.
 *
 * Build flags that change behaviour (use the same ones for every translation
 * unit of a program, runtime included):
 *   PM_DEBUG   — track the locks each thread holds and return PM_EDEADLK where a
 *                thread would wait on a lock it already holds; report two locks
 *                taken in opposite orders.
 *   PM_METRICS — count, per (type, policy), borrows granted, contended tries,
 *                waits, timeouts, copies on write, in-place writes and saturated
 *                dups. Off, the metric hooks expand to nothing at all.
 */
#ifndef PM_H
#define PM_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Runtime version. Generated headers check PM_VERSION_MAJOR/MINOR with #error. */
#define PM_VERSION_MAJOR 0
#define PM_VERSION_MINOR 1
#define PM_VERSION_PATCH 0

#if defined(__GNUC__) || defined(__clang__)
#define PM_LIKELY(x) __builtin_expect(!!(x), 1)
#define PM_UNLIKELY(x) __builtin_expect(!!(x), 0)
#define PM_NOINLINE __attribute__((noinline))
#define PM_COLD __attribute__((cold, noinline))
#define PM_CLEANUP(fn) __attribute__((cleanup(fn)))
#else
#define PM_LIKELY(x) (x)
#define PM_UNLIKELY(x) (x)
#define PM_NOINLINE
#define PM_COLD
#endif

/* ------------------------------------------------------------------------ */
/* Status codes                                                              */
/* ------------------------------------------------------------------------ */

typedef enum pm_status {
    PM_OK = 0,
    PM_EBORROWED, /* single-threaded cell already borrowed the other way */
    PM_EBUSY,     /* lock held (or a writer waits); try again */
    PM_ETIMEDOUT, /* a blocking form reached its deadline */
    PM_EDEADLK,   /* this thread would wait on a lock it holds (PM_DEBUG) */
    PM_ENOMEM,    /* allocation failed */
    PM_ECLONE,    /* the type's clone hook failed */
    PM_EOVERFLOW, /* a count (owners, readers) is at its limit */
    PM_EINVAL     /* empty handle or bad argument */
} pm_status;

#define PM_STATUS_COUNT 9

/* "PM_OK", "PM_EBUSY", ...; "PM_E?" for a value outside the enum. */
const char *pm_status_str(pm_status status);

/* Timeout meaning "wait as long as it takes" for the _wait forms. */
#define PM_FOREVER UINT64_MAX

/* ------------------------------------------------------------------------ */
/* Allocation                                                                */
/* ------------------------------------------------------------------------ */

/* All boxes are allocated through these. Default: malloc/free. */
typedef void *(*pm_alloc_fn)(size_t size, void *ctx);
typedef void (*pm_free_fn)(void *ptr, size_t size, void *ctx);

/* Replace the allocator (NULL, NULL restores malloc/free). Not thread-safe
 * with respect to concurrent allocation: set it before using boxes. */
void pm_set_allocator(pm_alloc_fn alloc, pm_free_fn free_fn, void *ctx);
void *pm_alloc(size_t size);
void pm_free(void *ptr, size_t size);

/* ------------------------------------------------------------------------ */
/* Reference counters                                                        */
/*                                                                           */
/* A count is a u32. 1..PM_COUNT_MAX are live owner counts. Any value above   */
/* PM_COUNT_MAX is *sticky*: the box became immortal when a dup would have    */
/* gone past the limit; it is never decremented and never freed (leaked, never */
/* freed early). Sticky counts are reset to PM_COUNT_STICKY, the middle of the */
/* sticky range, so 2^30 racing increments could not wrap it.                 */
/* ------------------------------------------------------------------------ */

#define PM_COUNT_MAX 0x7fffffffu
#define PM_COUNT_STICKY 0xc0000000u
/* What _refcount reports for an immortal (saturated) box. */
#define PM_COUNT_SATURATED UINT32_MAX

static inline uint32_t pm__count_report(uint32_t n) {
    return n > PM_COUNT_MAX ? PM_COUNT_SATURATED : n;
}

/* --- plain: single-threaded ---------------------------------------------- */
typedef struct pm_count_plain {
    uint32_t n;
} pm_count_plain;

static inline void pm_count_plain_init(pm_count_plain *c) { c->n = 1; }

static inline uint32_t pm_count_plain_get(const pm_count_plain *c) {
    return pm__count_report(c->n);
}

static inline bool pm_count_plain_is_unique(const pm_count_plain *c) { return c->n == 1; }

/* One more owner; at the limit the count turns sticky instead of wrapping. */
static inline void pm_count_plain_inc(pm_count_plain *c) {
    if (PM_LIKELY(c->n < PM_COUNT_MAX)) {
        c->n++;
    } else {
        c->n = PM_COUNT_STICKY;
    }
}

static inline pm_status pm_count_plain_try_inc(pm_count_plain *c) {
    if (PM_UNLIKELY(c->n >= PM_COUNT_MAX)) {
        return PM_EOVERFLOW;
    }
    c->n++;
    return PM_OK;
}

/* One owner fewer; true when the caller was the last and must destroy. */
static inline bool pm_count_plain_dec(pm_count_plain *c) {
    if (c->n == 1) {
        return true;
    }
    if (PM_LIKELY(c->n <= PM_COUNT_MAX)) {
        c->n--;
    }
    return false;
}

/* --- atomic: shared between threads --------------------------------------- */
typedef struct pm_count_atomic {
    _Atomic uint32_t n;
} pm_count_atomic;

static inline void pm_count_atomic_init(pm_count_atomic *c) {
    atomic_init(&c->n, 1u);
}

static inline uint32_t pm_count_atomic_get(const pm_count_atomic *c) {
    /* Acquire: a caller that sees 1 may then touch the value as its owner. */
    return pm__count_report(atomic_load_explicit(&((pm_count_atomic *)c)->n, memory_order_acquire));
}

static inline bool pm_count_atomic_is_unique(const pm_count_atomic *c) {
    /* Acquire pairs with the release decrement of the owners that left, so
     * their writes to the value happen-before ours (Rust's Arc::get_mut). */
    return atomic_load_explicit(&((pm_count_atomic *)c)->n, memory_order_acquire) == 1;
}

void pm__count_atomic_saturate(pm_count_atomic *c);

static inline void pm_count_atomic_inc(pm_count_atomic *c) {
    /* Relaxed: a new owner is made from an existing one, which already orders
     * access to the box; nothing is published by the increment itself. */
    uint32_t old = atomic_fetch_add_explicit(&c->n, 1u, memory_order_relaxed);
    if (PM_UNLIKELY(old >= PM_COUNT_MAX)) {
        pm__count_atomic_saturate(c);
    }
}

static inline pm_status pm_count_atomic_try_inc(pm_count_atomic *c) {
    uint32_t n = atomic_load_explicit(&c->n, memory_order_relaxed);
    do {
        if (PM_UNLIKELY(n >= PM_COUNT_MAX)) {
            return PM_EOVERFLOW;
        }
        /* Relaxed for the same reason as pm_count_atomic_inc. */
    } while (!atomic_compare_exchange_weak_explicit(&c->n, &n, n + 1u, memory_order_relaxed,
                                                    memory_order_relaxed));
    return PM_OK;
}

/* One owner fewer; true when the caller was the last and must destroy. */
static inline bool pm_count_atomic_dec(pm_count_atomic *c) {
    /* Fast path: an acquire load that shows 1 proves we are the only owner
     * (nobody else can dup without an owner), so no RMW is needed; acquire
     * orders the other owners' released writes before our destruction. */
    uint32_t n = atomic_load_explicit(&c->n, memory_order_acquire);
    if (n == 1) {
        return true;
    }
    if (PM_UNLIKELY(n > PM_COUNT_MAX)) {
        return false; /* sticky: immortal */
    }
    /* Release: our writes to the value happen-before the last owner's destroy.
     * Act on the RMW's own result, never on the earlier load. */
    if (atomic_fetch_sub_explicit(&c->n, 1u, memory_order_release) == 1) {
        /* Acquire load pairs with every other owner's release decrement (our
         * RMW continues their release sequences). Not a fence: TSan cannot
         * model fences and GCC rejects them under -fsanitize=thread (Rust's
         * Arc does the same under TSan). */
        (void)atomic_load_explicit(&c->n, memory_order_acquire);
        return true;
    }
    return false;
}

/* Test hook: put a counter at any value (e.g. PM_COUNT_MAX) to reach limits
 * without 2^31 calls. Not for production use. */
static inline void pm_count_plain_set_for_test(pm_count_plain *c, uint32_t n) { c->n = n; }
static inline void pm_count_atomic_set_for_test(pm_count_atomic *c, uint32_t n) {
    atomic_store_explicit(&c->n, n, memory_order_relaxed);
}

/* ------------------------------------------------------------------------ */
/* Borrow cell: single-threaded RefCell                                      */
/*                                                                           */
/* state: 0 = free; 1..PM_BORROW_MAX_READERS = that many shared borrows;      */
/* PM_BORROW_WRITING = one exclusive borrow.                                  */
/* ------------------------------------------------------------------------ */

#define PM_BORROW_WRITING UINT32_MAX
#define PM_BORROW_MAX_READERS (UINT32_MAX - 1u)

typedef struct pm_cell_borrow {
    uint32_t state;
} pm_cell_borrow;

static inline void pm_cell_borrow_init(pm_cell_borrow *c) { c->state = 0; }

/* A new box's cell, already write-borrowed by its creator. */
static inline void pm_cell_borrow_init_write(pm_cell_borrow *c) { c->state = PM_BORROW_WRITING; }

static inline pm_status pm_cell_borrow_try_read(pm_cell_borrow *c) {
    if (PM_UNLIKELY(c->state == PM_BORROW_WRITING)) {
        return PM_EBORROWED;
    }
    if (PM_UNLIKELY(c->state == PM_BORROW_MAX_READERS)) {
        return PM_EOVERFLOW;
    }
    c->state++;
    return PM_OK;
}

static inline pm_status pm_cell_borrow_try_write(pm_cell_borrow *c) {
    if (PM_UNLIKELY(c->state != 0)) {
        return PM_EBORROWED;
    }
    c->state = PM_BORROW_WRITING;
    return PM_OK;
}

/* Releases are tolerant: releasing what is not held leaves the cell as it is. */
static inline void pm_cell_borrow_release_read(pm_cell_borrow *c) {
    if (PM_LIKELY(c->state != 0 && c->state != PM_BORROW_WRITING)) {
        c->state--;
    }
}

static inline void pm_cell_borrow_release_write(pm_cell_borrow *c) {
    if (PM_LIKELY(c->state == PM_BORROW_WRITING)) {
        c->state = 0;
    }
}

static inline void pm_cell_borrow_set_for_test(pm_cell_borrow *c, uint32_t state) {
    c->state = state;
}

/* ------------------------------------------------------------------------ */
/* Reader-writer lock (futex on Linux), after Rust std's futex RwLock        */
/*                                                                           */
/* state (u32):                                                              */
/*   bits 0..29  PM_RW_MASK: number of readers, or PM_RW_WRITE_LOCKED (all    */
/*               ones) when a writer holds the lock                          */
/*   bit 30      PM_RW_READERS_WAITING: a reader sleeps on `state`            */
/*   bit 31      PM_RW_WRITERS_WAITING: a writer sleeps on `writer_notify`    */
/* writer_notify (u32): bumped before every writer wake-up, so a writer that   */
/*   read it before sleeping cannot miss one.                                */
/*                                                                           */
/* Writers are preferred: a new reader does not enter while a writer waits,   */
/* so readers cannot starve a writer. A reader count at PM_RW_MAX_READERS is  */
/* refused with PM_EOVERFLOW instead of wrapping.                            */
/* ------------------------------------------------------------------------ */

#define PM_RW_READ_LOCKED 1u
#define PM_RW_MASK ((1u << 30) - 1u)
#define PM_RW_WRITE_LOCKED PM_RW_MASK
#define PM_RW_MAX_READERS (PM_RW_MASK - 1u)
#define PM_RW_READERS_WAITING (1u << 30)
#define PM_RW_WRITERS_WAITING (1u << 31)

typedef struct pm_rwlock {
    _Atomic uint32_t state;
    _Atomic uint32_t writer_notify;
#ifdef PM_DEBUG
    const char *debug_name; /* names the lock in lock-order reports */
#endif
} pm_rwlock;

static inline void pm_rwlock_init(pm_rwlock *l) {
    atomic_init(&l->state, 0u);
    atomic_init(&l->writer_notify, 0u);
#ifdef PM_DEBUG
    l->debug_name = NULL;
#endif
}

static inline bool pm__rw_is_read_lockable(uint32_t s) {
    /* No new reader while anyone waits: waiting writers have priority, and
     * waiting readers are about to be woken by the unlocking thread. */
    return (s & PM_RW_MASK) < PM_RW_MAX_READERS &&
           (s & (PM_RW_READERS_WAITING | PM_RW_WRITERS_WAITING)) == 0;
}

/* PM_DEBUG bookkeeping of the locks each thread holds, and of the order in
 * which any two locks were ever taken together (pm_rwlock.c). */
enum pm_lock_mode { PM_LOCK_READ = 1, PM_LOCK_WRITE = 2 };
void pm__debug_note_acquire(const void *lock, const char *name, enum pm_lock_mode mode);
void pm__debug_note_release(const void *lock, enum pm_lock_mode mode);
void pm__debug_forget_lock(const void *lock);
void pm__debug_rename(const void *lock, const char *name);
/* PM_EDEADLK if waiting for `mode` on `lock` could never end for this thread. */
pm_status pm__debug_check_wait(const pm_rwlock *lock, enum pm_lock_mode mode);

/* Lock-order check (PM_DEBUG): when a thread takes lock `second` while holding
 * `first`, and the two were ever taken in the opposite order (by any thread),
 * the reporter is called with both. The default prints one line to stderr.
 * pm_debug_on_lock_order(NULL, NULL) restores it. */
typedef void (*pm_lock_order_fn)(const char *first_name, const void *first,
                                 const char *second_name, const void *second, void *ctx);
void pm_debug_on_lock_order(pm_lock_order_fn report, void *ctx);
/* Inversions found so far in this process. */
uint64_t pm_debug_lock_order_inversions(void);

#ifdef PM_DEBUG
#define PM__DEBUG_ACQUIRED(lock, mode) pm__debug_note_acquire((lock), (lock)->debug_name, (mode))
#define PM__DEBUG_RELEASED(lock, mode) pm__debug_note_release((lock), (mode))
/* Generated code names each lock after its handle type, and forgets it when the box dies. */
#define PM_RWLOCK_NAME(lock, name) ((lock)->debug_name = (name), pm__debug_rename((lock), (name)))
#define PM_RWLOCK_FORGET(lock) pm__debug_forget_lock(lock)
#else
#define PM__DEBUG_ACQUIRED(lock, mode) ((void)0)
#define PM__DEBUG_RELEASED(lock, mode) ((void)0)
#define PM_RWLOCK_NAME(lock, name) ((void)0)
#define PM_RWLOCK_FORGET(lock) ((void)0)
#endif

/* Out-of-line slow paths. deadline_ns is absolute CLOCK_MONOTONIC, or
 * PM_FOREVER. They return PM_OK, PM_ETIMEDOUT, or (read) PM_EOVERFLOW. */
pm_status pm__rwlock_read_contended(pm_rwlock *l, uint64_t deadline_ns);
pm_status pm__rwlock_write_contended(pm_rwlock *l, uint64_t deadline_ns);
void pm__rwlock_wake_writer_or_readers(pm_rwlock *l, uint32_t state);

/* Absolute CLOCK_MONOTONIC deadline timeout_ns from now (PM_FOREVER stays). */
uint64_t pm_deadline_after(uint64_t timeout_ns);
uint64_t pm_monotonic_ns(void);

static inline pm_status pm__rwlock_try_read_nodebug(pm_rwlock *l) {
    uint32_t s = atomic_load_explicit(&l->state, memory_order_relaxed);
    while (pm__rw_is_read_lockable(s)) {
        /* Acquire: the last writer's release happens-before our reads. */
        if (atomic_compare_exchange_weak_explicit(&l->state, &s, s + PM_RW_READ_LOCKED,
                                                  memory_order_acquire, memory_order_relaxed)) {
            return PM_OK;
        }
    }
    return (s & PM_RW_MASK) == PM_RW_MAX_READERS ? PM_EOVERFLOW : PM_EBUSY;
}

static inline pm_status pm__rwlock_try_write_nodebug(pm_rwlock *l) {
    uint32_t s = atomic_load_explicit(&l->state, memory_order_relaxed);
    while ((s & PM_RW_MASK) == 0) {
        /* Acquire: pairs with the release of the previous holder's unlock.
         * Waiting bits are kept: the sleepers still need a wake-up later. */
        if (atomic_compare_exchange_weak_explicit(&l->state, &s, s | PM_RW_WRITE_LOCKED,
                                                  memory_order_acquire, memory_order_relaxed)) {
            return PM_OK;
        }
    }
    return PM_EBUSY;
}

/* A new, unshared box's lock, already held for write by its creator: plain
 * initialization instead of a compare-and-swap (nobody else can see it yet). */
static inline void pm_rwlock_init_write(pm_rwlock *l) {
    atomic_init(&l->state, PM_RW_WRITE_LOCKED);
    atomic_init(&l->writer_notify, 0u);
#ifdef PM_DEBUG
    l->debug_name = NULL;
#endif
    PM__DEBUG_ACQUIRED(l, PM_LOCK_WRITE);
}

/* Non-blocking: PM_OK, PM_EBUSY (a writer holds or waits), PM_EOVERFLOW. */
static inline pm_status pm_rwlock_try_read(pm_rwlock *l) {
    pm_status st = pm__rwlock_try_read_nodebug(l);
    if (st == PM_OK) {
        PM__DEBUG_ACQUIRED(l, PM_LOCK_READ);
    }
    return st;
}

/* Non-blocking: PM_OK or PM_EBUSY. */
static inline pm_status pm_rwlock_try_write(pm_rwlock *l) {
    pm_status st = pm__rwlock_try_write_nodebug(l);
    if (st == PM_OK) {
        PM__DEBUG_ACQUIRED(l, PM_LOCK_WRITE);
    }
    return st;
}

static inline void pm_rwlock_release_read(pm_rwlock *l) {
    PM__DEBUG_RELEASED(l, PM_LOCK_READ);
    /* Release: our reads happen-before the next writer's writes. */
    uint32_t s = atomic_fetch_sub_explicit(&l->state, PM_RW_READ_LOCKED, memory_order_release) -
                 PM_RW_READ_LOCKED;
    /* A reader can only be waiting on a read-locked lock if a writer waits
     * too; the last reader out wakes that writer. */
    if (PM_UNLIKELY((s & PM_RW_MASK) == 0 && (s & PM_RW_WRITERS_WAITING) != 0)) {
        pm__rwlock_wake_writer_or_readers(l, s);
    }
}

static inline void pm_rwlock_release_write(pm_rwlock *l) {
    PM__DEBUG_RELEASED(l, PM_LOCK_WRITE);
    /* Release: our writes happen-before the next holder's acquire. */
    uint32_t s = atomic_fetch_sub_explicit(&l->state, PM_RW_WRITE_LOCKED, memory_order_release) -
                 PM_RW_WRITE_LOCKED;
    if (PM_UNLIKELY((s & (PM_RW_READERS_WAITING | PM_RW_WRITERS_WAITING)) != 0)) {
        pm__rwlock_wake_writer_or_readers(l, s);
    }
}

/* Blocking forms: wait up to timeout_ns (relative; PM_FOREVER = no limit).
 * PM_OK, PM_ETIMEDOUT, PM_EDEADLK (PM_DEBUG), PM_EOVERFLOW (read). */
static inline pm_status pm_rwlock_read_wait(pm_rwlock *l, uint64_t timeout_ns) {
    pm_status st = pm__rwlock_try_read_nodebug(l);
    if (PM_UNLIKELY(st == PM_EBUSY)) {
#ifdef PM_DEBUG
        st = pm__debug_check_wait(l, PM_LOCK_READ);
        if (st != PM_OK) {
            return st;
        }
#endif
        st = pm__rwlock_read_contended(l, pm_deadline_after(timeout_ns));
    }
    if (st == PM_OK) {
        PM__DEBUG_ACQUIRED(l, PM_LOCK_READ);
    }
    return st;
}

static inline pm_status pm_rwlock_write_wait(pm_rwlock *l, uint64_t timeout_ns) {
    pm_status st = pm__rwlock_try_write_nodebug(l);
    if (PM_UNLIKELY(st != PM_OK)) {
#ifdef PM_DEBUG
        st = pm__debug_check_wait(l, PM_LOCK_WRITE);
        if (st != PM_OK) {
            return st;
        }
#endif
        st = pm__rwlock_write_contended(l, pm_deadline_after(timeout_ns));
    }
    if (st == PM_OK) {
        PM__DEBUG_ACQUIRED(l, PM_LOCK_WRITE);
    }
    return st;
}

/* Test hook: set the state word directly (e.g. to PM_RW_MAX_READERS). */
static inline void pm_rwlock_set_for_test(pm_rwlock *l, uint32_t state) {
    atomic_store_explicit(&l->state, state, memory_order_relaxed);
}

/* ------------------------------------------------------------------------ */
/* Published snapshot: the optimistic _load of small copy: trivial values    */
/*                                                                           */
/* A box with a lock cell whose value is copy: trivial keeps, beside the      */
/* value, a copy of it in atomic words (when it fits in PM_SNAP_MAX_BYTES)    */
/* and a sequence number `seq`. The write-lock holder republishes the words   */
/* as it releases the lock: seq odd, the words, seq even. _load copies the    */
/* words out and checks that seq did not move: it writes no shared memory,   */
/* and it never waits for a writer that merely holds the lock (it sees the    */
/* value as of the last release). Every access to seq and the words is an    */
/* atomic load or store, without fences: data-race free, TSan-clean. A reader */
/* could be fooled only if exactly 2^31 releases happened during one copy.    */
/* ------------------------------------------------------------------------ */

#define PM_SNAP_MAX_BYTES 64u
/* Words of a snapshot of `size` bytes; 1 (unused) when it does not fit. */
#define PM_SNAP_WORDS(size) \
    ((size) <= PM_SNAP_MAX_BYTES ? ((size) + sizeof(size_t) - 1u) / sizeof(size_t) : 1u)

typedef _Atomic size_t pm_snap_word;

/* Word i of a value of `size` bytes, or its last, partial word. Copied a word
 * at a time, never through a buffer: a wide load of narrower fresh stores
 * would stall store-to-load forwarding (it cost ~8 ns per publish). */
static inline size_t pm__snap_word_of(const void *src, size_t size, size_t i) {
    size_t w = 0;
    size_t at = i * sizeof w, n = size - at < sizeof w ? size - at : sizeof w;
    memcpy(&w, (const char *)src + at, n);
    return w;
}

static inline void pm__snap_word_to(void *dst, size_t size, size_t i, size_t w) {
    size_t at = i * sizeof w, n = size - at < sizeof w ? size - at : sizeof w;
    memcpy((char *)dst + at, &w, n);
}

static inline size_t pm__snap_words(size_t size) { return (size + sizeof(size_t) - 1u) / sizeof(size_t); }

/* A new, unshared box: nobody can load it yet, so plain initialization. */
static inline void pm_snap_init(_Atomic uint32_t *seq, pm_snap_word *words, const void *src,
                                size_t size) {
    atomic_init(seq, 0u);
    for (size_t i = 0; size <= PM_SNAP_MAX_BYTES && i < pm__snap_words(size); i++) {
        atomic_init(&words[i], pm__snap_word_of(src, size, i));
    }
}

/* Called by the write-lock holder before it unlocks. */
static inline void pm_snap_publish(_Atomic uint32_t *seq, pm_snap_word *words, const void *src,
                                   size_t size) {
    if (size > PM_SNAP_MAX_BYTES) {
        return; /* no snapshot: _load takes the read lock instead */
    }
    /* Relaxed: only write-lock holders store seq, and the lock orders them. */
    uint32_t s = atomic_load_explicit(seq, memory_order_relaxed);
    /* Relaxed: the release stores of the words below keep this one before them. */
    atomic_store_explicit(seq, s + 1u, memory_order_relaxed);
    for (size_t i = 0; i < pm__snap_words(size); i++) {
        /* Release: a reader whose acquire load sees this word also sees seq odd. */
        atomic_store_explicit(&words[i], pm__snap_word_of(src, size, i), memory_order_release);
    }
    /* Release: a reader that sees the even seq sees every word stored before it. */
    atomic_store_explicit(seq, s + 2u, memory_order_release);
}

/* Copies the last published value into out; false if a publish overlapped
 * (or the value has no snapshot), and then *out may hold a torn copy that
 * the caller must not use. Writes nothing shared. */
static inline bool pm_snap_try_load(_Atomic uint32_t *seq, pm_snap_word *words, void *out,
                                    size_t size) {
    if (size > PM_SNAP_MAX_BYTES) {
        return false;
    }
    /* Acquire: pairs with the publisher's final release store of seq. */
    uint32_t s = atomic_load_explicit(seq, memory_order_acquire);
    if (PM_UNLIKELY((s & 1u) != 0)) {
        return false;
    }
    for (size_t i = 0; i < pm__snap_words(size); i++) {
        /* Acquire: pairs with the word's release store (so a new word implies
         * seq odd is visible) and keeps the re-check of seq after it. */
        pm__snap_word_to(out, size, i, atomic_load_explicit(&words[i], memory_order_acquire));
    }
    /* Relaxed: already ordered after the acquire loads of the words. */
    return atomic_load_explicit(seq, memory_order_relaxed) == s;
}

/* Out of line: retry the snapshot briefly (pause only), then copy `value`
 * under a read lock, waiting as long as it takes. PM_OK, or the status of
 * pm_rwlock_read_wait (PM_EOVERFLOW; PM_EDEADLK under PM_DEBUG). */
pm_status pm__snap_load_contended(pm_rwlock *lock, _Atomic uint32_t *seq, pm_snap_word *words,
                                  void *out, const void *value, size_t size);

/* ------------------------------------------------------------------------ */
/* Contention metrics (-DPM_METRICS)                                         */
/*                                                                           */
/* Each generated Managed_N_P has a `pm_metrics Managed_N_P_metrics` when the */
/* build defines PM_METRICS, and each module a `<module>_metrics()` listing   */
/* them. Counters are relaxed atomics: they order nothing, they only count.  */
/* ------------------------------------------------------------------------ */

typedef struct pm_metrics {
    const char *name;                 /* the handle type, e.g. "Managed_Item_ThreadSafe" */
    _Atomic uint64_t acquisitions;    /* borrows a cell granted (read, write, write_shared) */
    _Atomic uint64_t contended;       /* borrows refused by another borrow (EBUSY, EBORROWED) */
    _Atomic uint64_t waits;           /* blocking calls whose first try failed, so they waited */
    _Atomic uint64_t timeouts;        /* blocking calls that ended in PM_ETIMEDOUT */
    _Atomic uint64_t copies_on_write; /* _write calls that copied a shared box */
    _Atomic uint64_t in_place_writes; /* _write calls that wrote a unique box in place */
    _Atomic uint64_t saturations;     /* dups that left the count saturated (box immortal) */
} pm_metrics;

/* One line: "<name> acquisitions=N contended=N ...". */
void pm_metrics_fprint(FILE *out, const pm_metrics *m);

static inline pm_status pm__metric_borrow(pm_metrics *m, pm_status status) {
    switch (status) {
    case PM_OK: atomic_fetch_add_explicit(&m->acquisitions, 1u, memory_order_relaxed); break;
    case PM_EBUSY:
    case PM_EBORROWED: atomic_fetch_add_explicit(&m->contended, 1u, memory_order_relaxed); break;
    case PM_ETIMEDOUT: atomic_fetch_add_explicit(&m->timeouts, 1u, memory_order_relaxed); break;
    default: break;
    }
    return status;
}

#ifdef PM_METRICS
#define PM_METRIC(m, counter) ((void)atomic_fetch_add_explicit(&(m).counter, 1u, memory_order_relaxed))
/* The status of a borrow attempt, counted. */
#define PM_METRIC_BORROW(m, status) pm__metric_borrow(&(m), (status))
/* A blocking borrow: try first, and count a wait only when that fails. */
#define PM_METRIC_WAIT(m, try_status, wait_status) \
    ((try_status) == PM_OK ? PM_OK : (PM_METRIC(m, waits), (wait_status)))
#define PM_METRIC_SATURATION(m, count) \
    ((count) == PM_COUNT_SATURATED ? PM_METRIC(m, saturations) : (void)0)
#else /* off: no code, no data, the arguments are not even evaluated */
#define PM_METRIC(m, counter) ((void)0)
#define PM_METRIC_BORROW(m, status) (status)
#define PM_METRIC_WAIT(m, try_status, wait_status) (wait_status)
#define PM_METRIC_SATURATION(m, count) ((void)0)
#endif

/* ------------------------------------------------------------------------ */
/* Scoped borrows (GCC/Clang): the borrow ends on every exit from the scope, */
/* `return` and `break` included. H is a generated handle type:               */
/*                                                                           */
/*     PM_READ_SCOPE(Managed_Point_ThreadSafe, g, handle);                    */
/*     if (g.status != PM_OK) return g.status;                                */
/*     use(g.value->x);                        // released at the closing brace */
/* ------------------------------------------------------------------------ */

#if defined(__GNUC__) || defined(__clang__)
#define PM_READ_SCOPE(H, guard, handle) \
    PM_CLEANUP(H##_read_guard_end) H##_read_guard guard = H##_read_guard_begin(handle)
#define PM_WRITE_SCOPE(H, guard, handle_ptr) \
    PM_CLEANUP(H##_write_guard_end) H##_write_guard guard = H##_write_guard_begin(handle_ptr)
#define PM_WRITE_SHARED_SCOPE(H, guard, handle)                \
    PM_CLEANUP(H##_write_shared_guard_end) H##_write_shared_guard guard = \
        H##_write_shared_guard_begin(handle)
#define PM_READ_SCOPE_WAIT(H, guard, handle, timeout_ns) \
    PM_CLEANUP(H##_read_guard_end) H##_read_guard guard = \
        H##_read_guard_begin_wait(handle, timeout_ns)
#define PM_WRITE_SCOPE_WAIT(H, guard, handle_ptr, timeout_ns) \
    PM_CLEANUP(H##_write_guard_end) H##_write_guard guard = \
        H##_write_guard_begin_wait(handle_ptr, timeout_ns)
#define PM_WRITE_SHARED_SCOPE_WAIT(H, guard, handle, timeout_ns) \
    PM_CLEANUP(H##_write_shared_guard_end) H##_write_shared_guard guard = \
        H##_write_shared_guard_begin_wait(handle, timeout_ns)
#endif

/* ------------------------------------------------------------------------ */
/* Iterative destruction                                                     */
/*                                                                           */
/* Boxes whose value holds managed handles reuse their dead header as a list  */
/* link, so dropping a chain of any length runs in constant C stack: a dying  */
/* box's release function drops its fields and pushes children that reached  */
/* zero onto *list instead of recursing.                                     */
/* ------------------------------------------------------------------------ */

typedef struct pm_dead pm_dead;
struct pm_dead {
    pm_dead *next;
    void (*release)(pm_dead *self, pm_dead **list);
};

/* Run release on `first` and on every box pushed meanwhile, until none is left. */
void pm_drain(pm_dead *first);

#ifdef __cplusplus
}
#endif

#endif /* PM_H */
