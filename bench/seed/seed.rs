//! seed.rs — the seed proposal's own Rust design (../shared/design/seed-multithreading-proposal.md)
//! as a peer of bench/bench.c: `Rc<RefCell<T>>` for SingleThreaded, `Arc<parking_lot::RwLock<T>>`
//! for ThreadSafe, the seed's panic-free `try_*` borrows, FBIP write = clone if shared then
//! `try_write`, and `Rc::make_mut`/`Arc::make_mut` on a plain `Rc<T>`/`Arc<T>` as the counterpart
//! of a lock-free policy ({counter: atomic, cell: none}).
//!
//! The same workloads, value (32 bytes), loop shapes (an escape of the pointer and a compiler
//! barrier per iteration), calibration, repetitions and clock as bench.c, and the same
//! tab-separated records, so bench/run puts them beside ours:
//!
//!   peer  seed-rust  yes  WHAT
//!   op    WORKLOAD  CONTENDER  median_ns  ratio_first_to_this
//!   mt    MIX  THREADS  seed-rust  ns_per_op  mops  writer_p50_ns  writer_p99_ns  writer_max_ns
//!   xcore MIX  THREADS  seed-rust  transfer_ns   (bench/bench_xcore.h's probe, ported below)
//!
//! Built and run by bench/seed_run. Usage: seed [--quick] [--only single|threads]

use parking_lot::RwLock;
use std::arch::asm;
use std::cell::RefCell;
use std::hint::black_box;
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

#[derive(Clone, Copy)]
struct Val {
    a: i64,
    b: i64,
    c: i64,
    d: i64,
}

const VAL0: Val = Val { a: 1, b: 2, c: 3, d: 4 };

/// The seed's error: a borrow or lock that is not available (it never panics).
#[derive(Debug)]
struct QuicheException;

type St = Rc<RefCell<Val>>;
type Ts = Arc<RwLock<Val>>;

// bench.c's CLOBBER and ESCAPE: the same empty asm statements.
#[inline(always)]
fn clobber() {
    // SAFETY: an empty asm statement; without `nomem` the compiler assumes it touches memory.
    unsafe { asm!("", options(nostack, preserves_flags)) }
}

#[inline(always)]
fn escape<T>(p: *const T) {
    // SAFETY: an empty asm statement that takes the pointer (it escapes) and may touch memory.
    unsafe { asm!("/* {0} */", in(reg) p, options(nostack, preserves_flags)) }
}

static CLOCK: std::sync::OnceLock<Instant> = std::sync::OnceLock::new();

/// CLOCK_MONOTONIC, as bench_time.h's now_ns (Instant::now is clock_gettime(CLOCK_MONOTONIC)).
#[inline]
fn now_ns() -> u64 {
    CLOCK.get_or_init(Instant::now).elapsed().as_nanos() as u64
}

static EXCLUDED_NS: AtomicU64 = AtomicU64::new(0); // untimed setup inside a loop

// ---- the seed's FBIP writes ------------------------------------------------------------------

/// The seed's `write()`: if the count is above 1, clone first (FBIP), then `try_borrow_mut`.
#[inline]
fn st_write(h: &mut St) -> Result<std::cell::RefMut<'_, Val>, QuicheException> {
    if Rc::strong_count(h) != 1 {
        let v = *h.try_borrow().map_err(|_| QuicheException)?;
        *h = Rc::new(RefCell::new(v));
    }
    h.try_borrow_mut().map_err(|_| QuicheException)
}

/// The same with `Rc::get_mut`: a unique box is written through `&mut`, no runtime borrow.
#[inline]
fn st_write_get_mut(h: &mut St) -> Result<&mut Val, QuicheException> {
    if Rc::get_mut(h).is_none() {
        let v = *h.try_borrow().map_err(|_| QuicheException)?;
        *h = Rc::new(RefCell::new(v));
    }
    Rc::get_mut(h).map(RefCell::get_mut).ok_or(QuicheException)
}

/// The seed's `write()` for ThreadSafe: clone if shared, then `try_write`.
#[inline]
fn ts_write(h: &mut Ts) -> Result<parking_lot::RwLockWriteGuard<'_, Val>, QuicheException> {
    if Arc::strong_count(h) != 1 {
        let v = *h.try_read().ok_or(QuicheException)?;
        *h = Arc::new(RwLock::new(v));
    }
    h.try_write().ok_or(QuicheException)
}

// ---- single-threaded workloads: each a loop of n operations ----------------------------------

