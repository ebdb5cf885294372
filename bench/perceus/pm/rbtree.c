/* rbtree and rbtree-ck on pmgen's types: Koka's test/bench/koka/rbtree.kk and
 * rbtree-ck.kk (after Lean's rbmap.lean / rbmap-checkpoint.lean), emitted the
 * way a Perceus compiler would, over the public generated API (pm_bench.h).
 *
 *   rbtree N         inserts N-1 .. 0 (key % 10 == 0 -> true) into an empty
 *                    tree and prints how many values are true (rbtree.kk).
 *   rbtree N FREQ    inserts N .. 1 and keeps every FREQ-th tree in a list
 *                    (rbtree-ck.kk), then folds the last tree.
 *
 * Sum types (perceus.yaml): tree { Leaf; Node(color, lchild, key, value,
 * rchild) } is Tree, Leaf a nullary variant (the shared box: allocates
 * nothing); rbtree-ck's list<tree> { Nil; Cons(head, tail) } is Trees.
 *
 * Perceus: every match of an owned Node takes it apart with _take_reuse (its
 * memory, when it was unique, becomes the branch's reuse token), each Node
 * constructor of the branch is made in a token (_new_Node_reuse), and a branch
 * that builds no node in it frees the token (spend), before its calls as Koka
 * does. Any token of a Node box's size serves. is-red and fold only inspect:
 * their argument is borrowed (Koka's `^`, Lean's borrow inference).
 */
#include "pm_bench.h"

PB_HANDLES(Tree, tree)
PB_NULLARY(Tree, tree, Leaf)
PB_VARIANT(Tree, tree, Node, (uint8_t color, tree_h left, int32_t key, bool val, tree_h right),
           left, right, key, color, val)
PB_HANDLES(Trees, trees)
PB_NULLARY(Trees, trees, Nil)
PB_VARIANT(Trees, trees, Cons, (tree_h head, trees_h tail), head, tail)

enum { RED, BLACK };

/* is-red(^t): Node(Red) -> True; _ -> False */
static inline bool is_red(tree_h t) {
    return tree_tag(t) == Tree_Node && tree_peek_Node(t).color == RED;
}

/* balance-left(l, k, v, r) (rbtree-ck's balance1 with its arguments in this order) */
static tree_h balance_left(tree_h l, int32_t k, bool v, tree_h r) {
    if (tree_tag(l) == Tree_Leaf) { /* Leaf -> Leaf */
        tree_drop(r);
        return l;
    }
    pm_reuse tl = PB_TOKEN;
    tree_Node_t a = tree_take_reuse_Node(l, &tl);
    if (is_red(a.left)) {
        /* Node(_, Node(Red, lx, kx, vx, rx), ky, vy, ry)
         *   -> Node(Red, Node(Black, lx, kx, vx, rx), ky, vy, Node(Black, ry, k, v, r)) */
        pm_reuse tll = PB_TOKEN;
        tree_Node_t b = tree_take_reuse_Node(a.left, &tll);
        tree_h nl = tree_Node_at(&tll, BLACK, b.left, b.key, b.val, b.right);
        tree_h nr = tree_Node(BLACK, a.right, k, v, r);
        return tree_Node_at(&tl, RED, nl, a.key, a.val, nr);
    }
    if (is_red(a.right)) {
        /* Node(_, ly, ky, vy, Node(Red, lx, kx, vx, rx))
         *   -> Node(Red, Node(Black, ly, ky, vy, lx), kx, vx, Node(Black, rx, k, v, r)) */
        pm_reuse tlr = PB_TOKEN;
        tree_Node_t b = tree_take_reuse_Node(a.right, &tlr);
        tree_h nl = tree_Node_at(&tlr, BLACK, a.left, a.key, a.val, b.left);
        tree_h nr = tree_Node(BLACK, b.right, k, v, r);
        return tree_Node_at(&tl, RED, nl, b.key, b.val, nr);
    }
    /* Node(_, lx, kx, vx, rx) -> Node(Black, Node(Red, lx, kx, vx, rx), k, v, r) */
    tree_h nl = tree_Node_at(&tl, RED, a.left, a.key, a.val, a.right);
    return tree_Node(BLACK, nl, k, v, r);
}

