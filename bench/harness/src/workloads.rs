//! The workloads: names, fixed sizes, shared inputs and the expected result
//! of each one. Every runtime implements a workload against these
//! definitions, so all columns of a table do exactly the same work.
//!
//! Each implementation returns one `u64` check value; [`Workload::expected`]
//! says what it must be. The Python side (`bench/python/workloads.py`)
//! mirrors this file: same sizes, same pseudo-random sequences, same check
//! values, so the runner can also compare check values across languages.
//!
//! | workload    | work                                                                 | check value |
//! |-------------|----------------------------------------------------------------------|-------------|
//! | `spawn`     | spawn 1,000,000 async tasks, each returns its index; join them all   | Σ index |
//! | `yield`     | 1,000 tasks, each yields to the scheduler 1,000 times                | total yields |
//! | `pingpong`  | 1,000,000 round trips between two tasks over two bounded(1) channels; the ponger answers `v + 1` | Σ answers |
//! | `timers`    | 100,000 concurrent tasks, task *i* sleeps `d_i` ∈ 0..=100 ms (seeded xorshift32) | Σ (d_i + 1) over fired tasks |
//! | `chess24`   | simultaneous chess exhibition, 24 boards, virtual time (see below)   | virtual end time, ms |
//! | `chess100k` | same with 100,000 boards                                             | virtual end time, ms |
//! | `echo10`    | TCP echo on 127.0.0.1: 10 connections × 10,000 round trips of 64 B   | bytes echoed back |
//! | `echo`      | the same with 100 connections × 1,000 round trips                     | bytes echoed back |
//! | `echo1000`  | the same with 1,000 connections × 100 round trips                     | bytes echoed back |
//! | `files`     | read 10,000 files of 4 KiB concurrently (created untimed in `std::env::temp_dir()`, ext4 here) | Σ (len·2³² + crc32) |
//! | `files-tmpfs` | the same in `/dev/shm` (tmpfs)                                     | Σ (len·2³² + crc32) |
//! | `threads`   | spawn 10,000 OS threads, each returns its index; then join them all  | Σ index |
//! | `threads1`  | 10,000 times: spawn one OS thread returning its index, join it       | Σ index |
//! | `poolmap`   | parallel map of `x ↦ x² mod 1,000,000,007` over 0..1,000,000, in order | Σ (i + 1)·r_i (wrapping) |
//! | `procs`     | 200 child processes, child *i* returns i² to the parent              | Σ i² |
//! | `procpool`  | 10 process-pool maps of `n ↦ n²` over 0..100,000, in order, back to back on one pool | 10 · Σ n² |
//! | `procrtt`   | 10,000 tasks `n ↦ n²` through a 2-process pool, one at a time        | Σ n² |
//! | `broadcast` | 1 sender, 100 receivers, 100,000 messages over a broadcast channel of 128 slots; the sender yields after every 64 | Σ received values |
//! | `rwlock`    | 100 tasks × 10,000 lock holds on one async RwLock, 1% writes, each hold spans one yield | writes·10⁶ + reads |
//! | `joinset`   | spawn 1,000,000 tasks into a JoinSet, each returns its index; join_next them all | Σ index |
//! | `mplock`    | 1,000,000 acquire + release of a cross-process lock, uncontended     | acquisitions |
//! | `mplock2`   | 2 child processes × 200,000 acquire + release of one cross-process lock | acquisitions |
//! | `mpvalue`   | 2 child processes × 200,000 increments of a shared value under its lock | the final value |
//! | `manager`   | 10,000 times `d[k] = d.get(k) + 1` on a Manager's dict (2 round trips each) | the final value |
//! | `lateness`  | 10 concurrent sleepers × 1,000 sleeps each of `d_i` ∈ 100..=5,000 µs (seeded xorshift32), one after the other; each sleep's lateness (actual − requested) is recorded | Σ d_i (µs) |
//!
//! `lateness` is about precision, not speed: its wall time is the sleeps'
//! own (about 2.6 s), and what it reports is the median and 99th percentile
//! of the 10,000 latenesses (`lateness_p50_s`, `lateness_p99_s` in the JSON
//! line). Ten sleepers rather than one keep a run under three seconds; two
//! of them rarely share a deadline, so each sleep measures a timer's wake-up.
//! | `clustermap` | map of `n ↦ n²` over 0..100,000 through a Redis broker to one worker of 2 processes, chunks of 12,500 | Σ n² |
//! | `clusterrtt` | 1,000 tasks `n ↦ n²` through the same broker and worker, one at a time | Σ n² |
//!
//! Chess exhibition: one master plays B boards. Each board is a task that
//! 30 times acquires the master (a FIFO-fair async mutex), sleeps 5 s (the
//! master's move), releases her and sleeps 55 s (the opponent's move). As
//! soon as B ≥ 12 the master is never idle, so the last board finishes at
//! B·30·5 + 55 s of virtual time (3,655 s for 24 boards).

