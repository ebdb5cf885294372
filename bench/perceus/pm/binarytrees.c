/* binarytrees on pmgen's types: Koka's test/bench/koka/binarytrees.kk (the
 * Computer Language Benchmarks Game's), emitted the way a Perceus compiler
 * would, over the public generated API (pm_bench.h).
 *
 *   binarytrees N    max depth N (min depth 4): the stretch tree, 2^(N+4-d)
 *                    trees of each depth d = 4, 6, .. <= N, the long-lived tree.
 *
 * Built with -fopenmp (and a thread-safe policy), the trees of one depth are
 * built and checked on all cores (`#pragma omp parallel for`), as Koka's
 * psum-count does with tasks. Each tree is made and checked by one thread.
 * Koka's sum-count folds over count+1 trees (fold-int(count+1, ..)); this, like
 * the Benchmarks Game and every variant here, makes `count`.
 *
 * Sum types: tree = Node(left, right) | Tip is Bt, visit = Done | NodeR(right,
 * v) is Visit (perceus.yaml); Tip and Done are the empty handle.
 *
 * Perceus: make is make-rec; check is Koka's FBIP checkv, whose visitor node
 * NodeR reuses the dead Node's memory in Koka. pmgen cannot yet reuse a Bt box
 * for a Visit (issue 11's reuse tokens are matched by size across types), so
 * here the Node is `take`n (freed) and each NodeR is allocated.
 */
#include "pm_bench.h"

PB_HANDLES(Bt, bt)
PB_HANDLES(Visit, visit)

static inline void bt_dup_fields(bt_v *v) {
    bt_dup(v->left);
    bt_dup(v->right);
}
static inline void visit_dup_fields(visit_v *v) {
    bt_dup(v->right);
    visit_dup(v->next);
}

PB_DEFINE(Bt, bt)
PB_DEFINE(Visit, visit)

/* make-rec(depth) */
static bt_h make(long depth) {
    if (depth > 0) {
        bt_h l = make(depth - 1);
        return bt_new((bt_v){.left = l, .right = make(depth - 1)});
    }
    return bt_new((bt_v){.left = bt_nil(), .right = bt_nil()});
}

/* checkv(t, v, acc), t owned */
static long check(bt_h t) {
    visit_h v = visit_nil();
    long acc = 0;
    for (;;) {
        if (!bt_is_empty(t)) { /* Node(l,r) -> checkv(l, NodeR(r,v), acc.inc) */
            bt_v n = bt_take(t);
            v = visit_new((visit_v){.right = n.right, .next = v});
            t = n.left;
            acc++;
        } else if (!visit_is_empty(v)) { /* Tip -> match v NodeR(r,v') -> checkv(r, v', acc) */
            visit_v w = visit_take(v);
            t = w.right;
            v = w.next;
        } else {
            return acc;
        }
    }
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
    long n = pb_arg(argc, argv, 21);
    long min_depth = 4, max_depth = n > min_depth + 2 ? n : min_depth + 2;
    long stretch = max_depth + 1;
    printf("stretch tree of depth %ld\t check: %ld\n", stretch, check(make(stretch)));
    bt_h long_lived = make(max_depth);
    for (long d = min_depth; d <= max_depth; d += 2) {
        long count = 1L << (max_depth + min_depth - d);
        printf("%ld\t trees of depth %ld\t check: %ld\n", count, d, sum_count(count, d));
    }
    printf("long lived tree of depth %ld\t check: %ld\n", max_depth, check(long_lived));
    return 0;
}
