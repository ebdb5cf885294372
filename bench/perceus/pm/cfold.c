/* cfold on pmgen's types: Koka's test/bench/koka/cfold.kk (after Lean's
 * const_fold.hs), emitted the way a Perceus compiler would, over the public
 * generated API (pm_bench.h).
 *
 *   cfold N    builds mk_expr(N, 1), prints its value, then the value of its
 *              reassociated, constant-folded form (cfold.kk uses N = 19 in
 *              some versions; issue 11 asks for 20).
 *
 * Sum type (perceus.yaml): expr { Var(int); Val(int); Add(l, r); Mul(l, r) } is
 * Cexp, a box as large as its variant: Var and Val one size, Add and Mul
 * another (one field or two, as in Koka).
 *
 * Perceus: a matched owned node dead in its branch is taken apart with
 * _take_reuse (a Val: given up with _drop_reuse, its field unused) when a
 * constructor of the branch reuses its memory (_new_<V>_reuse into the token),
 * and `take`n (_into_inner: freed when unique) when none does; a token a
 * sub-branch leaves unused is spent (freed). Tokens pair with constructors as
 * Koka pairs them, by size: Add/Mul with Add/Mul, Val with Val. eval borrows.
 */
#include "pm_bench.h"

PB_HANDLES(Cexp, ce)
PB_VARIANT(Cexp, ce, Var, (int64_t n), n)
PB_VARIANT(Cexp, ce, Val, (int64_t n), n)
PB_VARIANT(Cexp, ce, Add, (ce_h l, ce_h r), l, r)
PB_VARIANT(Cexp, ce, Mul, (ce_h l, ce_h r), l, r)

/* append_add's and append_mul's, cfold's Add and Mul (op is Cexp_Add or Cexp_Mul): the
 * constructor Op(l, r), fresh or in a token, and a borrowed Op's fields. */
typedef struct {
    ce_h l, r;
} ce_pair;
static inline ce_h bin(Cexp_tag op, ce_h l, ce_h r) {
    return op == Cexp_Add ? ce_Add(l, r) : ce_Mul(l, r);
}
static inline ce_h bin_at(pm_reuse *tok, Cexp_tag op, ce_h l, ce_h r) {
    return op == Cexp_Add ? ce_Add_at(tok, l, r) : ce_Mul_at(tok, l, r);
}
static inline ce_pair peek_op(Cexp_tag op, ce_h e) {
    if (op == Cexp_Add) {
        ce_Add_t a = ce_peek_Add(e);
        return (ce_pair){a.l, a.r};
    }
    ce_Mul_t a = ce_peek_Mul(e);
    return (ce_pair){a.l, a.r};
}
/* An owned Op's fields, the node dead: its memory kept in *tok (take_reuse), or freed
 * when tok is NULL (take). */
static inline ce_pair take_op(Cexp_tag op, ce_h e, pm_reuse *tok) {
    if (op == Cexp_Add) {
        ce_Add_t a = tok != NULL ? ce_take_reuse_Add(e, tok) : ce_take_Add(e);
        return (ce_pair){a.l, a.r};
    }
    ce_Mul_t a = tok != NULL ? ce_take_reuse_Mul(e, tok) : ce_take_Mul(e);
    return (ce_pair){a.l, a.r};
}
static inline bool is_val(ce_h e) { return ce_tag(e) == Cexp_Val; }

static ce_h mk_expr(int64_t n, int64_t v) {
    if (n == 0) {
        return v == 0 ? ce_Var(1) : ce_Val(v);
    }
    ce_h l = mk_expr(n - 1, v + 1);
    return ce_Add(l, mk_expr(n - 1, v - 1 > 0 ? v - 1 : 0));
}

/* append_add and append_mul: match(e0) { Op(e1,e2) -> Op(e1, append(e2,e3)); _ -> Op(e0,e3) } */
static ce_h append(Cexp_tag op, ce_h e0, ce_h e3) {
    if (ce_tag(e0) == op) {
        pm_reuse t = PB_TOKEN;
        ce_pair a = take_op(op, e0, &t);
        return bin_at(&t, op, a.l, append(op, a.r, e3));
    }
    return bin(op, e0, e3);
}

static ce_h reassoc(ce_h e) {
    Cexp_tag tag = ce_tag(e);
    if (tag == Cexp_Add || tag == Cexp_Mul) { /* Op(e1,e2) -> append_op(reassoc(e1), reassoc(e2)) */
        ce_pair a = take_op(tag, e, NULL);
        ce_h l = reassoc(a.l);
        return append(tag, l, reassoc(a.r));
    }
    return e;
}

static inline int64_t apply(Cexp_tag op, int64_t a, int64_t b) {
    return op == Cexp_Add ? a + b : a * b;
}

static ce_h cfold(ce_h e) {
    Cexp_tag op = ce_tag(e);
    if (op != Cexp_Add && op != Cexp_Mul) { /* _ -> e */
        return e;
    }
    /* Op(e1,e2): e dead, its memory the token te for the branch's Op */
    pm_reuse te = PB_TOKEN;
    ce_pair a = take_op(op, e, &te);
    ce_h e1 = cfold(a.l);
    ce_h e2 = cfold(a.r);
    if (is_val(e1)) {
        int64_t x = ce_peek_Val(e1).n;
        if (is_val(e2)) { /* (Val(a), Val(b)) -> Val(a op b): e1' reused, e dead */
            int64_t y = ce_peek_Val(e2).n;
            pb_spend(&te);
            ce_drop(e2);
            pm_reuse t1 = PB_TOKEN;
            ce_drop_reuse(e1, &t1);
            return ce_Val_at(&t1, apply(op, x, y));
        }
        if (ce_tag(e2) == op) {
            ce_pair y = peek_op(op, e2);
            if (is_val(y.r) || is_val(y.l)) {
                /* (Val(a), Op(f,Val(b))) -> Op(Val(a op b),f);
                 * (Val(a), Op(Val(b),f)) -> Op(Val(a op b),f):
                 * e reused for the Op, e1' for the Val; e2' and its Val are dead */
                bool right = is_val(y.r);
                int64_t n = apply(op, x, ce_peek_Val(right ? y.r : y.l).n);
                ce_pair b = take_op(op, e2, NULL);
                ce_h f = right ? b.l : b.r;
                ce_drop(right ? b.r : b.l);
                pm_reuse t1 = PB_TOKEN;
                ce_drop_reuse(e1, &t1);
                ce_h v = ce_Val_at(&t1, n);
                return bin_at(&te, op, v, f);
            }
        }
    }
    return bin_at(&te, op, e1, e2); /* _ -> Op(e1',e2') */
}

/* eval(^e) */
static int64_t eval(ce_h e) {
    switch (ce_tag(e)) {
    case Cexp_Var:
        return 0;
    case Cexp_Val:
        return ce_peek_Val(e).n;
    case Cexp_Add: {
        ce_Add_t a = ce_peek_Add(e);
        return eval(a.l) + eval(a.r);
    }
    default: {
        ce_Mul_t a = ce_peek_Mul(e);
        return eval(a.l) * eval(a.r);
    }
    }
}

int main(int argc, char **argv) {
    long n = pb_arg(argc, argv, 20);
    ce_h e = mk_expr(n, 1);
    int64_t v1 = eval(e);
    ce_h folded = cfold(reassoc(e));
    int64_t v2 = eval(folded);
    ce_drop(folded);
    printf("%" PRId64 "\n%" PRId64 "\n", v1, v2);
    return 0;
}