use std::fmt;

/// Every workload, in the order the runner reports them.
pub const ALL: [Workload; 27] = [
    Workload::Spawn,
    Workload::Yield,
    Workload::PingPong,
    Workload::Timers,
    Workload::Chess24,
    Workload::Chess100k,
    Workload::Echo10,
    Workload::Echo,
    Workload::Echo1000,
    Workload::Files,
    Workload::FilesTmpfs,
    Workload::Threads,
    Workload::Threads1,
    Workload::PoolMap,
    Workload::Procs,
    Workload::ProcPool,
    Workload::ProcRtt,
    Workload::Broadcast,
    Workload::RwLock,
    Workload::JoinSet,
    Workload::MpLock,
    Workload::MpLock2,
    Workload::MpValue,
    Workload::Manager,
    Workload::Lateness,
    Workload::ClusterMap,
    Workload::ClusterRtt,
];

/// `spawn`: number of tasks.
pub const SPAWN_TASKS: u64 = 1_000_000;
/// `yield`: number of tasks.
pub const YIELD_TASKS: u64 = 1_000;
/// `yield`: yields per task.
pub const YIELDS_PER_TASK: u64 = 1_000;
/// `pingpong`: round trips.
pub const PINGPONG_ROUND_TRIPS: u64 = 1_000_000;
/// `timers`: number of sleeping tasks.
pub const TIMER_TASKS: usize = 100_000;
/// `timers`: longest sleep, inclusive.
pub const TIMER_MAX_MS: u32 = 100;
/// `timers`: seed of the xorshift32 sequence.
pub const TIMER_SEED: u32 = 0x2545_F491;
/// `chess*`: pair-moves per game.
pub const CHESS_MOVES: u32 = 30;
/// `chess*`: the master's move, seconds.
pub const CHESS_MASTER_SECS: u64 = 5;
/// `chess*`: an opponent's move, seconds.
pub const CHESS_OPPONENT_SECS: u64 = 55;
/// `echo*`: round trips in all, spread evenly over the connections.
pub const ECHO_ROUND_TRIPS: usize = 100_000;
/// `echo`: message size in bytes.
pub const ECHO_MESSAGE: usize = 64;
/// `files`: number of files.
pub const FILES: usize = 10_000;
/// `files`: size of each file.
pub const FILE_SIZE: usize = 4096;
/// `files`: size of the pseudo-random block the files are cut from.
pub const FILES_BLOCK: usize = 65_536;
/// `files`: seed of the block's xorshift32 sequence.
pub const FILES_SEED: u32 = 0x1234_5678;
/// `threads`: number of OS threads.
pub const THREADS: u64 = 10_000;
/// `poolmap`: number of items.
pub const POOLMAP_ITEMS: u64 = 1_000_000;
/// `poolmap`: modulus of the mapped function.
pub const POOLMAP_MOD: u64 = 1_000_000_007;
/// `procs`: number of child processes.
pub const PROCS: u64 = 200;
/// `procpool`: number of items.
pub const PROCPOOL_ITEMS: u64 = 100_000;
/// `procpool`: maps timed back to back on the warmed pool, the first one
/// included. One map takes about 3 ms, within the scheduling noise of a
/// small shared VM; ten make a window of tens of milliseconds.
pub const PROCPOOL_MAPS: u64 = 10;
/// `procpool`: items per job sent to a pool worker, the same for every
/// pool: `multiprocessing.Pool.map`'s default rule, ⌈items / (4 · workers)⌉,
/// which is also brigade's `ProcessPool::map` rule. procspawn has no map
/// and `ProcessPoolExecutor.map` defaults to 1, so both are given this.
pub const PROCPOOL_CHUNK: usize = (PROCPOOL_ITEMS as usize).div_ceil(4 * PROCPOOL_WORKERS);
/// `procpool`: worker processes (the machine's cores).
pub const PROCPOOL_WORKERS: usize = 2;
/// `procrtt`: tasks, each submitted once the previous one's result is back.
pub const PROCRTT_TASKS: u64 = 10_000;
/// `broadcast`: receivers.
pub const BROADCAST_RECEIVERS: u64 = 100;
/// `broadcast`: messages sent (the values 0..messages).
pub const BROADCAST_MESSAGES: u64 = 100_000;
/// `broadcast`: the channel's capacity, in messages.
pub const BROADCAST_CAPACITY: usize = 128;
/// `broadcast`: messages sent between two yields of the sender. Half the
/// capacity: once the sender yields, every receiver runs and drains what it
/// missed before the sender's next turn, so no receiver lags (a lag would
/// break the check value).
pub const BROADCAST_BATCH: u64 = 64;
/// `rwlock`: tasks.
pub const RWLOCK_TASKS: u64 = 100;
/// `rwlock`: lock holds per task; hold `i` of task `t` writes when
/// `(i + t) % 100 == 0` (1%), reads otherwise.
pub const RWLOCK_HOLDS: u64 = 10_000;
/// `joinset`: tasks.
pub const JOINSET_TASKS: u64 = 1_000_000;
/// `mplock`: acquire + release pairs, in one process.
pub const MPLOCK_ITERS: u64 = 1_000_000;
/// `mplock2` and `mpvalue`: child processes contending.
pub const MP_CONTENDERS: u64 = 2;
/// `mplock2` and `mpvalue`: operations per child process.
pub const MP_ITERS_EACH: u64 = 200_000;
/// `manager`: read-modify-write operations on the dict, each a get and a set.
pub const MANAGER_OPS: u64 = 10_000;
/// `lateness`: sleepers, each sleeping its share of the sleeps in turn.
pub const LATENESS_SLEEPERS: usize = 10;
/// `lateness`: sleeps in all.
pub const LATENESS_SLEEPS: usize = 10_000;
/// `lateness`: shortest and longest sleep, in µs, inclusive.
pub const LATENESS_MIN_US: u32 = 100;
/// See [`LATENESS_MIN_US`].
pub const LATENESS_MAX_US: u32 = 5_000;
/// `lateness`: seed of the xorshift32 sequence.
pub const LATENESS_SEED: u32 = 0x9E37_79B9;

