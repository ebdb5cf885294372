// region_bumpalo.rs — bench/region.c's "region" case in Rust's bumpalo, for comparison:
// N 32-byte values allocated in a Bump, each touched, then Bump::reset (which keeps its
// largest chunk, as pm_region_reset does). Prints bench/region.c's record:
//
//   region  bumpalo  values  median_ns_per_value  min  max
//
// Built by bench/region_run against Debian's librust-bumpalo-dev, offline.
// Usage: region_bumpalo [--quick]
use bumpalo::Bump;
use std::hint::black_box;
use std::time::Instant;

#[derive(Clone, Copy)]
struct V32 {
    a: i64,
    b: i64,
    c: i64,
    d: i64,
}

fn main() {
    let quick = std::env::args().nth(1).as_deref() == Some("--quick");
    let (values, rounds) = if quick { (1000usize, 3usize) } else { (100_000, 21) };
    let mut bump = Bump::new();
    let mut ns = Vec::with_capacity(rounds);
    for _ in 0..rounds {
        let t0 = Instant::now();
        let mut sum = 0i64;
        for i in 0..values {
            let p = bump.alloc(V32 { a: i as i64, b: 1, c: 2, d: 3 });
            sum += black_box(&*p).a + p.b - p.c + p.d - 2;
        }
        bump.reset();
        ns.push(t0.elapsed().as_nanos() as f64 / values as f64);
        black_box(sum);
    }
    ns.sort_by(|x, y| x.partial_cmp(y).unwrap());
    let mid = if rounds % 2 == 1 { ns[rounds / 2] } else { (ns[rounds / 2 - 1] + ns[rounds / 2]) / 2.0 };
    println!("region\tbumpalo\t{}\t{:.2}\t{:.2}\t{:.2}", values, mid, ns[0], ns[rounds - 1]);
}