/* balance-right(l, k, v, r) (rbtree-ck's balance2) */
static tree_h balance_right(tree_h l, int32_t k, bool v, tree_h r) {
    if (tree_tag(r) == Tree_Leaf) { /* Leaf -> Leaf */
        tree_drop(l);
        return r;
    }
    pm_reuse tr = PB_TOKEN;
    tree_Node_t a = tree_take_reuse_Node(r, &tr);
    if (is_red(a.left)) {
        /* Node(_, Node(Red, lx, kx, vx, rx), ky, vy, ry)
         *   -> Node(Red, Node(Black, l, k, v, lx), kx, vx, Node(Black, rx, ky, vy, ry)) */
        pm_reuse trl = PB_TOKEN;
        tree_Node_t b = tree_take_reuse_Node(a.left, &trl);
        tree_h nl = tree_Node_at(&trl, BLACK, l, k, v, b.left);
        tree_h nr = tree_Node(BLACK, b.right, a.key, a.val, a.right);
        return tree_Node_at(&tr, RED, nl, b.key, b.val, nr);
    }
    if (is_red(a.right)) {
        /* Node(_, lx, kx, vx, Node(Red, ly, ky, vy, ry))
         *   -> Node(Red, Node(Black, l, k, v, lx), kx, vx, Node(Black, ly, ky, vy, ry)) */
        pm_reuse trr = PB_TOKEN;
        tree_Node_t b = tree_take_reuse_Node(a.right, &trr);
        tree_h nr = tree_Node_at(&trr, BLACK, b.left, b.key, b.val, b.right);
        tree_h nl = tree_Node(BLACK, l, k, v, a.left);
        return tree_Node_at(&tr, RED, nl, a.key, a.val, nr);
    }
    /* Node(_, lx, kx, vx, rx) -> Node(Black, l, k, v, Node(Red, lx, kx, vx, rx)) */
    tree_h nr = tree_Node_at(&tr, RED, a.left, a.key, a.val, a.right);
    return tree_Node(BLACK, l, k, v, nr);
}

static tree_h ins(tree_h t, int32_t k, bool v) {
    if (tree_tag(t) == Tree_Leaf) { /* Leaf -> Node(Red, Leaf, k, v, Leaf): t is a Leaf */
        return tree_Node(RED, t, k, v, tree_Leaf());
    }
    pm_reuse tt = PB_TOKEN;
    tree_Node_t n = tree_take_reuse_Node(t, &tt);
    if (n.color == RED) { /* Node(Red, l, kx, vx, r) */
        if (k < n.key) {
            return tree_Node_at(&tt, RED, ins(n.left, k, v), n.key, n.val, n.right);
        }
        if (k == n.key) {
            return tree_Node_at(&tt, RED, n.left, k, v, n.right);
        }
        return tree_Node_at(&tt, RED, n.left, n.key, n.val, ins(n.right, k, v));
    }
    /* Node(Black, l, kx, vx, r) */
    if (k < n.key) {
        if (is_red(n.left)) {
            pb_spend(&tt);
            return balance_left(ins(n.left, k, v), n.key, n.val, n.right);
        }
        return tree_Node_at(&tt, BLACK, ins(n.left, k, v), n.key, n.val, n.right);
    }
    if (k == n.key) {
        return tree_Node_at(&tt, BLACK, n.left, k, v, n.right);
    }
    if (is_red(n.right)) {
        pb_spend(&tt);
        return balance_right(n.left, n.key, n.val, ins(n.right, k, v));
    }
    return tree_Node_at(&tt, BLACK, n.left, n.key, n.val, ins(n.right, k, v));
}

/* set-black(t): Node(_, l, k, v, r) -> Node(Black, l, k, v, r); _ -> t */
static tree_h set_black(tree_h t) {
    if (tree_tag(t) != Tree_Node) {
        return t;
    }
    pm_reuse tt = PB_TOKEN;
    tree_Node_t n = tree_take_reuse_Node(t, &tt);
    return tree_Node_at(&tt, BLACK, n.left, n.key, n.val, n.right);
}

static tree_h insert(tree_h t, int32_t k, bool v) {
    return is_red(t) ? set_black(ins(t, k, v)) : ins(t, k, v);
}

/* fold(^t, b, f) with f = fn(k, v, r) { if v then r + 1 else r } */
static int64_t fold(tree_h t, int64_t acc) {
    while (tree_tag(t) == Tree_Node) { /* Node(_, l, k, v, r) -> r.fold(f(k, v, l.fold(b, f)), f) */
        tree_Node_t n = tree_peek_Node(t);
        acc = fold(n.left, acc) + (n.val ? 1 : 0);
        t = n.right;
    }
    return acc; /* Leaf -> b */
}

int main(int argc, char **argv) {
    long n = pb_arg(argc, argv, 4200000);
    long freq = argc > 2 ? strtol(argv[2], NULL, 10) : 0;
    tree_h m = tree_Leaf();
    if (freq <= 0) { /* rbtree.kk: make-tree-aux */
        for (long i = n; i > 0; i--) {
            int32_t k = (int32_t)(i - 1);
            m = insert(m, k, k % 10 == 0);
        }
    } else { /* rbtree-ck.kk: make-tree-aux(freq, n, t, acc) */
        trees_h acc = trees_Nil();
        for (long i = n; i > 0; i--) {
            m = insert(m, (int32_t)i, i % 10 == 0);
            if (i % freq == 0) {
                acc = trees_Cons(tree_dup(m), acc);
            }
        }
        acc = trees_Cons(m, acc);
        /* trees.head(Leaf): the head, and the list is dropped */
        m = tree_dup(trees_peek_Cons(acc).head);
        trees_drop(acc);
    }
    printf("%" PRId64 "\n", fold(m, 0));
    tree_drop(m);
    return 0;
}
