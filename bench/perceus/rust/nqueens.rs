// nqueens in Rust: Koka's test/bench/koka/nqueens.kk with the seed's design:
// a partial solution is a persistent list of cells in `Rc` (built with
// `--cfg arc`: `Arc`), shared by the solutions extending it; the solutions
// of a row are a `Vec`.
//
//   nqueens N    the number of solutions of the N-queens problem.

#[cfg(not(arc))]
use std::rc::Rc as P;
#[cfg(arc)]
use std::sync::Arc as P;

type List = Option<P<Cons>>;

struct Cons {
    head: i32,
    tail: List,
}

fn safe(queen: i32, mut diag: i32, mut xs: &List) -> bool {
    while let Some(c) = xs {
        if queen == c.head || queen == c.head + diag || queen == c.head - diag {
            return false;
        }
        diag += 1;
        xs = &c.tail;
    }
    true
}

fn find_solutions(n: i32, queen: i32) -> Vec<List> {
    if queen == 0 {
        return vec![None];
    }
    let mut acc = Vec::new();
    for xs in find_solutions(n, queen - 1) {
        for q in (1..=n).rev() {
            if safe(q, 1, &xs) {
                acc.push(Some(P::new(Cons { head: q, tail: xs.clone() })));
            }
        }
    }
    acc
}

fn main() {
    let n: i32 = std::env::args().nth(1).map_or(13, |s| s.parse().unwrap());
    println!("{}", find_solutions(n, n).len());
}
