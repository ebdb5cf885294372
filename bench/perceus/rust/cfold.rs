// cfold in Rust: Koka's test/bench/koka/cfold.kk with the seed's design:
// nodes in `Rc` (built with `--cfg arc`: `Arc`); a node that is unique is
// taken apart (`try_unwrap`), a shared one cloned.
//
//   cfold N    the value of mk_expr(N, 1), then of its reassociated,
//              constant-folded form.

#[cfg(not(arc))]
use std::rc::Rc as P;
#[cfg(arc)]
use std::sync::Arc as P;

use Expr::*;

type E = P<Expr>;

#[derive(Clone)]
#[allow(dead_code)] // Var's int is never read, as in cfold.kk
enum Expr {
    Var(i64),
    Val(i64),
    Add(E, E),
    Mul(E, E),
}

fn mk_expr(n: i64, v: i64) -> E {
    if n == 0 {
        return P::new(if v == 0 { Var(1) } else { Val(v) });
    }
    let l = mk_expr(n - 1, v + 1);
    P::new(Add(l, mk_expr(n - 1, std::cmp::max(v - 1, 0))))
}

fn unwrap(e: E) -> Expr {
    P::try_unwrap(e).unwrap_or_else(|e| (*e).clone())
}

fn append_add(e0: E, e3: E) -> E {
    match unwrap(e0) {
        Add(e1, e2) => P::new(Add(e1, append_add(e2, e3))),
        e => P::new(Add(P::new(e), e3)),
    }
}

fn append_mul(e0: E, e3: E) -> E {
    match unwrap(e0) {
        Mul(e1, e2) => P::new(Mul(e1, append_mul(e2, e3))),
        e => P::new(Mul(P::new(e), e3)),
    }
}

fn reassoc(e: E) -> E {
    match &*e {
        Add(..) | Mul(..) => {}
        _ => return e,
    }
    match unwrap(e) {
        Add(e1, e2) => {
            let l = reassoc(e1);
            append_add(l, reassoc(e2))
        }
        Mul(e1, e2) => {
            let l = reassoc(e1);
            append_mul(l, reassoc(e2))
        }
        _ => unreachable!(),
    }
}

fn cfold(e: E) -> E {
    if !matches!(*e, Add(..) | Mul(..)) {
        return e;
    }
    let (is_add, e1, e2) = match unwrap(e) {
        Add(l, r) => (true, l, r),
        Mul(l, r) => (false, l, r),
        _ => unreachable!(),
    };
    let e1 = cfold(e1);
    let e2 = cfold(e2);
    let op = |a: i64, b: i64| if is_add { a + b } else { a * b };
    let node = |l: E, r: E| P::new(if is_add { Add(l, r) } else { Mul(l, r) });
    if let Val(a) = *e1 {
        match &*e2 {
            Val(b) => return P::new(Val(op(a, *b))),
            Add(f, g) | Mul(f, g) if matches!(*e2, Add(..)) == is_add => {
                if let Val(b) = **g {
                    return node(P::new(Val(op(a, b))), f.clone());
                }
                if let Val(b) = **f {
                    return node(P::new(Val(op(a, b))), g.clone());
                }
            }
            _ => {}
        }
    }
    node(e1, e2)
}

fn eval(e: &Expr) -> i64 {
    match e {
        Var(_) => 0,
        Val(v) => *v,
        Add(l, r) => eval(l) + eval(r),
        Mul(l, r) => eval(l) * eval(r),
    }
}

fn main() {
    let n: i64 = std::env::args().nth(1).map_or(20, |s| s.parse().unwrap());
    let e = mk_expr(n, 1);
    let v1 = eval(&e);
    let folded = cfold(reassoc(e));
    let v2 = eval(&folded);
    drop(folded);
    println!("{}\n{}", v1, v2);
}
