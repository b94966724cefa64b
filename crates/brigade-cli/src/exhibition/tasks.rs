//! `async`: one event-loop task per board; Judit is a FIFO-fair async mutex
//! that the boards queue for, so she moves from board to board in turn while
//! the opponents think.

use std::rc::Rc;
use std::time::Duration;

use brigade::sync::Mutex;

use super::{Params, Sim, Who};

pub fn play(params: &Params, sim: &Sim) -> Result<Duration, String> {
    let rt = sim.runtime()?;
    rt.block_on(async {
        sim.start();
        let judit = Rc::new(Mutex::new(()));
        let boards = (0..params.boards).map(|board| {
            let (judit, sim, p) = (judit.clone(), sim.clone(), params.clone());
            brigade::spawn_named(format!("board {}", board + 1), async move {
                for _ in 0..p.moves {
                    let at_the_board = judit.lock().await;
                    let start = sim.now();
                    sim.sleep(p.master_move).await;
                    sim.moved(board, Who::Master, start);
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