fn st_dupdrop(n: usize) {
    let h: St = Rc::new(RefCell::new(VAL0));
    for _ in 0..n {
        let h2 = Rc::clone(&h);
        escape(Rc::as_ptr(&h2));
        drop(h2);
        clobber();
    }
}

fn ts_dupdrop(n: usize) {
    let h: Ts = Arc::new(RwLock::new(VAL0));
    for _ in 0..n {
        let h2 = Arc::clone(&h);
        escape(Arc::as_ptr(&h2));
        drop(h2);
        clobber();
    }
}

fn st_read(n: usize) {
    let h: St = Rc::new(RefCell::new(VAL0));
    let mut acc = 0i64;
    for _ in 0..n {
        if let Ok(g) = h.try_borrow() {
            let p: &Val = &g;
            escape(p);
            acc += p.a;
        }
        clobber();
    }
    black_box(acc);
}

fn ts_read(n: usize) {
    let h: Ts = Arc::new(RwLock::new(VAL0));
    let mut acc = 0i64;
    for _ in 0..n {
        if let Some(g) = h.try_read() {
            let p: &Val = &g;
            escape(p);
            acc += p.a;
        }
        clobber();
    }
    black_box(acc);
}

fn st_wshared(n: usize) {
    let h: St = Rc::new(RefCell::new(VAL0));
    for _ in 0..n {
        if let Ok(mut g) = h.try_borrow_mut() {
            let p: &mut Val = &mut g;
            escape(p);
            p.a += 1;
        }
        clobber();
    }
}

fn ts_wshared(n: usize) {
    let h: Ts = Arc::new(RwLock::new(VAL0));
    for _ in 0..n {
        if let Some(mut g) = h.try_write() {
            let p: &mut Val = &mut g;
            escape(p);
            p.a += 1;
        }
        clobber();
    }
}

fn st_wunique(n: usize) {
    let mut h: St = Rc::new(RefCell::new(VAL0));
    for _ in 0..n {
        if let Ok(mut g) = st_write(&mut h) {
            let p: &mut Val = &mut g;
            escape(p);
            p.a += 1;
        }
        clobber();
    }
}

fn st_wunique_get_mut(n: usize) {
    let mut h: St = Rc::new(RefCell::new(VAL0));
    for _ in 0..n {
        if let Ok(p) = st_write_get_mut(&mut h) {
            escape(p);
            p.a += 1;
        }
        clobber();
    }
}

fn ts_wunique(n: usize) {
    let mut h: Ts = Arc::new(RwLock::new(VAL0));
    for _ in 0..n {
        if let Ok(mut g) = ts_write(&mut h) {
            let p: &mut Val = &mut g;
            escape(p);
            p.a += 1;
        }
        clobber();
    }
}

fn rc_wunique_make_mut(n: usize) {
    let mut h: Rc<Val> = Rc::new(VAL0);
    for _ in 0..n {
        let p = Rc::make_mut(&mut h);
        escape(p);
        p.a += 1;
        clobber();
    }
}

fn arc_wunique_make_mut(n: usize) {
    let mut h: Arc<Val> = Arc::new(VAL0);
    for _ in 0..n {
        let p = Arc::make_mut(&mut h);
        escape(p);
        p.a += 1;
        clobber();
    }
}

// Copy on write, as bench.c's COW_LOOP: a write on one of COW_BATCH owners of a shared box
// copies it; the copy is written, released and dropped. Making the owners is not timed.
const COW_BATCH: usize = 256;

macro_rules! cow_loop {
    ($name:ident, $new:expr, $clone:path, |$x:ident| $write:block) => {
        fn $name(n: usize) {
            let h = $new;
            let mut hs = Vec::with_capacity(COW_BATCH);
            let mut done = 0;
            while done < n {
                let k = (n - done).min(COW_BATCH);
                let t0 = now_ns();
                for _ in 0..k {
                    hs.push($clone(&h));
                }
                EXCLUDED_NS.fetch_add(now_ns() - t0, Ordering::Relaxed);
                for mut $x in hs.drain(..) {
                    $write
                    drop($x);
                    clobber();
                }
                done += k;
            }
        }
    };
}

