// rbtree-ck in C++: Koka's test/bench/koka/rbtree-ck.kk. The kept trees share
// their nodes, which std::map cannot, so this is a persistent red-black tree of
// immutable nodes held by std::shared_ptr: an insert copies the path it walks.
//
//   rbtree-ck N FREQ    inserts N .. 1, keeping every FREQ-th tree, then
//                       counts the true values of the last tree.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <vector>

namespace {

enum class Color : uint8_t { Red, Black };

struct Node;
using Tree = std::shared_ptr<const Node>;

struct Node {
    Color color;
    Tree left;
    int32_t key;
    bool val;
    Tree right;
};

Tree node(Color c, Tree l, int32_t k, bool v, Tree r) {
    return std::make_shared<const Node>(Node{c, std::move(l), k, v, std::move(r)});
}

bool is_red(const Tree &t) { return t && t->color == Color::Red; }

Tree balance_left(const Tree &l, int32_t k, bool v, const Tree &r) {
    if (is_red(l->left)) {
        const Node &ll = *l->left;
        return node(Color::Red, node(Color::Black, ll.left, ll.key, ll.val, ll.right), l->key, l->val,
                    node(Color::Black, l->right, k, v, r));
    }
    if (is_red(l->right)) {
        const Node &lr = *l->right;
        return node(Color::Red, node(Color::Black, l->left, l->key, l->val, lr.left), lr.key, lr.val,
                    node(Color::Black, lr.right, k, v, r));
    }
    return node(Color::Black, node(Color::Red, l->left, l->key, l->val, l->right), k, v, r);
}

Tree balance_right(const Tree &l, int32_t k, bool v, const Tree &r) {
    if (is_red(r->left)) {
        const Node &rl = *r->left;
        return node(Color::Red, node(Color::Black, l, k, v, rl.left), rl.key, rl.val,
                    node(Color::Black, rl.right, r->key, r->val, r->right));
    }
    if (is_red(r->right)) {
        const Node &rr = *r->right;
        return node(Color::Red, node(Color::Black, l, k, v, r->left), r->key, r->val,
                    node(Color::Black, rr.left, rr.key, rr.val, rr.right));
    }
    return node(Color::Black, l, k, v, node(Color::Red, r->left, r->key, r->val, r->right));
}

Tree ins(const Tree &t, int32_t k, bool v) {
    if (!t) {
        return node(Color::Red, nullptr, k, v, nullptr);
    }
    if (k < t->key) {
        if (t->color == Color::Black && is_red(t->left)) {
            return balance_left(ins(t->left, k, v), t->key, t->val, t->right);
        }
        return node(t->color, ins(t->left, k, v), t->key, t->val, t->right);
    }
    if (k == t->key) {
        return node(t->color, t->left, k, v, t->right);
    }
    if (t->color == Color::Black && is_red(t->right)) {
        return balance_right(t->left, t->key, t->val, ins(t->right, k, v));
    }
    return node(t->color, t->left, t->key, t->val, ins(t->right, k, v));
}

Tree insert(const Tree &t, int32_t k, bool v) {
    Tree r = ins(t, k, v);
    if (is_red(t)) {
        return node(Color::Black, r->left, r->key, r->val, r->right);
    }
    return r;
}

long fold(const Node *t, long acc) {
    while (t) {
        acc = fold(t->left.get(), acc) + (t->val ? 1 : 0);
        t = t->right.get();
    }
    return acc;
}

}  // namespace

int main(int argc, char **argv) {
    long n = argc > 1 ? std::strtol(argv[1], nullptr, 10) : 4200000;
    long freq = argc > 2 ? std::strtol(argv[2], nullptr, 10) : 5;
    Tree t;
    std::vector<Tree> kept;
    for (long i = n; i > 0; i--) {
        t = insert(t, static_cast<int32_t>(i), i % 10 == 0);
        if (i % freq == 0) {
            kept.push_back(t);
        }
    }
    kept.clear();
    std::printf("%ld\n", fold(t.get(), 0));
    return 0;
}
