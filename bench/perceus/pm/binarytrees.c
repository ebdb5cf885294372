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
 * Perceus: make is make-rec; check is Koka's FBIP checkv: the visitor node
 * NodeR is made in the memory of the Node just taken apart (_take_reuse, then
 * _new_reuse of a Visit: reuse tokens match by box size across types, and a
 * Visit box is a Bt box's size); a NodeR that is matched is dead and nothing
 * reuses it (take: freed).
 */
#include "pm_bench.h"

PB_HANDLES(Bt, bt)
PB_HANDLES(Visit, visit)

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
            pm_reuse tok = PB_TOKEN;
            bt_v n = bt_take_reuse(t, &tok);
            v = visit_make(&tok, (visit_v){.right = n.right, .next = v});
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
