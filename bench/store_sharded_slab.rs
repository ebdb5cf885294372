// store_sharded_slab.rs — bench/store.c's ThreadSafe cases in Rust's sharded_slab, for
// comparison: one Slab<V32> (lock-free, a shard per thread; keys carry a generation)
// shared by 1 or 2 threads at once, each on its own keys:
//   churn  insert + remove of a 32-byte value (remove from the inserting thread: the
//          slot goes back on that thread's local free list);
//   get    get (a guard that counts a reference) + read of one field + the guard's drop,
//          LIVE keys per thread inserted before the rounds, visited in bench/store.c's
//          order (xorshift32 from 2463534242, x % LIVE).
// With 2 threads a barrier starts each phase; ns/op is per thread (mean of the two)
// and Mops/s the total over the wall time. Prints bench/store.c's records:
//
//   store  sharded-slab  OP  threads  median_ns_per_op  min  max  median_total_Mops_per_s
//
// Built by bench/store_run against Debian's librust-sharded-slab-dev, offline.
// Usage: store_sharded_slab [--quick]
use sharded_slab::Slab;
use std::hint::black_box;
use std::sync::{Arc, Barrier};
use std::time::Instant;

#[derive(Clone, Copy)]
struct V32 {
    a: i64,
    b: i64,
    c: i64,
    d: i64,
}

fn median(v: &[f64]) -> f64 {
    let mut s = v.to_vec();
    s.sort_by(|x, y| x.partial_cmp(y).unwrap());
    let n = s.len();
    if n % 2 == 1 { s[n / 2] } else { (s[n / 2 - 1] + s[n / 2]) / 2.0 }
}

// [phase][round] -> (start, end) of one thread
type Times = Vec<Vec<(Instant, Instant)>>;

fn worker(slab: Arc<Slab<V32>>, barrier: Arc<Barrier>, seq: Arc<Vec<u32>>, live: usize, ops: usize,
          rounds: usize) -> Times {
    let keys: Vec<usize> = (0..live).map(|i| slab.insert(V32 { a: i as i64, b: 1, c: 2, d: 3 }).unwrap()).collect();
    let mut times: Times = vec![Vec::new(), Vec::new()];
    let mut sum = 0i64;
    for _ in 0..rounds {
        barrier.wait();
        let t0 = Instant::now();
        for i in 0..ops {
            let k = slab.insert(V32 { a: i as i64, b: 1, c: 2, d: 3 }).unwrap();
            black_box(slab.remove(black_box(k)));
        }
        times[0].push((t0, Instant::now()));
        barrier.wait();
        let t0 = Instant::now();
        for &i in seq.iter() {
            let v = slab.get(keys[i as usize]).unwrap();
            sum += v.a + v.b - v.c + v.d - 2;
        }
        times[1].push((t0, Instant::now()));
    }
    black_box(sum);
    for k in keys {
        slab.remove(k);
    }
    times
}

fn run(threads: usize, live: usize, ops: usize, rounds: usize, seq: &Arc<Vec<u32>>) {
    let slab = Arc::new(Slab::new());
    let barrier = Arc::new(Barrier::new(threads));
    let handles: Vec<_> = (0..threads)
        .map(|_| {
            let (slab, barrier, seq) = (slab.clone(), barrier.clone(), seq.clone());
            std::thread::spawn(move || worker(slab, barrier, seq, live, ops, rounds))
        })
        .collect();
    let times: Vec<Times> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    for (phase, op) in ["churn", "get"].iter().enumerate() {
        let mut ns = Vec::new();
        let mut mops = Vec::new();
        for k in 0..rounds {
            let per_thread: f64 = times.iter().map(|t| (t[phase][k].1 - t[phase][k].0).as_nanos() as f64 / ops as f64).sum::<f64>()
                / threads as f64;
            let start = times.iter().map(|t| t[phase][k].0).min().unwrap();
            let end = times.iter().map(|t| t[phase][k].1).max().unwrap();
            ns.push(per_thread);
            mops.push((ops * threads) as f64 / (end - start).as_nanos() as f64 * 1e3);
        }
        let mid = median(&ns);
        let (lo, hi) = ns.iter().fold((f64::MAX, 0f64), |(l, h), &x| (l.min(x), h.max(x)));
        println!("store\tsharded-slab\t{}\t{}\t{:.2}\t{:.2}\t{:.2}\t{:.1}", op, threads, mid, lo, hi, median(&mops));
    }
}

fn main() {
    let quick = std::env::args().nth(1).as_deref() == Some("--quick");
    let (live, ops, rounds) = if quick { (1000usize, 20_000usize, 3usize) } else { (10_000, 1_000_000, 11) };
    let mut x: u32 = 2463534242;
    let seq: Arc<Vec<u32>> = Arc::new(
        (0..ops)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 17;
                x ^= x << 5;
                x % live as u32
            })
            .collect(),
    );
    run(1, live, ops, rounds, &seq);
    run(2, live, ops, rounds, &seq);
}
