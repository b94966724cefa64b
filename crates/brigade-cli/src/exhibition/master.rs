//! Judit for the thread and process models: a thread that serves the boards
//! waiting for her, first come first served, one move at a time.
//!
//! She keeps to a schedule, as a periodic real-time task does: a move that
//! was asked for while she was busy begins when her previous move was due
//! to end, not when her thread happened to wake, and she sleeps until the
//! move's end as an instant (`clock_nanosleep` with `TIMER_ABSTIME` in C).
//! A wake-up that comes late (`std::thread::sleep` wakes 50 µs or more late,
//! the kernel's timer slack) then shortens her next sleep instead of pushing
//! all 720 moves back: at `--speedup 1000` those 50 µs are 50 simulated ms a
//! move, a minute over the exhibition. The `async` model keeps the same
//! schedule (`tasks.rs`), so that every model is measured by one rule.

use std::sync::mpsc::{Receiver, Sender, channel};
use std::time::{Duration, Instant};

use super::{Sim, Who};

/// A board asking for Judit's move, and when it asked; she answers on the
/// sender when done.
pub type Request = (u64, Instant, Sender<()>);

/// Starts Judit on a thread of her own. Boards send her requests; she stops
/// when every sender is gone.
pub fn start(
    sim: Sim,
    master_move: Duration,
) -> Result<(Sender<Request>, brigade::thread::Thread<()>), String> {
    let (tx, rx): (Sender<Request>, Receiver<Request>) = channel();
    let judit = brigade::thread::Builder::new()
        .name("Judit")
        .spawn(move || {
            // When her last move was due to end.
            let mut free_at: Option<Instant> = None;
            for (board, asked, done) in rx {
                let begin = free_at.map_or(asked, |free| free.max(asked));
                let end = begin + sim.scaled(master_move);
                free_at = Some(end);
                let start = sim.at(begin);
                let now = Instant::now();
                if end > now {
                    std::thread::sleep(end - now);
                }
                // Her move is logged as scheduled: the timeline shows her
                // moves back to back, never overlapping.
                sim.moved_until(board, Who::Master, start, sim.at(end));
                let _ = done.send(());
            }
        })
        .map_err(|e| format!("cannot start Judit's thread: {e}"))?;
    Ok((tx, judit))
}

/// Waits, on the calling thread, for Judit to make her move on `board`.
pub fn wait_for_move(judit: &Sender<Request>, board: u64) -> Result<(), String> {
    let (done_tx, done_rx) = channel();
    judit
        .send((board, Instant::now(), done_tx))
        .map_err(|_| "Judit left the exhibition".to_string())?;
    done_rx
        .recv()
        .map_err(|_| "Judit left the exhibition".to_string())
}
