/* pm_snap.h — the published snapshot: the optimistic, lock-free _load of
 * small copy: trivial values kept beside a pm_rwlock. Part of the runtime:
 * include "pm.h", which includes every public header.
 */
#ifndef PM_SNAP_H
#define PM_SNAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "pm_rwlock.h"
#include "pm_status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------------ */
/* Published snapshot: the optimistic _load of small copy: trivial values    */
/*                                                                           */
/* A box with a lock cell whose value is copy: trivial ends in a flexible     */
/* array of atomic words, `snap`: snap[0] is a sequence number and           */
/* snap[1..] a copy of the value, when the value fits in PM_SNAP_MAX_BYTES    */
/* (a wider value's box has no snapshot words at all). The write-lock holder  */
/* republishes the words as it releases the lock: sequence odd, the words,    */
/* sequence even. _load copies the words out and checks that the sequence did */
/* not move: it writes no shared memory, and it never waits for a writer that */
/* merely holds the lock (it sees the value as of the last release). Every    */
/* access is an atomic load or store, without fences: data-race free,         */
/* TSan-clean. A reader could be fooled only if exactly 2^63 releases (2^31   */
/* on 32-bit targets) happened during one copy.                               */
/* ------------------------------------------------------------------------ */

#define PM_SNAP_MAX_BYTES 64u

typedef PM_ATOMIC(size_t) pm_snap_word;

/* Whether a value of `size` bytes gets a snapshot. */
#define PM_SNAP_FITS(size) ((size) <= PM_SNAP_MAX_BYTES)
/* Words of a value of `size` bytes. */
#define PM_SNAP_WORDS(size) (((size) + sizeof(size_t) - 1u) / sizeof(size_t))
/* Bytes of the snapshot of a value of `size` bytes: sequence and words, or nothing. */
#define PM_SNAP_BYTES(size) (PM_SNAP_FITS(size) ? (1u + PM_SNAP_WORDS(size)) * sizeof(pm_snap_word) : 0u)
/* Bytes to allocate for a box type whose last member is `pm_snap_word snap[]`. */
#define PM_SNAP_BOX_SIZE(box_type, value_size)                                   \
    (offsetof(box_type, snap) + PM_SNAP_BYTES(value_size) > sizeof(box_type)     \
         ? offsetof(box_type, snap) + PM_SNAP_BYTES(value_size)                  \
         : sizeof(box_type))
/* pm_box_type.snap_offset of such a box type: 0 when the value has no snapshot. */
#define PM_SNAP_OFFSET(box_type, value_size) \
    (PM_SNAP_FITS(value_size) ? offsetof(box_type, snap) : 0u)

/* The word loops below have a constant count of at most 8 (64-bit): unrolled,
 * as gcc -O2 would not, a publish is straight-line stores. */
#if defined(__GNUC__) || defined(__clang__)
#define PM__SNAP_UNROLL _Pragma("GCC unroll 8")
#else
#define PM__SNAP_UNROLL
#endif

/* Word i of a value of `size` bytes, or its last, partial word. Copied a word
 * at a time, never through a buffer: a wide load of narrower fresh stores
 * would stall store-to-load forwarding (it cost ~8 ns per publish). */
static inline size_t pm__snap_word_of(const void *src, size_t size, size_t i) {
    size_t w = 0;
    size_t at = i * sizeof w;
    if (PM_LIKELY(size - at >= sizeof w)) {
        memcpy(&w, (const char *)src + at, sizeof w); /* a whole word: one load */
    } else {
        memcpy(&w, (const char *)src + at, size - at);
    }
    return w;
}

static inline void pm__snap_word_to(void *dst, size_t size, size_t i, size_t w) {
    size_t at = i * sizeof w;
    if (PM_LIKELY(size - at >= sizeof w)) {
        memcpy((char *)dst + at, &w, sizeof w);
    } else {
        memcpy((char *)dst + at, &w, size - at);
    }
}

/* An odd sequence: a publish is under way, the words may be torn. */
static inline bool pm__snap_publishing(size_t seq) { return (seq & 1u) != 0; }

