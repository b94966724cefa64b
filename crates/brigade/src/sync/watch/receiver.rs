//! The receiving half of a [`watch`](super) channel: the version it has
//! seen, compared with the channel's to tell whether the value changed.
//!
//! ```
//! let (tx, mut rx) = brigade::sync::watch::channel(1);
//! tx.send(2).unwrap();
//! assert!(rx.has_changed().unwrap());
//! assert_eq!(*rx.borrow_and_update(), 2);
//! assert!(!rx.has_changed().unwrap());
//! ```

use std::sync::Arc;

use super::{CLOSED, RecvError, Ref, STEP, Shared, Wait, Which};
use crate::loom::sync::atomic::Ordering;

/// A receiving half: reads the latest value and waits for it to change.
/// Clones start out having seen what the original has seen.
///
/// # Examples
///
/// ```
/// brigade::run(async {
///     let (tx, mut rx) = brigade::sync::watch::channel(1);
///     tx.send(2).unwrap();
///     assert!(rx.has_changed().unwrap());
///     rx.changed().await.unwrap();
///     assert_eq!(*rx.borrow(), 2);
/// });
/// ```
pub struct Receiver<T> {
    pub(super) shared: Arc<Shared<T>>,
    /// The version this receiver has seen (`CLOSED` bit clear).
    pub(super) version: usize,
}

