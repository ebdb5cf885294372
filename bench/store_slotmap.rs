// store_slotmap.rs — bench/store.c's single-threaded cases in Rust's slotmap, for
// comparison: a SlotMap<DefaultKey, V32> (32-byte values; keys are {index, version},
// as our handles are {index, generation}), one thread:
//   churn  insert + remove of a 32-byte value (the slot is reused by the next insert);
//   get    get + read of one field of a live key: LIVE keys inserted before the rounds,
//          visited in bench/store.c's order (xorshift32 from 2463534242, x % LIVE).
// Prints bench/store.c's records:
//
//   store  slotmap  OP  1  median_ns_per_op  min  max  median_total_Mops_per_s
//
// Built by bench/store_run against Debian's librust-slotmap-dev, offline.
// Usage: store_slotmap [--quick]
use slotmap::{DefaultKey, SlotMap};
use std::hint::black_box;
use std::time::Instant;

#[derive(Clone, Copy)]
struct V32 {
    a: i64,
    b: i64,
    c: i64,
    d: i64,
}

fn report(op: &str, mut ns: Vec<f64>) {
    ns.sort_by(|x, y| x.partial_cmp(y).unwrap());
    let n = ns.len();
    let mid = if n % 2 == 1 { ns[n / 2] } else { (ns[n / 2 - 1] + ns[n / 2]) / 2.0 };
    println!("store\tslotmap\t{}\t1\t{:.2}\t{:.2}\t{:.2}\t{:.1}", op, mid, ns[0], ns[n - 1], 1e3 / mid);
}

fn main() {
    let quick = std::env::args().nth(1).as_deref() == Some("--quick");
    let (live, ops, rounds) = if quick { (1000usize, 20_000usize, 3usize) } else { (10_000, 1_000_000, 11) };
    let mut x: u32 = 2463534242;
    let seq: Vec<u32> = (0..ops)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            x % live as u32
        })
        .collect();
    let mut sm: SlotMap<DefaultKey, V32> = SlotMap::new();
    let keys: Vec<DefaultKey> = (0..live).map(|i| sm.insert(V32 { a: i as i64, b: 1, c: 2, d: 3 })).collect();
    let (mut churn, mut get) = (Vec::new(), Vec::new());
    let mut sum = 0i64;
    for _ in 0..rounds {
        let t0 = Instant::now();
        for i in 0..ops {
            let k = sm.insert(V32 { a: i as i64, b: 1, c: 2, d: 3 });
            black_box(sm.remove(black_box(k)).unwrap().a);
        }
        churn.push(t0.elapsed().as_nanos() as f64 / ops as f64);
        let t0 = Instant::now();
        for &i in &seq {
            let v = sm.get(keys[i as usize]).unwrap();
            sum += v.a + v.b - v.c + v.d - 2;
        }
        get.push(t0.elapsed().as_nanos() as f64 / ops as f64);
    }
    black_box(sum);
    report("churn", churn);
    report("get", get);
}
