//! `async`: one event-loop task per board; Judit is a FIFO-fair async mutex
//! that the boards queue for, so she moves from board to board in turn while
//! the opponents think.
//!
//! She keeps to a schedule, as she does in the thread and process models
//! (see `master.rs`): a move asked for while she was busy begins when her
//! previous move was due to end, and she sleeps until the move's end as an
//! instant. A wake-up that comes a few microseconds late then shortens her
//! next sleep instead of pushing all her later moves back, so that every
//! model is measured by the same rule. On the virtual clock nothing is ever
//! late and the schedule changes nothing.

use std::cell::Cell;
use std::rc::Rc;
use std::time::Duration;

use brigade::sync::Mutex;
use brigade::time::Instant;

use super::{Params, Sim, Who};

pub fn play(params: &Params, sim: &Sim) -> Result<Duration, String> {
    let rt = sim.runtime()?;
    rt.block_on(async {
        sim.start();
        // Judit, and when her last move was due to end.
        let judit = Rc::new(Mutex::new(Cell::new(None::<Instant>)));
        let boards = (0..params.boards).map(|board| {
            let (judit, sim, p) = (judit.clone(), sim.clone(), params.clone());
            brigade::spawn_named(format!("board {}", board + 1), async move {
                for _ in 0..p.moves {
                    let asked = Instant::now();
                    let at_the_board = judit.lock().await;
                    let begin = at_the_board.get().map_or(asked, |free| free.max(asked));
                    let end = begin + sim.scaled(p.master_move);
                    at_the_board.set(Some(end));
                    brigade::time::sleep_until(end).await;
                    // Logged as scheduled, as in the thread model: her
                    // moves are back to back, never overlapping.
                    sim.moved_until(board, Who::Master, sim.at_loop(begin), sim.at_loop(end));
                    drop(at_the_board);
                    let start = sim.now();
                    sim.sleep(p.opponent_move).await;
                    sim.moved(board, Who::Opponent, start);
                }
            })
        });
        let boards: Vec<_> = boards.collect();
        for result in brigade::gather(boards).await {
            result.map_err(|e| format!("a board failed: {e}"))?;
        }
        Ok(sim.now())
    })
}