cow_loop!(st_cow, Rc::new(RefCell::new(VAL0)), Rc::clone, |x| {
    if let Ok(mut g) = st_write(&mut x) {
        let p: &mut Val = &mut g;
        escape(p);
        p.a += 1;
    }
});
cow_loop!(st_cow_get_mut, Rc::new(RefCell::new(VAL0)), Rc::clone, |x| {
    if let Ok(p) = st_write_get_mut(&mut x) {
        escape(p);
        p.a += 1;
    }
});
cow_loop!(ts_cow, Arc::new(RwLock::new(VAL0)), Arc::clone, |x| {
    if let Ok(mut g) = ts_write(&mut x) {
        let p: &mut Val = &mut g;
        escape(p);
        p.a += 1;
    }
});
cow_loop!(rc_cow_make_mut, Rc::new(VAL0), Rc::clone, |x| {
    let p = Rc::make_mut(&mut x);
    escape(p);
    p.a += 1;
});
cow_loop!(arc_cow_make_mut, Arc::new(VAL0), Arc::clone, |x| {
    let p = Arc::make_mut(&mut x);
    escape(p);
    p.a += 1;
});

// ---- the harness: bench.c's time_loop, calibrate and run_workload ----------------------------

type LoopFn = fn(usize);

fn median(v: &[f64]) -> f64 {
    let mut t = v.to_vec();
    t.sort_by(|a, b| a.partial_cmp(b).unwrap_or(std::cmp::Ordering::Equal));
    let n = t.len();
    if n % 2 == 1 {
        t[n / 2]
    } else {
        (t[n / 2 - 1] + t[n / 2]) / 2.0
    }
}

fn time_loop(f: LoopFn, n: usize) -> f64 {
    EXCLUDED_NS.store(0, Ordering::Relaxed);
    let t0 = now_ns();
    f(black_box(n));
    let elapsed = now_ns() - t0 - EXCLUDED_NS.load(Ordering::Relaxed);
    elapsed as f64 / n as f64
}

fn calibrate(f: LoopFn, target_ns: f64) -> usize {
    let mut n: usize = 1000;
    loop {
        let per = time_loop(f, n);
        if per * n as f64 >= target_ns / 8.0 || n >= 1 << 28 {
            let want = target_ns / if per > 0.05 { per } else { 0.05 };
            return if want < 1000.0 { 1000 } else { want as usize };
        }
        n *= 4;
    }
}

fn run_workload(quick: bool, workload: &str, cs: &[(&str, LoopFn)]) {
    let reps = if quick { 3 } else { 31 };
    let target = if quick { 2e5 } else { 3e6 };
    let n = calibrate(cs[0].1, target);
    let mut t = vec![vec![0.0; reps]; cs.len()];
    for c in cs {
        time_loop(c.1, n / 4 + 1); // warm up
    }
    for r in 0..reps {
        for k in 0..cs.len() {
            let c = (k + r) % cs.len(); // rotate who goes first
            t[c][r] = time_loop(cs[c].1, n);
        }
    }
    for (c, (name, _)) in cs.iter().enumerate() {
        let ratio: Vec<f64> = (0..reps).map(|r| t[0][r] / t[c][r]).collect();
        println!("op\t{}\t{}\t{:.3}\t{:.3}", workload, name, median(&t[c]), median(&ratio));
    }
}

fn single_threaded(quick: bool) {
    run_workload(quick, "ST dup+drop", &[("seed-rust", st_dupdrop)]);
    run_workload(quick, "ST read+release", &[("seed-rust", st_read)]);
    run_workload(quick, "ST write_shared+release", &[("seed-rust", st_wshared)]);
    run_workload(quick, "ST _write unique", &[("seed-rust", st_wunique),
                                               ("seed-rust get_mut", st_wunique_get_mut),
                                               ("seed-rust make_mut", rc_wunique_make_mut)]);
    run_workload(quick, "ST copy on write 32B", &[("seed-rust", st_cow),
                                                   ("seed-rust get_mut", st_cow_get_mut),
                                                   ("seed-rust make_mut", rc_cow_make_mut)]);
    run_workload(quick, "TS dup+drop", &[("seed-rust", ts_dupdrop)]);
    run_workload(quick, "TS read+release", &[("seed-rust", ts_read)]);
    run_workload(quick, "TS write_shared+release", &[("seed-rust", ts_wshared)]);
    run_workload(quick, "TS _write unique", &[("seed-rust", ts_wunique),
                                               ("seed-rust make_mut", arc_wunique_make_mut)]);
    run_workload(quick, "TS copy on write 32B", &[("seed-rust", ts_cow),
                                                   ("seed-rust make_mut", arc_cow_make_mut)]);
}

// ---- threads: one Arc<RwLock<Val>>, bench.c's mt_run with the blocking read()/write() --------

// Called through a function pointer in bench.c (mt_impl); kept out of line here as well.
#[inline(never)]
fn mt_read(h: &Ts) -> i64 {
    let g = h.read();
    g.a + g.b + g.c + g.d
}

