/* rbtree and rbtree-ck on pmgen's types: Koka's test/bench/koka/rbtree.kk and
 * rbtree-ck.kk (after Lean's rbmap.lean / rbmap-checkpoint.lean), emitted the
 * way a Perceus compiler would, over the public generated API (pm_bench.h).
 *
 *   rbtree N         inserts N-1 .. 0 (key % 10 == 0 -> true) into an empty
 *                    tree and prints how many values are true (rbtree.kk).
 *   rbtree N FREQ    inserts N .. 1 and keeps every FREQ-th tree in a list
 *                    (rbtree-ck.kk), then folds the last tree.
 *
 * Sum type: tree = Leaf | Node(color, left, key, value, right). Leaf is the
 * empty handle; Node is the struct Tree (perceus.yaml). With `variants:` the
 * Node constructor becomes a variant and Leaf a nullary one: the code below
 * changes only in tree_new/make (one constructor call) and the tag test.
 *
 * Perceus: every match of an owned node takes it apart with _take_reuse (its
 * memory, when it was unique, becomes the branch's reuse token), each
 * constructor of the branch is made in a token (_new_reuse), and a branch that
 * builds no node in it frees the token (spend), before its calls as Koka does.
 * Across types too: any token of a Tree box's size serves. is-red and fold only
 * inspect: their argument is borrowed (Koka's `^`, Lean's borrow inference).
 */
#include "pm_bench.h"

PB_HANDLES(Tree, tree)
PB_HANDLES(Trees, trees)

enum { RED, BLACK };

static inline tree_v node(uint8_t color, tree_h l, int32_t k, bool v, tree_h r) {
    return (tree_v){.left = l, .right = r, .key = k, .color = color, .val = v};
}

/* is-red(^t) */
static inline bool is_red(tree_h t) {
    return !tree_is_empty(t) && tree_peek(t).color == RED;
}

/* balance-left(l, k, v, r) (rbtree-ck's balance1 with its arguments in this order) */
static tree_h balance_left(tree_h l, int32_t k, bool v, tree_h r) {
    if (tree_is_empty(l)) {
        tree_drop(r);
        return l;
    }
    pm_reuse tl = PB_TOKEN;
    tree_v a = tree_take_reuse(l, &tl);
    if (is_red(a.left)) {
        /* Node(_, Node(Red, lx, kx, vx, rx), ky, vy, ry)
         *   -> Node(Red, Node(Black, lx, kx, vx, rx), ky, vy, Node(Black, ry, k, v, r)) */
        pm_reuse tll = PB_TOKEN;
        tree_v b = tree_take_reuse(a.left, &tll);
        tree_h nl = tree_make(&tll, node(BLACK, b.left, b.key, b.val, b.right));
        tree_h nr = tree_new(node(BLACK, a.right, k, v, r));
        return tree_make(&tl, node(RED, nl, a.key, a.val, nr));
    }
    if (is_red(a.right)) {
        /* Node(_, ly, ky, vy, Node(Red, lx, kx, vx, rx))
         *   -> Node(Red, Node(Black, ly, ky, vy, lx), kx, vx, Node(Black, rx, k, v, r)) */
        pm_reuse tlr = PB_TOKEN;
        tree_v b = tree_take_reuse(a.right, &tlr);
        tree_h nl = tree_make(&tlr, node(BLACK, a.left, a.key, a.val, b.left));
        tree_h nr = tree_new(node(BLACK, b.right, k, v, r));
        return tree_make(&tl, node(RED, nl, b.key, b.val, nr));
    }
    /* Node(_, lx, kx, vx, rx) -> Node(Black, Node(Red, lx, kx, vx, rx), k, v, r) */
    tree_h nl = tree_make(&tl, node(RED, a.left, a.key, a.val, a.right));
    return tree_new(node(BLACK, nl, k, v, r));
}

