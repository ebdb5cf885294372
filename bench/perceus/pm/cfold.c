/* cfold on pmgen's types: Koka's test/bench/koka/cfold.kk (after Lean's
 * const_fold.hs), emitted the way a Perceus compiler would, over the public
 * generated API (pm_bench.h).
 *
 *   cfold N    builds mk_expr(N, 1), prints its value, then the value of its
 *              reassociated, constant-folded form (cfold.kk uses N = 19 in
 *              some versions; issue 11 asks for 20).
 *
 * Sum type: expr = Var(int) | Val(int) | Add(l, r) | Mul(l, r), one struct
 * Cexp with `tag` (perceus.yaml): Var's and Val's int is `n`, l and r are the
 * managed fields. With `variants:` each constructor becomes its variant's.
 *
 * Perceus: a matched owned node dead in its branch is taken apart with
 * _take_reuse (a Val: given up with _drop_reuse, its field unused) when a
 * constructor of the branch reuses its memory (_new_reuse into the token), and
 * `take`n (_into_inner: freed when unique) when none does; a token a
 * sub-branch leaves unused is spent (freed). Tokens pair with constructors as
 * Koka pairs them (by constructor size: Add/Mul with Add/Mul, Val with Val),
 * though with the tagged struct every node here is one size. eval borrows.
 */
#include "pm_bench.h"

PB_HANDLES(Cexp, ce)

enum { VAR, VAL, ADD, MUL };

static inline ce_v leaf_v(uint8_t tag, int64_t n) {
    return (ce_v){.tag = tag, .n = n, .l = ce_nil(), .r = ce_nil()};
}
static inline ce_v bin_v(uint8_t tag, ce_h l, ce_h r) {
    return (ce_v){.tag = tag, .n = 0, .l = l, .r = r};
}

static ce_h mk_expr(int64_t n, int64_t v) {
    if (n == 0) {
        return ce_new(v == 0 ? leaf_v(VAR, 1) : leaf_v(VAL, v));
    }
    ce_h l = mk_expr(n - 1, v + 1);
    return ce_new(bin_v(ADD, l, mk_expr(n - 1, v - 1 > 0 ? v - 1 : 0)));
}

/* append_add and append_mul: match(e0) { Op(e1,e2) -> Op(e1, append(e2,e3)); _ -> Op(e0,e3) } */
static ce_h append(uint8_t op, ce_h e0, ce_h e3) {
    if (ce_peek(e0).tag == op) {
        pm_reuse t = PB_TOKEN;
        ce_v a = ce_take_reuse(e0, &t);
        a.r = append(op, a.r, e3);
        return ce_make(&t, a);
    }
    return ce_new(bin_v(op, e0, e3));
}

static ce_h reassoc(ce_h e) {
    uint8_t tag = ce_peek(e).tag;
    if (tag == ADD || tag == MUL) { /* Op(e1,e2) -> append_op(reassoc(e1), reassoc(e2)) */
        ce_v a = ce_take(e);
        ce_h l = reassoc(a.l);
        return append(tag, l, reassoc(a.r));
    }
    return e;
}

static inline int64_t apply(uint8_t op, int64_t a, int64_t b) {
    return op == ADD ? a + b : a * b;
}

static ce_h cfold(ce_h e) {
    uint8_t op = ce_peek(e).tag;
    if (op != ADD && op != MUL) {
        return e;
    }
    pm_reuse te = PB_TOKEN;
    ce_v a = ce_take_reuse(e, &te);
    ce_h e1 = cfold(a.l);
    ce_h e2 = cfold(a.r);
    ce_v x = ce_peek(e1);
    if (x.tag == VAL) {
        ce_v y = ce_peek(e2);
        if (y.tag == VAL) { /* (Val(a), Val(b)) -> Val(a op b): e1' reused, e dead */
            pb_spend(&te);
            ce_drop(e2);
            pm_reuse t1 = PB_TOKEN;
            ce_drop_reuse(e1, &t1);
            return ce_make(&t1, leaf_v(VAL, apply(op, x.n, y.n)));
        }
        if (y.tag == op) {
            ce_v yl = ce_peek(y.l), yr = ce_peek(y.r);
            if (yr.tag == VAL || yl.tag == VAL) {
                /* (Val(a), Op(f,Val(b))) -> Op(Val(a op b),f);
                 * (Val(a), Op(Val(b),f)) -> Op(Val(a op b),f):
                 * e reused for the Op, e1' for the Val; e2' and its Val are dead */
                ce_v b = ce_take(e2);
                ce_h f = yr.tag == VAL ? b.l : b.r;
                ce_drop(yr.tag == VAL ? b.r : b.l);
                int64_t n = apply(op, x.n, yr.tag == VAL ? yr.n : yl.n);
                pm_reuse t1 = PB_TOKEN;
                ce_drop_reuse(e1, &t1);
                ce_h v = ce_make(&t1, leaf_v(VAL, n));
                return ce_make(&te, bin_v(op, v, f));
            }
        }
    }
    return ce_make(&te, bin_v(op, e1, e2)); /* _ -> Op(e1',e2') */
}

/* eval(^e) */
static int64_t eval(ce_h e) {
    ce_v a = ce_peek(e);
    switch (a.tag) {
    case VAR:
        return 0;
    case VAL:
        return a.n;
    case ADD:
        return eval(a.l) + eval(a.r);
    default:
        return eval(a.l) * eval(a.r);
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
