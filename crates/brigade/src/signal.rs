//! Unix signals as futures and streams (`loop.add_signal_handler`).
//!
//! [`ctrl_c`] waits for one `SIGINT`; [`signal`] returns a [`Signal`]
//! stream of deliveries of any catchable signal. Deliveries that arrive
//! while nobody awaits are counted and coalesced: `recv` returns once for
//! any number of them, so a burst is never a busy loop.
//!
//! Once a program listens for a signal, brigade's handler stays installed
//! for the life of the process: the signal's default action (for `SIGINT`,
//! ending the process) no longer happens, even after the stream is dropped,
//! as in tokio.
//!
//! ```
//! use brigade::signal::{SignalKind, signal};
//!
//! brigade::run(async {
//!     let mut usr2 = signal(SignalKind::user_defined2()).unwrap();
//!     // As `kill -USR2 <pid>` from a shell would:
//!     std::process::Command::new("kill")
//!         .args(["-USR2", &std::process::id().to_string()])
//!         .status()
//!         .unwrap();
//!     usr2.recv().await;
//! });
//! ```

use std::fmt;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use crate::io::registry::Direction;
use crate::io::source::Source;
use crate::sys::fd;
use crate::sys::signal::{Listener, is_forbidden};

/// A signal number, with names for the common ones.
///
/// # Examples
/// ```
/// use brigade::signal::SignalKind;
///
/// assert_eq!(SignalKind::terminate(), SignalKind::from_raw(libc::SIGTERM));
/// assert_eq!(SignalKind::hangup().to_string(), format!("signal {}", libc::SIGHUP));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SignalKind(i32);

impl SignalKind {
    /// `SIGINT`: Ctrl-C at a terminal.
    ///
    /// # Examples
    /// ```
    /// use brigade::signal::SignalKind;
    ///
    /// assert_eq!(SignalKind::interrupt().as_raw(), libc::SIGINT);
    /// ```
    pub const fn interrupt() -> SignalKind {
        SignalKind(libc::SIGINT)
    }
    /// `SIGTERM`: the polite request to stop.
    ///
    /// # Examples
    /// ```
    /// use brigade::signal::SignalKind;
    ///
    /// assert_eq!(SignalKind::terminate().as_raw(), libc::SIGTERM);
    /// ```
    pub const fn terminate() -> SignalKind {
        SignalKind(libc::SIGTERM)
    }
    /// `SIGHUP`: the terminal went away; daemons reload.
    ///
    /// # Examples
    /// ```
    /// use brigade::signal::SignalKind;
    ///
    /// assert_eq!(SignalKind::hangup().as_raw(), libc::SIGHUP);
    /// ```
    pub const fn hangup() -> SignalKind {
        SignalKind(libc::SIGHUP)
    }
    /// `SIGQUIT`.
    ///
    /// # Examples
    /// ```
    /// use brigade::signal::SignalKind;
    ///
    /// assert_eq!(SignalKind::quit().as_raw(), libc::SIGQUIT);
    /// ```
    pub const fn quit() -> SignalKind {
        SignalKind(libc::SIGQUIT)
    }
    /// `SIGUSR1`.
    ///
    /// # Examples
    /// ```
    /// use brigade::signal::SignalKind;
    ///
    /// assert_eq!(SignalKind::user_defined1().as_raw(), libc::SIGUSR1);
    /// ```
    pub const fn user_defined1() -> SignalKind {
        SignalKind(libc::SIGUSR1)
    }
    /// `SIGUSR2`.
    ///
    /// # Examples
    /// ```
    /// use brigade::signal::SignalKind;
    ///
    /// assert_eq!(SignalKind::user_defined2().as_raw(), libc::SIGUSR2);
    /// ```
    pub const fn user_defined2() -> SignalKind {
        SignalKind(libc::SIGUSR2)
    }
    /// `SIGCHLD`: a child process changed state.
    ///
    /// # Examples
    /// ```
    /// use brigade::signal::SignalKind;
    ///
    /// assert_eq!(SignalKind::child().as_raw(), libc::SIGCHLD);
    /// ```
    pub const fn child() -> SignalKind {
        SignalKind(libc::SIGCHLD)
    }
    /// `SIGWINCH`: the terminal was resized.
    ///
    /// # Examples
    /// ```
    /// use brigade::signal::SignalKind;
    ///
    /// assert_eq!(SignalKind::window_change().as_raw(), libc::SIGWINCH);
    /// ```
    pub const fn window_change() -> SignalKind {
        SignalKind(libc::SIGWINCH)
    }
    /// `SIGALRM`.
    ///
    /// # Examples
    /// ```
    /// use brigade::signal::SignalKind;
    ///
    /// assert_eq!(SignalKind::alarm().as_raw(), libc::SIGALRM);
    /// ```
    pub const fn alarm() -> SignalKind {
        SignalKind(libc::SIGALRM)
    }
    /// `SIGPIPE`.
    ///
    /// # Examples
    /// ```
    /// use brigade::signal::SignalKind;
    ///
    /// assert_eq!(SignalKind::pipe().as_raw(), libc::SIGPIPE);
    /// ```
    pub const fn pipe() -> SignalKind {
        SignalKind(libc::SIGPIPE)
    }
    /// Any signal by number; [`signal`] rejects the ones that cannot be
    /// caught.
    ///
    /// # Examples
    /// ```
    /// use brigade::signal::{SignalKind, signal};
    ///
    /// brigade::run(async {
    ///     let rt_min = SignalKind::from_raw(libc::SIGRTMIN());
    ///     assert!(signal(rt_min).is_ok()); // real-time signals can be listened for
    ///     let kill = SignalKind::from_raw(libc::SIGKILL);
    ///     assert_eq!(signal(kill).unwrap_err().kind(), std::io::ErrorKind::InvalidInput);
    /// });
    /// ```
    pub const fn from_raw(signum: i32) -> SignalKind {
        SignalKind(signum)
    }
    /// The signal's number.
    ///
    /// # Examples
    /// ```
    /// assert_eq!(brigade::signal::SignalKind::quit().as_raw(), 3);
    /// ```
    pub const fn as_raw(self) -> i32 {
        self.0
    }
}

