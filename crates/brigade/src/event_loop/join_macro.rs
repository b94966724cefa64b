//! [`join!`](crate::join) and [`try_join!`](crate::try_join): await a fixed
//! number of futures of *different* types concurrently inside the current
//! task, and get their outputs as a tuple (tokio's `join!`/`try_join!`;
//! asyncio's `gather(a, b, c)` with `a, b, c = await ...`).
//!
//! The futures are pinned on the awaiting task's stack, each in a
//! [`MaybeDone`] slot that keeps its output once it finishes, so nothing is
//! boxed. Each poll of the combined future polls every member that has not
//! finished yet: with the handful of futures a macro call names, that costs
//! less than giving each member a waker of its own to poll only the woken
//! ones (which [`gather`](super::gather) does for its unbounded lists). The
//! macros accept any number of futures (the recursion limit, 128 by default,
//! bounds it).
//!
//! ```
//! use std::time::Duration;
//! use brigade::time::{Instant, sleep};
//!
//! let rt = brigade::Runtime::builder().virtual_clock(true).build().unwrap();
//! rt.block_on(async {
//!     let start = Instant::now();
//!     let (n, s) = brigade::join!(
//!         async { sleep(Duration::from_secs(2)).await; 7 },
//!         async { sleep(Duration::from_secs(1)).await; "seven" },
//!     );
//!     assert_eq!((n, s), (7, "seven"));
//!     assert_eq!(start.elapsed(), Duration::from_secs(2));
//! });
//! ```

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

