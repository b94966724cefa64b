//! [`watch`](self): one value that a sender keeps replacing and many
//! receivers observe (tokio's `sync::watch`; in asyncio, a shared variable
//! plus an `Event` reset by hand).
//!
//! # The idea
//! The channel stores only the latest value, behind a reader-writer lock,
//! and a version counter. Every send bumps the counter; every receiver
//! remembers the version it last saw. "Has it changed?" is then one
//! comparison, and a receiver that was busy while ten values went by sees
//! one change and the newest value, never a backlog: the channel holds
//! state, not a stream of messages.
//!
//! The counter word is tokio's layout: the version counts in steps of two,
//! and its low bit records that the sender is gone, so a waiting receiver
//! learns of a change and of the close from one atomic load. Waiting
//! receivers park on a waiter list (`waiters.rs`); a send wakes them all,
//! outside the lock.
//!
//! ```
//! use brigade::sync::watch;
//!
//! brigade::run(async {
//!     let (tx, mut rx) = watch::channel("starting");
//!     let observer = brigade::spawn(async move {
//!         let mut seen = vec![*rx.borrow_and_update()];
//!         while rx.changed().await.is_ok() {
//!             seen.push(*rx.borrow_and_update());
//!         }
//!         seen
//!     });
//!     brigade::yield_now().await;
//!     tx.send("ready").unwrap();
//!     brigade::yield_now().await;
//!     drop(tx); // closes the channel: `changed` fails once all is seen
//!     assert_eq!(observer.await.unwrap(), ["starting", "ready"]);
//! });
//! ```

mod error;
mod receiver;

use std::fmt;
use std::future::Future;
use std::ops::Deref;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

pub use self::error::{RecvError, SendError};
pub use self::receiver::Receiver;
use super::waiters::{WaitList, WakeList};
use crate::loom::sync::atomic::{AtomicUsize, Ordering};
use crate::loom::sync::{Mutex, MutexGuard, RwLock, RwLockReadGuard};

/// The low bit of the version word: the sender was dropped.
const CLOSED: usize = 1;
/// One send, in the version word.
const STEP: usize = 2;

/// Creates a watch channel holding `init`; receivers start out having
/// seen it.
///
/// # Examples
///
/// ```
/// let (tx, rx) = brigade::sync::watch::channel(0);
/// assert_eq!(*rx.borrow(), 0);
/// tx.send(1).unwrap();
/// assert_eq!(*rx.borrow(), 1);
/// ```
pub fn channel<T>(init: T) -> (Sender<T>, Receiver<T>) {
    let shared = Arc::new(Shared {
        value: RwLock::new(init),
        version: AtomicUsize::new(0),
        receivers: AtomicUsize::new(1),
        state: Mutex::new(State {
            changed: WaitList::new(),
            closed: WaitList::new(),
        }),
    });
    let rx = Receiver {
        shared: shared.clone(),
        version: 0,
    };
    (Sender { shared }, rx)
}

struct Shared<T> {
    value: RwLock<T>,
    /// `sends * STEP | CLOSED`; changed only while `value` is write-locked
    /// (except for the close bit), so a reader sees a version and the value
    /// that goes with it.
    version: AtomicUsize,
    /// Live receivers; changed only under `state`, so that a sender in
    /// `closed` cannot miss the last one leaving.
    receivers: AtomicUsize,
    state: Mutex<State>,
}

struct State {
    /// Receivers waiting in `changed`.
    changed: WaitList<()>,
    /// Senders waiting in `closed`.
    closed: WaitList<()>,
}

impl<T> Shared<T> {
    fn state(&self) -> MutexGuard<'_, State> {
        // Critical sections cannot panic halfway: a poisoned lock is fine.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn read(&self) -> RwLockReadGuard<'_, T> {
        // A `send_modify` closure that panicked leaves its partial change,
        // as tokio does; the lock itself stays usable.
        self.value.read().unwrap_or_else(|e| e.into_inner())
    }

    /// Wakes every waiter of `list` (outside the lock).
    fn wake(which: Which, state: MutexGuard<'_, State>) {
        let mut state = state;
        let list = state.list(which);
        let mut wake = WakeList::new();
        while let Some(key) = list.pop_front() {
            wake.push(list.take_waker(key));
        }
        drop(state);
        wake.wake_all();
    }
}

/// The sending half: replaces the value and tells the receivers.
///
/// Differences from tokio: there is one sender (tokio's is `Clone` since
/// 1.37); [`send`](Self::send) fails only when no receiver is left, as in
/// tokio.
///
/// # Examples
///
/// ```
/// let (tx, rx) = brigade::sync::watch::channel(vec![1]);
/// tx.send_modify(|v| v.push(2));
/// assert_eq!(*rx.borrow(), [1, 2]);
/// ```
pub struct Sender<T> {
    shared: Arc<Shared<T>>,
}

