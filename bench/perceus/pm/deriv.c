/* deriv on pmgen's types: Koka's test/bench/koka/deriv.kk (after Lean's
 * deriv.ml), emitted the way a Perceus compiler would, over the public
 * generated API (pm_bench.h).
 *
 *   deriv N    prints the node count of the first N derivatives of x^x
 *              ("1 count: ..." to "N count: ..."), then "done".
 *
 * Sum type (perceus.yaml): expr { Val(int); Var(string); Add(l, r); Mul(l, r);
 * Pow(l, r); Ln(e) } is Expr, a box as large as its variant: Val, Var and Ln
 * one size, Add, Mul and Pow another, as in Koka (one field or two).
 *
 * Perceus: add, mul, powr and ln own their arguments. A matched Val whose
 * memory a Val of the branch reuses is given up with _drop_reuse (its field is
 * not used: Koka's drop-reuse) and the Val made in the token (_new_Val_reuse);
 * a matched node dead in its branch whose memory no constructor of that branch
 * reuses is `take`n (_into_inner: freed when unique). Tokens pair with
 * constructors as Koka pairs them, by size: a Val reuses a Val, and no Add, Mul
 * or Pow is built where one dies. d and count borrow their expression (Koka's
 * `^e`).
 */
#include <string.h>

#include "pm_bench.h"

PB_HANDLES(Expr, ex)
PB_VARIANT(Expr, ex, Val, (int64_t value), value)
PB_VARIANT(Expr, ex, Var, (const char *name), name)
PB_VARIANT(Expr, ex, Add, (ex_h l, ex_h r), l, r)
PB_VARIANT(Expr, ex, Mul, (ex_h l, ex_h r), l, r)
PB_VARIANT(Expr, ex, Pow, (ex_h l, ex_h r), l, r)
PB_VARIANT(Expr, ex, Ln, (ex_h e), e)

/* The pattern Val(n) with n given, or any Val (value(e) is its n). */
static inline bool is_val(ex_h e) { return ex_tag(e) == Expr_Val; }
static inline int64_t value(ex_h e) { return ex_peek_Val(e).value; }
static inline bool is_val_n(ex_h e, int64_t n) { return is_val(e) && value(e) == n; }

/* Val(n) into the memory of the dead node e (reuse), or fresh. */
static inline ex_h val_into(ex_h e, int64_t n) {
    pm_reuse t = PB_TOKEN;
    ex_drop_reuse(e, &t);
    return ex_Val_at(&t, n);
}

/* add's and mul's constructor and pattern (op is Expr_Add or Expr_Mul): Op(l, r), a
 * borrowed Op's l, and an owned Op's fields (the node dead: take). */
typedef struct {
    ex_h l, r;
} ex_pair;
static inline ex_h bin(Expr_tag op, ex_h l, ex_h r) {
    return op == Expr_Add ? ex_Add(l, r) : ex_Mul(l, r);
}
static inline ex_h op_l(Expr_tag op, ex_h e) {
    return op == Expr_Add ? ex_peek_Add(e).l : ex_peek_Mul(e).l;
}
static inline ex_pair take_op(Expr_tag op, ex_h e) {
    if (op == Expr_Add) {
        ex_Add_t a = ex_take_Add(e);
        return (ex_pair){a.l, a.r};
    }
    ex_Mul_t a = ex_take_Mul(e);
    return (ex_pair){a.l, a.r};
}

static int64_t pown(int64_t a, int64_t b) {
    int64_t r = 1;
    for (; b > 0; b--) {
        r *= a;
    }
    return b < 0 ? 0 : r;
}

static inline int64_t apply(Expr_tag op, int64_t a, int64_t b) {
    return op == Expr_Add ? a + b : a * b;
}

/* add and mul of deriv.kk, one function: op is Expr_Add or Expr_Mul; their unit is 0 or 1, and
 * mul's zero absorbs. The cases, in deriv.kk's order (Op is Add or Mul):
 *   (Val(n),Val(m)) -> Val(n op m)
 *   mul only: (Val(0),_) -> Val(0); (_,Val(0)) -> Val(0)
 *   (Val(unit),f) -> f;  (f,Val(unit)) -> f;  (f,Val(n)) -> op(Val(n),f)
 *   (Val(n),Op(Val(m),f)) -> op(Val(n op m),f);  (f,Op(Val(n),g)) -> op(Val(n),op(f,g))
 *   (Op(f,g),h) -> op(f,op(g,h));  (f,g) -> Op(f,g) */
