//! What a pool hands back: a [`PoolTask`] for one submitted call, and an
//! [`Imap`] iterator for many.
//!
//! A `PoolTask` wraps a [`oneshot`] receiver, so it is awaited on any event
//! loop or waited for from plain code; the driver thread that runs the
//! task sends the result.
//!
//! ```
//! use brigade::process::ProcessPool;
//!
//! fn id(n: u8) -> u8 { n }
//!
//! let pool = ProcessPool::new(1).unwrap();
//! let task = pool.submit(id, (4,));
//! assert_eq!(brigade::run(task).unwrap(), 4);
//! ```

use std::collections::{BTreeMap, VecDeque};
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::mpsc;
use std::task::{Context, Poll};
use std::time::Duration;

use super::error::ProcessError;
use crate::sync::oneshot;

/// A task submitted to a [`ProcessPool`](super::ProcessPool): `.await` it on an event loop,
/// or [`wait`](Self::wait) for it from plain code.
pub struct PoolTask<R> {
    rx: oneshot::Receiver<Result<R, ProcessError>>,
}

impl<R> PoolTask<R> {
    pub(crate) fn new(rx: oneshot::Receiver<Result<R, ProcessError>>) -> PoolTask<R> {
        PoolTask { rx }
    }

    /// Blocks until the task finishes. Do not call it from a task on an
    /// event loop: await the `PoolTask` instead.
    ///
    /// # Panics
    /// On an event loop's thread, where it would block every task of the
    /// loop: await the `PoolTask` there.
    #[track_caller]
    pub fn wait(self) -> Result<R, ProcessError> {
        crate::event_loop::context::assert_not_on_loop("PoolTask::wait", "task.await");
        self.rx
            .recv_blocking()
            .unwrap_or(Err(ProcessError::PoolClosed))
    }

    /// Waits at most `timeout`; on time-out the task is handed back.
    pub fn wait_timeout(self, timeout: Duration) -> Result<Result<R, ProcessError>, PoolTask<R>> {
        match self.rx.recv_timeout(timeout) {
            Ok(r) => Ok(r),
            Err(oneshot::RecvTimeoutError::Closed) => Ok(Err(ProcessError::PoolClosed)),
            Err(oneshot::RecvTimeoutError::Timeout(rx)) => Err(PoolTask { rx }),
        }
    }

    /// Whether the result is in.
    pub fn is_done(&self) -> bool {
        self.rx.is_ready()
    }
}

impl<R> Future for PoolTask<R> {
    type Output = Result<R, ProcessError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        Pin::new(&mut self.rx)
            .poll(cx)
            .map(|r| r.unwrap_or(Err(ProcessError::PoolClosed)))
    }
}

impl<R> fmt::Debug for PoolTask<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PoolTask").finish_non_exhaustive()
    }
}

/// Results of [`ProcessPool::imap`](super::ProcessPool::imap) and [`ProcessPool::imap_unordered`](super::ProcessPool::imap_unordered).
pub struct Imap<R> {
    rx: mpsc::Receiver<(usize, Result<Vec<R>, ProcessError>)>,
    ordered: bool,
    next_chunk: usize,
    chunks: usize,
    parked: BTreeMap<usize, Result<Vec<R>, ProcessError>>,
    ready: VecDeque<Result<R, ProcessError>>,
}

impl<R> Imap<R> {
    /// Results of `chunks` chunks (`items` items in all), arriving on `rx`
    /// tagged with their chunk's index.
    pub(crate) fn new(
        rx: mpsc::Receiver<(usize, Result<Vec<R>, ProcessError>)>,
        ordered: bool,
        chunks: usize,
        items: usize,
    ) -> Imap<R> {
        Imap {
            rx,
            ordered,
            next_chunk: 0,
            chunks,
            parked: BTreeMap::new(),
            ready: VecDeque::with_capacity(items.min(1024)),
        }
    }
}

impl<R> Iterator for Imap<R> {
    type Item = Result<R, ProcessError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if let Some(r) = self.ready.pop_front() {
                return Some(r);
            }
            if self.next_chunk >= self.chunks {
                return None;
            }
            let chunk = if self.ordered {
                match self.parked.remove(&self.next_chunk) {
                    Some(c) => c,
                    None => {
                        let (index, c) = self.rx.recv().ok()?;
                        self.parked.insert(index, c);
                        continue;
                    }
                }
            } else {
                self.rx.recv().ok()?.1
            };
            self.next_chunk += 1;
            match chunk {
                Ok(values) => self.ready.extend(values.into_iter().map(Ok)),
                Err(e) => self.ready.push_back(Err(e)),
            }
        }
    }
}

impl<R> fmt::Debug for Imap<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Imap").finish_non_exhaustive()
    }
}