/// A read lock on the value, from [`Sender::borrow`] or
/// [`Receiver::borrow`]. Holding it keeps the sender from sending, so keep
/// it short (and never hold it across an `.await`).
///
/// # Examples
///
/// ```
/// let (_tx, rx) = brigade::sync::watch::channel(String::from("hi"));
/// let value = rx.borrow();
/// assert_eq!(value.len(), 2);
/// assert!(!value.has_changed());
/// ```
pub struct Ref<'a, T> {
    guard: RwLockReadGuard<'a, T>,
    has_changed: bool,
}

impl<T> Ref<'_, T> {
    /// Whether this value had not been seen by the receiver that borrowed
    /// it (always `false` from [`Sender::borrow`]).
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, mut rx) = brigade::sync::watch::channel(1);
    /// tx.send(2).unwrap();
    /// assert!(rx.borrow().has_changed());
    /// assert!(rx.borrow_and_update().has_changed());
    /// assert!(!rx.borrow().has_changed());
    /// ```
    pub fn has_changed(&self) -> bool {
        self.has_changed
    }
}

impl<T> Deref for Ref<'_, T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.guard
    }
}

impl<T> Sender<T> {
    /// Replaces the value and notifies the receivers; fails, handing the
    /// value back, when every receiver is gone (the value is not stored).
    ///
    /// # Errors
    ///
    /// [`SendError`], holding `value`, if every receiver is gone; the stored
    /// value is then left as it was.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, rx) = brigade::sync::watch::channel(0);
    /// assert!(tx.send(1).is_ok());
    /// drop(rx);
    /// assert_eq!(tx.send(2).unwrap_err().0, 2);
    /// ```
    pub fn send(&self, value: T) -> Result<(), SendError<T>> {
        if self.receiver_count() == 0 {
            return Err(SendError(value));
        }
        self.send_replace(value);
        Ok(())
    }

    /// Replaces the value even if no receiver is left (a later
    /// [`subscribe`](Self::subscribe) will see it) and returns the old one.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, rx) = brigade::sync::watch::channel(1);
    /// drop(rx);
    /// assert_eq!(tx.send_replace(2), 1);
    /// assert_eq!(*tx.subscribe().borrow(), 2);
    /// ```
    pub fn send_replace(&self, value: T) -> T {
        let mut value = Some(value);
        self.send_if_modified(|v| {
            if let Some(new) = value.take() {
                value = Some(std::mem::replace(v, new));
            }
            true
        });
        match value {
            Some(old) => old,
            None => unreachable!("the closure always runs once"),
        }
    }

    /// Changes the value in place and notifies the receivers, whether or
    /// not anybody is left to see it.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, rx) = brigade::sync::watch::channel(1);
    /// tx.send_modify(|n| *n += 1);
    /// assert_eq!(*rx.borrow(), 2);
    /// ```
    pub fn send_modify(&self, modify: impl FnOnce(&mut T)) {
        self.send_if_modified(|v| {
            modify(v);
            true
        });
    }

    /// Changes the value in place, and notifies the receivers only if
    /// `modify` returns `true` (it says whether it changed anything).
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, rx) = brigade::sync::watch::channel(1);
    /// assert!(!tx.send_if_modified(|_| false));
    /// assert!(!rx.has_changed().unwrap());
    /// assert!(tx.send_if_modified(|n| { *n = 5; true }));
    /// assert!(rx.has_changed().unwrap());
    /// ```
    pub fn send_if_modified(&self, modify: impl FnOnce(&mut T) -> bool) -> bool {
        {
            let mut value = self.shared.value.write().unwrap_or_else(|e| e.into_inner());
            if !modify(&mut value) {
                return false;
            }
            // Under the write lock: readers see the new value and version
            // together.
            self.shared.version.fetch_add(STEP, Ordering::Release);
        }
        let state = self.shared.state();
        Shared::<T>::wake(Which::Changed, state);
        true
    }

    /// Reads the current value (without marking anything seen).
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, _rx) = brigade::sync::watch::channel('a');
    /// assert_eq!(*tx.borrow(), 'a');
    /// ```
    pub fn borrow(&self) -> Ref<'_, T> {
        Ref {
            guard: self.shared.read(),
            has_changed: false,
        }
    }

    /// A new receiver that has seen the current value.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, rx) = brigade::sync::watch::channel(1);
    /// drop(rx);
    /// let rx = tx.subscribe();
    /// assert!(!rx.has_changed().unwrap());
    /// assert_eq!(tx.receiver_count(), 1);
    /// ```
    pub fn subscribe(&self) -> Receiver<T> {
        let state = self.shared.state();
        self.shared.receivers.fetch_add(1, Ordering::Relaxed);
        let version = self.shared.version.load(Ordering::Acquire) & !CLOSED;
        drop(state);
        Receiver {
            shared: self.shared.clone(),
            version,
        }
    }

    /// How many receivers are alive.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, rx) = brigade::sync::watch::channel(());
    /// let rx2 = rx.clone();
    /// assert_eq!(tx.receiver_count(), 2);
    /// ```
    pub fn receiver_count(&self) -> usize {
        self.shared.receivers.load(Ordering::Acquire)
    }

    /// Whether every receiver is gone.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, rx) = brigade::sync::watch::channel(());
    /// assert!(!tx.is_closed());
    /// drop(rx);
    /// assert!(tx.is_closed());
    /// ```
    pub fn is_closed(&self) -> bool {
        self.receiver_count() == 0
    }

    /// Waits until every receiver is gone.
    ///
    /// # Cancel safety
    ///
    /// This method is cancel safe: waiting consumes nothing.
    ///
    /// # Examples
    ///
    /// ```
    /// brigade::run(async {
    ///     let (tx, rx) = brigade::sync::watch::channel(());
    ///     brigade::spawn(async move { drop(rx) });
    ///     tx.closed().await;
    ///     assert!(tx.is_closed());
    /// });
    /// ```
    pub async fn closed(&self) {
        Wait {
            shared: &self.shared,
            key: None,
            which: Which::Closed,
            ready: |shared: &Shared<T>| {
                (shared.receivers.load(Ordering::Acquire) == 0).then_some(())
            },
        }
        .await
    }
}