/* A new, unshared box: nobody can load it yet, so plain initialization. */
static inline void pm_snap_init(pm_snap_word *snap, const void *src, size_t size) {
    if (!PM_SNAP_FITS(size)) {
        return; /* no snapshot words: _load takes the read lock instead */
    }
    atomic_init(&snap[0], 0u);
    PM__SNAP_UNROLL
    for (size_t i = 0; i < PM_SNAP_WORDS(size); i++) {
        atomic_init(&snap[1 + i], pm__snap_word_of(src, size, i));
    }
}

/* Called by the write-lock holder before it unlocks. */
static inline void pm_snap_publish(pm_snap_word *snap, const void *src, size_t size) {
    if (!PM_SNAP_FITS(size)) {
        return;
    }
    /* Relaxed: only write-lock holders store the sequence, and the lock orders them. */
    size_t s = atomic_load_explicit(&snap[0], memory_order_relaxed);
    /* Relaxed: the release stores of the words below keep this one before them. */
    atomic_store_explicit(&snap[0], s + 1u, memory_order_relaxed);
    PM__SNAP_UNROLL
    for (size_t i = 0; i < PM_SNAP_WORDS(size); i++) {
        /* Release: a reader whose acquire load sees this word also sees the odd sequence. */
        atomic_store_explicit(&snap[1 + i], pm__snap_word_of(src, size, i), memory_order_release);
    }
    /* Release: a reader that sees the even sequence sees every word stored before it. */
    atomic_store_explicit(&snap[0], s + 2u, memory_order_release);
}

/* A writer that has just taken the lock: asks for the snapshot's first and
 * last words' lines for writing, so they arrive while the caller writes the
 * value instead of stalling the publish at the release (the previous writer's
 * core holds them). Not before the lock is taken: a waiting writer would take
 * the lines from the holder, who needs them for its own publish. A hint only. */
static inline void pm_snap_prefetch_for_publish(pm_snap_word *snap, size_t size) {
    if (!PM_SNAP_FITS(size)) {
        return;
    }
#if defined(__x86_64__) || defined(__i386__)
    /* prefetchw: for writing (a no-op where not supported) */
    __asm__("prefetchw %0" : : "m"(snap[0]));
    __asm__("prefetchw %0" : : "m"(snap[PM_SNAP_WORDS(size)]));
#elif defined(__GNUC__) || defined(__clang__)
    __builtin_prefetch(&snap[0], 1, 3);
    __builtin_prefetch(&snap[PM_SNAP_WORDS(size)], 1, 3);
#endif
}

/* Copies the last published value into out; false if a publish overlapped
 * (or the value has no snapshot), and then *out may hold a torn copy that
 * the caller must not use. Writes nothing shared. */
static inline bool pm_snap_try_load(pm_snap_word *snap, void *out, size_t size) {
    if (!PM_SNAP_FITS(size)) {
        return false;
    }
    /* Acquire: pairs with the publisher's final release store of the sequence. */
    size_t s = atomic_load_explicit(&snap[0], memory_order_acquire);
    if (PM_UNLIKELY(pm__snap_publishing(s))) {
        return false;
    }
    PM__SNAP_UNROLL
    for (size_t i = 0; i < PM_SNAP_WORDS(size); i++) {
        /* Acquire: pairs with the word's release store (so a new word implies
         * the odd sequence is visible) and keeps the re-check after it. */
        pm__snap_word_to(out, size, i, atomic_load_explicit(&snap[1 + i], memory_order_acquire));
    }
    /* Relaxed: already ordered after the acquire loads of the words. */
    return atomic_load_explicit(&snap[0], memory_order_relaxed) == s;
}

/* Out of line. With a snapshot: retry it briefly (pause only), then copy
 * `value` under a read lock, waiting as long as it takes (only ever for
 * another thread's publish to end): PM_OK, or the status of pm_rwlock_read_wait
 * (PM_EOVERFLOW; PM_EDEADLK under PM_DEBUG). Without (`snap` NULL): the read
 * lock, tried and retried for a brief spin, never waited for: PM_OK, PM_EBUSY
 * (a writer holds or waits, possibly the caller itself) or PM_EOVERFLOW. */
pm_status pm__snap_load_contended(pm_rwlock *lock, pm_snap_word *snap, void *out,
                                  const void *value, size_t size);

#ifdef __cplusplus
}
#endif

#endif /* PM_SNAP_H */
