//! Chained coroutines: each chain awaits its steps in order, the chains run
//! concurrently, and the total time is that of the longest chain, not the
//! sum of all.
//!
//! ```text
//! cargo run -p brigade --example chain
//! ```
//!
//! A port of the chained-coroutines example from the Real Python asyncio
//! walk-through that the seed notebook cites. Runs on the virtual clock, so
//! it finishes at once and prints the same times on every run.

use std::time::Duration;

use brigade::time::{Instant, sleep};

async fn part1(n: u64) -> String {
    let wait = n % 3 + 1;
    println!("part1({n}) sleeping for {wait} seconds");
    sleep(Duration::from_secs(wait)).await;
    format!("result{n}-1")
}

async fn part2(n: u64, arg: String) -> String {
    let wait = n % 4 + 1;
    println!("part2({n}, {arg:?}) sleeping for {wait} seconds");
    sleep(Duration::from_secs(wait)).await;
    format!("result{n}-2 derived from {arg}")
}

async fn chain(n: u64, start: Instant) -> u64 {
    let p1 = part1(n).await;
    let p2 = part2(n, p1).await;
    let took = start.elapsed().as_secs();
    println!("-->Chained result{n} => {p2} (took {took} s)");
    took
}

#[brigade::main(virtual)]
async fn main() {
    let start = Instant::now();
    let times = brigade::gather([9, 6, 3].map(|n| chain(n, start))).await;
    let total = start.elapsed().as_secs();
    println!(
        "Program finished in {total} s; the chains took {times:?} s, {} s in sum.",
        times.iter().sum::<u64>()
    );
    assert_eq!(total, *times.iter().max().unwrap());
}
