//! [`Event`]: a flag that processes wait for, as Python's
//! `multiprocessing.Event`.
//!
//! The flag is a 32-bit futex word in an anonymous memory file, next to a
//! count of sleepers: [`set`](Event::set) stores 1 and wakes every sleeper
//! (a `FUTEX_WAKE` only if there is one), [`wait`](Event::wait) sleeps while
//! the word is 0. There is no lock inside, so a process that dies in the
//! middle of any call leaves nothing held (Python's `Event` is built on a
//! `Condition`, whose lock a killed process can leave held).
//!
//! ```
//! let e = brigade::process::Event::new().unwrap();
//! e.set();
//! e.wait();
//! ```

use std::io;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use super::region::{Region, SharedState};
use crate::sys::futex;

#[repr(C)]
pub(crate) struct EventState {
    /// 1 when set: the futex word.
    flag: AtomicU32,
    /// Waiters asleep (or about to sleep) on `flag`.
    sleepers: AtomicU32,
}

// SAFETY: two atomics: any bit pattern is a state, nothing points anywhere.
unsafe impl SharedState for EventState {}

/// A flag shared between processes (Python's `multiprocessing.Event`).
/// Lock-free: a process that dies in any call leaves nothing held.
///
/// ```
/// use brigade::process::{Event, Process};
///
/// fn announce(ready: Event) {
///     ready.set();
/// }
///
/// let ready = Event::new().unwrap();
/// let mut p = Process::new(announce, (ready.clone(),));
/// p.start().unwrap();
/// ready.wait();
/// assert!(ready.is_set());
/// p.join().unwrap();
/// ```
pub struct Event {
    region: Region<EventState>,
}

impl Event {
    /// A new event, not set.
    ///
    /// ```
    /// let e = brigade::process::Event::new().unwrap();
    /// assert!(!e.is_set());
    /// ```
    ///
    /// # Errors
    /// The error of creating the shared memory it lives in (`ENOMEM`,
    /// `EMFILE`).
    pub fn new() -> io::Result<Event> {
        Ok(Event {
            region: Region::new(c"brigade-event", |_: &EventState| Ok(()))?,
        })
    }

    /// Sets the flag and wakes every waiter, in every process.
    ///
    /// ```
    /// let e = brigade::process::Event::new().unwrap();
    /// e.set();
    /// assert!(e.is_set());
    /// ```
    pub fn set(&self) {
        let s = self.region.state();
        s.flag.store(1, Ordering::SeqCst);
        if s.sleepers.load(Ordering::SeqCst) > 0 {
            futex::wake(&s.flag, u32::MAX);
        }
    }

    /// Clears the flag: later waiters wait again.
    ///
    /// ```
    /// let e = brigade::process::Event::new().unwrap();
    /// e.set();
    /// e.clear();
    /// assert!(!e.is_set());
    /// ```
    pub fn clear(&self) {
        self.region.state().flag.store(0, Ordering::SeqCst);
    }

    /// Whether the flag is set.
    ///
    /// ```
    /// let e = brigade::process::Event::new().unwrap();
    /// assert!(!e.is_set());
    /// ```
    pub fn is_set(&self) -> bool {
        self.region.state().flag.load(Ordering::Acquire) != 0
    }

    /// Waits until the flag is set.
    ///
    /// ```
    /// let e = brigade::process::Event::new().unwrap();
    /// e.set();
    /// e.wait(); // returns at once
    /// ```
    pub fn wait(&self) {
        self.wait_until(None);
    }

    /// Waits at most `timeout` for the flag; returns whether it is set
    /// (Python's `wait(timeout)`).
    ///
    /// ```
    /// use std::time::Duration;
    /// let e = brigade::process::Event::new().unwrap();
    /// assert!(!e.wait_timeout(Duration::from_millis(5)));
    /// ```
    pub fn wait_timeout(&self, timeout: Duration) -> bool {
        self.wait_until(Instant::now().checked_add(timeout))
    }

    fn wait_until(&self, deadline: Option<Instant>) -> bool {
        let s = self.region.state();
        loop {
            if s.flag.load(Ordering::Acquire) != 0 {
                return true;
            }
            let left = deadline.map(|d| d.saturating_duration_since(Instant::now()));
            if left == Some(Duration::ZERO) {
                return false;
            }
            s.sleepers.fetch_add(1, Ordering::SeqCst);
            // The kernel sleeps only while the word is still 0: a `set`
            // after our check makes this return at once.
            if s.flag.load(Ordering::SeqCst) == 0 {
                futex::wait(&s.flag, 0, left);
            }
            s.sleepers.fetch_sub(1, Ordering::SeqCst);
        }
    }
}

super::lock::shared_handle!(Event);