/// `clustermap`: items.
pub const CLUSTERMAP_ITEMS: u64 = 100_000;
/// `clustermap` and `clusterrtt`: the worker's processes (the machine's
/// cores), as `celery worker --concurrency 2`.
pub const CLUSTER_WORKERS: usize = 2;
/// `clustermap`: items per task, the same for every peer: the
/// `multiprocessing.Pool.map` rule, ⌈items / (4 · workers)⌉.
pub const CLUSTERMAP_CHUNK: usize = (CLUSTERMAP_ITEMS as usize).div_ceil(4 * CLUSTER_WORKERS);
/// `clusterrtt`: tasks, each submitted once the previous one's result is back.
pub const CLUSTERRTT_TASKS: u64 = 1_000;

/// One benchmark workload.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Workload {
    /// Spawn and join tiny async tasks.
    Spawn,
    /// Tasks that only yield.
    Yield,
    /// Round trips between two tasks over channels.
    PingPong,
    /// Many concurrent sleeps.
    Timers,
    /// Chess exhibition with 24 boards, virtual time.
    Chess24,
    /// Chess exhibition with 100,000 boards, virtual time.
    Chess100k,
    /// TCP echo over loopback, 10 connections.
    Echo10,
    /// TCP echo over loopback, 100 connections.
    Echo,
    /// TCP echo over loopback, 1,000 connections.
    Echo1000,
    /// Concurrent small-file reads from the temp dir (ext4 here).
    Files,
    /// Concurrent small-file reads from tmpfs.
    FilesTmpfs,
    /// Spawn OS threads, then join them all.
    Threads,
    /// Spawn and join OS threads one at a time.
    Threads1,
    /// Data-parallel map on a thread pool.
    PoolMap,
    /// Start and join child processes.
    Procs,
    /// Map on a process pool.
    ProcPool,
    /// One task at a time through a process pool (the round trip).
    ProcRtt,
    /// Fan-out over a broadcast channel.
    Broadcast,
    /// A read-heavy async RwLock.
    RwLock,
    /// Spawn into a JoinSet and join in completion order.
    JoinSet,
    /// An uncontended cross-process lock.
    MpLock,
    /// A cross-process lock contended by two processes.
    MpLock2,
    /// A shared value incremented under its lock by two processes.
    MpValue,
    /// Round trips to a Manager's dict.
    Manager,
    /// How late sleeps of 0.1–5 ms wake.
    Lateness,
    /// A chunked map through a broker.
    ClusterMap,
    /// One task at a time through a broker.
    ClusterRtt,
}

