//! [`Builder`]: the options of a [`Thread`], Python's
//! `Thread(name=.., daemon=..)` keywords plus the stack size, and
//! [`spawn`], which builds and starts a thread in one call.
//!
//! Options not given take Python's defaults: the name `Thread-N (target)`,
//! with N counting the threads named so and `target` the target's name,
//! and the daemon flag of the creating thread (a brigade daemon thread
//! makes daemon threads; the main thread and foreign threads do not).
//!
//! ```
//! use brigade::thread::Builder;
//!
//! let named = Builder::new().name("oven").build_fn(|| 180);
//! let counted = Builder::new().build_fn(|| ());
//! assert_eq!(named.name(), "oven");
//! assert!(counted.name().starts_with("Thread-"));
//! assert!(!named.is_daemon()); // made by a thread that is not a daemon
//! ```

use std::sync::atomic::{AtomicU64, Ordering};

use super::error::ThreadError;
use super::handle::{State, Thread};
use super::registry;
use super::target::{Target, target_name};
use super::thread_ref::{Kind, ThreadRef};

/// Options for a [`Thread`]: Python's `Thread(name=.., daemon=..)`, plus
/// the stack size.
///
/// ```
/// use brigade::thread::Builder;
///
/// let mut t = Builder::new()
///     .name("baker")
///     .daemon(true)
///     .stack_size(256 * 1024)
///     .build(|a: u32, b: u32| a * b, (6, 7));
/// assert_eq!((t.name(), t.is_daemon()), ("baker", true));
/// t.start().unwrap();
/// assert_eq!(t.join().unwrap(), 42);
/// ```
#[derive(Debug, Clone, Default)]
#[must_use = "a builder does nothing until build or spawn is called"]
pub struct Builder {
    name: Option<String>,
    daemon: Option<bool>,
    stack_size: Option<usize>,
}

impl Builder {
    /// Default options: the name `Thread-N (target)`, the daemon flag of
    /// the creating thread, the standard library's stack size.
    ///
    /// # Examples
    /// ```
    /// let t = brigade::thread::Builder::new().spawn(|| "default options").unwrap();
    /// assert!(t.name().starts_with("Thread-"));
    /// assert_eq!(t.into_result().unwrap(), "default options");
    /// ```
    pub fn new() -> Builder {
        Builder::default()
    }

    /// The thread's name.
    ///
    /// # Examples
    /// ```
    /// let t = brigade::thread::Builder::new()
    ///     .name("worker-7")
    ///     .spawn(|| brigade::thread::current_thread().name().to_string())
    ///     .unwrap();
    /// assert_eq!(t.into_result().unwrap(), "worker-7");
    /// ```
    pub fn name(mut self, name: impl Into<String>) -> Builder {
        self.name = Some(name.into());
        self
    }

    /// Whether the program's exit abandons the thread (`true`) or waits for
    /// it (`false`). By default a thread made by a brigade daemon thread is
    /// a daemon, and any other is not. (Python also makes the children of
    /// its dummy threads daemons; brigade does not, so that threads made
    /// from tests and from `std` threads behave like those made from main.)
    ///
    /// # Examples
    /// ```
    /// let t = brigade::thread::Builder::new().daemon(true).build_fn(|| ());
    /// assert!(t.is_daemon()); // the program's exit will not wait for it
    /// ```
    pub fn daemon(mut self, daemon: bool) -> Builder {
        self.daemon = Some(daemon);
        self
    }

    /// The new thread's stack size in bytes.
    ///
    /// # Examples
    /// ```
    /// let t = brigade::thread::Builder::new()
    ///     .stack_size(8 << 20)
    ///     .spawn(|| [0u8; 4 << 20].len()) // a large frame needs a large stack
    ///     .unwrap();
    /// assert_eq!(t.into_result().unwrap(), 4 << 20);
    /// ```
    pub fn stack_size(mut self, bytes: usize) -> Builder {
        self.stack_size = Some(bytes);
        self
    }

    /// Makes a thread that will run `target` with `args` (a tuple), without
    /// starting it.
    ///
    /// # Examples
    /// ```
    /// let mut t = brigade::thread::Builder::new().name("greeter").build(
    ///     |who: String, times: usize| format!("hi {who}").repeat(times),
    ///     ("ann".to_string(), 2),
    /// );
    /// t.start().unwrap();
    /// assert_eq!(t.join().unwrap(), "hi annhi ann");
    /// ```
    pub fn build<F, A>(self, target: F, args: A) -> Thread<F::Output>
    where
        F: Target<A>,
        A: Send + 'static,
        F::Output: Send + 'static,
    {
        let name = self.name_for(target_name::<F>);
        self.make(name, Box::new(move || target.call(args)))
    }

    /// Makes a thread that will run the closure `f`, without starting it.
    ///
    /// # Examples
    /// ```
    /// let data = vec![1, 2, 3];
    /// let mut t = brigade::thread::Builder::new().build_fn(move || data.iter().sum::<i32>());
    /// t.start().unwrap();
    /// assert_eq!(t.join().unwrap(), 6);
    /// ```
    pub fn build_fn<F, R>(self, f: F) -> Thread<R>
    where
        F: FnOnce() -> R + Send + 'static,
        R: Send + 'static,
    {
        let name = self.name_for(target_name::<F>);
        self.make(name, Box::new(f))
    }

    /// Makes the thread and starts it.
    ///
    /// # Examples
    /// ```
    /// let t = brigade::thread::Builder::new().name("quick").spawn(|| 1).unwrap();
    /// assert_eq!(t.name(), "quick");
    /// assert_eq!(t.into_result().unwrap(), 1);
    /// ```
    ///
    /// # Errors
    /// [`ThreadError::Spawn`] if the operating system refuses the thread.
    pub fn spawn<F, R>(self, f: F) -> Result<Thread<R>, ThreadError>
    where
        F: FnOnce() -> R + Send + 'static,
        R: Send + 'static,
    {
        let mut thread = self.build_fn(f);
        thread.start()?;
        Ok(thread)
    }

    pub(crate) fn has_name(&self) -> bool {
        self.name.is_some()
    }

    fn name_for(&self, target: impl FnOnce() -> String) -> String {
        match &self.name {
            Some(name) => name.clone(),
            None => default_name(&target()),
        }
    }

    fn make<R>(self, name: String, target: Box<dyn FnOnce() -> R + Send>) -> Thread<R> {
        let daemon = self.daemon.unwrap_or_else(inherited_daemon);
        Thread {
            me: ThreadRef::new(name, Kind::Brigade, daemon),
            stack_size: self.stack_size,
            state: State::New(target),
        }
    }
}

/// `Thread-N (target)`, N counting the threads given a default name, as
/// Python counts them.
pub(crate) fn default_name(target: &str) -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(1);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    format!("Thread-{n} ({target})")
}

/// A brigade daemon thread makes daemon threads; any other thread does not.
fn inherited_daemon() -> bool {
    let me = registry::current_thread();
    me.kind() == Kind::Brigade && me.is_daemon()
}

/// Makes a thread that runs `f` and starts it, like `std::thread::spawn`
/// but returning a [`Thread`].
///
/// ```
/// let t = brigade::thread::spawn(|| 6 * 7).unwrap();
/// assert_eq!(t.into_result().unwrap(), 42);
/// ```
///
/// # Errors
/// [`ThreadError::Spawn`] if the operating system refuses the thread (too
/// many threads, no memory for the stack).
pub fn spawn<F, R>(f: F) -> Result<Thread<R>, ThreadError>
where
    F: FnOnce() -> R + Send + 'static,
    R: Send + 'static,
{
    Builder::new().spawn(f)
}
