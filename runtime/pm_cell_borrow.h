/* pm_cell_borrow.h — the borrow cell: a single-threaded RefCell (a borrow
 * flag, no lock). It has the same verbs as pm_rwlock (init, init_write,
 * try_read, try_write, try_write_unique, release_read, release_write, downgrade,
 * read_wait, write_wait, name, forget, claim, writer_quiet), so generated code can call either
 * kind by prefix. Part of the runtime: include "pm.h", which includes every
 * public header. Test hooks are in pm_internal.h.
 */
#ifndef PM_CELL_BORROW_H
#define PM_CELL_BORROW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pm_debug.h"
#include "pm_status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------------ */
/* Borrow cell: single-threaded RefCell                                      */
/*                                                                           */
/* state: 0 = free; 1..PM_BORROW_MAX_READERS = that many shared borrows;      */
/* PM_BORROW_WRITING = one exclusive borrow. Once the box's last owner has    */
/* left during a borrow (pm_cell_borrow_orphan), the cell is orphaned: its    */
/* readers count on from PM_BORROW_ORPHANED, and PM_BORROW_ORPHANED_WRITING is */
/* the exclusive borrow; the release that brings it to PM_BORROW_ORPHANED     */
/* (no borrow left) returns true, and its caller destroys the box.            */
/* ------------------------------------------------------------------------ */

#define PM_BORROW_WRITING UINT32_MAX
#define PM_BORROW_ORPHANED_WRITING (UINT32_MAX - 1u)
#define PM_BORROW_ORPHANED 0x80000000u
#define PM_BORROW_MAX_READERS (PM_BORROW_ORPHANED - 3u)

typedef struct pm_cell_borrow {
    uint32_t state;
#ifdef PM_DEBUG
    const char *debug_name; /* names the cell in release-mismatch reports */
#endif
} pm_cell_borrow;

/* Predicates over a value of `state`: the only place its encoding is tested. */
static inline bool pm__borrow_is_free(uint32_t s) { return s == 0; }
/* Either exclusive borrow: PM_BORROW_WRITING or PM_BORROW_ORPHANED_WRITING. */
static inline bool pm__borrow_is_writing(uint32_t s) { return s >= PM_BORROW_ORPHANED_WRITING; }
static inline bool pm__borrow_readers_at_max(uint32_t s) { return s == PM_BORROW_MAX_READERS; }
/* Free, or shared below the limit, and not orphaned: one more reader fits. */
static inline bool pm__borrow_has_reader_room(uint32_t s) { return s < PM_BORROW_MAX_READERS; }
/* After a read release's decrement: it ended a shared borrow of an owned box.
 * True for the decrements of 1..PM_BORROW_ORPHANED: the owned shared states,
 * and three no borrow reaches (PM_BORROW_MAX_READERS + 1 and + 2, and
 * PM_BORROW_ORPHANED, which outlives no box), each decremented as before.
 * Free and written cells wrap to the top; orphaned readers stay above. */
static inline bool pm__borrow_left_owned(uint32_t left) { return left < PM_BORROW_ORPHANED; }
/* Orphaned, and no borrow left: the box must go. */
static inline bool pm__borrow_orphan_ended(uint32_t s) { return s == PM_BORROW_ORPHANED; }
/* The state a downgrade of the exclusive borrow s leaves: one shared borrow,
 * orphaned or not as s was. */
static inline uint32_t pm__borrow_downgraded_from(uint32_t s) {
    return s == PM_BORROW_WRITING ? 1u : PM_BORROW_ORPHANED + 1u;
}

static inline void pm_cell_borrow_init(pm_cell_borrow *c) {
    c->state = 0;
#ifdef PM_DEBUG
    c->debug_name = NULL;
#endif
}

/* A new box's cell, already write-borrowed by its creator. */
static inline void pm_cell_borrow_init_write(pm_cell_borrow *c) {
    c->state = PM_BORROW_WRITING;
#ifdef PM_DEBUG
    c->debug_name = NULL;
#endif
}

static inline pm_status pm_cell_borrow_try_read(pm_cell_borrow *c) {
    /* One compare on the common path: free or read below the limit, not orphaned. */
    if (PM_LIKELY(pm__borrow_has_reader_room(c->state))) {
        c->state++;
        return PM_OK;
    }
    if (pm__borrow_is_writing(c->state)) {
        return PM_EBORROWED;
    }
    if (pm__borrow_readers_at_max(c->state)) {
        return PM_EOVERFLOW;
    }
    c->state++; /* orphaned: counted on from PM_BORROW_ORPHANED */
    return PM_OK;
}

static inline pm_status pm_cell_borrow_try_write(pm_cell_borrow *c) {
    if (PM_UNLIKELY(!pm__borrow_is_free(c->state))) {
        return PM_EBORROWED;
    }
    c->state = PM_BORROW_WRITING;
    return PM_OK;
}

/* try_write for the box's only owner: the same plain test and store (one thread). */
static inline pm_status pm_cell_borrow_try_write_unique(pm_cell_borrow *c) {
    return pm_cell_borrow_try_write(c);
}

