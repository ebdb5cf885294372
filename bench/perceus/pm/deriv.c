/* deriv on pmgen's types: Koka's test/bench/koka/deriv.kk (after Lean's
 * deriv.ml), emitted the way a Perceus compiler would, over the public
 * generated API (pm_bench.h).
 *
 *   deriv N    prints the node count of the first N derivatives of x^x
 *              ("1 count: ..." to "N count: ..."), then "done".
 *
 * Sum type: expr = Val(int) | Var(string) | Add(l, r) | Mul(l, r) | Pow(l, r)
 * | Ln(e), one struct Expr with `tag` (perceus.yaml): Val's int and Var's name
 * share the C union `atom`; l and r are the managed fields (Ln uses l). With
 * `variants:` each constructor below (val_v, var_v, bin_v) becomes its
 * variant's constructor function and `tag` the generated _tag.
 *
 * Perceus: add, mul, powr and ln own their arguments. A matched Val whose
 * memory a Val of the branch reuses is given up with _drop_reuse (its fields
 * are not used: Koka's drop-reuse) and the Val made in the token
 * (_new_reuse); a matched node dead in its branch whose memory no constructor
 * of that branch reuses is `take`n (_into_inner: freed when unique). The
 * pairing of tokens and constructors is Koka's (by constructor size: a Val
 * reuses a Val), though with the tagged struct every node here is one size.
 * d and count borrow their expression (Koka's `^e`).
 */
#include <string.h>

#include "pm_bench.h"

PB_HANDLES(Expr, ex)

enum { VAL, VAR, ADD, MUL, POW, LN };

static inline ex_v val_v(int64_t n) {
    return (ex_v){.tag = VAL, .atom = {.n = n}, .l = ex_nil(), .r = ex_nil()};
}
static inline ex_v bin_v(uint8_t tag, ex_h l, ex_h r) {
    return (ex_v){.tag = tag, .atom = {.n = 0}, .l = l, .r = r};
}
static inline ex_h val(int64_t n) { return ex_new(val_v(n)); }

/* Val(n) into the memory of the dead node e (reuse), or fresh. */
static inline ex_h val_into(ex_h e, int64_t n) {
    pm_reuse t = PB_TOKEN;
    ex_drop_reuse(e, &t);
    return ex_make(&t, val_v(n));
}

static int64_t pown(int64_t a, int64_t b) {
    int64_t r = 1;
    for (; b > 0; b--) {
        r *= a;
    }
    return b < 0 ? 0 : r;
}

static inline int64_t apply(uint8_t op, int64_t a, int64_t b) {
    return op == ADD ? a + b : a * b;
}

/* add and mul of deriv.kk, one function: op is ADD or MUL; their unit is 0 or 1, and
 * mul's zero absorbs. The cases, in deriv.kk's order (Op is Add or Mul):
 *   (Val(n),Val(m)) -> Val(n op m)
 *   mul only: (Val(0),_) -> Val(0); (_,Val(0)) -> Val(0)
 *   (Val(unit),f) -> f;  (f,Val(unit)) -> f;  (f,Val(n)) -> op(Val(n),f)
 *   (Val(n),Op(Val(m),f)) -> op(Val(n op m),f);  (f,Op(Val(n),g)) -> op(Val(n),op(f,g))
 *   (Op(f,g),h) -> op(f,op(g,h));  (f,g) -> Op(f,g) */
static ex_h assoc(uint8_t op, ex_h n0, ex_h m0) {
    int64_t unit = op == ADD ? 0 : 1;
    ex_v a = ex_peek(n0), b = ex_peek(m0);
    if (a.tag == VAL && b.tag == VAL) {
        ex_drop(m0);
        return val_into(n0, apply(op, a.atom.n, b.atom.n));
    }
    if (op == MUL && a.tag == VAL && a.atom.n == 0) {
        ex_drop(m0);
        return val_into(n0, 0);
    }
    if (op == MUL && b.tag == VAL && b.atom.n == 0) {
        ex_drop(n0);
        return val_into(m0, 0);
    }
    if (a.tag == VAL && a.atom.n == unit) {
        ex_drop(n0);
        return m0;
    }
    if (b.tag == VAL && b.atom.n == unit) {
        ex_drop(m0);
        return n0;
    }
    if (b.tag == VAL) {
        return assoc(op, val_into(m0, b.atom.n), n0);
    }
    if (b.tag == op) {
        ex_v bl = ex_peek(b.l);
        if (bl.tag == VAL && a.tag == VAL) {
            ex_v m = ex_take(m0);
            ex_drop(m.l);
            return assoc(op, val_into(n0, apply(op, a.atom.n, bl.atom.n)), m.r);
        }
        if (bl.tag == VAL) {
            ex_v m = ex_take(m0);
            ex_h v = val_into(m.l, bl.atom.n);
            return assoc(op, v, assoc(op, n0, m.r));
        }
    }
    if (a.tag == op) {
        ex_v n = ex_take(n0);
        return assoc(op, n.l, assoc(op, n.r, m0));
    }
    return ex_new(bin_v(op, n0, m0));
}

