//! `threads`: one brigade thread per board. A board's thread queues for
//! Judit, then its opponent thinks, blocking the thread, as blocking code
//! does.

use std::time::Duration;

use super::{Params, Sim, Who, master};

pub fn play(params: &Params, sim: &Sim) -> Result<Duration, String> {
    sim.start();
    let (judit, mut judit_thread) = master::start(sim.clone(), params.master_move)?;
    let mut boards = Vec::new();
    for board in 0..params.boards {
        let (judit, sim, p) = (judit.clone(), sim.clone(), params.clone());
        let thread = brigade::thread::Builder::new()
            .name(format!("board {}", board + 1))
            .spawn(move || -> Result<(), String> {
                for _ in 0..p.moves {
                    master::wait_for_move(&judit, board)?;
                    let start = sim.now();
                    std::thread::sleep(sim.scaled(p.opponent_move));
                    sim.moved(board, Who::Opponent, start);
                }
                Ok(())
            })
            .map_err(|e| format!("cannot start the thread of board {}: {e}", board + 1))?;
        boards.push(thread);
    }
    drop(judit);
    for mut board in boards {
        board.join().map_err(|e| format!("a board failed: {e}"))??;
    }
    let end = sim.now();
    judit_thread
        .join()
        .map_err(|e| format!("Judit's thread failed: {e}"))?;
    Ok(end)
}
