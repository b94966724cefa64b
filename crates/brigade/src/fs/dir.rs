//! Directories: [`create_dir`], [`create_dir_all`], [`remove_dir`] and
//! [`read_dir`].
//!
//! On the io_uring driver, creating and removing are `mkdirat` and
//! `unlinkat` operations. [`create_dir_all`] walks the path as
//! `std::fs::create_dir_all` does: it tries the whole path first (one
//! operation when only the last component is missing), climbs towards the
//! root while the parent is missing, then creates the missing components
//! downwards; a component that another task or process creates meanwhile
//! is accepted. [`read_dir`] runs on the blocking pool under both drivers:
//! io_uring has no operation that lists a directory (no `getdents`).

use std::collections::VecDeque;
use std::ffi::OsString;
use std::io;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};

use io_uring::opcode;

use super::error::with_path;
use super::metadata::Metadata;
use super::{blocking, native, native_op_driver};
use crate::io::driver::Driver;

/// The mode of a created directory before the umask, as in std.
const DIR_MODE: u32 = 0o777;

/// Creates a directory (`os.mkdir`). An existing path is `AlreadyExists`
/// and a missing parent `NotFound`, naming the path.
///
/// ```
/// # let dir = std::env::temp_dir().join(format!("brigade-fs-mkdir-{}", std::process::id()));
/// # std::fs::create_dir_all(&dir).unwrap();
/// brigade::run(async {
///     let sub = dir.join("sub");
///     brigade::fs::create_dir(&sub).await.unwrap();
///     let e = brigade::fs::create_dir(&sub).await.unwrap_err();
///     assert_eq!(e.kind(), std::io::ErrorKind::AlreadyExists);
///     brigade::fs::remove_dir(&sub).await.unwrap();
/// });
/// # std::fs::remove_dir_all(&dir).unwrap();
/// ```
///
/// # Errors
/// `AlreadyExists`, `NotFound` (a missing parent), `PermissionDenied` and
/// the other operating-system errors, naming the path; outside a brigade
/// event loop, an error that says so.
///
/// # Cancel safety
/// A future dropped after the operation was submitted may still create the
/// directory; nothing else is left behind.
pub async fn create_dir(path: impl AsRef<Path>) -> io::Result<()> {
    let path = path.as_ref();
    let code = opcode::MkDirAt::CODE;
    match native_op_driver("brigade::fs::create_dir", code)? {
        Some(driver) => native::mkdir(driver, path, DIR_MODE)
            .await
            .map_err(|e| with_path("create directory", path, e)),
        None => {
            blocking("create directory", path.to_path_buf(), |p| {
                std::fs::create_dir(p)
            })
            .await
        }
    }
}

/// Creates a directory and any missing parents (`os.makedirs(exist_ok=True)`).
/// A path that exists as a directory is fine; a component that is a file
/// fails (`NotADirectory` or `AlreadyExists`), naming the path.
///
/// # Examples
/// ```
/// # let dir = std::env::temp_dir().join(format!("brigade-doc-fs-mkdirs-{}", std::process::id()));
/// brigade::run(async {
///     let deep = dir.join("a/b/c");
///     brigade::fs::create_dir_all(&deep).await.unwrap();
///     brigade::fs::create_dir_all(&deep).await.unwrap(); // already there: fine
///     assert!(brigade::fs::metadata(&deep).await.unwrap().is_dir());
/// });
/// # std::fs::remove_dir_all(&dir).unwrap();
/// ```
///
/// # Errors
/// A component that is not a directory (`NotADirectory` or
/// `AlreadyExists`), `PermissionDenied` and the other operating-system
/// errors, naming the path; outside a brigade event loop, an error that says
/// so.
///
/// # Cancel safety
/// A future dropped part way leaves the components it has created so far;
/// calling it again finishes the job.
pub async fn create_dir_all(path: impl AsRef<Path>) -> io::Result<()> {
    let path = path.as_ref();
    let code = opcode::MkDirAt::CODE;
    match native_op_driver("brigade::fs::create_dir_all", code)? {
        Some(driver) => create_all_native(&driver, path)
            .await
            .map_err(|e| with_path("create directory", path, e)),
        None => {
            blocking("create directory", path.to_path_buf(), |p| {
                std::fs::create_dir_all(p)
            })
            .await
        }
    }
}

/// `std::fs::create_dir_all`'s walk, with the recursion unrolled (an async
/// function cannot call itself without boxing).
async fn create_all_native(driver: &Rc<Driver>, path: &Path) -> io::Result<()> {
    // The components to create after the one that exists, deepest first.
    let mut missing = Vec::new();
    let mut dir = path;
    // An empty path is the working directory (a relative path's root).
    while !dir.as_os_str().is_empty() {
        match native::mkdir(driver.clone(), dir, DIR_MODE).await {
            Ok(()) => break,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                missing.push(dir);
                // Only a root has no parent, and a root exists.
                dir = dir.parent().ok_or(e)?;
            }
            Err(e) => {
                if is_dir(driver, dir).await {
                    break;
                }
                return Err(e);
            }
        }
    }
    for dir in missing.into_iter().rev() {
        if let Err(e) = native::mkdir(driver.clone(), dir, DIR_MODE).await
            && !is_dir(driver, dir).await
        {
            return Err(e);
        }
    }
    Ok(())
}