pin_project_lite::pin_project! {
    /// One member of a [`join!`](crate::join): the future, then its output.
    /// Support for the macros, not part of the public API.
    #[doc(hidden)]
    #[project = MaybeDoneProj]
    #[project_replace = MaybeDoneTaken]
    pub enum MaybeDone<F: Future> {
        /// Still running.
        Running { #[pin] future: F },
        /// Finished; the output waits here.
        Done { output: F::Output },
        /// The output was taken.
        Taken,
    }
}

impl<F: Future> MaybeDone<F> {
    /// Wraps a future that has not run yet.
    pub fn new(future: F) -> MaybeDone<F> {
        MaybeDone::Running { future }
    }

    /// Polls the future unless it finished; returns whether it has.
    pub fn poll_done(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> bool {
        let output = match self.as_mut().project() {
            MaybeDoneProj::Running { future } => match future.poll(cx) {
                Poll::Ready(output) => output,
                Poll::Pending => return false,
            },
            MaybeDoneProj::Done { .. } | MaybeDoneProj::Taken => return true,
        };
        self.set(MaybeDone::Done { output });
        true
    }

    /// Takes the output, once it is there.
    pub fn take(self: Pin<&mut Self>) -> Option<F::Output> {
        match self.as_ref().get_ref() {
            MaybeDone::Done { .. } => {}
            _ => return None,
        }
        match self.project_replace(MaybeDone::Taken) {
            MaybeDoneTaken::Done { output } => Some(output),
            _ => None,
        }
    }
}

impl<T, E, F: Future<Output = Result<T, E>>> MaybeDone<F> {
    /// Polls like [`poll_done`](Self::poll_done), but hands out an error at
    /// once: `Ready(Ok(()))` once the member holds a value, `Ready(Err(e))`
    /// if it failed (its slot is then empty).
    pub fn poll_try(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), E>> {
        if !self.as_mut().poll_done(cx) {
            return Poll::Pending;
        }
        if let MaybeDone::Done { output: Err(_) } = self.as_ref().get_ref() {
            if let MaybeDoneTaken::Done { output: Err(e) } =
                self.as_mut().project_replace(MaybeDone::Taken)
            {
                return Poll::Ready(Err(e));
            }
        }
        Poll::Ready(Ok(()))
    }

    /// Takes the value of a member that succeeded.
    pub fn take_ok(self: Pin<&mut Self>) -> Option<T> {
        self.take().and_then(Result::ok)
    }
}

/// Awaits every future concurrently and returns their outputs as a tuple,
/// in the order given (tokio's `join!`; asyncio's
/// `a, b = await asyncio.gather(fa, fb)`). The futures may have different
/// types; none is boxed or spawned: they run inside the current task, so
/// they need not be `'static`, and dropping the awaiting future (or
/// aborting its task) drops every member that has not finished.
///
/// Use it inside an `async` block or function: it expands to an `.await`.
/// The members are pinned in place, never boxed. Each poll polls every
/// unfinished member, in the order given: for the handful of futures a
/// macro call names, that costs less than giving each member a waker of its
/// own so as to poll only the woken ones (which [`gather`](crate::gather)
/// does for its unbounded lists). Any number of futures works (up to the
/// recursion limit, 128 by default).
///
/// Difference from tokio: the members are always polled in the order given
/// (tokio starts each poll at the next member in turn, unless `biased;`).
///
/// # Examples
///
/// ```
/// let rt = brigade::Runtime::new().unwrap();
/// let (a, b, c) = rt.block_on(async {
///     brigade::join!(async { 1u8 }, async { "two" }, async { 3.0f64 })
/// });
/// assert_eq!((a, b, c), (1, "two", 3.0));
/// ```
#[macro_export]
macro_rules! join {
    ($($future:expr),+ $(,)?) => {
        $crate::__join_members!(@join [] $($future,)+)
    };
}

/// Like [`join!`](crate::join) for futures that return `Result`s with one
/// error type: `Ok` with the tuple of values once all succeeded, or the
/// first `Err` as soon as a member returns it, after dropping (cancelling)
/// the other members (tokio's `try_join!`).
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use brigade::time::sleep;
///
/// let rt = brigade::Runtime::builder().virtual_clock(true).build().unwrap();
/// rt.block_on(async {
///     let ok: Result<(u8, &str), String> =
///         brigade::try_join!(async { Ok(1) }, async { Ok("one") });
///     assert_eq!(ok, Ok((1, "one")));
///
///     let failed: Result<(u8, ()), String> = brigade::try_join!(
///         async { sleep(Duration::from_secs(60)).await; Ok(1) },
///         async { Err("no".to_string()) },
///     );
///     assert_eq!(failed, Err("no".to_string()));
/// });
/// ```
#[macro_export]
macro_rules! try_join {
    ($($future:expr),+ $(,)?) => {
        $crate::__join_members!(@try [] $($future,)+)
    };
}

/// Gives each future of a `join!` a binding of its own (each recursion step
/// mints a distinct hygienic `member`), then expands the join.
#[doc(hidden)]
#[macro_export]
macro_rules! __join_members {
    (@join [$(($member:ident $future:expr))+]) => {{
        $(
            let mut $member = ::std::pin::pin!(
                $crate::__private::MaybeDone::new($future)
            );
        )+
        ::std::future::poll_fn(|cx| {
            let mut all_done = true;
            $(
                all_done &= $member.as_mut().poll_done(cx);
            )+
            if all_done {
                ::std::task::Poll::Ready(($(
                    $member
                        .as_mut()
                        .take()
                        .expect("join! takes each output once"),
                )+))
            } else {
                ::std::task::Poll::Pending
            }
        })
        .await
    }};
    (@try [$(($member:ident $future:expr))+]) => {{
        $(
            let mut $member = ::std::pin::pin!(
                $crate::__private::MaybeDone::new($future)
            );
        )+
        ::std::future::poll_fn(|cx| {
            let mut all_done = true;
            $(
                match $member.as_mut().poll_try(cx) {
                    ::std::task::Poll::Ready(::std::result::Result::Err(error)) => {
                        return ::std::task::Poll::Ready(::std::result::Result::Err(error));
                    }
                    ::std::task::Poll::Ready(::std::result::Result::Ok(())) => {}
                    ::std::task::Poll::Pending => all_done = false,
                }
            )+
            if all_done {
                ::std::task::Poll::Ready(::std::result::Result::Ok(($(
                    $member
                        .as_mut()
                        .take_ok()
                        .expect("try_join! takes each value once"),
                )+)))
            } else {
                ::std::task::Poll::Pending
            }
        })
        .await
    }};
    (@$kind:ident [$($done:tt)*] $future:expr, $($rest:tt)*) => {
        $crate::__join_members!(@$kind [$($done)* (member $future)] $($rest)*)
    };
}