static ex_h assoc(Expr_tag op, ex_h n0, ex_h m0) {
    int64_t unit = op == Expr_Add ? 0 : 1;
    bool nv = is_val(n0), mv = is_val(m0);
    int64_t n = nv ? value(n0) : 0, m = mv ? value(m0) : 0;
    if (nv && mv) {
        ex_drop(m0);
        return val_into(n0, apply(op, n, m));
    }
    if (op == Expr_Mul && nv && n == 0) {
        ex_drop(m0);
        return val_into(n0, 0);
    }
    if (op == Expr_Mul && mv && m == 0) {
        ex_drop(n0);
        return val_into(m0, 0);
    }
    if (nv && n == unit) {
        ex_drop(n0);
        return m0;
    }
    if (mv && m == unit) {
        ex_drop(m0);
        return n0;
    }
    if (mv) {
        return assoc(op, val_into(m0, m), n0);
    }
    if (ex_tag(m0) == op && is_val(op_l(op, m0))) {
        int64_t b = value(op_l(op, m0));
        ex_pair g = take_op(op, m0);
        if (nv) { /* (Val(n),Op(Val(m),f)) -> op(Val(n op m),f) */
            ex_drop(g.l);
            return assoc(op, val_into(n0, apply(op, n, b)), g.r);
        }
        /* (f,Op(Val(n),g)) -> op(Val(n),op(f,g)) */
        return assoc(op, val_into(g.l, b), assoc(op, n0, g.r));
    }
    if (ex_tag(n0) == op) { /* (Op(f,g),h) -> op(f,op(g,h)) */
        ex_pair f = take_op(op, n0);
        return assoc(op, f.l, assoc(op, f.r, m0));
    }
    return bin(op, n0, m0); /* (f,g) -> Op(f,g) */
}

static ex_h add(ex_h n0, ex_h m0) { return assoc(Expr_Add, n0, m0); }
static ex_h mul(ex_h n0, ex_h m0) { return assoc(Expr_Mul, n0, m0); }

static ex_h powr(ex_h m0, ex_h n0) {
    bool mv = is_val(m0), nv = is_val(n0);
    int64_t m = mv ? value(m0) : 0, n = nv ? value(n0) : 0;
    if (mv && nv) { /* (Val(m), Val(n)) -> Val(pown(m,n)) */
        ex_drop(n0);
        return val_into(m0, pown(m, n));
    }
    if (nv && n == 0) { /* (_, Val(0)) -> Val(1) */
        ex_drop(m0);
        return val_into(n0, 1);
    }
    if (nv && n == 1) { /* (f, Val(1)) -> f */
        ex_drop(n0);
        return m0;
    }
    if (mv && m == 0) { /* (Val(0), _) -> Val(0) */
        ex_drop(n0);
        return val_into(m0, 0);
    }
    return ex_Pow(m0, n0); /* (f, g) -> Pow(f, g) */
}

static ex_h ln(ex_h n) {
    if (is_val_n(n, 1)) { /* Val(1) -> Val(0) */
        return val_into(n, 0);
    }
    return ex_Ln(n); /* f -> Ln(f) */
}

/* d(x, ^e) */
static ex_h d(const char *x, ex_h e) {
    switch (ex_tag(e)) {
    case Expr_Val:
        return ex_Val(0);
    case Expr_Var:
        return ex_Val(strcmp(x, ex_peek_Var(e).name) == 0 ? 1 : 0);
    case Expr_Add: {
        ex_Add_t a = ex_peek_Add(e);
        ex_h df = d(x, a.l);
        return add(df, d(x, a.r));
    }
    case Expr_Mul: { /* add(mul(f,d(x,g)),mul(g,d(x,f))) */
        ex_Mul_t a = ex_peek_Mul(e);
        ex_h dg = d(x, a.r);
        ex_h p = mul(ex_dup(a.l), dg);
        ex_h df = d(x, a.l);
        return add(p, mul(ex_dup(a.r), df));
    }
    case Expr_Pow: { /* mul(powr(f,g),add(mul(mul(g,d(x,f)),powr(f,Val(-1))),mul(ln(f),d(x,g)))) */
        ex_Pow_t a = ex_peek_Pow(e);
        ex_h f = a.l, g = a.r;
        ex_h p = powr(ex_dup(f), ex_dup(g));
        ex_h df = d(x, f);
        ex_h q = mul(ex_dup(g), df);
        q = mul(q, powr(ex_dup(f), ex_Val(-1)));
        ex_h lf = ln(ex_dup(f));
        ex_h s = mul(lf, d(x, g));
        return mul(p, add(q, s));
    }
    default: { /* Ln(f) -> mul(d(x,f),powr(f,Val(-1))) */
        ex_h f = ex_peek_Ln(e).e;
        ex_h df = d(x, f);
        return mul(df, powr(ex_dup(f), ex_Val(-1)));
    }
    }
}

/* count(^e) */
static int64_t count(ex_h e) {
    int64_t c = 0;
    for (;;) {
        switch (ex_tag(e)) {
        case Expr_Val:
        case Expr_Var:
            return c + 1;
        case Expr_Ln:
            e = ex_peek_Ln(e).e;
            break;
        case Expr_Add: {
            ex_Add_t a = ex_peek_Add(e);
            c += count(a.l);
            e = a.r;
            break;
        }
        case Expr_Mul: {
            ex_Mul_t a = ex_peek_Mul(e);
            c += count(a.l);
            e = a.r;
            break;
        }
        case Expr_Pow: {
            ex_Pow_t a = ex_peek_Pow(e);
            c += count(a.l);
            e = a.r;
            break;
        }
        }
    }
}

int main(int argc, char **argv) {
    long n = pb_arg(argc, argv, 10);
    ex_h x = ex_Var("x");
    ex_h f = powr(ex_dup(x), x);
    for (long i = 0; i < n; i++) { /* nest(deriv, n, f) */
        ex_h df = d("x", f);
        printf("%ld count: %" PRId64 "\n", i + 1, count(df));
        ex_drop(f);
        f = df;
    }
    ex_drop(f);
    puts("done");
    return 0;
}
