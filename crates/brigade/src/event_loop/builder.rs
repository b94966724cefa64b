//! [`Builder`]: the options of a [`Runtime`], gathered before it is built.
//!
//! A runtime is configured once, when it is made: which clock it reads
//! (real or virtual), the seed that orders simultaneous timers, its I/O
//! driver, a trace to record into, and how it reports slow polls. The
//! builder collects those choices by value, in the style of tokio's
//! `runtime::Builder`, and [`Builder::build`] turns them into a loop on the
//! current thread.
//!
//! ```
//! use std::time::Duration;
//!
//! let rt = brigade::Runtime::builder().virtual_clock(true).seed(3).build().unwrap();
//! rt.block_on(async {
//!     let start = brigade::time::Instant::now();
//!     brigade::sleep(Duration::from_secs(60)).await; // virtual: no real wait
//!     assert_eq!(start.elapsed(), Duration::from_secs(60));
//! });
//! ```

use std::fmt;
use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;

use super::runtime::Runtime;
use super::scheduler::Core;
use super::slow::{SlowPollHook, SlowPolls};
use crate::io::DriverKind;
use crate::time::clock::Clock;
use crate::trace::Trace;

/// Configures a [`Runtime`].
///
/// # Examples
///
/// ```
/// let rt = brigade::Runtime::builder().virtual_clock(true).seed(7).build().unwrap();
/// assert!(rt.is_virtual());
/// ```
#[derive(Debug, Clone, Default)]
pub struct Builder {
    virtual_clock: bool,
    seed: Option<u64>,
    trace: Option<Arc<Trace>>,
    driver: Option<DriverKind>,
    orphaned_io_limit: Option<usize>,
    slow_callback_duration: Option<Option<Duration>>,
    on_slow_poll: Option<SlowPollSink>,
    timer_spin: Option<Duration>,
    read_files_in_place: Option<bool>,
}

/// A [`Builder::on_slow_poll`] hook, in a form the builder can derive
/// `Debug` and `Clone` through.
#[derive(Clone)]
struct SlowPollSink(SlowPollHook);

impl fmt::Debug for SlowPollSink {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SlowPollSink(..)")
    }
}

impl Builder {
    /// Runs on a virtual clock: whenever every task waits, time jumps to the
    /// next timer's deadline instead of passing for real. See [`crate::time`].
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let rt = brigade::Runtime::builder().virtual_clock(true).build().unwrap();
    /// rt.block_on(async {
    ///     let start = brigade::time::Instant::now();
    ///     brigade::sleep(Duration::from_secs(3600)).await; // returns at once
    ///     assert_eq!(start.elapsed(), Duration::from_secs(3600));
    /// });
    /// ```
    pub fn virtual_clock(mut self, on: bool) -> Builder {
        self.virtual_clock = on;
        self
    }

    /// Seeds the order of simultaneous events: timers that fire in the same
    /// tick are woken in an order shuffled by this seed. The same seed gives
    /// the same order on every run; without a seed the order is the order in
    /// which the timers were set.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// // Two timers due at the same tick: the seed fixes their order.
    /// let order = |seed| {
    ///     let rt = brigade::Runtime::builder().virtual_clock(true).seed(seed).build().unwrap();
    ///     rt.block_on(async {
    ///         let log = std::rc::Rc::new(std::cell::RefCell::new(Vec::new()));
    ///         let tasks: Vec<_> = (0..4)
    ///             .map(|i| {
    ///                 let log = log.clone();
    ///                 brigade::spawn(async move {
    ///                     brigade::sleep(Duration::from_millis(5)).await;
    ///                     log.borrow_mut().push(i);
    ///                 })
    ///             })
    ///             .collect();
    ///         for t in tasks {
    ///             t.await.unwrap();
    ///         }
    ///         log.take()
    ///     })
    /// };
    /// assert_eq!(order(1), order(1));
    /// ```
    pub fn seed(mut self, seed: u64) -> Builder {
        self.seed = Some(seed);
        self
    }

