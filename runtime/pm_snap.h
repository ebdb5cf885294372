/* pm_snap.h — the published snapshot: the optimistic, lock-free _load of
 * small copy: trivial values kept beside a pm_rwlock. Part of the runtime:
 * include "pm.h", which includes every public header.
 */
#ifndef PM_SNAP_H
#define PM_SNAP_H

#include <stdatomic.h>
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

/* An odd seq: a publish is under way, the words may be torn. */
static inline bool pm__snap_publishing(uint32_t seq) { return (seq & 1u) != 0; }

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
    if (PM_UNLIKELY(pm__snap_publishing(s))) {
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

#ifdef __cplusplus
}
#endif

#endif /* PM_SNAP_H */