async fn is_dir(driver: &Rc<Driver>, path: &Path) -> bool {
    native::statx(driver.clone(), path, false)
        .await
        .is_ok_and(|s| Metadata::from_statx(&s).is_dir())
}

/// Removes an empty directory (`os.rmdir`). A directory with entries is
/// `DirectoryNotEmpty`, naming the path.
///
/// # Examples
/// ```
/// # let dir = std::env::temp_dir().join(format!("brigade-doc-fs-rmdir-{}", std::process::id()));
/// brigade::run(async {
///     brigade::fs::create_dir_all(dir.join("full")).await.unwrap();
///     brigade::fs::write(dir.join("full/f"), "x").await.unwrap();
///     let e = brigade::fs::remove_dir(dir.join("full")).await.unwrap_err();
///     assert_eq!(e.kind(), std::io::ErrorKind::DirectoryNotEmpty);
///     brigade::fs::remove_file(dir.join("full/f")).await.unwrap();
///     brigade::fs::remove_dir(dir.join("full")).await.unwrap();
/// });
/// # std::fs::remove_dir_all(&dir).unwrap();
/// ```
///
/// # Errors
/// `DirectoryNotEmpty`, `NotFound`, `NotADirectory` and the other
/// operating-system errors, naming the path; outside a brigade event loop,
/// an error that says so.
///
/// # Cancel safety
/// A future dropped after the operation was submitted may still remove the
/// directory; nothing else is left behind.
pub async fn remove_dir(path: impl AsRef<Path>) -> io::Result<()> {
    let path = path.as_ref();
    let code = opcode::UnlinkAt::CODE;
    match native_op_driver("brigade::fs::remove_dir", code)? {
        Some(driver) => native::rmdir(driver, path)
            .await
            .map_err(|e| with_path("remove directory", path, e)),
        None => {
            blocking("remove directory", path.to_path_buf(), |p| {
                std::fs::remove_dir(p)
            })
            .await
        }
    }
}

/// One entry of a directory listing.
///
/// # Examples
/// ```
/// # let dir = std::env::temp_dir().join(format!("brigade-doc-fs-entry-{}", std::process::id()));
/// brigade::run(async {
///     brigade::fs::create_dir_all(&dir).await.unwrap();
///     brigade::fs::write(dir.join("only.txt"), "x").await.unwrap();
///     let mut entries = brigade::fs::read_dir(&dir).await.unwrap();
///     let entry = entries.next_entry().await.unwrap().unwrap();
///     assert_eq!(entry.file_name(), "only.txt");
///     assert_eq!(entry.path(), dir.join("only.txt"));
///     assert!(entry.file_type().is_file());
/// });
/// # std::fs::remove_dir_all(&dir).unwrap();
/// ```
#[derive(Debug, Clone)]
pub struct DirEntry {
    path: PathBuf,
    file_name: OsString,
    file_type: std::fs::FileType,
}

impl DirEntry {
    /// The entry's full path (the directory's path joined with its name).
    ///
    /// # Examples
    /// ```
    /// # let dir = std::env::temp_dir().join(format!("brigade-doc-fs-epath-{}", std::process::id()));
    /// brigade::run(async {
    ///     brigade::fs::create_dir_all(dir.join("sub")).await.unwrap();
    ///     let mut entries = brigade::fs::read_dir(&dir).await.unwrap();
    ///     let entry = entries.next_entry().await.unwrap().unwrap();
    ///     assert_eq!(entry.path(), dir.join("sub"));
    /// });
    /// # std::fs::remove_dir_all(&dir).unwrap();
    /// ```
    pub fn path(&self) -> PathBuf {
        self.path.clone()
    }

    /// The entry's name within the directory.
    ///
    /// # Examples
    /// ```
    /// # let dir = std::env::temp_dir().join(format!("brigade-doc-fs-ename-{}", std::process::id()));
    /// brigade::run(async {
    ///     brigade::fs::create_dir_all(&dir).await.unwrap();
    ///     brigade::fs::write(dir.join("a.log"), "").await.unwrap();
    ///     let mut entries = brigade::fs::read_dir(&dir).await.unwrap();
    ///     let entry = entries.next_entry().await.unwrap().unwrap();
    ///     assert_eq!(entry.file_name(), "a.log");
    /// });
    /// # std::fs::remove_dir_all(&dir).unwrap();
    /// ```
    pub fn file_name(&self) -> OsString {
        self.file_name.clone()
    }