impl fmt::Display for SignalKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "signal {}", self.0)
    }
}

/// A stream of deliveries of one signal; see [`signal`].
///
/// # Examples
/// A reload on `SIGHUP`, as a daemon does:
/// ```
/// use brigade::signal::{SignalKind, signal};
///
/// brigade::run(async {
///     let mut hup = signal(SignalKind::hangup()).unwrap();
///     // Two deliveries before anyone waits: one `recv` takes both.
///     std::process::Command::new("kill")
///         .args(["-HUP", &std::process::id().to_string()])
///         .status()
///         .unwrap();
///     hup.recv().await;
///     assert_eq!(hup.kind(), SignalKind::hangup());
/// });
/// ```
pub struct Signal {
    kind: SignalKind,
    source: Source<Listener>,
}

/// Listens for `kind` on the current loop.
///
/// # Errors
/// `InvalidInput` for signals that cannot be caught (`SIGKILL`, `SIGSTOP`)
/// or that mean the process is broken (`SIGSEGV`, `SIGBUS`, `SIGILL`,
/// `SIGFPE`) or are out of range; an error outside of a loop, or when 64
/// listeners already exist.
///
/// # Examples
/// ```
/// use brigade::signal::{SignalKind, signal};
///
/// brigade::run(async {
///     let mut usr1 = signal(SignalKind::user_defined1()).unwrap();
///     std::process::Command::new("kill")
///         .args(["-USR1", &std::process::id().to_string()])
///         .status()
///         .unwrap();
///     assert_eq!(usr1.recv().await, Some(()));
///
///     let e = signal(SignalKind::from_raw(libc::SIGSEGV)).unwrap_err();
///     assert_eq!(e.kind(), std::io::ErrorKind::InvalidInput);
/// });
/// ```
pub fn signal(kind: SignalKind) -> io::Result<Signal> {
    if is_forbidden(kind.0) {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("{kind} cannot be listened for"),
        ));
    }
    let listener = Listener::new(kind.0)?;
    Ok(Signal {
        kind,
        source: Source::new(listener, "brigade::signal::signal")?,
    })
}

impl Signal {
    /// Waits for the next delivery (or the next burst of them). Always
    /// returns `Some`; the `Option` matches the stream's item.
    ///
    /// # Examples
    /// ```
    /// use std::time::Duration;
    /// use brigade::signal::{SignalKind, signal};
    ///
    /// brigade::run(async {
    ///     let mut winch = signal(SignalKind::window_change()).unwrap();
    ///     // Nothing delivered: the wait times out, and consumes nothing.
    ///     let waited = brigade::timeout(Duration::from_millis(10), winch.recv()).await;
    ///     assert!(waited.is_err());
    /// });
    /// ```
    ///
    /// # Cancel safety
    /// Cancel-safe: deliveries are taken only in the poll that returns, so a
    /// dropped `recv` leaves them counted for the next one.
    pub async fn recv(&mut self) -> Option<()> {
        std::future::poll_fn(|cx| self.poll_recv(cx)).await
    }

    /// Polls for the next delivery.
    ///
    /// # Examples
    /// ```
    /// use std::task::Poll;
    /// use brigade::signal::{SignalKind, signal};
    ///
    /// brigade::run(async {
    ///     let mut alarm = signal(SignalKind::alarm()).unwrap();
    ///     std::future::poll_fn(|cx| {
    ///         assert!(alarm.poll_recv(cx).is_pending()); // no SIGALRM yet
    ///         Poll::Ready(())
    ///     })
    ///     .await;
    /// });
    /// ```
    pub fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<Option<()>> {
        let result = ready!(self.source.poll_io(cx, Direction::Read, |l| {
            let mut count = [0u8; 8];
            fd::read(l.raw_fd(), &mut count)
        }));
        // The eventfd never fails but with WouldBlock, handled above.
        let _ = result;
        Poll::Ready(Some(()))
    }

    /// The signal this stream receives.
    ///
    /// # Examples
    /// ```
    /// use brigade::signal::{SignalKind, signal};
    ///
    /// brigade::run(async {
    ///     let s = signal(SignalKind::child()).unwrap();
    ///     assert_eq!(s.kind(), SignalKind::child());
    /// });
    /// ```
    pub fn kind(&self) -> SignalKind {
        self.kind
    }
}

impl futures_core::Stream for Signal {
    type Item = ();

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<()>> {
        self.get_mut().poll_recv(cx)
    }
}

impl fmt::Debug for Signal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Signal").field("kind", &self.kind).finish()
    }
}

/// Waits for Ctrl-C (`SIGINT`).
///
/// ```no_run
/// #[brigade::main]
/// async fn main() {
///     brigade::signal::ctrl_c().await.unwrap();
///     println!("bye");
/// }
/// ```
///
/// # Errors
/// As [`signal`]: outside a brigade event loop, or when 64 listeners
/// already exist.
///
/// # Cancel safety
/// Cancel-safe, as [`Signal::recv`]; but once called, `SIGINT` no longer
/// ends the process (see the [module documentation](self)), dropped future
/// or not.
pub async fn ctrl_c() -> io::Result<()> {
    let mut s = signal(SignalKind::interrupt())?;
    s.recv().await;
    Ok(())
}
