//! [`PathError`]: a file-system error that names its operation and path.
//!
//! `std::fs` reports a missing file as "No such file or directory (os error
//! 2)", without saying which file. brigade wraps every failure of a path
//! operation as an `io::Error` of the *same kind* whose inner error is a
//! `PathError`: matching on `e.kind()` keeps working, the message says
//! which file, and the OS error stays reachable through
//! [`std::error::Error::source`].

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};

/// What failed, on which path, and the operating system's error.
///
/// # Examples
/// ```
/// use brigade::fs::PathError;
///
/// brigade::run(async {
///     let e = brigade::fs::read("/no/such/dir/file").await.unwrap_err();
///     assert_eq!(e.kind(), std::io::ErrorKind::NotFound);
///     let named = e.get_ref().unwrap().downcast_ref::<PathError>().unwrap();
///     assert_eq!(named.path(), std::path::Path::new("/no/such/dir/file"));
///     assert_eq!(e.to_string(), named.to_string());
/// });
/// ```
#[derive(Debug)]
pub struct PathError {
    operation: &'static str,
    path: PathBuf,
    source: io::Error,
}

impl PathError {
    /// The operation, as in "open" or "read".
    ///
    /// # Examples
    /// ```
    /// use brigade::fs::PathError;
    ///
    /// brigade::run(async {
    ///     let e = brigade::fs::remove_dir("/no/such/dir").await.unwrap_err();
    ///     let named = e.get_ref().unwrap().downcast_ref::<PathError>().unwrap();
    ///     assert_eq!(named.operation(), "remove directory");
    /// });
    /// ```
    pub fn operation(&self) -> &'static str {
        self.operation
    }

    /// The path the operation was given.
    ///
    /// # Examples
    /// ```
    /// use brigade::fs::PathError;
    ///
    /// brigade::run(async {
    ///     let e = brigade::fs::metadata("/no/such").await.unwrap_err();
    ///     let named = e.get_ref().unwrap().downcast_ref::<PathError>().unwrap();
    ///     assert_eq!(named.path(), std::path::Path::new("/no/such"));
    /// });
    /// ```
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The operating system's error.
    ///
    /// # Examples
    /// ```
    /// use brigade::fs::PathError;
    ///
    /// brigade::run(async {
    ///     let e = brigade::fs::metadata("/no/such").await.unwrap_err();
    ///     let named = e.get_ref().unwrap().downcast_ref::<PathError>().unwrap();
    ///     assert_eq!(named.os_error().raw_os_error(), Some(libc::ENOENT));
    /// });
    /// ```
    pub fn os_error(&self) -> &io::Error {
        &self.source
    }
}

impl fmt::Display for PathError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "cannot {} {}: {}",
            self.operation,
            self.path.display(),
            self.source
        )
    }
}

impl std::error::Error for PathError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.source)
    }
}

/// Wraps `source` so that it names `operation` and `path`, keeping its kind.
/// An error that already names a path is returned unchanged.
pub(crate) fn with_path(operation: &'static str, path: &Path, source: io::Error) -> io::Error {
    if source
        .get_ref()
        .is_some_and(|inner| inner.is::<PathError>())
    {
        return source;
    }
    let kind = source.kind();
    io::Error::new(
        kind,
        PathError {
            operation,
            path: path.to_path_buf(),
            source,
        },
    )
}