    /// Records the loop's events (spawns, polls, timer waits) into `trace`;
    /// see [`crate::trace`].
    ///
    /// # Examples
    ///
    /// ```
    /// let trace = brigade::trace::Trace::new();
    /// let rt = brigade::Runtime::builder().trace(&trace).build().unwrap();
    /// rt.block_on(async { brigade::spawn(async {}).await.unwrap() });
    /// assert!(!trace.events().is_empty());
    /// ```
    pub fn trace(mut self, trace: &Arc<Trace>) -> Builder {
        self.trace = Some(trace.clone());
        self
    }

    /// Chooses the I/O driver, overriding `BRIGADE_DRIVER` and the default
    /// (io_uring when the kernel allows it, epoll otherwise); see
    /// [`crate::io`].
    ///
    /// # Examples
    ///
    /// ```
    /// use brigade::io::DriverKind;
    ///
    /// let rt = brigade::Runtime::builder().io_driver(DriverKind::Epoll).build().unwrap();
    /// assert_eq!(rt.io_driver(), DriverKind::Epoll);
    /// ```
    pub fn io_driver(mut self, kind: DriverKind) -> Builder {
        self.driver = Some(kind);
        self
    }

    /// Bounds the memory the loop's io_uring driver holds for file
    /// operations whose futures were dropped before the kernel completed
    /// them (the default is 64 MiB). Such buffers cannot be freed until the
    /// kernel is done with them; while they hold `bytes`, a new file
    /// operation waits (its task suspended) until completions free some.
    /// They may then exceed `bytes` by at most what operations still owned
    /// by their futures held when the limit was reached. Each orphaned
    /// operation counts its buffers plus 256 bytes of bookkeeping.
    /// [`Runtime::io_stats`] shows the current amount. The epoll driver
    /// holds no such buffers (its file operations run on threads).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let rt = brigade::Runtime::builder().orphaned_io_limit(1 << 20).build().unwrap();
    /// rt.block_on(async {
    ///     for _ in 0..1000 {
    ///         // Started, then dropped at once while the kernel reads.
    ///         let _ = brigade::timeout(Duration::ZERO, brigade::fs::read("Cargo.toml")).await;
    ///     }
    /// });
    /// assert!(rt.io_stats().orphaned_bytes < 2 << 20);
    /// ```
    pub fn orphaned_io_limit(mut self, bytes: usize) -> Builder {
        self.orphaned_io_limit = Some(bytes);
        self
    }

    /// Reports a poll that keeps the loop busy longer than `threshold`
    /// (asyncio's `slow_callback_duration`): one warning naming the task
    /// (its [`spawn_named`](crate::spawn_named) name, else its id) and the
    /// time, to standard error or to [`on_slow_poll`](Self::on_slow_poll).
    /// `None` turns reports off. The default is 100 ms in debug builds and
    /// off in release builds, as asyncio reports slow callbacks only in
    /// debug mode. Polls are timed on the real clock, virtual clock or not.
    /// See [`SlowPoll`](crate::event_loop::SlowPoll).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let rt = brigade::Runtime::builder()
    ///     .slow_callback_duration(Some(Duration::from_millis(50)))
    ///     .build()
    ///     .unwrap();
    /// rt.block_on(async {
    ///     // Would print a warning naming the main future, after 60 ms.
    ///     // std::thread::sleep(Duration::from_millis(60));
    /// });
    /// ```
    pub fn slow_callback_duration(mut self, threshold: Option<Duration>) -> Builder {
        self.slow_callback_duration = Some(threshold);
        self
    }

    /// Sends reports of slow polls (see
    /// [`slow_callback_duration`](Self::slow_callback_duration)) to `hook`
    /// instead of standard error. It runs on the loop's thread, right after
    /// the slow poll; a panic in it is caught and ignored.
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = brigade::Runtime::builder()
    ///     .on_slow_poll(|slow| eprintln!("{} took {:?}", slow.task, slow.duration))
    ///     .build()
    ///     .unwrap();
    /// # drop(rt);
    /// ```
    pub fn on_slow_poll(
        mut self,
        hook: impl Fn(&crate::event_loop::SlowPoll) + Send + Sync + 'static,
    ) -> Builder {
        self.on_slow_poll = Some(SlowPollSink(Arc::new(hook)));
        self
    }