impl Workload {
    /// The name used on the command line and in reports.
    pub fn name(self) -> &'static str {
        match self {
            Workload::Spawn => "spawn",
            Workload::Yield => "yield",
            Workload::PingPong => "pingpong",
            Workload::Timers => "timers",
            Workload::Chess24 => "chess24",
            Workload::Chess100k => "chess100k",
            Workload::Echo10 => "echo10",
            Workload::Echo => "echo",
            Workload::Echo1000 => "echo1000",
            Workload::Files => "files",
            Workload::FilesTmpfs => "files-tmpfs",
            Workload::Threads => "threads",
            Workload::Threads1 => "threads1",
            Workload::PoolMap => "poolmap",
            Workload::Procs => "procs",
            Workload::ProcPool => "procpool",
            Workload::ProcRtt => "procrtt",
            Workload::Broadcast => "broadcast",
            Workload::RwLock => "rwlock",
            Workload::JoinSet => "joinset",
            Workload::MpLock => "mplock",
            Workload::MpLock2 => "mplock2",
            Workload::MpValue => "mpvalue",
            Workload::Manager => "manager",
            Workload::Lateness => "lateness",
            Workload::ClusterMap => "clustermap",
            Workload::ClusterRtt => "clusterrtt",
        }
    }

    /// Parses a command-line name.
    pub fn from_name(name: &str) -> Option<Workload> {
        ALL.into_iter().find(|w| w.name() == name)
    }

    /// The check value a correct run must return.
    pub fn expected(self) -> u64 {
        match self {
            Workload::Spawn => sum_below(SPAWN_TASKS),
            Workload::Yield => YIELD_TASKS * YIELDS_PER_TASK,
            Workload::PingPong => sum_below(PINGPONG_ROUND_TRIPS + 1),
            Workload::Timers => timer_delays_ms().iter().map(|&d| d + 1).sum(),
            Workload::Chess24 | Workload::Chess100k => {
                chess_exhibitions(self) * chess_end_ms(chess_boards(self))
            }
            Workload::Echo10 | Workload::Echo | Workload::Echo1000 => {
                (ECHO_ROUND_TRIPS * ECHO_MESSAGE) as u64
            }
            Workload::Files | Workload::FilesTmpfs => {
                let block = files_block();
                (0..FILES)
                    .map(|i| file_digest(file_contents(&block, i)))
                    .fold(0, u64::wrapping_add)
            }
            Workload::Threads | Workload::Threads1 => sum_below(THREADS),
            Workload::PoolMap => {
                poolmap_checksum(&(0..POOLMAP_ITEMS).map(poolmap_fn).collect::<Vec<_>>())
            }
            Workload::Procs => sum_squares_below(PROCS),
            Workload::ProcPool => PROCPOOL_MAPS * sum_squares_below(PROCPOOL_ITEMS),
            Workload::ProcRtt => sum_squares_below(PROCRTT_TASKS),
            Workload::Broadcast => BROADCAST_RECEIVERS * sum_below(BROADCAST_MESSAGES),
            Workload::RwLock => {
                let writes = RWLOCK_TASKS * RWLOCK_HOLDS / 100;
                writes * 1_000_000 + (RWLOCK_TASKS * RWLOCK_HOLDS - writes)
            }
            Workload::JoinSet => sum_below(JOINSET_TASKS),
            Workload::MpLock => MPLOCK_ITERS,
            Workload::MpLock2 | Workload::MpValue => MP_CONTENDERS * MP_ITERS_EACH,
            Workload::Manager => MANAGER_OPS,
            Workload::Lateness => lateness_delays_us().iter().flatten().sum(),
            Workload::ClusterMap => sum_squares_below(CLUSTERMAP_ITEMS),
            Workload::ClusterRtt => sum_squares_below(CLUSTERRTT_TASKS),
        }
    }
}

