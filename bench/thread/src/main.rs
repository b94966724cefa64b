//! brigade::thread against its references: thread spawn+join against
//! `std::thread`, and `ThreadPool::map` against rayon's parallel iterators.
//!
//! Every figure is the median of `ROUNDS` rounds (three times as many for
//! the map), after a warm-up round;
//! contenders alternate within a round, so that noise from other programs
//! on the machine falls on both alike. Run with
//! `cargo run --release -p thread-bench [-- spawn|map]`.

use std::hint::black_box;
use std::time::{Duration, Instant};

use rayon::prelude::*;

const ROUNDS: usize = 21;

/// Median and minimum of one contender's rounds.
struct Figure {
    name: &'static str,
    samples: Vec<Duration>,
}

impl Figure {
    fn new(name: &'static str) -> Figure {
        Figure {
            name,
            samples: Vec::new(),
        }
    }

    fn median(&self) -> Duration {
        let mut s = self.samples.clone();
        s.sort();
        s[s.len() / 2]
    }

    fn min(&self) -> Duration {
        *self.samples.iter().min().unwrap()
    }
}

/// Prints each contender's median and minimum, and its paired ratio to the
/// first contender: the median over rounds of (its time / the first's time
/// in the same round), which cancels the load that other programs put on
/// the machine from one round to the next.
fn report(title: &str, unit: u32, figures: &[Figure]) {
    println!("\n{title}");
    let base = &figures[0].samples;
    for f in figures {
        let mut ratios: Vec<f64> = f
            .samples
            .iter()
            .zip(base)
            .map(|(s, b)| s.as_secs_f64() / b.as_secs_f64())
            .collect();
        ratios.sort_by(f64::total_cmp);
        let ratio = ratios[ratios.len() / 2];
        println!(
            "  {:<38} median {:>10.2?}  min {:>10.2?}  paired {:>6.3}x",
            f.name,
            f.median() / unit,
            f.min() / unit,
            ratio
        );
    }
}

fn time(f: impl FnOnce()) -> Duration {
    let start = Instant::now();
    f();
    start.elapsed()
}

/// Times `f` alone: dropping its output (freeing 8 MB) is not counted.
fn time_out<T>(f: impl FnOnce() -> T) -> (Duration, T) {
    let start = Instant::now();
    let out = black_box(f());
    (start.elapsed(), out)
}

fn spawn_join() {
    const N: u32 = 1000;
    let mut std_plain = Figure::new("std::thread::spawn + join");
    let mut std_named = Figure::new("std::thread::Builder (named) + join");
    let mut brigade = Figure::new("brigade::thread::spawn + join");
    let mut brigade_new = Figure::new("brigade Thread::new/start/join");
    fn work(x: u64) -> u64 {
        black_box(x) + 1
    }
    for round in 0..=ROUNDS {
        let a = time(|| {
            for i in 0..N {
                black_box(std::thread::spawn(move || work(i.into())).join().unwrap());
            }
        });
        let b = time(|| {
            for i in 0..N {
                let t = std::thread::Builder::new()
                    .name(format!("Thread-{i} (work)"))
                    .spawn(move || work(i.into()))
                    .unwrap();
                black_box(t.join().unwrap());
            }
        });
        let c = time(|| {
            for i in 0..N {
                let t = brigade::thread::spawn(move || work(i.into())).unwrap();
                black_box(t.into_result().unwrap());
            }
        });
        let d = time(|| {
            for i in 0..N {
                let mut t = brigade::thread::Thread::new(work, (u64::from(i),));
                t.start().unwrap();
                black_box(t.join().unwrap());
            }
        });
        if round > 0 {
            std_plain.samples.push(a);
            std_named.samples.push(b);
            brigade.samples.push(c);
            brigade_new.samples.push(d);
        }
    }
    report(
        &format!("thread spawn + join (per thread, {N} per round)"),
        N,
        &[std_plain, std_named, brigade, brigade_new],
    );
}

fn pool_map() {
    const N: u64 = 1_000_000;
    let input: Vec<u64> = (0..N).collect();
    let pool = brigade::thread::ThreadPool::new().unwrap();
    println!(
        "\npool map over {N} u64 (x * x), {} brigade workers, {} rayon threads",
        pool.workers(),
        rayon::current_num_threads()
    );
    let mut rayon_ref = Figure::new("rayon par_iter().map().collect()");
    let mut brigade_ref = Figure::new("brigade pool.map_slice(f, &input)");
    let mut rayon_owned = Figure::new("rayon into_par_iter() (owned Vec)");
    let mut brigade_owned = Figure::new("brigade pool.map(f, Vec) (owned)");
    let mut sequential = Figure::new("sequential iter().map().collect()");
    // The owned variants free their 8 MB input inside the call, which makes
    // them depend on the allocator's mood; the borrowed ones are the
    // comparison that counts.
    for round in 0..=ROUNDS * 3 {
        let (a, out) =
            time_out(|| -> Vec<u64> { input.par_iter().map(|&x| x.wrapping_mul(x)).collect() });
        drop(out);
        let (b, out) = time_out(|| pool.map_slice(|&x| x.wrapping_mul(x), &input).unwrap());
        drop(out);
        let owned = input.clone();
        let (c, out) =
            time_out(|| -> Vec<u64> { owned.into_par_iter().map(|x| x.wrapping_mul(x)).collect() });
        drop(out);
        let owned = input.clone();
        let (d, out) = time_out(|| pool.map(|x: u64| x.wrapping_mul(x), owned).unwrap());
        drop(out);
        let (e, out) =
            time_out(|| -> Vec<u64> { input.iter().map(|&x| x.wrapping_mul(x)).collect() });
        drop(out);
        if round > 0 {
            rayon_ref.samples.push(a);
            brigade_ref.samples.push(b);
            rayon_owned.samples.push(c);
            brigade_owned.samples.push(d);
            sequential.samples.push(e);
        }
    }
    report(
        "  borrowed input (per map call)",
        1,
        &[rayon_ref, brigade_ref, sequential],
    );
    report(
        "  owned input (per map call)",
        1,
        &[rayon_owned, brigade_owned],
    );
}

fn main() {
    let which = std::env::args().nth(1);
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!("brigade::thread benchmarks on {cores} cores");
    if which.as_deref().is_none_or(|w| w == "spawn") {
        spawn_join();
    }
    if which.as_deref().is_none_or(|w| w == "map") {
        pool_map();
    }
}
