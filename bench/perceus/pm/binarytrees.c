/* binarytrees on pmgen's types: Koka's test/bench/koka/binarytrees.kk (the
 * Computer Language Benchmarks Game's), emitted the way a Perceus compiler
 * would, over the public generated API (pm_bench.h).
 *
 * The driver (main, and OpenMP with -fopenmp: built so under the thread-safe
 * policies) is ../binarytrees_main.h, shared with c/binarytrees.c.
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

#define BT_TREE bt_h
#include "../binarytrees_main.h"