/* Releases are tolerant: releasing what is not held leaves the cell as it is
 * (PM_DEBUG reports it: pm_debug_release_mismatches). They return true when
 * this release ended the last borrow of an orphaned cell: the caller must
 * then destroy the box.
 * Each changes the state first and tests the result, whose fall-through is
 * the hot path: a store, then a test of a value already in a register, is
 * one compare-and-branch fewer in the loop than testing before the store
 * (0.62 -> 0.55 ns read+release, 0.64 -> 0.55 write_shared+release: gdb
 * disassemble read_st, wshared_st in bench/bench). A cell has one thread, so
 * a state that was no such borrow is put back before anything else reads it. */

/* Out of line: a read release whose decrement did not leave an owned shared
 * state (an orphaned cell's, or one matching no read borrow). pm.c. */
PM_COLD bool pm__borrow_release_read_cold(pm_cell_borrow *c, uint32_t left);

static inline bool pm_cell_borrow_release_read(pm_cell_borrow *c) {
    /* A read by an owned box leaves a count below PM_BORROW_ORPHANED. */
    uint32_t left = --c->state;
    if (PM_LIKELY(pm__borrow_left_owned(left))) {
        return false;
    }
    return pm__borrow_release_read_cold(c, left);
}

static inline bool pm_cell_borrow_release_write(pm_cell_borrow *c) {
    /* Only PM_BORROW_WRITING wraps to free. */
    uint32_t left = ++c->state;
    if (PM_LIKELY(pm__borrow_is_free(left))) {
        return false;
    }
    c->state = left - 1u;
    if (pm__borrow_is_writing(c->state)) { /* PM_BORROW_ORPHANED_WRITING */
        c->state = PM_BORROW_ORPHANED;
        return true;
    }
    PM__DEBUG_MISMATCH(c, PM_LOCK_WRITE);
    return false;
}

/* The exclusive borrow becomes one shared borrow (end it with release_read):
 * PM_OK. PM_EINVAL when the cell is not write-borrowed: the cell is left as
 * it is, and PM_DEBUG reports it, as a release matching no borrow. */
static inline pm_status pm_cell_borrow_downgrade(pm_cell_borrow *c) {
    if (PM_LIKELY(pm__borrow_is_writing(c->state))) {
        c->state = pm__borrow_downgraded_from(c->state);
        return PM_OK;
    }
    PM__DEBUG_DOWNGRADE_MISMATCH(c);
    return PM_EINVAL;
}

/* Blocking forms, for the same verb set as pm_rwlock: single-threaded, nobody
 * else could release the borrow while we wait, so they are the try forms and
 * the timeout is ignored (PM_OK, PM_EBORROWED, or PM_EOVERFLOW for a read). */
static inline pm_status pm_cell_borrow_read_wait(pm_cell_borrow *c, uint64_t timeout_ns) {
    (void)timeout_ns;
    return pm_cell_borrow_try_read(c);
}

static inline pm_status pm_cell_borrow_write_wait(pm_cell_borrow *c, uint64_t timeout_ns) {
    (void)timeout_ns;
    return pm_cell_borrow_try_write(c);
}

/* PM_DEBUG: names the cell in release-mismatch reports (generated code names
 * each cell after its handle type). No-op otherwise: a borrow cell takes no
 * part in PM_DEBUG's lock tracking. */
static inline void pm_cell_borrow_name(pm_cell_borrow *c, const char *name) {
#ifdef PM_DEBUG
    c->debug_name = name;
#else
    (void)c;
    (void)name;
#endif
}

static inline void pm_cell_borrow_forget(pm_cell_borrow *c) { (void)c; }

/* The box's only owner takes its value out (a move, then the memory goes): PM_OK
 * when no borrow is held, else the borrow's status and nothing changes. */
static inline pm_status pm_cell_borrow_claim(pm_cell_borrow *c) {
    pm_status status = pm_cell_borrow_try_write(c);
    if (status == PM_OK) {
        pm_cell_borrow_forget(c);
    }
    return status;
}

/* True when the value is borrowed (for read or write). */
static inline bool pm_cell_borrow_in_use(const pm_cell_borrow *c) {
    return !pm__borrow_is_free(c->state) && !pm__borrow_orphan_ended(c->state);
}

/* The box's last owner has left. Borrowed: marks the cell orphaned and returns
 * true; the release that ends the last borrow returns true and its caller
 * destroys the box. Free: returns false, and the caller destroys the box now. */
static inline bool pm_cell_borrow_orphan(pm_cell_borrow *c) {
    if (!pm_cell_borrow_in_use(c)) {
        return false;
    }
    c->state = pm__borrow_is_writing(c->state) ? PM_BORROW_ORPHANED_WRITING
                                               : (c->state | PM_BORROW_ORPHANED);
    return true;
}

/* True when the value is not write-borrowed. */
static inline bool pm_cell_borrow_writer_quiet(const pm_cell_borrow *c) {
    return !pm__borrow_is_writing(c->state);
}

#ifdef __cplusplus
}
#endif

#endif /* PM_CELL_BORROW_H */
