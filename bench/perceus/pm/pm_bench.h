/* What a Perceus compiler would emit around pmgen's generated API, once per
 * handle type: the policy is chosen at compile time (-DPB_PLAIN, -DPB_ATOMIC or
 * -DPB_TS), and every program in this folder is written once over these names.
 *
 * Only the public generated API is used (docs/api.md): _new, _dup, _drop,
 * _is_unique, _get (cell none) or _read/_release_read (cell rwlock), _write
 * and _release_write, _try_unwrap. A status that cannot be PM_OK in these
 * single-owner-at-a-time programs (a borrow refused, an allocation failed)
 * ends the program with a message, as a compiler's runtime would.
 *
 * The Perceus operations, as this API allows them today:
 *   peek   read a node's fields without taking ownership (a borrowed match);
 *   take   match an owned node whose memory is not reused: the fields become
 *          ours (moved out by _try_unwrap when unique, else dup'ed and the node
 *          dropped);
 *   open   match an owned node whose memory a constructor of the same branch
 *          reuses: when unique, _write borrows it in place and it becomes the
 *          reuse token; when shared, its fields are dup'ed and it is dropped;
 *   make   the constructor: into the token's box (the value written in place,
 *          then _release_write), or _new when there is no token;
 *   spend  a token no constructor used: cleared, released and dropped (freed).
 * With pmgen's planned reuse API (issue 11: _drop_reuse, _new_reuse) a token
 * would be memory of any type of the same size; here it can only be rewritten
 * as the same type, which is all these programs need except binarytrees'
 * visitor (a Visit cannot reuse a Bt node's box).
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

/* Handles of type T under the policy, with the prefix t: t_h (handle), t_v (the
 * fields), t_tok (a reuse token). Before PB_DEFINE the program defines
 * nothing; PB_DEFINE needs t_dup_fields(t_v *) for the shared paths, which
 * the program writes after PB_HANDLES (a compiler knows the fields). */
#define PB_HANDLES(T, t)                                                                           \
    typedef PB_H(T) t##_h;                                                                         \
    typedef PB_V(T) t##_v;                                                                         \
    typedef struct t##_tok {                                                                       \
        t##_h h;                                                                                   \
        t##_v *slot;                                                                               \
    } t##_tok;                                                                                     \
    PB_FN t##_h t##_nil(void) {                                                                    \
        t##_h h = {NULL};                                                                          \
        return h;                                                                                  \
    }                                                                                              \
    PB_FN bool t##_is_empty(t##_h h) { return h.box == NULL; }                                     \
    PB_FN t##_h t##_dup(t##_h h) { return PB_OP(T, dup)(h); }                                      \
    PB_FN void t##_drop(t##_h h) { PB_OP(T, drop)(&h); }                                           \
    PB_FN bool t##_is_unique(t##_h h) { return PB_OP(T, is_unique)(h); }                           \
    PB_FN t##_h t##_new(t##_v v) {                                                                 \
        t##_h h;                                                                                   \
        PB_CHECK(PB_OP(T, new)(&h, v), #T "_new");                                                 \
        return h;                                                                                  \
    }                                                                                              \
    PB_FN t##_v t##_peek(t##_h h) { PB_PEEK_BODY(T) }

#define PB_DEFINE(T, t)                                                                            \
    PB_FN t##_v t##_take(t##_h h) {                                                                \
        t##_v v;                                                                                   \
        if (PB_OP(T, try_unwrap)(&h, &v) == PM_OK) {                                               \
            return v;                                                                              \
        }                                                                                          \
        v = t##_peek(h);                                                                           \
        t##_dup_fields(&v);                                                                        \
        t##_drop(h);                                                                               \
        return v;                                                                                  \
    }                                                                                              \
    PB_FN t##_v t##_open(t##_h h, t##_tok *tok) {                                                  \
        if (PB_OP(T, is_unique)(h)) {                                                              \
            t##_v *w;                                                                              \
            PB_CHECK(PB_OP(T, write)(&h, &w), #T "_write");                                        \
            tok->h = h;                                                                            \
            tok->slot = w;                                                                         \
            return *w;                                                                             \
        }                                                                                          \
        t##_v v = t##_peek(h);                                                                     \
        t##_dup_fields(&v);                                                                        \
        t##_drop(h);                                                                               \
        tok->h = t##_nil();                                                                        \
        tok->slot = NULL;                                                                          \
        return v;                                                                                  \
    }                                                                                              \
    PB_FN t##_h t##_make(t##_tok *tok, t##_v v) {                                                  \
        if (tok->h.box != NULL) {                                                                  \
            t##_h h = tok->h;                                                                      \
            *tok->slot = v;                                                                        \
            PB_OP(T, release_write)(h);                                                            \
            tok->h = t##_nil();                                                                    \
            return h;                                                                              \
        }                                                                                          \
        return t##_new(v);                                                                         \
    }                                                                                              \
    PB_FN void t##_spend(t##_tok *tok) {                                                           \
        if (tok->h.box != NULL) {                                                                  \
            *tok->slot = (t##_v){0}; /* its fields were moved out */                               \
            PB_OP(T, release_write)(tok->h);                                                       \
            t##_drop(tok->h);                                                                      \
            tok->h = t##_nil();                                                                    \
        }                                                                                          \
    }

/* The size argument of every program: argv[1], else the full size. */
static inline long pb_arg(int argc, char **argv, long full) {
    return argc > 1 ? strtol(argv[1], NULL, 10) : full;
}

#endif
