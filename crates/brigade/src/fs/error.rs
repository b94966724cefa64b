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
#[derive(Debug)]
pub struct PathError {
    operation: &'static str,
    path: PathBuf,
    source: io::Error,
}

impl PathError {
    /// The operation, as in "open" or "read".
    pub fn operation(&self) -> &'static str {
        self.operation
    }

    /// The path the operation was given.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The operating system's error.
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
