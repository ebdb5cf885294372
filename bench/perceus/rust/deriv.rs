// deriv in Rust: Koka's test/bench/koka/deriv.kk with the seed's design:
// immutable nodes in `Rc` (built with `--cfg arc`: `Arc`), shared freely.
//
//   deriv N    the node counts of the first N derivatives of x^x, then "done".

#[cfg(not(arc))]
use std::rc::Rc as P;
#[cfg(arc)]
use std::sync::Arc as P;

use Expr::*;

type E = P<Expr>;

enum Expr {
    Val(i64),
    Var(P<str>),
    Add(E, E),
    Mul(E, E),
    Pow(E, E),
    Ln(E),
}

fn val(n: i64) -> E {
    P::new(Val(n))
}

fn pown(a: i64, b: i64) -> i64 {
    if b < 0 {
        0
    } else {
        (0..b).fold(1, |r, _| r * a)
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Op {
    Plus,
    Times,
}

impl Op {
    fn apply(self, a: i64, b: i64) -> i64 {
        if self == Op::Plus { a + b } else { a * b }
    }
    fn unit(self) -> i64 {
        if self == Op::Plus { 0 } else { 1 }
    }
    // The operands of an Add (Plus) or Mul (Times) node.
    fn operands(self, e: &Expr) -> Option<(&E, &E)> {
        match (self, e) {
            (Op::Plus, Add(l, r)) | (Op::Times, Mul(l, r)) => Some((l, r)),
            _ => None,
        }
    }
    fn node(self, l: E, r: E) -> E {
        P::new(if self == Op::Plus { Add(l, r) } else { Mul(l, r) })
    }
}

fn value(e: &Expr) -> Option<i64> {
    if let Val(n) = e { Some(*n) } else { None }
}

// add and mul of deriv.kk in one function, their cases in deriv.kk's order; the
// unit is 0 or 1, and mul's zero absorbs.
fn assoc(op: Op, n0: E, m0: E) -> E {
    let (a, b) = (value(&n0), value(&m0));
    if let (Some(n), Some(m)) = (a, b) {
        return val(op.apply(n, m));
    }
    if op == Op::Times && (a == Some(0) || b == Some(0)) {
        return val(0);
    }
    if a == Some(op.unit()) {
        return m0;
    }
    if b == Some(op.unit()) {
        return n0;
    }
    if let Some(m) = b {
        return assoc(op, val(m), n0);
    }
    if let Some((l, g)) = op.operands(&m0) {
        if let Some(m) = value(l) {
            let g = g.clone();
            return match a {
                Some(n) => assoc(op, val(op.apply(n, m)), g),
                None => assoc(op, val(m), assoc(op, n0, g)),
            };
        }
    }
    if let Some((f, g)) = op.operands(&n0) {
        let (f, g) = (f.clone(), g.clone());
        return assoc(op, f, assoc(op, g, m0));
    }
    op.node(n0, m0)
}

fn add(n0: E, m0: E) -> E {
    assoc(Op::Plus, n0, m0)
}

fn mul(n0: E, m0: E) -> E {
    assoc(Op::Times, n0, m0)
}

fn powr(m0: E, n0: E) -> E {
    match (&*m0, &*n0) {
        (Val(m), Val(n)) => val(pown(*m, *n)),
        (_, Val(0)) => val(1),
        (_, Val(1)) => m0,
        (Val(0), _) => val(0),
        _ => P::new(Pow(m0, n0)),
    }
}

fn ln(n: E) -> E {
    match *n {
        Val(1) => val(0),
        _ => P::new(Ln(n)),
    }
}

fn d(x: &str, e: &E) -> E {
    match &**e {
        Val(_) => val(0),
        Var(y) => val(if x == &**y { 1 } else { 0 }),
        Add(f, g) => {
            let df = d(x, f);
            add(df, d(x, g))
        }
        Mul(f, g) => {
            let p = mul(f.clone(), d(x, g));
            add(p, mul(g.clone(), d(x, f)))
        }
        Pow(f, g) => {
            let p = powr(f.clone(), g.clone());
            let q = mul(g.clone(), d(x, f));
            let q = mul(q, powr(f.clone(), val(-1)));
            let lf = ln(f.clone());
            let s = mul(lf, d(x, g));
            mul(p, add(q, s))
        }
        Ln(f) => {
            let df = d(x, f);
            mul(df, powr(f.clone(), val(-1)))
        }
    }
}

fn count(mut e: &Expr) -> i64 {
    let mut c = 0;
    loop {
        match e {
            Val(_) | Var(_) => return c + 1,
            Add(f, g) | Mul(f, g) | Pow(f, g) => {
                c += count(f);
                e = g;
            }
            Ln(f) => e = f,
        }
    }
}

fn main() {
    let n: i64 = std::env::args().nth(1).map_or(10, |s| s.parse().unwrap());
    let x = P::new(Var(P::from("x")));
    let mut f = powr(x.clone(), x);
    for i in 0..n {
        let df = d("x", &f);
        println!("{} count: {}", i + 1, count(&df));
        f = df;
    }
    drop(f);
    println!("done");
}
