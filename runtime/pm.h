/* pm.h — the perceus-mem runtime: status codes, reference counters, borrow
 * cells and a reader-writer lock that pmgen-generated code links against.
 * This umbrella only includes the runtime's public headers, one per concern:
 *
 *   pm_status.h       version, attribute macros, atomics (C and C++), pm_status,
 *                     PM_FOREVER, the clock
 *   pm_box.h          storage: allocator hooks, the box descriptor, cold paths (pm_box.c)
 *   pm_count.h        plain and atomic saturating reference counters
 *   pm_cell_borrow.h  the single-threaded borrow cell
 *   pm_debug.h        PM_DEBUG lock-order API and the lock paths' debug hooks
 *   pm_rwlock.h       the futex reader-writer lock
 *   pm_snap.h         the published snapshot behind the optimistic _load
 *   pm_region.h       storage: regions (bump allocation, freed all at once; pm_region.c)
 *   pm_store.h        storage: generational stores ({index, generation} handles; pm_store.c)
 *   pm_metrics.h      contention metrics (PM_METRICS)
 *   pm_scope.h        PM_READ_SCOPE / PM_WRITE_SCOPE and friends
 *
 * pm_internal.h (test hooks, pm__debug_* declarations) is not included here.
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

#include "pm_status.h"
#include "pm_box.h"
#include "pm_count.h"
#include "pm_cell_borrow.h"
#include "pm_debug.h"
#include "pm_rwlock.h"
#include "pm_snap.h"
#include "pm_region.h"
#include "pm_store.h"
#include "pm_metrics.h"
#include "pm_scope.h"

#endif /* PM_H */