/* balance-right(l, k, v, r) (rbtree-ck's balance2) */
static tree_h balance_right(tree_h l, int32_t k, bool v, tree_h r) {
    if (tree_is_empty(r)) {
        tree_drop(l);
        return r;
    }
    pm_reuse tr = PB_TOKEN;
    tree_v a = tree_take_reuse(r, &tr);
    if (is_red(a.left)) {
        /* Node(_, Node(Red, lx, kx, vx, rx), ky, vy, ry)
         *   -> Node(Red, Node(Black, l, k, v, lx), kx, vx, Node(Black, rx, ky, vy, ry)) */
        pm_reuse trl = PB_TOKEN;
        tree_v b = tree_take_reuse(a.left, &trl);
        tree_h nl = tree_make(&trl, node(BLACK, l, k, v, b.left));
        tree_h nr = tree_new(node(BLACK, b.right, a.key, a.val, a.right));
        return tree_make(&tr, node(RED, nl, b.key, b.val, nr));
    }
    if (is_red(a.right)) {
        /* Node(_, lx, kx, vx, Node(Red, ly, ky, vy, ry))
         *   -> Node(Red, Node(Black, l, k, v, lx), kx, vx, Node(Black, ly, ky, vy, ry)) */
        pm_reuse trr = PB_TOKEN;
        tree_v b = tree_take_reuse(a.right, &trr);
        tree_h nr = tree_make(&trr, node(BLACK, b.left, b.key, b.val, b.right));
        tree_h nl = tree_new(node(BLACK, l, k, v, a.left));
        return tree_make(&tr, node(RED, nl, a.key, a.val, nr));
    }
    /* Node(_, lx, kx, vx, rx) -> Node(Black, l, k, v, Node(Red, lx, kx, vx, rx)) */
    tree_h nr = tree_make(&tr, node(RED, a.left, a.key, a.val, a.right));
    return tree_new(node(BLACK, l, k, v, nr));
}

static tree_h ins(tree_h t, int32_t k, bool v) {
    if (tree_is_empty(t)) {
        return tree_new(node(RED, t, k, v, tree_nil()));
    }
    pm_reuse tt = PB_TOKEN;
    tree_v n = tree_take_reuse(t, &tt);
    if (n.color == RED) {
        if (k < n.key) {
            n.left = ins(n.left, k, v);
        } else if (k == n.key) {
            n.val = v;
        } else {
            n.right = ins(n.right, k, v);
        }
        return tree_make(&tt, n);
    }
    if (k < n.key) {
        if (is_red(n.left)) {
            pb_spend(&tt);
            return balance_left(ins(n.left, k, v), n.key, n.val, n.right);
        }
        n.left = ins(n.left, k, v);
    } else if (k == n.key) {
        n.val = v;
    } else if (is_red(n.right)) {
        pb_spend(&tt);
        return balance_right(n.left, n.key, n.val, ins(n.right, k, v));
    } else {
        n.right = ins(n.right, k, v);
    }
    return tree_make(&tt, n);
}

static tree_h set_black(tree_h t) {
    if (tree_is_empty(t)) {
        return t;
    }
    pm_reuse tt = PB_TOKEN;
    tree_v n = tree_take_reuse(t, &tt);
    n.color = BLACK;
    return tree_make(&tt, n);
}

static tree_h insert(tree_h t, int32_t k, bool v) {
    return is_red(t) ? set_black(ins(t, k, v)) : ins(t, k, v);
}

/* fold(^t, b, f) with f = fn(k, v, r) { if v then r + 1 else r } */
static int64_t fold(tree_h t, int64_t acc) {
    while (!tree_is_empty(t)) {
        tree_v n = tree_peek(t);
        acc = fold(n.left, acc) + (n.val ? 1 : 0);
        t = n.right;
    }
    return acc;
}

int main(int argc, char **argv) {
    long n = pb_arg(argc, argv, 4200000);
    long freq = argc > 2 ? strtol(argv[2], NULL, 10) : 0;
    tree_h m = tree_nil();
    if (freq <= 0) { /* rbtree.kk: make-tree-aux */
        for (long i = n; i > 0; i--) {
            int32_t k = (int32_t)(i - 1);
            m = insert(m, k, k % 10 == 0);
        }
    } else { /* rbtree-ck.kk: make-tree-aux(freq, n, t, acc) */
        trees_h acc = trees_nil();
        for (long i = n; i > 0; i--) {
            m = insert(m, (int32_t)i, i % 10 == 0);
            if (i % freq == 0) {
                acc = trees_new((trees_v){.head = tree_dup(m), .tail = acc});
            }
        }
        acc = trees_new((trees_v){.head = m, .tail = acc});
        /* trees.head(Leaf): the head, and the list is dropped */
        m = tree_dup(trees_peek(acc).head);
        trees_drop(acc);
    }
    printf("%" PRId64 "\n", fold(m, 0));
    tree_drop(m);
    return 0;
}