    /// The entry's type, without following a symbolic link.
    ///
    /// # Examples
    /// ```
    /// # let dir = std::env::temp_dir().join(format!("brigade-doc-fs-etype-{}", std::process::id()));
    /// brigade::run(async {
    ///     brigade::fs::create_dir_all(dir.join("d")).await.unwrap();
    ///     let mut entries = brigade::fs::read_dir(&dir).await.unwrap();
    ///     let entry = entries.next_entry().await.unwrap().unwrap();
    ///     assert!(entry.file_type().is_dir());
    /// });
    /// # std::fs::remove_dir_all(&dir).unwrap();
    /// ```
    pub fn file_type(&self) -> std::fs::FileType {
        self.file_type
    }
}

/// The entries of a directory, in the order the file system gives them;
/// see [`read_dir`]. Also a `futures_core::Stream` of entries.
///
/// # Examples
/// A `ReadDir` is also a stream, for stream combinators:
/// ```
/// use futures_core::Stream;
/// use std::pin::Pin;
///
/// # let dir = std::env::temp_dir().join(format!("brigade-doc-fs-readdir-{}", std::process::id()));
/// brigade::run(async {
///     brigade::fs::create_dir_all(dir.join("x")).await.unwrap();
///     let mut entries = brigade::fs::read_dir(&dir).await.unwrap();
///     let next = std::future::poll_fn(|cx| Pin::new(&mut entries).poll_next(cx)).await;
///     assert_eq!(next.unwrap().unwrap().file_name(), "x");
///     assert!(entries.next_entry().await.unwrap().is_none());
/// });
/// # std::fs::remove_dir_all(&dir).unwrap();
/// ```
#[derive(Debug)]
pub struct ReadDir {
    entries: VecDeque<DirEntry>,
}

impl ReadDir {
    /// The next entry, or `None` at the end.
    ///
    /// # Examples
    /// ```
    /// # let dir = std::env::temp_dir().join(format!("brigade-doc-fs-next-{}", std::process::id()));
    /// brigade::run(async {
    ///     brigade::fs::create_dir_all(&dir).await.unwrap();
    ///     let mut entries = brigade::fs::read_dir(&dir).await.unwrap();
    ///     assert!(entries.next_entry().await.unwrap().is_none()); // empty
    /// });
    /// # std::fs::remove_dir_all(&dir).unwrap();
    /// ```
    ///
    /// # Errors
    /// None today: the listing is read whole by [`read_dir`], which reports
    /// its errors. The `Result` keeps the door open for a listing read in
    /// pieces.
    ///
    /// # Cancel safety
    /// Cancel-safe: the entries are already in memory, and a dropped call takes
    /// none.
    pub async fn next_entry(&mut self) -> io::Result<Option<DirEntry>> {
        Ok(self.entries.pop_front())
    }
}

impl futures_core::Stream for ReadDir {
    type Item = io::Result<DirEntry>;

    fn poll_next(mut self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        Poll::Ready(self.entries.pop_front().map(Ok))
    }
}

/// Lists a directory (`os.scandir`). The listing is read in one job on
/// the blocking pool under either driver (io_uring cannot list a
/// directory), so an error in the middle fails the call, naming the
/// directory.
///
/// ```
/// # let dir = std::env::temp_dir().join(format!("brigade-fs-dir-{}", std::process::id()));
/// brigade::run(async {
///     brigade::fs::create_dir_all(dir.join("a/b")).await.unwrap();
///     brigade::fs::write(dir.join("a/file.txt"), "x").await.unwrap();
///     let mut names = Vec::new();
///     let mut entries = brigade::fs::read_dir(dir.join("a")).await.unwrap();
///     while let Some(entry) = entries.next_entry().await.unwrap() {
///         names.push(entry.file_name().into_string().unwrap());
///     }
///     names.sort();
///     assert_eq!(names, ["b", "file.txt"]);
/// });
/// # std::fs::remove_dir_all(&dir).unwrap();
/// ```
///
/// # Errors
/// `NotFound`, `NotADirectory`, `PermissionDenied` and the other
/// operating-system errors, from opening the directory or from any entry,
/// naming the directory.
///
/// # Cancel safety
/// Cancel-safe: a dropped future reads nothing more (the job on the
/// blocking pool finishes and its listing is dropped).
pub async fn read_dir(path: impl AsRef<Path>) -> io::Result<ReadDir> {
    let entries = blocking("read directory", path.as_ref().to_path_buf(), |p| {
        let mut entries = VecDeque::new();
        for entry in std::fs::read_dir(p)? {
            let entry = entry?;
            entries.push_back(DirEntry {
                path: entry.path(),
                file_name: entry.file_name(),
                file_type: entry.file_type()?,
            });
        }
        Ok(entries)
    })
    .await?;
    Ok(ReadDir { entries })
}
