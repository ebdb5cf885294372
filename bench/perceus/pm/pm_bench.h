/* What a Perceus compiler would emit around pmgen's generated API, once per
 * handle type: the policy is chosen at compile time (-DPB_PLAIN, -DPB_ATOMIC or
 * -DPB_TS), and every program in this folder is written once over these names.
 *
 * Only the public generated API is used (docs/api.md): _new, _dup, _drop, _get
 * (cell none) or _read/_release_read (cell rwlock), _into_inner, and Perceus
 * reuse: _take_reuse, _drop_reuse, _new_reuse, pm_reuse_drop. A status that
 * cannot be PM_OK in these single-owner-at-a-time programs (a borrow refused,
 * an allocation failed) ends the program with a message, as a compiler's
 * runtime would.
 *
 * The Perceus operations (Koka's names in brackets):
 *   peek        a borrowed match: read a node's fields, no ownership taken;
 *   take        an owned match whose node dies in the branch and whose memory
 *               no constructor of the branch reuses: _into_inner moves the
 *               fields out and frees the box when unique, else dups them and
 *               gives up this owner (drop specialization);
 *   take_reuse  an owned match whose memory a constructor of the branch reuses
 *               (drop-reuse after drop specialization): _take_reuse moves the
 *               fields out of a unique box and keeps its memory in the token;
 *               shared, it dups them and gives up this owner;
 *   drop_reuse  a dead node none of whose fields the branch uses, whose memory
 *               a constructor reuses (Koka's drop-reuse): _drop_reuse;
 *   make        a constructor with a token (Koka's alloc-at): _new_reuse, in
 *               the token's memory when it holds a box of this size (of any
 *               type), else fresh;
 *   spend       a token no constructor of the branch uses (Koka's free of an
 *               unused reuse token): pm_reuse_drop.
 * A token is a pm_reuse, {NULL, 0} when empty (PB_TOKEN).
 */
#ifndef PM_BENCH_H
#define PM_BENCH_H

#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "perceus_types.h"

#if defined(PB_PLAIN)
#define PB_POLICY Plain
#define PB_CELL_NONE 1
#elif defined(PB_ATOMIC)
#define PB_POLICY Atomic
#define PB_CELL_NONE 1
#elif defined(PB_TS)
#define PB_POLICY ThreadSafe
#define PB_CELL_NONE 0
#else
#error "define PB_PLAIN, PB_ATOMIC or PB_TS"
#endif

/* Every helper is inlined, as the code a compiler emits in its place would be. */
#define PB_FN static inline __attribute__((always_inline, unused))

#define PB_CAT_(a, b) a##b
#define PB_CAT(a, b) PB_CAT_(a, b)
/* Managed_T_<policy>, T_<policy>, Managed_T_<policy>_op */
#define PB_H(T) PB_CAT(PB_CAT(Managed_, T), PB_CAT(_, PB_POLICY))
#define PB_V(T) PB_CAT(T, PB_CAT(_, PB_POLICY))
#define PB_OP(T, op) PB_CAT(PB_H(T), PB_CAT(_, op))

static void pb_fail(pm_status st, const char *what) __attribute__((noinline, cold, noreturn));
static void pb_fail(pm_status st, const char *what) {
    fprintf(stderr, "%s: %s\n", what, pm_status_str(st));
    exit(2);
}

#define PB_CHECK(st, what)                                                                         \
    do {                                                                                           \
        pm_status pb_st_ = (st);                                                                   \
        if (__builtin_expect(pb_st_ != PM_OK, 0)) {                                                \
            pb_fail(pb_st_, what);                                                                 \
        }                                                                                          \
    } while (0)

/* A borrowed match copies the fields out and ends the borrow at once: nodes are
 * immutable while shared, and the fields' handles live as long as the node. */
#if PB_CELL_NONE
#define PB_PEEK_BODY(T)                                                                            \
    return *PB_OP(T, get)(h);
#else
#define PB_PEEK_BODY(T)                                                                            \
    const PB_V(T) *p;                                                                              \
    PB_CHECK(PB_OP(T, read)(h, &p), #T "_read");                                                   \
    PB_V(T) v = *p;                                                                                \
    PB_OP(T, release_read)(h);                                                                     \
    return v;
#endif

#define PB_TOKEN {NULL, 0}

/* A token no constructor used. */
PB_FN void pb_spend(pm_reuse *tok) { pm_reuse_drop(tok); }

/* Handles of type T under the policy, with the prefix t: t_h (handle), t_v (the
 * fields). */
#define PB_HANDLES(T, t)                                                                           \
    typedef PB_H(T) t##_h;                                                                         \
    typedef PB_V(T) t##_v;                                                                         \
    PB_FN t##_h t##_nil(void) {                                                                    \
        t##_h h = {NULL};                                                                          \
        return h;                                                                                  \
    }                                                                                              \
    PB_FN bool t##_is_empty(t##_h h) { return h.box == NULL; }                                     \
    PB_FN t##_h t##_dup(t##_h h) { return PB_OP(T, dup)(h); }                                      \
    PB_FN void t##_drop(t##_h h) { PB_OP(T, drop)(&h); }                                           \
    PB_FN t##_h t##_new(t##_v v) {                                                                 \
        t##_h h;                                                                                   \
        PB_CHECK(PB_OP(T, new)(&h, v), #T "_new");                                                 \
        return h;                                                                                  \
    }                                                                                              \
    PB_FN t##_v t##_peek(t##_h h) { PB_PEEK_BODY(T) }                                              \
    PB_FN t##_v t##_take(t##_h h) {                                                                \
        t##_v v;                                                                                   \
        PB_CHECK(PB_OP(T, into_inner)(&h, &v), #T "_into_inner");                                  \
        return v;                                                                                  \
    }                                                                                              \
    PB_FN t##_v t##_take_reuse(t##_h h, pm_reuse *tok) {                                           \
        t##_v v;                                                                                   \
        PB_CHECK(PB_OP(T, take_reuse)(&h, &v, tok), #T "_take_reuse");                             \
        return v;                                                                                  \
    }                                                                                              \
    PB_FN void t##_drop_reuse(t##_h h, pm_reuse *tok) { PB_OP(T, drop_reuse)(&h, tok); }           \
    PB_FN t##_h t##_make(pm_reuse *tok, t##_v v) {                                                 \
        t##_h h;                                                                                   \
        PB_CHECK(PB_OP(T, new_reuse)(&h, tok, v), #T "_new_reuse");                                \
        return h;                                                                                  \
    }

/* The size argument of every program: argv[1], else the full size. */
static inline long pb_arg(int argc, char **argv, long full) {
    return argc > 1 ? strtol(argv[1], NULL, 10) : full;
}

#endif
