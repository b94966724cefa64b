//! asyncio's classic producer/consumer program, ported to brigade.
//!
//! Producers make work items at their own pace and put them on a bounded
//! [`Queue`]; consumers take them, work on them, and mark each one done.
//! The main task waits for the producers to finish, then for the queue to
//! be fully processed (`queue.join()`), then cancels the consumers, which
//! would otherwise wait for more work forever, and reports who did what.
//!
//! The program runs on the virtual clock: its minutes of sleeping take no
//! real time, and a fixed seed makes every run print the same story.
//!
//! ```text
//! cargo run -p brigade --example producer_consumer [-- SEED]
//! ```

use std::cell::RefCell;
use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;

use brigade::sync::Queue;
use brigade::time::{Instant, sleep};

const PRODUCERS: u64 = 3;
const CONSUMERS: u64 = 3;
const QUEUE_CAPACITY: usize = 4;

/// A work item: who made it, what it is, and when it was queued.
#[derive(Debug)]
struct Item {
    producer: u64,
    token: String,
    queued_at: Instant,
}

/// A small deterministic generator (splitmix64): "random" sleeps that are
/// the same on every run with the same seed.
struct Dice(u64);

impl Dice {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A whole number of seconds in `0..=max`.
    fn seconds(&mut self, max: u64) -> Duration {
        Duration::from_secs(self.next() % (max + 1))
    }
}

/// Seconds since the start, on the loop's (virtual) clock.
fn stamp(start: Instant) -> String {
    format!("[t={:>3}s]", start.elapsed().as_secs())
}

async fn produce(id: u64, seed: u64, queue: Arc<Queue<Item>>, start: Instant) -> usize {
    let mut dice = Dice(seed ^ (id + 1).wrapping_mul(0xA24B_AED4_963E_E407));
    let count = 2 + dice.next() % 5; // 2 to 6 items
    for n in 0..count {
        let pause = dice.seconds(4);
        println!(
            "{} producer {id} works for {}s",
            stamp(start),
            pause.as_secs()
        );
        sleep(pause).await;
        let token = format!("{:08x}", dice.next() as u32);
        let item = Item {
            producer: id,
            token: token.clone(),
            queued_at: Instant::now(),
        };
        // Waits while the queue is full: back-pressure on fast producers.
        queue.put(item).await.expect("nobody closes this queue");
        println!(
            "{} producer {id} queued <{token}> ({}/{count})",
            stamp(start),
            n + 1
        );
    }
    count as usize
}

/// What one consumer did: (item, producer, seconds it waited in the queue).
type Log = Rc<RefCell<Vec<(String, u64, u64)>>>;

async fn consume(id: u64, seed: u64, queue: Arc<Queue<Item>>, log: Log, start: Instant) {
    let mut dice = Dice(seed ^ (id + 100).wrapping_mul(0xD6E8_FEB8_6659_FD93));
    loop {
        let Ok(item) = queue.get().await else {
            return;
        };
        let waited = item.queued_at.elapsed().as_secs();
        let work = dice.seconds(8);
        println!(
            "{} consumer {id} took <{}> from producer {} (queued {waited}s ago), works {}s",
            stamp(start),
            item.token,
            item.producer,
            work.as_secs()
        );
        sleep(work).await;
        log.borrow_mut().push((item.token, item.producer, waited));
        queue.task_done().expect("one task_done per item taken");
    }
}

fn main() {
    let seed: u64 = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(2024);
    let runtime = brigade::Runtime::builder()
        .virtual_clock(true)
        .build()
        .expect("cannot start the event loop");
    let real_start = std::time::Instant::now();

    runtime.block_on(async move {
        let start = Instant::now();
        let queue = Arc::new(Queue::bounded(QUEUE_CAPACITY));

        let producers: Vec<_> = (0..PRODUCERS)
            .map(|id| brigade::spawn(produce(id, seed, queue.clone(), start)))
            .collect();
        let logs: Vec<Log> = (0..CONSUMERS).map(|_| Log::default()).collect();
        let consumers: Vec<_> = (0..CONSUMERS)
            .map(|id| {
                let log = logs[id as usize].clone();
                brigade::spawn(consume(id, seed, queue.clone(), log, start))
            })
            .collect();

        let mut produced = 0;
        for p in producers {
            produced += p.await.expect("a producer failed");
        }
        println!(
            "{} every producer is done; waiting for the queue to drain",
            stamp(start)
        );
        // Returns once every queued item was marked done.
        queue.join().await;
        println!(
            "{} queue.join() returned: all {produced} items processed",
            stamp(start)
        );

        // The consumers wait for more work forever: cancel them.
        for c in &consumers {
            c.abort();
        }
        for c in consumers {
            assert!(c.await.unwrap_err().is_cancelled());
        }

        println!("\nsummary (seed {seed}):");
        let mut processed = 0;
        for (id, log) in logs.iter().enumerate() {
            let log = log.borrow();
            processed += log.len();
            let items: Vec<String> = log
                .iter()
                .map(|(token, producer, waited)| {
                    format!("<{token}> from p{producer} after {waited}s")
                })
                .collect();
            println!("  consumer {id}: {} items: {}", log.len(), items.join(", "));
        }
        assert_eq!(processed, produced, "every item is processed exactly once");
        println!(
            "  {produced} items produced and processed in {}s of virtual time",
            start.elapsed().as_secs()
        );
    });
    println!("  (that took {:?} of real time)", real_start.elapsed());
}
