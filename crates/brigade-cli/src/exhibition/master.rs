//! Judit for the thread and process models: a thread that serves the boards
//! waiting for her, first come first served, one move at a time.

use std::sync::mpsc::{Receiver, Sender, channel};
use std::time::Duration;

use super::{Sim, Who};

/// A board asking for Judit's move; she answers on the sender when done.
pub type Request = (u64, Sender<()>);

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
            for (board, done) in rx {
                let start = sim.now();
                std::thread::sleep(sim.scaled(master_move));
                sim.moved(board, Who::Master, start);
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
        .send((board, done_tx))
        .map_err(|_| "Judit left the exhibition".to_string())?;
    done_rx
        .recv()
        .map_err(|_| "Judit left the exhibition".to_string())
}
