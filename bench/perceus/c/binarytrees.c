/* binarytrees in hand-written C: Koka's test/bench/koka/binarytrees.kk (the
 * Computer Language Benchmarks Game's) with malloc/free and plain structs.
 *
 *   binarytrees N    max depth N (min depth 4): the stretch tree, 2^(N+4-d)
 *                    trees of each depth d = 4, 6, .. <= N, the long-lived tree.
 *
 * Built with -fopenmp, the trees of one depth are made and checked on all
 * cores. check counts the nodes and frees them, as Koka's checkv consumes
 * its tree; it recurses (depth <= N + 1) instead of using a visitor list.
 */
#include <stdio.h>
#include <stdlib.h>

typedef struct node {
    struct node *left, *right;
} node;

static node *make(long depth) {
    node *t = malloc(sizeof *t);
    if (t == NULL) {
        fputs("out of memory\n", stderr);
        exit(2);
    }
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

static long sum_count(long count, long depth) {
    long csum = 0;
#ifdef _OPENMP
    _Pragma("omp parallel for reduction(+ : csum) schedule(static)")
#endif
    for (long i = 0; i < count; i++) {
        csum += check(make(depth));
    }
    return csum;
}

int main(int argc, char **argv) {
    long n = argc > 1 ? strtol(argv[1], NULL, 10) : 21;
    long min_depth = 4, max_depth = n > min_depth + 2 ? n : min_depth + 2;
    long stretch = max_depth + 1;
    printf("stretch tree of depth %ld\t check: %ld\n", stretch, check(make(stretch)));
    node *long_lived = make(max_depth);
    for (long d = min_depth; d <= max_depth; d += 2) {
        long count = 1L << (max_depth + min_depth - d);
        printf("%ld\t trees of depth %ld\t check: %ld\n", count, d, sum_count(count, d));
    }
    printf("long lived tree of depth %ld\t check: %ld\n", max_depth, check(long_lived));
    return 0;
}
