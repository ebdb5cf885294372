// cfold in C++: Koka's test/bench/koka/cfold.kk with nodes owned by
// std::unique_ptr (no node is shared), rewritten in place.
//
//   cfold N    the value of mk_expr(N, 1), then of its reassociated,
//              constant-folded form.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>

namespace {

enum class Kind : uint8_t { Var, Val, Add, Mul };

struct Expr;
using E = std::unique_ptr<Expr>;

struct Expr {
    Kind kind;
    int64_t n;
    E l, r;
};

E mk(Kind k, int64_t n, E l = nullptr, E r = nullptr) {
    return std::make_unique<Expr>(Expr{k, n, std::move(l), std::move(r)});
}

E mk_expr(int64_t n, int64_t v) {
    if (n == 0) {
        return v == 0 ? mk(Kind::Var, 1) : mk(Kind::Val, v);
    }
    E l = mk_expr(n - 1, v + 1);
    return mk(Kind::Add, 0, std::move(l), mk_expr(n - 1, v - 1 > 0 ? v - 1 : 0));
}

E append(Kind op, E e0, E e3) {
    if (e0->kind == op) {
        e0->r = append(op, std::move(e0->r), std::move(e3));
        return e0;
    }
    return mk(op, 0, std::move(e0), std::move(e3));
}

E reassoc(E e) {
    if (e->kind == Kind::Add || e->kind == Kind::Mul) {
        E l = reassoc(std::move(e->l));
        return append(e->kind, std::move(l), reassoc(std::move(e->r)));
    }
    return e;
}

int64_t apply(Kind op, int64_t a, int64_t b) { return op == Kind::Add ? a + b : a * b; }

E cfold(E e) {
    Kind op = e->kind;
    if (op != Kind::Add && op != Kind::Mul) {
        return e;
    }
    E e1 = cfold(std::move(e->l));
    E e2 = cfold(std::move(e->r));
    if (e1->kind == Kind::Val) {
        if (e2->kind == Kind::Val) {
            return mk(Kind::Val, apply(op, e1->n, e2->n));
        }
        if (e2->kind == op && (e2->r->kind == Kind::Val || e2->l->kind == Kind::Val)) {
            bool right = e2->r->kind == Kind::Val;
            int64_t b = right ? e2->r->n : e2->l->n;
            E f = std::move(right ? e2->l : e2->r);
            e1->n = apply(op, e1->n, b);
            e->l = std::move(e1);
            e->r = std::move(f);
            return e;
        }
    }
    e->l = std::move(e1);
    e->r = std::move(e2);
    return e;
}

int64_t eval(const Expr &e) {
    switch (e.kind) {
    case Kind::Var: return 0;
    case Kind::Val: return e.n;
    case Kind::Add: return eval(*e.l) + eval(*e.r);
    default: return eval(*e.l) * eval(*e.r);
    }
}

}  // namespace

int main(int argc, char **argv) {
    long n = argc > 1 ? std::strtol(argv[1], nullptr, 10) : 20;
    E e = mk_expr(n, 1);
    int64_t v1 = eval(*e);
    E folded = cfold(reassoc(std::move(e)));
    int64_t v2 = eval(*folded);
    folded.reset();
    std::printf("%lld\n%lld\n", static_cast<long long>(v1), static_cast<long long>(v2));
    return 0;
}