#[inline(never)]
fn mt_write(h: &Ts) {
    let mut g = h.write();
    g.a += 1;
    g.d -= 1;
}

const HIST_BUCKETS: usize = 64 * 16; // log-linear, 16 steps per power of two

fn hist_bucket(ns: u64) -> usize {
    if ns < 16 {
        return ns as usize;
    }
    let lg = 63 - ns.leading_zeros() as usize;
    lg * 16 + ((ns >> (lg - 4)) & 15) as usize
}

fn hist_value(bucket: usize) -> u64 {
    if bucket < 16 {
        return bucket as u64;
    }
    let lg = bucket / 16;
    ((16 + bucket % 16) as u64) << (lg - 4)
}

struct ThreadResult {
    ops: u64,
    writes: u64,
    max_wait: u64,
    hist: Vec<u64>,
    acc: i64,
}

/// (ns per op, Mops/s, writers' p50 ns, writers' p99 ns, writers' max ns)
fn mt_run(nthreads: usize, write_pct: u32, duration: Duration) -> (f64, f64, f64, f64, f64) {
    let shared: Ts = Arc::new(RwLock::new(VAL0));
    let stop = Arc::new(AtomicBool::new(false));
    let gate = Arc::new(Barrier::new(nthreads + 1));
    let mut handles = Vec::with_capacity(nthreads);
    for made in 0..nthreads {
        let local = Arc::clone(&shared); // per thread, as ours dups its handle
        let stop = Arc::clone(&stop);
        let gate = Arc::clone(&gate);
        let seed = 0x9e37_79b9u32.wrapping_mul(made as u32 + 1);
        handles.push(std::thread::spawn(move || {
            let mut r = ThreadResult { ops: 0, writes: 0, max_wait: 0,
                                       hist: vec![0; HIST_BUCKETS], acc: 0 };
            let mut x = seed | 1;
            gate.wait();
            while !stop.load(Ordering::Relaxed) {
                for _ in 0..32 {
                    x ^= x << 13; // xorshift32
                    x ^= x >> 17;
                    x ^= x << 5;
                    if x % 100 < write_pct {
                        let t0 = now_ns();
                        mt_write(&local);
                        let w = now_ns() - t0;
                        r.hist[hist_bucket(w)] += 1;
                        r.max_wait = r.max_wait.max(w);
                        r.writes += 1;
                    } else {
                        r.acc += mt_read(&local);
                    }
                }
                r.ops += 32;
            }
            r
        }));
    }
    gate.wait();
    let t0 = now_ns();
    std::thread::sleep(duration);
    stop.store(true, Ordering::Relaxed);
    let results: Vec<ThreadResult> = handles.into_iter().filter_map(|h| h.join().ok()).collect();
    let elapsed = (now_ns() - t0) as f64;
    let (mut ops, mut writes, mut max_wait) = (0u64, 0u64, 0u64);
    let mut hist = vec![0u64; HIST_BUCKETS];
    for r in &results {
        ops += r.ops;
        writes += r.writes;
        max_wait = max_wait.max(r.max_wait);
        for (b, v) in r.hist.iter().enumerate() {
            hist[b] += v;
        }
        black_box(r.acc);
    }
    // As bench.c: each quantile is the first bucket whose cumulative count reaches its rank,
    // rounded up (so one write is its own median).
    let (mut p50, mut p99) = (0.0, 0.0);
    let (want50, want99) = (writes - writes / 2, writes - writes / 100);
    let mut seen = 0;
    let mut have50 = false;
    if writes > 0 {
        for (b, v) in hist.iter().enumerate() {
            seen += v;
            if !have50 && seen >= want50 {
                p50 = hist_value(b) as f64;
                have50 = true;
            }
            if seen >= want99 {
                p99 = hist_value(b) as f64;
                break;
            }
        }
    }
    let ns_per_op = if ops > 0 { elapsed / ops as f64 } else { 0.0 };
    (ns_per_op, ops as f64 / elapsed * 1e3, p50, p99, max_wait as f64)
}

// ---- where the host has the vCPUs: bench/bench_xcore.h's probe -----------------------------

/// A cpu_set_t: 1024 bits, as glibc's.
type CpuSet = [u64; 16];

extern "C" {
    fn sched_getaffinity(pid: i32, size: usize, mask: *mut CpuSet) -> i32;
    fn sched_setaffinity(pid: i32, size: usize, mask: *const CpuSet) -> i32;
}

/// Pins the calling thread (pid 0) to `cpu`.
fn xcore_pin(cpu: usize) -> bool {
    let mut one: CpuSet = [0; 16];
    one[cpu / 64] |= 1 << (cpu % 64);
    // SAFETY: `one` is a cpu_set_t-sized mask that lives across the call.
    unsafe { sched_setaffinity(0, std::mem::size_of::<CpuSet>(), &one) == 0 }
}

