//! `sync`: Judit plays one game to its end before she starts the next.

use std::time::Duration;

use super::{Params, Sim, Who};

pub fn play(params: &Params, sim: &Sim) -> Result<Duration, String> {
    let rt = sim.runtime()?;
    Ok(rt.block_on(async {
        sim.start();
        for board in 0..params.boards {
            for _ in 0..params.moves {
                let start = sim.now();
                sim.sleep(params.master_move).await;
                sim.moved(board, Who::Master, start);
                let start = sim.now();
                sim.sleep(params.opponent_move).await;
                sim.moved(board, Who::Opponent, start);
            }
        }
        sim.now()
    }))
}
