//! Waiting for an [`RwLock`]: the [`Read`] and [`Write`] futures.
//!
//! Both try the lock's one-CAS fast path first. If that fails, they take
//! the waiter mutex, where either the lock is free after all or they set
//! the queue bit and park at the tail of the FIFO. A release hands the lock
//! over by marking the waiter's node granted before waking it; a future
//! dropped after that gives the grant back from its destructor, which then
//! hands the lock on. The destructor only touches the lock, never the
//! future's own memory.
//!
//! ```
//! use std::time::Duration;
//!
//! brigade::run(async {
//!     let lock = brigade::sync::RwLock::new(0);
//!     let held = lock.write().await;
//!     // A read that gives up leaves the queue: nothing is leaked.
//!     assert!(brigade::timeout(Duration::from_millis(1), lock.read()).await.is_err());
//!     drop(held);
//!     assert!(lock.try_write().is_ok());
//! });
//! ```

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use super::RwLock;
use super::rwlock::Waiter;
use super::rwlock::{READER, WRITER};
use super::rwlock_guard::{RwLockReadGuard, RwLockWriteGuard};
use super::waiters::WakeList;
use crate::loom::sync::atomic::Ordering;

/// The shared machinery of [`Read`] and [`Write`].
pub(super) struct Waiting<'a, T: ?Sized> {
    lock: &'a RwLock<T>,
    write: bool,
    key: Option<usize>,
}

impl<'a, T: ?Sized> Waiting<'a, T> {
    pub(super) fn new(lock: &'a RwLock<T>, write: bool) -> Waiting<'a, T> {
        Waiting {
            lock,
            write,
            key: None,
        }
    }

    fn poll(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        let lock = self.lock;
        if self.key.is_none() && lock.try_fast(self.write) {
            return Poll::Ready(());
        }
        let mut list = lock.waiters();
        match self.key {
            None => {
                if lock.acquire_or_queue(self.write) {
                    return Poll::Ready(());
                }
                let waiter = Waiter {
                    write: self.write,
                    granted: false,
                };
                self.key = Some(list.push_back(waiter, cx.waker()));
                Poll::Pending
            }
            Some(key) => {
                if list.value(key).granted {
                    list.remove(key);
                    self.key = None;
                    return Poll::Ready(());
                }
                list.register(key, cx.waker());
                Poll::Pending
            }
        }
    }
}

impl<T: ?Sized> Drop for Waiting<'_, T> {
    fn drop(&mut self) {
        let Some(key) = self.key.take() else { return };
        let lock = self.lock;
        let mut wake = WakeList::new();
        {
            let mut list = lock.waiters();
            let waiter = list.remove(key);
            if waiter.granted {
                // Handed to us, never to be used: release it again.
                let held = if waiter.write { WRITER } else { READER };
                lock.word.fetch_sub(held, Ordering::Release);
            }
            // Our leaving may let the next waiters in (or empty the queue).
            lock.hand_off(&mut list, &mut wake);
        }
        wake.wake_all();
    }
}

/// The future returned by [`RwLock::read`].
///
/// # Examples
///
/// ```
/// brigade::run(async {
///     let lock = brigade::sync::RwLock::new(1);
///     let read: brigade::sync::Read<'_, i32> = lock.read();
///     assert_eq!(*read.await, 1);
/// });
/// ```
#[must_use = "futures do nothing unless awaited"]
pub struct Read<'a, T: ?Sized> {
    pub(super) wait: Waiting<'a, T>,
}

impl<'a, T: ?Sized> Future for Read<'a, T> {
    type Output = RwLockReadGuard<'a, T>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<RwLockReadGuard<'a, T>> {
        let lock = self.wait.lock;
        self.wait.poll(cx).map(|()| RwLockReadGuard { lock })
    }
}

/// The future returned by [`RwLock::write`].
///
/// # Examples
///
/// ```
/// brigade::run(async {
///     let lock = brigade::sync::RwLock::new(1);
///     let write: brigade::sync::Write<'_, i32> = lock.write();
///     *write.await = 2;
///     assert_eq!(lock.into_inner(), 2);
/// });
/// ```
#[must_use = "futures do nothing unless awaited"]
pub struct Write<'a, T: ?Sized> {
    pub(super) wait: Waiting<'a, T>,
}

impl<'a, T: ?Sized> Future for Write<'a, T> {
    type Output = RwLockWriteGuard<'a, T>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<RwLockWriteGuard<'a, T>> {
        let lock = self.wait.lock;
        self.wait.poll(cx).map(|()| RwLockWriteGuard { lock })
    }
}

impl<T: ?Sized> fmt::Debug for Read<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Read")
            .field("waiting", &self.wait.key.is_some())
            .finish()
    }
}

impl<T: ?Sized> fmt::Debug for Write<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Write")
            .field("waiting", &self.wait.key.is_some())
            .finish()
    }
}
