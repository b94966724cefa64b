//! A progress bar on the terminal while a real-clock run goes: the share of
//! all moves made so far.

use std::io::{IsTerminal, Write};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

pub struct Progress {
    done: Arc<AtomicBool>,
    painter: Option<JoinHandle<()>>,
}

impl Progress {
    /// Starts painting `label` and the bar on stderr, if it is a terminal.
    pub fn start(label: String, moves: Arc<AtomicU64>, total: u64) -> Progress {
        let done = Arc::new(AtomicBool::new(false));
        let painter = std::io::stderr().is_terminal().then(|| {
            let done = done.clone();
            std::thread::spawn(move || {
                while !done.load(Ordering::Acquire) {
                    paint(&label, moves.load(Ordering::Relaxed), total);
                    std::thread::sleep(Duration::from_millis(100));
                }
                eprint!("\r\x1b[2K");
            })
        });
        Progress { done, painter }
    }
}

fn paint(label: &str, made: u64, total: u64) {
    const WIDTH: u64 = 40;
    let filled = (made * WIDTH / total.max(1)).min(WIDTH);
    let bar: String = (0..WIDTH)
        .map(|i| if i < filled { '█' } else { '░' })
        .collect();
    eprint!("\r{label} {bar} {:>3}%", made * 100 / total.max(1));
    let _ = std::io::stderr().flush();
}

impl Drop for Progress {
    fn drop(&mut self) {
        self.done.store(true, Ordering::Release);
        if let Some(painter) = self.painter.take() {
            let _ = painter.join();
        }
    }
}
