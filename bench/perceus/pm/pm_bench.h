/* What a Perceus compiler would emit around pmgen's generated API, once per
 * handle type: the policy is chosen at compile time (-DPB_PLAIN, -DPB_ATOMIC or
 * -DPB_TS), and every program in this folder is written once over these names.
 *
 * The types are sum types (perceus.yaml: `variants:`), as Koka's are: a match
 * tests the tag (_tag: no borrow, under every policy), a constructor is its
 * variant's function (_new_<V>, _new_<V>_reuse), a nullary constructor the
 * shared immortal box of its variant (nothing allocated).
 *
 * Only the public generated API is used (docs/api.md): _tag, _new_<V>, _dup,
 * _drop, _get (cell none) or _read/_release_read (cell rwlock), _into_inner, and
 * Perceus reuse: _take_reuse, _drop_reuse, _new_<V>_reuse, pm_reuse_drop. A
 * status that cannot be PM_OK in these single-owner-at-a-time programs (a borrow
 * refused, an allocation failed) ends the program with a message, as a
 * compiler's runtime would.
 *
 * The Perceus operations (Koka's names in brackets):
 *   tag         which constructor a node is (the match's switch);
 *   peek_<V>    a borrowed match of variant V: a copy of its fields, no
 *               ownership taken;
 *   take_<V>    an owned match whose node dies in the branch and whose memory
 *               no constructor of the branch reuses: _into_inner moves the
 *               variant's fields out and frees the box when unique, else dups
 *               them and gives up this owner (drop specialization);
 *   take_reuse_<V>
 *               an owned match whose memory a constructor of the branch reuses
 *               (drop-reuse after drop specialization): _take_reuse moves the
 *               fields out of a unique box and keeps its memory in the token;
 *               shared, it dups them and gives up this owner;
 *   drop_reuse  a dead node none of whose fields the branch uses, whose memory
 *               a constructor reuses (Koka's drop-reuse): _drop_reuse;
 *   <V>         constructor V in a fresh box (Koka's allocation);
 *   <V>_at      constructor V in the token (Koka's alloc-at): _new_<V>_reuse, in
 *               the token's memory when it holds a box of V's size (of any type
 *               or variant), else fresh;
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

/* A borrowed match of variant V copies its fields out and ends the borrow at once:
 * nodes are immutable while shared, and the fields' handles live as long as the
 * node. Only the variant's bytes: a box holds no more. */
#if PB_CELL_NONE
#define PB_PEEK_BODY(T, t, V)                                                                      \
    return PB_OP(T, get)(h)->V;
#else
#define PB_PEEK_BODY(T, t, V)                                                                      \
    const PB_V(T) *p;                                                                              \
    PB_CHECK(PB_OP(T, read)(h, &p), #T "_read");                                                   \
    t##_##V##_t v = p->V;                                                                          \
    PB_OP(T, release_read)(h);                                                                     \
    return v;
#endif

#define PB_TOKEN {NULL, 0}

/* A token no constructor used. */
PB_FN void pb_spend(pm_reuse *tok) { pm_reuse_drop(tok); }

/* Handles of type T under the policy, with the prefix t: t_h (handle), t_v (the
 * tag and a variant's fields; T_tag the tag). */
#define PB_HANDLES(T, t)                                                                           \
    typedef PB_H(T) t##_h;                                                                         \
    typedef PB_V(T) t##_v;                                                                         \
    PB_FN T##_tag t##_tag(t##_h h) { return PB_OP(T, tag)(h); }                                   \
    PB_FN t##_h t##_dup(t##_h h) { return PB_OP(T, dup)(h); }                                      \
    PB_FN void t##_drop(t##_h h) { PB_OP(T, drop)(&h); }                                           \
    PB_FN void t##_drop_reuse(t##_h h, pm_reuse *tok) { PB_OP(T, drop_reuse)(&h, tok); }

#define PB_ARGS(...) __VA_ARGS__

/* The match has just tested the tag: the compiler knows it is V (so that the
 * generated functions' dispatch on the tag folds to V's case). */
#define PB_ASSUME(cond)                                                                            \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            __builtin_unreachable();                                                               \
        }                                                                                          \
    } while (0)

/* Variant V of T, whose constructor takes `params` (a parenthesized parameter
 * list, in the Koka constructor's order) and passes `...` (the spec's field
 * order) on: t_V_t (its fields), t_peek_V, t_take_V, t_take_reuse_V (of a node
 * whose tag the match found to be V), t_V (fresh) and t_V_at (in a token). */
#define PB_VARIANT(T, t, V, params, ...)                                                           \
    typedef __typeof__(((t##_v *)0)->V) t##_##V##_t;                                               \
    PB_FN t##_##V##_t t##_peek_##V(t##_h h) { PB_PEEK_BODY(T, t, V) }                             \
    PB_FN t##_##V##_t t##_take_##V(t##_h h) {                                                      \
        t##_v v;                                                                                   \
        PB_ASSUME(PB_OP(T, tag)(h) == T##_##V);                                                    \
        PB_CHECK(PB_OP(T, into_inner)(&h, &v), #T "_into_inner");                                  \
        PB_ASSUME(v.tag == T##_##V);                                                               \
        return v.V;                                                                                \
    }                                                                                              \
    PB_FN t##_##V##_t t##_take_reuse_##V(t##_h h, pm_reuse *tok) {                                 \
        t##_v v;                                                                                   \
        PB_ASSUME(PB_OP(T, tag)(h) == T##_##V);                                                    \
        PB_CHECK(PB_OP(T, take_reuse)(&h, &v, tok), #T "_take_reuse");                             \
        PB_ASSUME(v.tag == T##_##V);                                                               \
        return v.V;                                                                                \
    }                                                                                              \
    PB_FN t##_h t##_##V params {                                                                   \
        t##_h h;                                                                                   \
        PB_CHECK(PB_OP(T, new_##V)(&h, __VA_ARGS__), #T "_new_" #V);                               \
        return h;                                                                                  \
    }                                                                                              \
    PB_FN t##_h t##_##V##_at(pm_reuse *tok, PB_ARGS params) {                                      \
        t##_h h;                                                                                   \
        PB_CHECK(PB_OP(T, new_##V##_reuse)(&h, tok, __VA_ARGS__), #T "_new_" #V "_reuse");         \
        return h;                                                                                  \
    }

/* Nullary variant V of T: t_V() is its shared box (nothing allocated). */
#define PB_NULLARY(T, t, V)                                                                        \
    PB_FN t##_h t##_##V(void) {                                                                    \
        t##_h h;                                                                                   \
        PB_CHECK(PB_OP(T, new_##V)(&h), #T "_new_" #V);                                            \
        return h;                                                                                  \
    }

/* The size argument of every program: argv[1], else the full size. */
static inline long pb_arg(int argc, char **argv, long full) {
    return argc > 1 ? strtol(argv[1], NULL, 10) : full;
}

#endif
