/* rbtree and rbtree-ck in hand-written C: Koka's test/bench/koka/rbtree.kk and
 * rbtree-ck.kk with malloc/free and plain structs.
 *
 *   rbtree N              inserts N-1 .. 0 and counts the true values (rbtree.kk)
 *   rbtree-ck N FREQ      (built with -DRBTREE_CK) inserts N .. 1, keeping every
 *                         FREQ-th tree (rbtree-ck.kk)
 *
 * rbtree never shares a node, so the insert updates nodes in place. rbtree-ck
 * shares the kept trees' nodes, so there a node carries a reference count and
 * a shared node is copied before it changes (what a C programmer writes for a
 * persistent tree); a count of 1 means the node may change in place.
 */
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "xmalloc.h"

enum { RED, BLACK };

typedef struct node {
    struct node *left, *right;
    int32_t key;
    uint8_t color;
    bool val;
#ifdef RBTREE_CK
    uint32_t rc; /* in the padding: the node stays 24 bytes */
#define RC_INIT , 1
#define RC_LAST(t) (--(t)->rc == 0)
#else
#define RC_INIT
#define RC_LAST(t) true
#endif
} node;

typedef struct list {
    node *head;
    struct list *tail;
} list;

static node *mk(uint8_t color, node *l, int32_t k, bool v, node *r) {
    node *n = xmalloc(sizeof *n);
    *n = (node){l, r, k, color, v RC_INIT};
    return n;
}

static void release(node *t);

/* A node the caller may change: itself when unshared, else a copy (the
 * children gain an owner, the original loses one). Built with -DRBTREE_CK
 * only: rbtree never shares a node. */
static node *own(node *t) {
#ifndef RBTREE_CK
    return t;
#else
    if (t->rc == 1) {
        return t;
    }
    t->rc--;
    if (t->left) {
        t->left->rc++;
    }
    if (t->right) {
        t->right->rc++;
    }
    return mk(t->color, t->left, t->key, t->val, t->right);
#endif
}

static void release(node *t) {
    while (t != NULL && RC_LAST(t)) {
        node *r = t->right;
        release(t->left);
        free(t);
        t = r;
    }
}

static bool is_red(const node *t) { return t != NULL && t->color == RED; }

static node *balance_left(node *l, int32_t k, bool v, node *r) {
    l = own(l);
    if (is_red(l->left)) {
        node *ll = own(l->left);
        node *nr = mk(BLACK, l->right, k, v, r);
        ll->color = BLACK;
        l->color = RED;
        l->left = ll;
        l->right = nr;
        return l;
    }
    if (is_red(l->right)) {
        node *lr = own(l->right);
        node *nr = mk(BLACK, lr->right, k, v, r);
        node *lx = lr->left;
        lr->left = l;
        lr->right = nr;
        lr->color = RED;
        l->right = lx;
        l->color = BLACK;
        return lr;
    }
    l->color = RED;
    return mk(BLACK, l, k, v, r);
}

static node *balance_right(node *l, int32_t k, bool v, node *r) {
    r = own(r);
    if (is_red(r->left)) {
        node *rl = own(r->left);
        node *nl = mk(BLACK, l, k, v, rl->left);
        r->left = rl->right;
        r->color = BLACK;
        rl->left = nl;
        rl->right = r;
        rl->color = RED;
        return rl;
    }
    if (is_red(r->right)) {
        node *rr = own(r->right);
        node *nl = mk(BLACK, l, k, v, r->left);
        rr->color = BLACK;
        r->left = nl;
        r->right = rr;
        r->color = RED;
        return r;
    }
    r->color = RED;
    return mk(BLACK, l, k, v, r);
}

static node *ins(node *t, int32_t k, bool v) {
    if (t == NULL) {
        return mk(RED, NULL, k, v, NULL);
    }
    t = own(t);
    if (k < t->key) {
        if (t->color == BLACK && is_red(t->left)) {
            node *l = ins(t->left, k, v), *r = t->right;
            int32_t kx = t->key;
            bool vx = t->val;
            free(t);
            return balance_left(l, kx, vx, r);
        }
        t->left = ins(t->left, k, v);
    } else if (k == t->key) {
        t->val = v;
    } else {
        if (t->color == BLACK && is_red(t->right)) {
            node *l = t->left, *r = ins(t->right, k, v);
            int32_t kx = t->key;
            bool vx = t->val;
            free(t);
            return balance_right(l, kx, vx, r);
        }
        t->right = ins(t->right, k, v);
    }
    return t;
}

static node *insert(node *t, int32_t k, bool v) {
    bool red = is_red(t);
    t = ins(t, k, v);
    if (red) {
        t = own(t);
        t->color = BLACK;
    }
    return t;
}

static int64_t fold(const node *t, int64_t acc) {
    while (t != NULL) {
        acc = fold(t->left, acc) + (t->val ? 1 : 0);
        t = t->right;
    }
    return acc;
}

int main(int argc, char **argv) {
    long n = argc > 1 ? strtol(argv[1], NULL, 10) : 4200000;
    long freq = argc > 2 ? strtol(argv[2], NULL, 10) : 5;
    node *m = NULL;
#ifndef RBTREE_CK
    (void)freq;
    for (long i = n; i > 0; i--) {
        int32_t k = (int32_t)(i - 1);
        m = insert(m, k, k % 10 == 0);
    }
#else
    {
        list *acc = NULL;
        for (long i = n; i > 0; i--) {
            m = insert(m, (int32_t)i, i % 10 == 0);
            if (i % freq == 0) {
                list *c = xmalloc(sizeof *c);
                m->rc++;
                *c = (list){m, acc};
                acc = c;
            }
        }
        while (acc != NULL) {
            list *next = acc->tail;
            release(acc->head);
            free(acc);
            acc = next;
        }
    }
#endif
    printf("%" PRId64 "\n", fold(m, 0));
    release(m);
    return 0;
}