/// `n` round trips of the ball: each side's store is what the other waits for.
fn xcore_trips(ball: &AtomicU64, n: u32) {
    for _ in 0..n {
        let v = ball.load(Ordering::Relaxed) + 1;
        ball.store(v, Ordering::Release);
        while ball.load(Ordering::Acquire) == v {}
    }
}

/// ns for one cache-line transfer (half a round trip) between the first two CPUs this thread
/// may use, over about `duration`; 0 if not measured. The thread's CPU mask is restored.
fn xcore_ns(duration: Duration) -> f64 {
    let mut mine: CpuSet = [0; 16];
    // SAFETY: as in xcore_pin.
    if unsafe { sched_getaffinity(0, std::mem::size_of::<CpuSet>(), &mut mine) } != 0 {
        return 0.0;
    }
    let cpus: Vec<usize> =
        (0..1024).filter(|c| mine[c / 64] & (1 << (c % 64)) != 0).take(2).collect();
    if cpus.len() < 2 || !xcore_pin(cpus[0]) {
        return 0.0;
    }
    let ball = Arc::new(Align64(AtomicU64::new(0)));
    let partner = {
        let ball = Arc::clone(&ball);
        let cpu = cpus[1];
        std::thread::spawn(move || {
            xcore_pin(cpu);
            loop {
                let v = ball.0.load(Ordering::Acquire); // as in xcore_trips
                if v == u64::MAX {
                    return;
                }
                if v & 1 == 1 {
                    ball.0.store(v + 1, Ordering::Release);
                }
            }
        })
    };
    xcore_trips(&ball.0, 256); // untimed: the partner starts, moves, and wakes its vCPU
    let (mut trips, t0) = (0u64, now_ns());
    let mut elapsed;
    loop {
        xcore_trips(&ball.0, 256);
        trips += 256;
        elapsed = now_ns() - t0;
        if elapsed >= duration.as_nanos() as u64 {
            break;
        }
    }
    ball.0.store(u64::MAX, Ordering::Release);
    let _ = partner.join();
    // SAFETY: as in xcore_pin.
    unsafe { sched_setaffinity(0, std::mem::size_of::<CpuSet>(), &mine) };
    elapsed as f64 / trips as f64 / 2.0
}

#[repr(align(64))]
struct Align64<T>(T);

fn threads(quick: bool) {
    let counts = [1usize, 2, 4, 8];
    let mixes = [0u32, 10, 50];
    let reps = if quick { 1 } else { 7 };
    let duration = Duration::from_millis(if quick { 10 } else { 100 });
    for &mix in &mixes {
        for &n in &counts {
            let mut v: [Vec<f64>; 6] = Default::default();
            for _ in 0..reps {
                // Where the host has the vCPUs now: the run's figures depend on it.
                v[5].push(xcore_ns(Duration::from_millis(if quick { 1 } else { 10 })));
                let (ns, mops, p50, p99, mx) = mt_run(n, mix, duration);
                v[0].push(ns);
                v[1].push(mops);
                v[2].push(p50);
                v[3].push(p99);
                v[4].push(mx);
            }
            let (p50, p99, mx) = if mix > 0 {
                (median(&v[2]), median(&v[3]), median(&v[4]))
            } else {
                (0.0, 0.0, 0.0)
            };
            println!("mt\t{}/{}\t{}\tseed-rust\t{:.2}\t{:.3}\t{:.0}\t{:.0}\t{:.0}", 100 - mix,
                     mix, n, median(&v[0]), median(&v[1]), p50, p99, mx);
            println!("xcore\t{}/{}\t{}\tseed-rust\t{:.1}", 100 - mix, mix, n, median(&v[5]));
        }
    }
}

fn main() {
    let mut quick = false;
    let mut only: Option<String> = None;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--quick" => quick = true,
            "--only" => only = args.next(),
            _ => {
                eprintln!("usage: seed [--quick] [--only single|threads]");
                std::process::exit(2);
            }
        }
    }
    now_ns(); // start the clock
    println!("peer\tseed-rust\tyes\tRc<RefCell<T>>, Arc<parking_lot::RwLock<T>>, make_mut");
    let parts: [(&str, fn(bool)); 2] = [("single", single_threaded), ("threads", threads)];
    for (name, run) in parts {
        if only.as_deref().map_or(true, |o| o == name) {
            run(quick);
        }
    }
}