impl<T> Drop for Sender<T> {
    fn drop(&mut self) {
        self.shared.version.fetch_or(CLOSED, Ordering::Release);
        let state = self.shared.state();
        Shared::<T>::wake(Which::Changed, state);
    }
}

/// Which waiter list a [`Wait`] parks on.
#[derive(Clone, Copy)]
enum Which {
    Changed,
    Closed,
}

impl State {
    fn list(&mut self, which: Which) -> &mut WaitList<()> {
        match which {
            Which::Changed => &mut self.changed,
            Which::Closed => &mut self.closed,
        }
    }
}

/// Parks on one of the channel's waiter lists until `ready` says so; the
/// node leaves the list when the future ends or is dropped.
struct Wait<'a, T, R> {
    shared: &'a Shared<T>,
    which: Which,
    key: Option<usize>,
    ready: R,
}

impl<T, R, O> Future for Wait<'_, T, R>
where
    R: FnMut(&Shared<T>) -> Option<O> + Unpin,
{
    type Output = O;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<O> {
        let this = &mut *self;
        if let Some(out) = (this.ready)(this.shared) {
            this.leave();
            return Poll::Ready(out);
        }
        let mut state = this.shared.state();
        // Checked again under the lock: a sender changes what `ready`
        // reads before it takes the lock to wake the list, so no wake-up
        // slips by.
        if let Some(out) = (this.ready)(this.shared) {
            drop(state);
            this.leave();
            return Poll::Ready(out);
        }
        let list = state.list(this.which);
        match this.key {
            Some(key) if list.is_linked(key) => list.register(key, cx.waker()),
            Some(key) => {
                // Woken for something that did not satisfy us: wait again.
                list.remove(key);
                this.key = Some(list.push_back((), cx.waker()));
            }
            None => this.key = Some(list.push_back((), cx.waker())),
        }
        Poll::Pending
    }
}

impl<T, R> Wait<'_, T, R> {
    fn leave(&mut self) {
        if let Some(key) = self.key.take() {
            self.shared.state().list(self.which).remove(key);
        }
    }
}

impl<T, R> Drop for Wait<'_, T, R> {
    fn drop(&mut self) {
        // Nothing is handed to a waiter (a send wakes them all), so a
        // cancelled wait just leaves.
        self.leave();
    }
}

impl<T: fmt::Debug> fmt::Debug for Sender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("watch::Sender")
            .field("value", &*self.borrow())
            .finish()
    }
}

impl<T: fmt::Debug> fmt::Debug for Receiver<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("watch::Receiver")
            .field("value", &*self.borrow())
            .finish()
    }
}

impl<T: fmt::Debug> fmt::Debug for Ref<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

#[cfg(all(test, loom))]
mod loom_tests {
    use super::*;
    use crate::sync::park::block_on;

    #[test]
    fn a_change_on_one_thread_wakes_a_receiver_on_another() {
        loom::model(|| {
            let (tx, mut rx) = channel(0);
            let t = loom::thread::spawn(move || tx.send(1).unwrap());
            // Either the change or the close comes first; the value is
            // seen either way.
            assert_eq!(block_on(rx.changed()), Ok(()));
            assert_eq!(*rx.borrow_and_update(), 1);
            t.join().unwrap();
        });
    }

    #[test]
    fn the_sender_sees_the_last_receiver_leave() {
        loom::model(|| {
            let (tx, rx) = channel(());
            let t = loom::thread::spawn(move || drop(rx));
            block_on(tx.closed());
            assert!(tx.is_closed());
            t.join().unwrap();
        });
    }

    #[test]
    fn a_close_racing_a_wait_is_never_missed() {
        loom::model(|| {
            let (tx, mut rx) = channel(0);
            let t = loom::thread::spawn(move || drop(tx));
            assert_eq!(block_on(rx.changed()), Err(RecvError));
            t.join().unwrap();
        });
    }
}
