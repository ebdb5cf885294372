// rbtree and rbtree-ck in Rust: Koka's test/bench/koka/rbtree.kk and
// rbtree-ck.kk with the seed's design: nodes in `Rc` (built with `--cfg arc`:
// `Arc`), updated in place by `make_mut` when unique, copied when shared.
//
//   rbtree N         inserts N-1 .. 0 and counts the true values (rbtree.kk)
//   rbtree N FREQ    inserts N .. 1, keeping every FREQ-th tree (rbtree-ck.kk)

#[cfg(not(arc))]
use std::rc::Rc as P;
#[cfg(arc)]
use std::sync::Arc as P;

#[derive(Clone, Copy, PartialEq)]
enum Color {
    Red,
    Black,
}

type Tree = Option<P<Node>>;

#[derive(Clone)]
struct Node {
    left: Tree,
    right: Tree,
    key: i32,
    color: Color,
    val: bool,
}

fn node(color: Color, left: Tree, key: i32, val: bool, right: Tree) -> Tree {
    Some(P::new(Node { left, right, key, color, val }))
}

fn is_red(t: &Tree) -> bool {
    matches!(t, Some(n) if n.color == Color::Red)
}

fn balance_left(l: Tree, k: i32, v: bool, r: Tree) -> Tree {
    let mut ln = match l {
        None => return None,
        Some(n) => n,
    };
    let a = P::make_mut(&mut ln);
    if is_red(&a.left) {
        let mut lln = a.left.take().unwrap();
        P::make_mut(&mut lln).color = Color::Black;
        a.right = node(Color::Black, a.right.take(), k, v, r);
        a.left = Some(lln);
        a.color = Color::Red;
        return Some(ln);
    }
    if is_red(&a.right) {
        let mut lrn = a.right.take().unwrap();
        let b = P::make_mut(&mut lrn);
        let nr = node(Color::Black, b.right.take(), k, v, r);
        a.right = b.left.take();
        a.color = Color::Black;
        b.left = Some(ln);
        b.right = nr;
        b.color = Color::Red;
        return Some(lrn);
    }
    a.color = Color::Red;
    node(Color::Black, Some(ln), k, v, r)
}

fn balance_right(l: Tree, k: i32, v: bool, r: Tree) -> Tree {
    let mut rn = match r {
        None => return None,
        Some(n) => n,
    };
    let a = P::make_mut(&mut rn);
    if is_red(&a.left) {
        let mut rln = a.left.take().unwrap();
        let b = P::make_mut(&mut rln);
        let nl = node(Color::Black, l, k, v, b.left.take());
        a.left = b.right.take();
        a.color = Color::Black;
        b.left = nl;
        b.right = Some(rn);
        b.color = Color::Red;
        return Some(rln);
    }
    if is_red(&a.right) {
        let mut rrn = a.right.take().unwrap();
        P::make_mut(&mut rrn).color = Color::Black;
        a.left = node(Color::Black, l, k, v, a.left.take());
        a.right = Some(rrn);
        a.color = Color::Red;
        return Some(rn);
    }
    a.color = Color::Red;
    node(Color::Black, l, k, v, Some(rn))
}

fn ins(t: Tree, k: i32, v: bool) -> Tree {
    let mut n = match t {
        None => return node(Color::Red, None, k, v, None),
        Some(n) => n,
    };
    let a = P::make_mut(&mut n);
    if k < a.key {
        if a.color == Color::Black && is_red(&a.left) {
            let (l, kx, vx, r) = (a.left.take(), a.key, a.val, a.right.take());
            drop(n);
            return balance_left(ins(l, k, v), kx, vx, r);
        }
        a.left = ins(a.left.take(), k, v);
    } else if k == a.key {
        a.val = v;
    } else {
        if a.color == Color::Black && is_red(&a.right) {
            let (l, kx, vx, r) = (a.left.take(), a.key, a.val, a.right.take());
            drop(n);
            return balance_right(l, kx, vx, ins(r, k, v));
        }
        a.right = ins(a.right.take(), k, v);
    }
    Some(n)
}

fn insert(t: Tree, k: i32, v: bool) -> Tree {
    let red = is_red(&t);
    let mut r = ins(t, k, v);
    if red {
        if let Some(n) = r.as_mut() {
            P::make_mut(n).color = Color::Black;
        }
    }
    r
}

fn fold(mut t: &Tree, mut acc: i64) -> i64 {
    while let Some(n) = t {
        acc = fold(&n.left, acc) + if n.val { 1 } else { 0 };
        t = &n.right;
    }
    acc
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let n: i64 = args.get(1).map_or(4_200_000, |s| s.parse().unwrap());
    let mut t: Tree = None;
    if let Some(freq) = args.get(2).map(|s| s.parse::<i64>().unwrap()) {
        let mut kept: Vec<Tree> = Vec::new();
        for i in (1..=n).rev() {
            t = insert(t, i as i32, i % 10 == 0);
            if i % freq == 0 {
                kept.push(t.clone());
            }
        }
        drop(kept);
    } else {
        for i in (1..=n).rev() {
            let k = (i - 1) as i32;
            t = insert(t, k, k % 10 == 0);
        }
    }
    println!("{}", fold(&t, 0));
}
