/* deriv in hand-written C: Koka's test/bench/koka/deriv.kk with malloc/free
 * and plain structs.
 *
 *   deriv N    the node counts of the first N derivatives of x^x, then "done".
 *
 * Subexpressions are shared (d uses f and g more than once), so a node
 * carries a reference count, as a C programmer writes for a shared immutable
 * DAG; a dead node whose count was 1 is rewritten in place when the same
 * branch builds a node (what Perceus calls reuse), else freed.
 */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xmalloc.h"

enum { VAL, VAR, ADD, MUL, POW, LN };

typedef struct expr {
    uint32_t rc;
    uint8_t tag;
    union {
        int64_t n;        /* Val */
        const char *name; /* Var */
        struct {
            struct expr *l, *r; /* Add, Mul, Pow; Ln uses l */
        };
    };
} expr;

static expr *alloc(void) {
    expr *e = xmalloc(sizeof *e);
    e->rc = 1;
    return e;
}

static expr *dup(expr *e) {
    e->rc++;
    return e;
}

static void release(expr *e) {
    while (--e->rc == 0) {
        expr *next = NULL;
        if (e->tag >= ADD) {
            if (e->tag != LN) {
                release(e->r);
            }
            next = e->l;
        }
        free(e);
        if (next == NULL) {
            return;
        }
        e = next;
    }
}

/* The children of a dead node, owned by the caller; the node is freed (or
 * loses an owner when shared). */
static expr *take(expr *e, expr **r) {
    expr *l = e->l;
    *r = e->r;
    if (e->rc == 1) {
        free(e);
    } else {
        e->rc--;
        dup(l);
        dup(*r);
    }
    return l;
}

static expr *val(int64_t n) {
    expr *e = alloc();
    e->tag = VAL;
    e->n = n;
    return e;
}

/* Val(n) in the dead node e's memory when e was unshared. */
static expr *val_into(expr *e, int64_t n) {
    if (e->rc == 1) {
        e->tag = VAL;
        e->n = n;
        return e;
    }
    e->rc--;
    return val(n);
}

static expr *bin(uint8_t tag, expr *l, expr *r) {
    expr *e = alloc();
    e->tag = tag;
    e->l = l;
    e->r = r;
    return e;
}

static int64_t pown(int64_t a, int64_t b) {
    int64_t r = 1;
    for (; b > 0; b--) {
        r *= a;
    }
    return b < 0 ? 0 : r;
}

static int64_t apply(uint8_t op, int64_t a, int64_t b) { return op == ADD ? a + b : a * b; }

/* add and mul of deriv.kk in one function (op is ADD or MUL), their cases in
 * deriv.kk's order; their unit is 0 or 1, and mul's zero absorbs. */
static expr *assoc(uint8_t op, expr *n0, expr *m0) {
    int64_t unit = op == ADD ? 0 : 1;
    if (n0->tag == VAL && m0->tag == VAL) {
        int64_t s = apply(op, n0->n, m0->n);
        release(m0);
        return val_into(n0, s);
    }
    if (op == MUL && n0->tag == VAL && n0->n == 0) {
        release(m0);
        return val_into(n0, 0);
    }
    if (op == MUL && m0->tag == VAL && m0->n == 0) {
        release(n0);
        return val_into(m0, 0);
    }
    if (n0->tag == VAL && n0->n == unit) {
        release(n0);
        return m0;
    }
    if (m0->tag == VAL && m0->n == unit) {
        release(m0);
        return n0;
    }
    if (m0->tag == VAL) {
        return assoc(op, val_into(m0, m0->n), n0);
    }
    if (m0->tag == op && m0->l->tag == VAL) {
        int64_t b = m0->l->n;
        expr *g, *l = take(m0, &g);
        if (n0->tag == VAL) {
            release(l);
            return assoc(op, val_into(n0, apply(op, n0->n, b)), g);
        }
        return assoc(op, val_into(l, b), assoc(op, n0, g));
    }
    if (n0->tag == op) {
        expr *g, *f = take(n0, &g);
        return assoc(op, f, assoc(op, g, m0));
    }
    return bin(op, n0, m0);
}

static expr *add(expr *n0, expr *m0) { return assoc(ADD, n0, m0); }
static expr *mul(expr *n0, expr *m0) { return assoc(MUL, n0, m0); }

static expr *powr(expr *m0, expr *n0) {
    if (m0->tag == VAL && n0->tag == VAL) {
        int64_t p = pown(m0->n, n0->n);
        release(n0);
        return val_into(m0, p);
    }
    if (n0->tag == VAL && n0->n == 0) {
        release(m0);
        return val_into(n0, 1);
    }
    if (n0->tag == VAL && n0->n == 1) {
        release(n0);
        return m0;
    }
    if (m0->tag == VAL && m0->n == 0) {
        release(n0);
        return val_into(m0, 0);
    }
    return bin(POW, m0, n0);
}

static expr *ln(expr *n) {
    if (n->tag == VAL && n->n == 1) {
        return val_into(n, 0);
    }
    return bin(LN, n, NULL);
}

/* d(x, ^e): e is borrowed */
static expr *d(const char *x, const expr *e) {
    expr *f = e->l, *g = e->r;
    switch (e->tag) {
    case VAL:
        return val(0);
    case VAR:
        return val(strcmp(x, e->name) == 0 ? 1 : 0);
    case ADD: {
        expr *df = d(x, f);
        return add(df, d(x, g));
    }
    case MUL: {
        expr *dg = d(x, g);
        expr *p = mul(dup(f), dg);
        expr *df = d(x, f);
        return add(p, mul(dup(g), df));
    }
    case POW: {
        expr *p = powr(dup(f), dup(g));
        expr *df = d(x, f);
        expr *q = mul(dup(g), df);
        q = mul(q, powr(dup(f), val(-1)));
        expr *lf = ln(dup(f));
        expr *s = mul(lf, d(x, g));
        return mul(p, add(q, s));
    }
    default: {
        expr *df = d(x, f);
        return mul(df, powr(dup(f), val(-1)));
    }
    }
}

static int64_t count(const expr *e) {
    int64_t c = 0;
    for (;;) {
        switch (e->tag) {
        case VAL:
        case VAR:
            return c + 1;
        case LN:
            e = e->l;
            break;
        default:
            c += count(e->l);
            e = e->r;
        }
    }
}

int main(int argc, char **argv) {
    long n = argc > 1 ? strtol(argv[1], NULL, 10) : 10;
    expr *x = alloc();
    x->tag = VAR;
    x->name = "x";
    expr *f = powr(dup(x), x);
    for (long i = 0; i < n; i++) {
        expr *df = d("x", f);
        printf("%ld count: %" PRId64 "\n", i + 1, count(df));
        release(f);
        f = df;
    }
    release(f);
    puts("done");
    return 0;
}