static ex_h add(ex_h n0, ex_h m0) { return assoc(ADD, n0, m0); }
static ex_h mul(ex_h n0, ex_h m0) { return assoc(MUL, n0, m0); }

static ex_h powr(ex_h m0, ex_h n0) {
    ex_v a = ex_peek(m0), b = ex_peek(n0);
    if (a.tag == VAL && b.tag == VAL) { /* (Val(m), Val(n)) -> Val(pown(m,n)) */
        ex_drop(n0);
        return val_into(m0, pown(a.atom.n, b.atom.n));
    }
    if (b.tag == VAL && b.atom.n == 0) { /* (_, Val(0)) -> Val(1) */
        ex_drop(m0);
        return val_into(n0, 1);
    }
    if (b.tag == VAL && b.atom.n == 1) { /* (f, Val(1)) -> f */
        ex_drop(n0);
        return m0;
    }
    if (a.tag == VAL && a.atom.n == 0) { /* (Val(0), _) -> Val(0) */
        ex_drop(n0);
        return val_into(m0, 0);
    }
    return ex_new(bin_v(POW, m0, n0)); /* (f, g) -> Pow(f, g) */
}

static ex_h ln(ex_h n) {
    ex_v a = ex_peek(n);
    if (a.tag == VAL && a.atom.n == 1) { /* Val(1) -> Val(0) */
        return val_into(n, 0);
    }
    return ex_new(bin_v(LN, n, ex_nil())); /* f -> Ln(f) */
}

/* d(x, ^e) */
static ex_h d(const char *x, ex_h e) {
    ex_v a = ex_peek(e);
    ex_h f = a.l, g = a.r;
    switch (a.tag) {
    case VAL:
        return val(0);
    case VAR:
        return val(strcmp(x, a.atom.name) == 0 ? 1 : 0);
    case ADD: {
        ex_h df = d(x, f);
        return add(df, d(x, g));
    }
    case MUL: { /* add(mul(f,d(x,g)),mul(g,d(x,f))) */
        ex_h dg = d(x, g);
        ex_h p = mul(ex_dup(f), dg);
        ex_h df = d(x, f);
        return add(p, mul(ex_dup(g), df));
    }
    case POW: { /* mul(powr(f,g),add(mul(mul(g,d(x,f)),powr(f,Val(-1))),mul(ln(f),d(x,g)))) */
        ex_h p = powr(ex_dup(f), ex_dup(g));
        ex_h df = d(x, f);
        ex_h q = mul(ex_dup(g), df);
        q = mul(q, powr(ex_dup(f), val(-1)));
        ex_h lf = ln(ex_dup(f));
        ex_h s = mul(lf, d(x, g));
        return mul(p, add(q, s));
    }
    default: { /* Ln(f) -> mul(d(x,f),powr(f,Val(-1))) */
        ex_h df = d(x, f);
        return mul(df, powr(ex_dup(f), val(-1)));
    }
    }
}

/* count(^e) */
static int64_t count(ex_h e) {
    int64_t c = 0;
    for (;;) {
        ex_v a = ex_peek(e);
        switch (a.tag) {
        case VAL:
        case VAR:
            return c + 1;
        case LN:
            e = a.l;
            break;
        default:
            c += count(a.l);
            e = a.r;
        }
    }
}

int main(int argc, char **argv) {
    long n = pb_arg(argc, argv, 10);
    ex_h x = ex_new((ex_v){.tag = VAR, .atom = {.name = "x"}, .l = ex_nil(), .r = ex_nil()});
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
