//! A watchdog for tests of blocking calls across threads and processes:
//! the body runs on a thread of its own, and a body that never ends fails
//! the test instead of stalling the suite. The bound is far above any run
//! and claims nothing about speed. A body that panics fails the test with
//! its own panic, passed on unchanged.

#![allow(dead_code)] // each test file uses the part it needs

use std::sync::mpsc::{self, RecvTimeoutError};
use std::time::Duration;

/// How long a body may run before it counts as a hang.
pub const WATCHDOG: Duration = Duration::from_secs(120);

/// Runs `f` under the [`WATCHDOG`].
pub fn within<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    within_for(WATCHDOG, "the test's body", f)
}

/// Runs `f`, failing with "`what` never ended" after `limit`.
pub fn within_for<T: Send + 'static>(
    limit: Duration,
    what: &str,
    f: impl FnOnce() -> T + Send + 'static,
) -> T {
    let (tx, rx) = mpsc::channel();
    let body = std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    match rx.recv_timeout(limit) {
        Ok(value) => value,
        Err(RecvTimeoutError::Disconnected) => match body.join() {
            Err(panic) => std::panic::resume_unwind(panic),
            Ok(()) => unreachable!("the body sends its result before it ends"),
        },
        Err(RecvTimeoutError::Timeout) => {
            panic!("{what} never ended: a hang (watchdog {limit:?})")
        }
    }
}
