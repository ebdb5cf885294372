/* The driver of binarytrees.kk's main, shared by the two C programs
 * (c/binarytrees.c, pm/binarytrees.c). The includer defines the tree type
 * BT_TREE, `BT_TREE make(long depth)` and `long check(BT_TREE t)`, which
 * counts the nodes and consumes the tree.
 *
 *   binarytrees N    max depth N (min depth 4): the stretch tree, 2^(N+4-d)
 *                    trees of each depth d = 4, 6, .. <= N, the long-lived tree.
 *
 * Built with -fopenmp, the trees of one depth are made and checked on all
 * cores (`#pragma omp parallel for`), as Koka's psum-count does with tasks;
 * each tree is made and checked by one thread. Koka's sum-count folds over
 * count+1 trees (fold-int(count+1, ..)); this, like the Benchmarks Game and
 * every variant here, makes `count`.
 */
#include <stdio.h>
#include <stdlib.h>

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
    BT_TREE long_lived = make(max_depth);
    for (long d = min_depth; d <= max_depth; d += 2) {
        long count = 1L << (max_depth + min_depth - d);
        printf("%ld\t trees of depth %ld\t check: %ld\n", count, d, sum_count(count, d));
    }
    printf("long lived tree of depth %ld\t check: %ld\n", max_depth, check(long_lived));
    return 0;
}
