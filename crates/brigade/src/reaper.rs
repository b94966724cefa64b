//! The reaper: the one thread that reaps the children nobody waits for any
//! more.
//!
//! A child that ends stays a zombie until its parent waits for it. When
//! the owner of a child lets go before the child has ended (a dropped
//! [`subprocess::Child`](crate::subprocess::Child), a dropped
//! [`Process`](crate::process::Process), a pool worker nobody collected),
//! it hands the child's pidfd to [`reap`]; the reaper waits for every such
//! child at once, with one epoll set of pidfds (a pidfd turns readable when
//! its process ends), and reaps each as it ends, by its pidfd
//! (`waitid(P_PIDFD)`), so a recycled pid can never make it reap a
//! stranger.
//!
//! It does not depend on any event loop: a child handed over from a task is
//! reaped even if the loop ends first. At most one reaper thread runs: it
//! starts with the first child handed over and ends, closing its epoll set,
//! once every child it holds has been reaped, so a program with nothing to
//! reap holds no thread and no descriptor for it.
//!
//! ```text
//! // The owner of a running child lets go of it:
//! crate::reaper::reap(pidfd);
//! ```

use std::collections::BTreeMap;
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::sync::{Arc, Mutex, MutexGuard};

use crate::sys::epoll::{Epoll, Event};
use crate::sys::process as sys_process;

/// The children waiting to be reaped, and the thread that waits for them.
struct Reaper {
    /// The pidfds handed over, by their token in the epoll set.
    children: BTreeMap<u64, OwnedFd>,
    /// The running thread's epoll set; `None` while no thread runs.
    set: Option<Arc<Epoll>>,
    next_token: u64,
}

static REAPER: Mutex<Reaper> = Mutex::new(Reaper {
    children: BTreeMap::new(),
    set: None,
    next_token: 0,
});

fn lock() -> MutexGuard<'static, Reaper> {
    REAPER.lock().unwrap_or_else(|e| e.into_inner())
}

/// Reaps the child behind `pidfd` (a child of this process) when it ends,
/// whatever happens meanwhile to the code that started it. Reaps it at
/// once if it has already ended. If no reaper can be started (no thread or
/// descriptor left), the child is killed and reaped now rather than left
/// as a zombie.
pub(crate) fn reap(pidfd: OwnedFd) {
    if !matches!(sys_process::wait_pidfd(pidfd.as_fd(), false), Ok(None)) {
        // Ended and reaped now, or nothing left to reap.
        return;
    }
    let mut reaper = lock();
    let set = match &reaper.set {
        Some(set) => set.clone(),
        None => match start() {
            Ok(set) => {
                reaper.set = Some(set.clone());
                set
            }
            Err(_) => {
                drop(reaper);
                kill_now(&pidfd);
                return;
            }
        },
    };
    let token = reaper.next_token;
    reaper.next_token += 1;
    // Listed before it is watched: the thread finds every child it is told of.
    let raw = pidfd.as_raw_fd();
    reaper.children.insert(token, pidfd);
    if set.add_level_readable(raw, token).is_err() {
        let pidfd = reaper.children.remove(&token).expect("inserted above");
        drop(reaper);
        kill_now(&pidfd);
    }
}

/// Kills and reaps a child at once: the fallback when it cannot be watched.
fn kill_now(pidfd: &OwnedFd) {
    let _ = sys_process::pidfd_kill(pidfd.as_fd(), libc::SIGKILL);
    let _ = sys_process::wait_pidfd(pidfd.as_fd(), true);
}

/// Makes an epoll set and starts the thread that waits on it.
fn start() -> std::io::Result<Arc<Epoll>> {
    let set = Arc::new(Epoll::new()?);
    let for_thread = set.clone();
    std::thread::Builder::new()
        .name("brigade-reaper".into())
        .spawn(move || run(&for_thread))?;
    Ok(set)
}

/// The reaper thread: reaps children as they end, and ends when none is
/// left (under the lock, so a child handed over meanwhile either is seen
/// here or starts a new thread).
fn run(set: &Epoll) {
    let mut events: Vec<Event> = Vec::with_capacity(64);
    loop {
        if set.wait(&mut events, None).is_err() {
            // Not expected of a valid epoll set; do not spin on it.
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        let mut reaper = lock();
        for event in &events {
            let token = event.u64;
            let Some(pidfd) = reaper.children.get(&token) else {
                continue;
            };
            if matches!(sys_process::wait_pidfd(pidfd.as_fd(), false), Ok(None)) {
                // Readable but not yet reapable: look again next time.
                continue;
            }
            let _ = set.delete(pidfd.as_raw_fd());
            reaper.children.remove(&token);
        }
        if reaper.children.is_empty() {
            // Nothing left: the set closes when this thread's handle and
            // the one dropped here are gone.
            reaper.set = None;
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    // The reaper waits for it, which is what is tested.
    #[allow(clippy::zombie_processes)]
    fn a_child_handed_over_is_reaped() {
        let child = std::process::Command::new("true").spawn().unwrap();
        let pidfd = crate::sys::pidfd::pidfd_open(child.id()).unwrap();
        reap(pidfd);
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
        loop {
            let gone = !std::path::Path::new(&format!("/proc/{}", child.id())).exists();
            if gone {
                break;
            }
            assert!(std::time::Instant::now() < deadline, "not reaped");
            std::thread::sleep(std::time::Duration::from_millis(2));
        }
    }
}
