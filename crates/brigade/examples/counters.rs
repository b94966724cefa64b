//! Three counters run with `gather`: they finish in the time of one.
//!
//! ```text
//! cargo run -p brigade --example counters
//! ```
//!
//! Each counter counts to three, sleeping a second between counts. Run one
//! after another they would take nine seconds; gathered, the loop switches
//! between them whenever one sleeps, and all three are done in three.

use std::time::Duration;

use brigade::time::{Instant, sleep};

async fn count(name: &str) -> &str {
    for i in 1..=3 {
        println!("{name}: {i}");
        sleep(Duration::from_secs(1)).await;
    }
    name
}

#[brigade::main]
async fn main() {
    let start = Instant::now();
    let done = brigade::gather([count("one"), count("two"), count("three")]).await;
    println!(
        "{done:?} finished in {:.1?} (sequentially: 9s)",
        start.elapsed()
    );
}