impl fmt::Display for Workload {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

fn sum_below(n: u64) -> u64 {
    n * (n - 1) / 2
}

fn sum_squares_below(n: u64) -> u64 {
    (n - 1) * n * (2 * n - 1) / 6
}

/// The xorshift32 generator (13, 17, 5) used for every pseudo-random input,
/// so that Rust and Python produce the same sequences.
#[derive(Clone, Debug)]
pub struct XorShift32(u32);

impl XorShift32 {
    /// A generator with a non-zero seed.
    pub fn new(seed: u32) -> Self {
        assert_ne!(seed, 0, "xorshift32 needs a non-zero seed");
        XorShift32(seed)
    }

    /// The next value of the sequence.
    pub fn next_u32(&mut self) -> u32 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        self.0 = x;
        x
    }
}

/// `timers`: the delay of every task, in milliseconds, 0..=100.
pub fn timer_delays_ms() -> Vec<u64> {
    let mut rng = XorShift32::new(TIMER_SEED);
    (0..TIMER_TASKS)
        .map(|_| u64::from(rng.next_u32() % (TIMER_MAX_MS + 1)))
        .collect()
}

/// `lateness`: the sleeps of each sleeper, in µs, in the order it makes
/// them: sleep `i` of the sequence goes to sleeper `i % LATENESS_SLEEPERS`.
pub fn lateness_delays_us() -> Vec<Vec<u64>> {
    let mut rng = XorShift32::new(LATENESS_SEED);
    let mut sleepers = vec![Vec::new(); LATENESS_SLEEPERS];
    let span = LATENESS_MAX_US - LATENESS_MIN_US + 1;
    for i in 0..LATENESS_SLEEPS {
        let us = LATENESS_MIN_US + rng.next_u32() % span;
        sleepers[i % LATENESS_SLEEPERS].push(u64::from(us));
    }
    sleepers
}

/// `chess*`: number of boards of a chess workload.
pub fn chess_boards(workload: Workload) -> u64 {
    match workload {
        Workload::Chess24 => 24,
        Workload::Chess100k => 100_000,
        other => panic!("{other} is not a chess workload"),
    }
}

/// `chess*`: exhibitions timed back to back, each on a runtime of its own
/// built and dropped outside the window, the first (cold) one included.
/// One 24-board exhibition takes 0.1–0.3 ms, within the scheduling noise
/// of a small shared VM: with one exhibition a run, brigade's rounds
/// against smol-vclock ranged from 0.54 to 0.91 (BENCHMARKS.md's notes).
/// A hundred make a window of tens of milliseconds. A 100,000-board exhibition takes hundreds of
/// milliseconds, so it is played once.
pub fn chess_exhibitions(workload: Workload) -> u64 {
    match workload {
        Workload::Chess24 => 100,
        Workload::Chess100k => 1,
        other => panic!("{other} is not a chess workload"),
    }
}

/// `chess*`: virtual time at which the last board finishes, in milliseconds.
pub fn chess_end_ms(boards: u64) -> u64 {
    (boards * u64::from(CHESS_MOVES) * CHESS_MASTER_SECS + CHESS_OPPONENT_SECS) * 1000
}

