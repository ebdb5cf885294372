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

fn add(n0: E, m0: E) -> E {
    match (&*n0, &*m0) {
        (Val(n), Val(m)) => val(n + m),
        (Val(0), _) => m0,
        (_, Val(0)) => n0,
        (_, Val(n)) => add(val(*n), n0),
        (Val(n), Add(l, f)) if matches!(**l, Val(_)) => {
            let m = if let Val(m) = **l { m } else { 0 };
            add(val(n + m), f.clone())
        }
        (_, Add(l, g)) if matches!(**l, Val(_)) => {
            let g = g.clone();
            add(l.clone(), add(n0, g))
        }
        (Add(f, g), _) => add(f.clone(), add(g.clone(), m0)),
        _ => P::new(Add(n0, m0)),
    }
}

fn mul(n0: E, m0: E) -> E {
    match (&*n0, &*m0) {
        (Val(n), Val(m)) => val(n * m),
        (Val(0), _) | (_, Val(0)) => val(0),
        (Val(1), _) => m0,
        (_, Val(1)) => n0,
        (_, Val(n)) => mul(val(*n), n0),
        (Val(n), Mul(l, f)) if matches!(**l, Val(_)) => {
            let m = if let Val(m) = **l { m } else { 0 };
            mul(val(n * m), f.clone())
        }
        (_, Mul(l, g)) if matches!(**l, Val(_)) => {
            let g = g.clone();
            mul(l.clone(), mul(n0, g))
        }
        (Mul(f, g), _) => mul(f.clone(), mul(g.clone(), m0)),
        _ => P::new(Mul(n0, m0)),
    }
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
