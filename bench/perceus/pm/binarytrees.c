/* binarytrees on pmgen's types: Koka's test/bench/koka/binarytrees.kk (the
 * Computer Language Benchmarks Game's), emitted the way a Perceus compiler
 * would, over the public generated API (pm_bench.h).
 *
 * The driver (main, and OpenMP with -fopenmp: built so under the thread-safe
 * policies) is ../binarytrees_main.h, shared with c/binarytrees.c.
 *
 * Sum types (perceus.yaml): tree { Node(left, right); Tip } is Bt, visit {
 * Done; NodeR(right, v) } is Visit; Tip and Done are nullary variants (the
 * shared box: nothing allocated).
 *
 * Perceus: make is make-rec; check is Koka's FBIP checkv: the visitor node
 * NodeR is made in the memory of the Node just taken apart (_take_reuse, then
 * _new_NodeR_reuse: reuse tokens match by box size across types, and a NodeR
 * box is a Node box's size, both two fields); a NodeR that is matched is dead
 * and nothing reuses it (take: freed).
 */
#include "pm_bench.h"

PB_HANDLES(Bt, bt)
PB_NULLARY(Bt, bt, Tip)
PB_VARIANT(Bt, bt, Node, (bt_h left, bt_h right), left, right)
PB_HANDLES(Visit, visit)
PB_NULLARY(Visit, visit, Done)
PB_VARIANT(Visit, visit, NodeR, (bt_h right, visit_h v), right, v)

/* make-rec(depth) */
static bt_h make(long depth) {
    if (depth > 0) { /* Node(make-rec(depth - 1), make-rec(depth - 1)) */
        bt_h l = make(depth - 1);
        return bt_Node(l, make(depth - 1));
    }
    return bt_Node(bt_Tip(), bt_Tip()); /* Node(Tip, Tip) */
}

/* checkv(t, v, acc), t owned */
static long check(bt_h t) {
    visit_h v = visit_Done();
    long acc = 0;
    for (;;) {
        if (bt_tag(t) == Bt_Node) { /* Node(l,r) -> checkv(l, NodeR(r,v), acc.inc) */
            pm_reuse tok = PB_TOKEN;
            bt_Node_t n = bt_take_reuse_Node(t, &tok);
            v = visit_NodeR_at(&tok, n.right, v);
            t = n.left;
            acc++;
            continue;
        }
        bt_drop(t); /* Tip */
        if (visit_tag(v) == Visit_NodeR) { /* Tip -> match v NodeR(r,v') -> checkv(r, v', acc) */
            visit_NodeR_t w = visit_take_NodeR(v);
            t = w.right;
            v = w.v;
        } else { /* Done -> acc */
            visit_drop(v);
            return acc;
        }
    }
}

#define BT_TREE bt_h
#include "../binarytrees_main.h"
