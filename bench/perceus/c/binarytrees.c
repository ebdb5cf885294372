/* binarytrees in hand-written C: Koka's test/bench/koka/binarytrees.kk (the
 * Computer Language Benchmarks Game's) with malloc/free and plain structs;
 * the driver (main, and OpenMP with -fopenmp) is ../binarytrees_main.h.
 *
 * check counts the nodes and frees them, as Koka's checkv consumes its tree;
 * it recurses (depth <= N + 1) instead of using a visitor list.
 */
#include "xmalloc.h"

typedef struct node {
    struct node *left, *right;
} node;

static node *make(long depth) {
    node *t = xmalloc(sizeof *t);
    if (depth > 0) {
        t->left = make(depth - 1);
        t->right = make(depth - 1);
    } else {
        t->left = t->right = NULL;
    }
    return t;
}

static long check(node *t) {
    if (t == NULL) {
        return 0;
    }
    long c = 1 + check(t->left) + check(t->right);
    free(t);
    return c;
}

#define BT_TREE node *
#include "../binarytrees_main.h"
