// binarytrees in Rust: Koka's test/bench/koka/binarytrees.kk (the Computer
// Language Benchmarks Game's) with the seed's design: nodes in `Rc` (built
// with `--cfg arc`: `Arc`). With `--cfg par` (and `arc`), the trees of one
// depth are made and checked on all cores by scoped std threads.
//
//   binarytrees N    max depth N (min depth 4): the stretch tree, 2^(N+4-d)
//                    trees of each depth d = 4, 6, .. <= N, the long-lived tree.

#[cfg(not(arc))]
use std::rc::Rc as P;
#[cfg(arc)]
use std::sync::Arc as P;

type Tree = Option<P<Node>>;

struct Node {
    left: Tree,
    right: Tree,
}

fn make(depth: i64) -> Tree {
    if depth > 0 {
        let left = make(depth - 1);
        Some(P::new(Node { left, right: make(depth - 1) }))
    } else {
        Some(P::new(Node { left: None, right: None }))
    }
}

fn check(t: &Tree) -> i64 {
    match t {
        Some(n) => 1 + check(&n.left) + check(&n.right),
        None => 0,
    }
}

fn sum_range(from: i64, to: i64, depth: i64) -> i64 {
    (from..to).map(|_| check(&make(depth))).sum()
}

#[cfg(not(par))]
fn sum_count(count: i64, depth: i64) -> i64 {
    sum_range(0, count, depth)
}

#[cfg(par)]
fn sum_count(count: i64, depth: i64) -> i64 {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get()) as i64;
    std::thread::scope(|s| {
        let parts: Vec<_> = (0..threads)
            .map(|t| s.spawn(move || sum_range(count * t / threads, count * (t + 1) / threads, depth)))
            .collect();
        parts.into_iter().map(|p| p.join().unwrap()).sum()
    })
}

fn main() {
    let n: i64 = std::env::args().nth(1).map_or(21, |s| s.parse().unwrap());
    let min_depth = 4;
    let max_depth = std::cmp::max(min_depth + 2, n);
    let stretch = max_depth + 1;
    println!("stretch tree of depth {}\t check: {}", stretch, check(&make(stretch)));
    let long_lived = make(max_depth);
    let mut d = min_depth;
    while d <= max_depth {
        let count = 1i64 << (max_depth + min_depth - d);
        println!("{}\t trees of depth {}\t check: {}", count, d, sum_count(count, d));
        d += 2;
    }
    println!("long lived tree of depth {}\t check: {}", max_depth, check(&long_lived));
}
