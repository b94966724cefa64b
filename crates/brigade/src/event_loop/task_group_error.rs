//! What a [`task_group`](super::task_group) reports when it fails: a
//! [`GroupError`] holding every [`Failure`] (a child's or the body's `Err`,
//! or a child's panic) in the order they happened, each with the
//! [`Origin`] it came from. This is asyncio's `ExceptionGroup` raised by a
//! `TaskGroup`, as a typed value.
//!
//! ```
//! use brigade::event_loop::{Failure, Origin};
//!
//! let rt = brigade::Runtime::new().unwrap();
//! let result = rt.block_on(brigade::task_group(|group| async move {
//!     group.spawn_named("fetch", async { Err::<(), _>("timed out") });
//!     Ok(())
//! }));
//! let error = result.unwrap_err();
//! assert!(matches!(error.failures(), [Failure::Error("timed out")]));
//! assert!(matches!(&error.origins()[0], Origin::Child { name: Some(n), .. } if n == "fetch"));
//! assert_eq!(error.to_string(), "1 task(s) failed in the group: fetch: timed out");
//! ```

use std::fmt;

use super::join::Panic;
use super::task::TaskId;

/// One failure inside a task group.
///
/// # Examples
///
/// ```
/// use brigade::event_loop::Failure;
///
/// async fn crash() -> Result<(), String> {
///     panic!("child crashed")
/// }
///
/// let rt = brigade::Runtime::new().unwrap();
/// let result = rt.block_on(brigade::task_group(|group| async move {
///     group.spawn(crash());
///     Ok(())
/// }));
/// match &result.unwrap_err().failures()[0] {
///     Failure::Panic(panic) => assert_eq!(panic.message(), "child crashed"),
///     Failure::Error(e) => unreachable!("{e}"),
/// }
/// ```
#[derive(Debug)]
pub enum Failure<E> {
    /// A child or the body returned this error.
    Error(E),
    /// A child panicked.
    Panic(Panic),
}

/// Where a failure inside a [`task_group`](super::task_group) came from; see
/// [`GroupError::origins`].
///
/// # Examples
///
/// ```
/// use brigade::event_loop::Origin;
///
/// let rt = brigade::Runtime::new().unwrap();
/// let result = rt.block_on(brigade::task_group(|group| async move {
///     group.spawn_named("parser", async { Err::<(), _>("bad input") });
///     Ok(())
/// }));
/// match &result.unwrap_err().origins()[0] {
///     Origin::Child { name, .. } => assert_eq!(name.as_deref(), Some("parser")),
///     Origin::Body => unreachable!(),
/// }
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Origin {
    /// The group's body returned the error.
    Body,
    /// A child failed: its id and, if it was spawned with
    /// [`TaskGroup::spawn_named`](super::TaskGroup::spawn_named), its name.
    Child {
        /// The child's task id.
        id: TaskId,
        /// The child's name, if any.
        name: Option<String>,
    },
}

/// Everything that failed inside a [`task_group`](super::task_group), in the order it failed.
///
/// # Examples
///
/// ```
/// let rt = brigade::Runtime::new().unwrap();
/// let result = rt.block_on(brigade::task_group(|group| async move {
///     group.spawn(async { Err::<(), _>("a failed") });
///     Ok(())
/// }));
/// let error: brigade::event_loop::GroupError<&str> = result.unwrap_err();
/// assert_eq!(error.errors(), [&"a failed"]);
/// println!("{error}"); // names every failure
/// ```
pub struct GroupError<E> {
    pub(super) failures: Vec<Failure<E>>,
    /// Where each failure came from, index for index.
    pub(super) origins: Vec<Origin>,
}

impl<E> GroupError<E> {
    /// Where each of the [`failures`](Self::failures) came from, index for
    /// index: the body, or a child with its id and name. (asyncio keeps
    /// this in each exception's traceback.)
    ///
    /// # Examples
    ///
    /// ```
    /// use brigade::event_loop::Origin;
    ///
    /// let rt = brigade::Runtime::new().unwrap();
    /// let result = rt.block_on(brigade::task_group(|_group| async move { Err::<(), _>(7) }));
    /// assert_eq!(result.unwrap_err().origins(), [Origin::Body]);
    /// ```
    pub fn origins(&self) -> &[Origin] {
        &self.origins
    }

    /// The failures, first one first. Empty if the group was cancelled
    /// through [`TaskGroup::cancel`](super::TaskGroup::cancel) with nothing failing.
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = brigade::Runtime::new().unwrap();
    /// let result = rt.block_on(brigade::task_group(|group| async move {
    ///     group.spawn(async { Err::<(), _>(1) });
    ///     Ok(())
    /// }));
    /// assert_eq!(result.unwrap_err().failures().len(), 1);
    /// ```
    pub fn failures(&self) -> &[Failure<E>] {
        &self.failures
    }

    /// The errors returned by children or the body (panics left out).
    ///
    /// # Examples
    ///
    /// ```
    /// async fn crash() -> Result<(), &'static str> {
    ///     panic!("not an error value")
    /// }
    ///
    /// let rt = brigade::Runtime::new().unwrap();
    /// let result = rt.block_on(brigade::task_group(|group| async move {
    ///     group.spawn(crash());
    ///     Ok(())
    /// }));
    /// let error = result.unwrap_err();
    /// assert_eq!(error.failures().len(), 1);
    /// assert!(error.errors().is_empty()); // a panic is a failure, not an `E`
    /// ```
    pub fn errors(&self) -> Vec<&E> {
        self.failures
            .iter()
            .filter_map(|f| match f {
                Failure::Error(e) => Some(e),
                Failure::Panic(_) => None,
            })
            .collect()
    }

    /// Takes the failures.
    ///
    /// # Examples
    ///
    /// ```
    /// use brigade::event_loop::Failure;
    ///
    /// let rt = brigade::Runtime::new().unwrap();
    /// let result = rt.block_on(brigade::task_group(|_group| async { Err::<(), _>(String::from("no")) }));
    /// let failures = result.unwrap_err().into_failures();
    /// assert!(matches!(&failures[..], [Failure::Error(e)] if e == "no"));
    /// ```
    pub fn into_failures(self) -> Vec<Failure<E>> {
        self.failures
    }
}

impl<E: fmt::Display> fmt::Display for GroupError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.failures.len() {
            0 => f.write_str("the task group was cancelled"),
            n => {
                write!(f, "{n} task(s) failed in the group: ")?;
                for (i, failure) in self.failures.iter().enumerate() {
                    if i > 0 {
                        f.write_str("; ")?;
                    }
                    if let Some(Origin::Child {
                        name: Some(name), ..
                    }) = self.origins.get(i)
                    {
                        write!(f, "{name}: ")?;
                    }
                    match failure {
                        Failure::Error(e) => write!(f, "{e}")?,
                        Failure::Panic(p) => write!(f, "panic: {}", p.message())?,
                    }
                }
                Ok(())
            }
        }
    }
}

impl<E: fmt::Debug> fmt::Debug for GroupError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GroupError")
            .field("failures", &self.failures)
            .finish()
    }
}

impl<E: fmt::Debug + fmt::Display> std::error::Error for GroupError<E> {}