    /// How long before a timer's deadline the loop stops sleeping in the
    /// kernel and spins on the clock instead; 50 µs unless set here.
    ///
    /// The kernel runs a thread some tens of microseconds after its timer
    /// expires, so a loop that slept until the deadline would wake its
    /// timers that late. Spinning the last stretch puts them within a few
    /// microseconds, at the cost of up to `spin` of processor time per
    /// wake-up. `Duration::ZERO` turns the spin off: timers are then as late
    /// as the kernel makes them, and an idle loop uses no processor time
    /// at all. While it spins, the loop still notices work handed to it by
    /// other threads at once, and I/O that becomes ready within about
    /// 10 µs, and every 10 µs it offers the processor to any other thread
    /// that waits for it. The spin is taken as given, however long: one
    /// longer than the gaps between a program's timers keeps its loop busy
    /// all the time. The virtual clock never spins.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// // A loop on a battery-powered device: no spinning.
    /// let rt = brigade::Runtime::builder().timer_spin(Duration::ZERO).build().unwrap();
    /// rt.block_on(brigade::sleep(Duration::from_millis(1)));
    /// ```
    pub fn timer_spin(mut self, spin: Duration) -> Builder {
        self.timer_spin = Some(spin);
        self
    }

    /// Whether [`fs::read`](crate::fs::read) and
    /// [`fs::read_to_string`](crate::fs::read_to_string) read a small file
    /// that the kernel already holds in memory right away, on the loop's
    /// thread; on unless turned off here.
    ///
    /// Such a read never waits for a device: the open consults only the
    /// kernel's caches and the reads take only what its page cache holds
    /// (or come from a filesystem that keeps files in memory, such as
    /// tmpfs), and it stops at 1 MiB. It spares the queued operations and
    /// task wake-ups of the driver's path, which on tmpfs also hands every
    /// read to a kernel worker thread. Turned off, every read goes through
    /// the driver (the ring, or the blocking pool under epoll): the loop's
    /// thread then never copies a file's bytes itself.
    ///
    /// The open is attempted as io_uring attempts one on the loop's thread
    /// before handing it to a worker: path resolution from the kernel's
    /// caches only, non-blocking. A filesystem whose open itself talks to
    /// a server (NFS, FUSE) may still make that open wait; a program that
    /// reads from one on an epoll loop and must never wait can turn this
    /// off.
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = brigade::Runtime::builder().read_files_in_place(false).build().unwrap();
    /// let text = rt.block_on(brigade::fs::read_to_string("Cargo.toml")).unwrap();
    /// assert!(text.contains("[package]"));
    /// ```
    pub fn read_files_in_place(mut self, on: bool) -> Builder {
        self.read_files_in_place = Some(on);
        self
    }

    /// Builds the runtime on the current thread.
    ///
    /// # Errors
    /// When the I/O driver cannot be created: the forced driver is not
    /// available, `BRIGADE_DRIVER` holds an unknown name, or the process is
    /// out of file descriptors.
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = brigade::Runtime::builder().build().unwrap();
    /// assert_eq!(rt.block_on(async { 1 + 1 }), 2);
    /// ```
    pub fn build(self) -> std::io::Result<Runtime> {
        let core = Core::new(
            Clock::new(self.virtual_clock),
            self.seed,
            self.trace,
            self.driver,
            self.orphaned_io_limit
                .unwrap_or(crate::io::orphans::DEFAULT_LIMIT),
            SlowPolls::new(
                self.slow_callback_duration,
                self.on_slow_poll.map(|sink| sink.0),
            ),
        )?;
        if let Some(spin) = self.timer_spin {
            core.timer_spin.set(spin);
        }
        if let Some(on) = self.read_files_in_place {
            core.driver.read_in_place.set(on);
        }
        Ok(Runtime {
            core: Rc::new(core),
        })
    }
}
