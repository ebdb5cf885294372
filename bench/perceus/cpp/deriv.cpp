// deriv in C++: Koka's test/bench/koka/deriv.kk with immutable nodes held by
// std::shared_ptr (subexpressions are shared) and a std::variant per node.
//
//   deriv N    the node counts of the first N derivatives of x^x, then "done".
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <variant>

namespace {

struct Expr;
using E = std::shared_ptr<const Expr>;

struct Val { int64_t n; };
struct Var { std::string name; };
struct Add { E l, r; };
struct Mul { E l, r; };
struct Pow { E l, r; };
struct Ln { E e; };

struct Expr {
    std::variant<Val, Var, Add, Mul, Pow, Ln> v;
};

template <class T>
E mk(T t) { return std::make_shared<const Expr>(Expr{std::move(t)}); }

template <class T>
const T *as(const E &e) { return std::get_if<T>(&e->v); }

const Val *val_is(const E &e) { return as<Val>(e); }
bool val_eq(const E &e, int64_t n) {
    const Val *v = val_is(e);
    return v && v->n == n;
}

int64_t pown(int64_t a, int64_t b) {
    int64_t r = 1;
    for (; b > 0; b--) {
        r *= a;
    }
    return b < 0 ? 0 : r;
}

E add(const E &n0, const E &m0) {
    const Val *a = val_is(n0), *b = val_is(m0);
    if (a && b) return mk(Val{a->n + b->n});
    if (val_eq(n0, 0)) return m0;
    if (val_eq(m0, 0)) return n0;
    if (b) return add(mk(Val{b->n}), n0);
    if (const Add *m = as<Add>(m0)) {
        if (const Val *ml = val_is(m->l)) {
            if (a) return add(mk(Val{a->n + ml->n}), m->r);
            return add(mk(Val{ml->n}), add(n0, m->r));
        }
    }
    if (const Add *n = as<Add>(n0)) return add(n->l, add(n->r, m0));
    return mk(Add{n0, m0});
}

E mul(const E &n0, const E &m0) {
    const Val *a = val_is(n0), *b = val_is(m0);
    if (a && b) return mk(Val{a->n * b->n});
    if (val_eq(n0, 0)) return mk(Val{0});
    if (val_eq(m0, 0)) return mk(Val{0});
    if (val_eq(n0, 1)) return m0;
    if (val_eq(m0, 1)) return n0;
    if (b) return mul(mk(Val{b->n}), n0);
    if (const Mul *m = as<Mul>(m0)) {
        if (const Val *ml = val_is(m->l)) {
            if (a) return mul(mk(Val{a->n * ml->n}), m->r);
            return mul(mk(Val{ml->n}), mul(n0, m->r));
        }
    }
    if (const Mul *n = as<Mul>(n0)) return mul(n->l, mul(n->r, m0));
    return mk(Mul{n0, m0});
}

E powr(const E &m0, const E &n0) {
    const Val *a = val_is(m0), *b = val_is(n0);
    if (a && b) return mk(Val{pown(a->n, b->n)});
    if (val_eq(n0, 0)) return mk(Val{1});
    if (val_eq(n0, 1)) return m0;
    if (val_eq(m0, 0)) return mk(Val{0});
    return mk(Pow{m0, n0});
}

E ln(const E &n) {
    if (val_eq(n, 1)) return mk(Val{0});
    return mk(Ln{n});
}

E d(const std::string &x, const E &e) {
    if (val_is(e)) return mk(Val{0});
    if (const Var *v = as<Var>(e)) return mk(Val{x == v->name ? 1 : 0});
    if (const Add *a = as<Add>(e)) {
        E df = d(x, a->l);
        return add(df, d(x, a->r));
    }
    if (const Mul *m = as<Mul>(e)) {
        E p = mul(m->l, d(x, m->r));
        return add(p, mul(m->r, d(x, m->l)));
    }
    if (const Pow *p = as<Pow>(e)) {
        const E &f = p->l, &g = p->r;
        E pw = powr(f, g);
        E q = mul(g, d(x, f));
        q = mul(q, powr(f, mk(Val{-1})));
        E lf = ln(f);
        E s = mul(lf, d(x, g));
        return mul(pw, add(q, s));
    }
    const E &f = std::get<Ln>(e->v).e;
    E df = d(x, f);
    return mul(df, powr(f, mk(Val{-1})));
}

int64_t count(const Expr *e) {
    int64_t c = 0;
    for (;;) {
        switch (e->v.index()) {
        case 0:
        case 1:
            return c + 1;
        case 2: c += count(std::get<Add>(e->v).l.get()); e = std::get<Add>(e->v).r.get(); break;
        case 3: c += count(std::get<Mul>(e->v).l.get()); e = std::get<Mul>(e->v).r.get(); break;
        case 4: c += count(std::get<Pow>(e->v).l.get()); e = std::get<Pow>(e->v).r.get(); break;
        default: e = std::get<Ln>(e->v).e.get();
        }
    }
}

}  // namespace

int main(int argc, char **argv) {
    long n = argc > 1 ? std::strtol(argv[1], nullptr, 10) : 10;
    const std::string x = "x";
    E var = mk(Var{x});
    E f = powr(var, var);
    for (long i = 0; i < n; i++) {
        E df = d(x, f);
        std::printf("%ld count: %lld\n", i + 1, static_cast<long long>(count(df.get())));
        f = df;
    }
    f.reset();
    std::puts("done");
    return 0;
}