/// `echo*`: (connections, round trips per connection) of an echo workload.
pub fn echo_shape(workload: Workload) -> (usize, usize) {
    let connections = match workload {
        Workload::Echo10 => 10,
        Workload::Echo => 100,
        Workload::Echo1000 => 1_000,
        other => panic!("{other} is not an echo workload"),
    };
    (connections, ECHO_ROUND_TRIPS / connections)
}

/// `files*`: the directory the files of a files workload are made in.
pub fn files_root(workload: Workload) -> std::path::PathBuf {
    match workload {
        Workload::Files => std::env::temp_dir(),
        Workload::FilesTmpfs => "/dev/shm".into(),
        other => panic!("{other} is not a files workload"),
    }
}

/// `echo`: the message client `conn` sends on round trip `round`.
pub fn echo_message(conn: usize, round: usize) -> [u8; ECHO_MESSAGE] {
    let mut msg = [0u8; ECHO_MESSAGE];
    for (k, byte) in msg.iter_mut().enumerate() {
        *byte = (conn.wrapping_mul(31) ^ round.wrapping_mul(7) ^ k) as u8;
    }
    msg
}

/// `files`: the pseudo-random block every file is a window of.
pub fn files_block() -> Vec<u8> {
    let mut rng = XorShift32::new(FILES_SEED);
    let mut block = Vec::with_capacity(FILES_BLOCK);
    while block.len() < FILES_BLOCK {
        block.extend_from_slice(&rng.next_u32().to_le_bytes());
    }
    block
}

/// `files`: the contents of file `i`, a window of the block.
pub fn file_contents(block: &[u8], i: usize) -> &[u8] {
    let start = (i * 997) % (FILES_BLOCK - FILE_SIZE + 1);
    &block[start..start + FILE_SIZE]
}

/// `files`: the digest of one file, `len·2³² + crc32`; the check value is
/// the wrapping sum of the digests, so it covers both size and contents.
pub fn file_digest(data: &[u8]) -> u64 {
    ((data.len() as u64) << 32).wrapping_add(u64::from(crc32(data)))
}

/// `files`: sums the digests of files read back.
pub fn files_checksum<T: AsRef<[u8]>>(files: &[T]) -> u64 {
    files
        .iter()
        .map(|f| file_digest(f.as_ref()))
        .fold(0, u64::wrapping_add)
}

const CRC_TABLE: [u32; 256] = {
    let mut table = [0u32; 256];
    let mut i = 0;
    while i < 256 {
        let mut c = i as u32;
        let mut bit = 0;
        while bit < 8 {
            c = if c & 1 != 0 {
                0xEDB8_8320 ^ (c >> 1)
            } else {
                c >> 1
            };
            bit += 1;
        }
        table[i] = c;
        i += 1;
    }
    table
};

/// CRC-32 (IEEE, the one of zlib), so Python can use `zlib.crc32`.
pub fn crc32(data: &[u8]) -> u32 {
    !data.iter().fold(!0u32, |c, &b| {
        CRC_TABLE[((c ^ u32::from(b)) & 0xFF) as usize] ^ (c >> 8)
    })
}

/// `poolmap`: the mapped function.
pub fn poolmap_fn(x: u64) -> u64 {
    x * x % POOLMAP_MOD
}

/// `poolmap`: an order-sensitive checksum of the mapped results.
pub fn poolmap_checksum(results: &[u64]) -> u64 {
    results
        .iter()
        .zip(1u64..)
        .fold(0, |acc, (&r, i)| acc.wrapping_add(r.wrapping_mul(i)))
}

/// `rwlock`: whether hold `i` of task `t` is a write.
pub fn rwlock_writes(task: u64, hold: u64) -> bool {
    (hold + task).is_multiple_of(100)
}

/// `procs` and `procpool`: the work done in a child process.
pub fn square(n: u64) -> u64 {
    n * n
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc32_matches_zlib() {
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
    }

    #[test]
    fn names_round_trip() {
        for w in ALL {
            assert_eq!(Workload::from_name(w.name()), Some(w));
        }
    }

    #[test]
    fn chess_24_boards_end_at_3655_s() {
        assert_eq!(chess_end_ms(24), 3_655_000);
    }
}