impl<T> Receiver<T> {
    /// Reads the current value without marking it seen; the guard's
    /// [`has_changed`](Ref::has_changed) says whether it is news.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, rx) = brigade::sync::watch::channel(1);
    /// tx.send(2).unwrap();
    /// assert_eq!(*rx.borrow(), 2);
    /// assert!(rx.has_changed().unwrap()); // still unseen
    /// ```
    pub fn borrow(&self) -> Ref<'_, T> {
        let guard = self.shared.read();
        let now = self.shared.version.load(Ordering::Acquire) & !CLOSED;
        Ref {
            guard,
            has_changed: now != self.version,
        }
    }

    /// Reads the current value and marks it seen.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, mut rx) = brigade::sync::watch::channel(1);
    /// tx.send(2).unwrap();
    /// assert_eq!(*rx.borrow_and_update(), 2);
    /// assert!(!rx.has_changed().unwrap());
    /// ```
    pub fn borrow_and_update(&mut self) -> Ref<'_, T> {
        let guard = self.shared.read();
        let now = self.shared.version.load(Ordering::Acquire) & !CLOSED;
        let has_changed = now != self.version;
        self.version = now;
        Ref { guard, has_changed }
    }

    /// Whether a value this receiver has not seen is there; an error once
    /// the sender is gone (even if the last value is unseen, as tokio).
    ///
    /// # Errors
    ///
    /// [`RecvError`] if the sender is gone (whether or not a value is unseen).
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, rx) = brigade::sync::watch::channel(1);
    /// assert_eq!(rx.has_changed(), Ok(false));
    /// tx.send(2).unwrap();
    /// assert_eq!(rx.has_changed(), Ok(true));
    /// drop(tx);
    /// assert!(rx.has_changed().is_err());
    /// ```
    pub fn has_changed(&self) -> Result<bool, RecvError> {
        let now = self.shared.version.load(Ordering::Acquire);
        if now & CLOSED != 0 {
            return Err(RecvError);
        }
        Ok(now != self.version)
    }

    /// Marks the current value unseen, so that [`changed`](Self::changed)
    /// returns at once.
    ///
    /// # Examples
    ///
    /// ```
    /// let (_tx, mut rx) = brigade::sync::watch::channel(1);
    /// rx.mark_changed();
    /// assert!(rx.has_changed().unwrap());
    /// ```
    pub fn mark_changed(&mut self) {
        self.version = self.version.wrapping_sub(STEP);
    }

    /// Marks the current value seen, without reading it.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, mut rx) = brigade::sync::watch::channel(1);
    /// tx.send(2).unwrap();
    /// rx.mark_unchanged();
    /// assert!(!rx.has_changed().unwrap());
    /// ```
    pub fn mark_unchanged(&mut self) {
        self.version = self.shared.version.load(Ordering::Acquire) & !CLOSED;
    }

    /// Waits for a value this receiver has not seen and marks it seen.
    /// Returns at once if there already is one; fails once the sender is
    /// gone and every value has been seen.
    ///
    /// # Cancel safety
    ///
    /// This method is cancel safe: nothing is consumed until it returns.
    ///
    /// # Errors
    ///
    /// [`RecvError`] if the sender is gone and no unseen value is left.
    ///
    /// # Examples
    ///
    /// ```
    /// brigade::run(async {
    ///     let (tx, mut rx) = brigade::sync::watch::channel(0);
    ///     brigade::spawn(async move { tx.send(1).unwrap() });
    ///     rx.changed().await.unwrap();
    ///     assert_eq!(*rx.borrow(), 1);
    ///     assert!(rx.changed().await.is_err()); // the sender is gone
    /// });
    /// ```
    pub async fn changed(&mut self) -> Result<(), RecvError> {
        let seen = &mut self.version;
        Wait {
            shared: &self.shared,
            key: None,
            which: Which::Changed,
            ready: |shared: &Shared<T>| {
                let now = shared.version.load(Ordering::Acquire);
                if now & !CLOSED != *seen {
                    *seen = now & !CLOSED;
                    Some(Ok(()))
                } else if now & CLOSED != 0 {
                    Some(Err(RecvError))
                } else {
                    None
                }
            },
        }
        .await
    }

    /// Waits until the value satisfies `condition` (checking the current
    /// value first) and returns it, marked seen; fails if the sender goes
    /// away first.
    ///
    /// # Errors
    ///
    /// [`RecvError`] if the sender goes away before a value satisfies
    /// `condition`.
    ///
    /// # Cancel safety
    ///
    /// This method is cancel safe: dropping the future consumes nothing, though
    /// values it looked at are marked seen.
    ///
    /// # Examples
    ///
    /// ```
    /// brigade::run(async {
    ///     let (tx, mut rx) = brigade::sync::watch::channel(0);
    ///     brigade::spawn(async move {
    ///         for n in 1..=5 {
    ///             tx.send(n).unwrap();
    ///             brigade::yield_now().await;
    ///         }
    ///     });
    ///     let value = rx.wait_for(|n| *n >= 3).await.unwrap();
    ///     assert!(*value >= 3);
    /// });
    /// ```
    pub async fn wait_for(
        &mut self,
        mut condition: impl FnMut(&T) -> bool,
    ) -> Result<Ref<'_, T>, RecvError> {
        let Receiver { shared, version } = self;
        let shared: &Shared<T> = shared;
        loop {
            let now = {
                let guard = shared.read();
                let now = shared.version.load(Ordering::Acquire);
                let has_changed = now & !CLOSED != *version;
                *version = now & !CLOSED;
                if condition(&guard) {
                    return Ok(Ref { guard, has_changed });
                }
                now
            };
            if now & CLOSED != 0 {
                return Err(RecvError);
            }
            let mut seen = *version;
            let changed = Wait {
                shared,
                key: None,
                which: Which::Changed,
                ready: |shared: &Shared<T>| {
                    let now = shared.version.load(Ordering::Acquire);
                    (now != seen).then(|| seen = now)
                },
            };
            changed.await;
        }
    }

    /// Whether both receivers belong to the same channel.
    ///
    /// # Examples
    ///
    /// ```
    /// let (_tx, rx) = brigade::sync::watch::channel(());
    /// assert!(rx.same_channel(&rx.clone()));
    /// ```
    pub fn same_channel(&self, other: &Receiver<T>) -> bool {
        Arc::ptr_eq(&self.shared, &other.shared)
    }
}

impl<T> Clone for Receiver<T> {
    fn clone(&self) -> Receiver<T> {
        let state = self.shared.state();
        self.shared.receivers.fetch_add(1, Ordering::Relaxed);
        drop(state);
        Receiver {
            shared: self.shared.clone(),
            version: self.version,
        }
    }
}

impl<T> Drop for Receiver<T> {
    fn drop(&mut self) {
        let state = self.shared.state();
        if self.shared.receivers.fetch_sub(1, Ordering::AcqRel) == 1 {
            Shared::<T>::wake(Which::Closed, state);
        }
    }
}
