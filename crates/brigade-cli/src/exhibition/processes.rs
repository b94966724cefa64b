//! `processes`: one child process per board, where its opponent thinks;
//! Judit stays in the parent. Each board has a proxy thread in the parent
//! that queues for Judit, then passes her move to its child over a brigade
//! pipe and waits for the reply: every move crosses a process boundary.

use std::time::Duration;

use brigade::process::{Connection, Process, StartMethod};

use super::{Params, Sim, Who, master};

/// Messages on a board's pipe: Judit moved, the opponent replied, the game
/// is over.
const MOVED: u8 = 1;
const REPLIED: u8 = 2;
const GAME_OVER: u8 = 0;

/// The opponent, in the child process: thinks for `think_ns` after each of
/// Judit's moves, until the game is over. Returns the moves it made.
fn opponent(table: Connection<u8>, think_ns: u64) -> u64 {
    let mut made = 0;
    while let Ok(MOVED) = table.recv() {
        std::thread::sleep(Duration::from_nanos(think_ns));
        made += 1;
        if table.send(&REPLIED).is_err() {
            break;
        }
    }
    made
}

pub fn play(params: &Params, sim: &Sim) -> Result<Duration, String> {
    let think_ns = u64::try_from(sim.scaled(params.opponent_move).as_nanos()).unwrap_or(u64::MAX);
    let mut opponents = Vec::new();
    let mut tables = Vec::new();
    for board in 0..params.boards {
        let (parent_end, child_end) =
            brigade::process::pipe::<u8>().map_err(|e| format!("cannot make a pipe: {e}"))?;
        let mut child = Process::new(opponent, (child_end, think_ns))
            .start_method(StartMethod::Forkserver)
            .daemon(true);
        child
            .start()
            .map_err(|e| format!("cannot start the process of board {}: {e}", board + 1))?;
        opponents.push(child);
        tables.push(parent_end);
    }
    sim.start();
    let (judit, mut judit_thread) = master::start(sim.clone(), params.master_move)?;
    let mut proxies = Vec::new();
    for (board, table) in (0..params.boards).zip(tables) {
        let (judit, sim, moves) = (judit.clone(), sim.clone(), params.moves);
        let proxy = brigade::thread::Builder::new()
            .name(format!("board {}", board + 1))
            .spawn(move || -> Result<(), String> {
                let lost = |e: String| format!("board {} lost its opponent: {e}", board + 1);
                for _ in 0..moves {
                    master::wait_for_move(&judit, board)?;
                    let start = sim.now();
                    table.send(&MOVED).map_err(|e| lost(e.to_string()))?;
                    match table.recv() {
                        Ok(REPLIED) => sim.moved(board, Who::Opponent, start),
                        Ok(other) => return Err(lost(format!("unexpected message {other}"))),
                        Err(e) => return Err(lost(e.to_string())),
                    }
                }
                let _ = table.send(&GAME_OVER);
                Ok(())
            })
            .map_err(|e| format!("cannot start the thread of board {}: {e}", board + 1))?;
        proxies.push(proxy);
    }
    drop(judit);
    for mut proxy in proxies {
        proxy.join().map_err(|e| format!("a board failed: {e}"))??;
    }
    let end = sim.now();
    judit_thread
        .join()
        .map_err(|e| format!("Judit's thread failed: {e}"))?;
    for (board, mut child) in opponents.into_iter().enumerate() {
        let made = child
            .join()
            .map_err(|e| format!("the process of board {} failed: {e}", board + 1))?;
        if made != params.moves {
            return Err(format!(
                "board {} played {made} moves instead of {}",
                board + 1,
                params.moves
            ));
        }
    }
    Ok(end)
}
