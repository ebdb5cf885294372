/* pm_debug.h — PM_DEBUG lock checks: the public lock-order API, and the hooks
 * the inline lock paths (pm_rwlock.h) call, which expand to nothing unless
 * PM_DEBUG is defined. The bookkeeping itself is in pm_rwlock.c.
 * Part of the runtime: include "pm.h", which includes every public header.
 */
#ifndef PM_DEBUG_H
#define PM_DEBUG_H

#include <stdint.h>

#include "pm_status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* PM_DEBUG bookkeeping of the locks each thread holds, and of the order in
 * which any two locks were ever taken together (pm_rwlock.c). */
enum pm_lock_mode { PM_LOCK_READ = 1, PM_LOCK_WRITE = 2 };

/* Lock-order check (PM_DEBUG): when a thread takes lock `second` while holding
 * `first`, and the two were ever taken in the opposite order (by any thread),
 * the reporter is called with both. The default prints one line to stderr.
 * pm_debug_on_lock_order(NULL, NULL) restores it. */
typedef void (*pm_lock_order_fn)(const char *first_name, const void *first,
                                 const char *second_name, const void *second, void *ctx);
void pm_debug_on_lock_order(pm_lock_order_fn report, void *ctx);
/* Inversions found so far in this process. */
uint64_t pm_debug_lock_order_inversions(void);

/* Releases that matched no borrow (PM_DEBUG): a release_read of a cell nobody
 * reads or that is write-locked, a release_write of a cell not write-locked
 * (and a downgrade of a cell not write-locked, counted with them).
 * The cell ignores them (it stays usable); each is reported once on stderr,
 * naming the cell by its handle type, and counted here. */
uint64_t pm_debug_release_mismatches(void);

/* The debug block's out-of-line verbs (pm_rwlock.c): what the inline lock
 * paths call under PM_DEBUG; without it nothing calls them. */
/* `lock` taken for `mode` by this thread; checks the order against every lock it holds. */
struct pm_rwlock;
void pm__debug_note_acquire(struct pm_rwlock *lock, enum pm_lock_mode mode);
/* `lock` is new and held by its creator: recorded as held (PM_EDEADLK works),
 * but its acquisition orders nothing: nobody else can see it yet. */
void pm__debug_note_fresh(struct pm_rwlock *lock, enum pm_lock_mode mode);
void pm__debug_note_release(struct pm_rwlock *lock, enum pm_lock_mode mode);
/* `lock` is going away (its address may be reused): drop its recorded pairs. */
void pm__debug_forget_lock(const void *lock);
/* `lock` was named after this thread took it: rename its held entries. */
void pm__debug_rename(const void *lock, const char *name);
/* PM_EDEADLK if waiting for `mode` on `lock` could never end for this thread.
 * Entries the lock's state shows to be stale (released by another thread) are
 * dropped first. */
pm_status pm__debug_check_wait(struct pm_rwlock *lock, enum pm_lock_mode mode);
/* A release of a `mode` borrow of `cell` (named `name`) that matched none: reported, counted. */
void pm__debug_release_mismatch(const void *cell, const char *name, enum pm_lock_mode mode);
/* `lock`, write-locked by this thread, was downgraded to a read lock: its write
 * entry becomes a read entry (ordered after nothing new: the lock was held). */
void pm__debug_note_downgrade(struct pm_rwlock *lock);
/* A downgrade of `cell` (named `name`), which was not write-borrowed: reported,
 * counted with the release mismatches. */
void pm__debug_downgrade_mismatch(const void *cell, const char *name);

#ifdef PM_DEBUG
#define PM__DEBUG_ACQUIRED(lock, mode) pm__debug_note_acquire((lock), (mode))
#define PM__DEBUG_ACQUIRED_FRESH(lock, mode) pm__debug_note_fresh((lock), (mode))
#define PM__DEBUG_RELEASED(lock, mode) pm__debug_note_release((lock), (mode))
#define PM__DEBUG_MISMATCH(cell, mode) pm__debug_release_mismatch((cell), (cell)->debug_name, (mode))
#define PM__DEBUG_DOWNGRADED(lock) pm__debug_note_downgrade(lock)
#define PM__DEBUG_DOWNGRADE_MISMATCH(cell) pm__debug_downgrade_mismatch((cell), (cell)->debug_name)
#else
#define PM__DEBUG_ACQUIRED(lock, mode) ((void)0)
#define PM__DEBUG_ACQUIRED_FRESH(lock, mode) ((void)0)
#define PM__DEBUG_RELEASED(lock, mode) ((void)0)
#define PM__DEBUG_MISMATCH(cell, mode) ((void)0)
#define PM__DEBUG_DOWNGRADED(lock) ((void)0)
#define PM__DEBUG_DOWNGRADE_MISMATCH(cell) ((void)0)
#endif

#ifdef __cplusplus
}
#endif

#endif /* PM_DEBUG_H */
