/* cfold in hand-written C: Koka's test/bench/koka/cfold.kk with malloc/free
 * and plain structs.
 *
 *   cfold N    the value of mk_expr(N, 1), then of its reassociated,
 *              constant-folded form.
 *
 * No node is ever shared, so reassoc and cfold rewrite nodes in place and
 * free the ones that die.
 */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "xmalloc.h"

enum { VAR, VAL, ADD, MUL };

typedef struct expr {
    uint8_t tag;
    int64_t n;
    struct expr *l, *r;
} expr;

static expr *mk(uint8_t tag, int64_t n, expr *l, expr *r) {
    expr *e = xmalloc(sizeof *e);
    *e = (expr){tag, n, l, r};
    return e;
}

static expr *mk_expr(int64_t n, int64_t v) {
    if (n == 0) {
        return v == 0 ? mk(VAR, 1, NULL, NULL) : mk(VAL, v, NULL, NULL);
    }
    expr *l = mk_expr(n - 1, v + 1);
    return mk(ADD, 0, l, mk_expr(n - 1, v - 1 > 0 ? v - 1 : 0));
}

static expr *append(uint8_t op, expr *e0, expr *e3) {
    if (e0->tag == op) {
        e0->r = append(op, e0->r, e3);
        return e0;
    }
    return mk(op, 0, e0, e3);
}

static expr *reassoc(expr *e) {
    if (e->tag == ADD || e->tag == MUL) {
        uint8_t op = e->tag;
        expr *l = e->l, *r = e->r;
        free(e);
        l = reassoc(l);
        return append(op, l, reassoc(r));
    }
    return e;
}

static int64_t apply(uint8_t op, int64_t a, int64_t b) { return op == ADD ? a + b : a * b; }

static expr *cfold(expr *e) {
    uint8_t op = e->tag;
    if (op != ADD && op != MUL) {
        return e;
    }
    expr *e1 = cfold(e->l);
    expr *e2 = cfold(e->r);
    if (e1->tag == VAL) {
        if (e2->tag == VAL) {
            e->tag = VAL;
            e->n = apply(op, e1->n, e2->n);
            e->l = e->r = NULL;
            free(e1);
            free(e2);
            return e;
        }
        if (e2->tag == op && (e2->r->tag == VAL || e2->l->tag == VAL)) {
            expr *b = e2->r->tag == VAL ? e2->r : e2->l;
            expr *f = e2->r->tag == VAL ? e2->l : e2->r;
            e1->n = apply(op, e1->n, b->n);
            free(b);
            free(e2);
            e->l = e1;
            e->r = f;
            return e;
        }
    }
    e->l = e1;
    e->r = e2;
    return e;
}

static int64_t eval(const expr *e) {
    switch (e->tag) {
    case VAR:
        return 0;
    case VAL:
        return e->n;
    case ADD:
        return eval(e->l) + eval(e->r);
    default:
        return eval(e->l) * eval(e->r);
    }
}

static void release(expr *e) {
    while (e != NULL) {
        expr *r = e->r;
        release(e->l);
        free(e);
        e = r;
    }
}

int main(int argc, char **argv) {
    long n = argc > 1 ? strtol(argv[1], NULL, 10) : 20;
    expr *e = mk_expr(n, 1);
    int64_t v1 = eval(e);
    expr *folded = cfold(reassoc(e));
    int64_t v2 = eval(folded);
    release(folded);
    printf("%" PRId64 "\n%" PRId64 "\n", v1, v2);
    return 0;
}
