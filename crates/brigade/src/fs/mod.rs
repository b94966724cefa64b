//! Files on the event loop: [`read`], [`read_to_string`], [`write()`],
//! [`File`], [`metadata()`], [`create_dir`], [`create_dir_all`],
//! [`remove_file`], [`remove_dir`], [`read_dir`].
//!
//! In asyncio, `open(...).read()` inside a coroutine blocks the loop. Here
//! the loop goes on. Either way the calling task waits and the others run:
//!
//! | call | io_uring driver | epoll driver |
//! |---|---|---|
//! | open, read, write, [`File::sync_all`] | `openat`, `read`, `write`, `fsync` | blocking pool |
//! | [`metadata()`], [`File::metadata`] | `statx` | blocking pool |
//! | [`create_dir`], [`create_dir_all`] | `mkdirat`, one per missing component | blocking pool |
//! | [`remove_file`], [`remove_dir`] | `unlinkat` | blocking pool |
//! | [`File::set_len`] | `ftruncate` (Linux 6.9+) | blocking pool |
//! | [`read_dir`] | blocking pool | blocking pool |
//!
//! Files are always "ready" to epoll, so the epoll driver hands file work
//! to the blocking pool ([`crate::to_thread`]). On io_uring, an operation
//! the kernel's ring lacks (its probe says so at start-up, or it answers
//! `EINVAL`/`EOPNOTSUPP`) goes to the blocking pool too. [`read_dir`]
//! always does: io_uring has no operation that lists a directory
//! (`getdents`).
//!
//! [`read`] and [`read_to_string`] first try to read a small regular file
//! that the kernel already holds in memory right away, on the loop, with
//! calls that never wait for a device (an open that only consults the
//! kernel's caches, reads that take only what the page cache holds): no
//! operation to queue, no task to wake. Whatever would wait takes the path
//! below (see `fs/cached.rs`).
//!
//! Otherwise, on io_uring, [`read`] and [`read_to_string`] open the file
//! into the ring's own table of *direct descriptors*, not the process's descriptor
//! table (which threads share and the kernel grows with a wait for RCU):
//! two loops reading thousands of files at once do not contend for it. A
//! full table, or a kernel without them (before 5.19), falls back to an
//! ordinary descriptor. With one loop alone in the process, [`read`] opens
//! an ordinary descriptor (which `fstat` sizes) and the ring closes it with
//! its next batch, sparing a `close` call per file.
//!
//! Errors keep the operating system's [`io::ErrorKind`] and name the path:
//! a missing file is `ErrorKind::NotFound`, and its message says which file
//! (see [`PathError`]).
//!
//! The notebook's cell, in brigade:
//!
//! ```
//! async fn func1() -> Option<String> {
//!     match brigade::fs::read_to_string("demo.txt").await {
//!         Ok(text) => Some(text),
//!         Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
//!             println!("File not found");
//!             assert!(e.to_string().contains("demo.txt"));
//!             None
//!         }
//!         Err(e) => panic!("{e}"),
//!     }
//! }
//!
//! brigade::run(async {
//!     println!("hello");
//!     brigade::sleep(std::time::Duration::from_millis(1)).await;
//!     assert_eq!(func1().await, None);
//!     println!("world");
//! });
//! ```

mod cached;
mod cursor;
mod dir;
mod error;
mod file;
mod metadata;
mod native;
mod open_options;

pub use dir::{DirEntry, ReadDir, create_dir, create_dir_all, read_dir, remove_dir};
pub use error::PathError;
pub use file::File;
pub use metadata::{Metadata, metadata, symlink_metadata};
pub use open_options::OpenOptions;

use std::io;
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::sync::Arc;

use crate::io::DriverKind;
use crate::io::driver::Driver;
use crate::io::source::current_driver;
use error::with_path;

/// The loop's driver if it runs file operations natively (io_uring).
pub(crate) fn native_driver(what: &str) -> io::Result<Option<Rc<Driver>>> {
    let driver = current_driver(what)?;
    Ok((driver.kind() == DriverKind::Uring).then_some(driver))
}

/// The loop's driver if it runs io_uring operation `code` (an
/// `opcode::*::CODE`) natively.
pub(crate) fn native_op_driver(what: &str, code: u8) -> io::Result<Option<Rc<Driver>>> {
    let driver = current_driver(what)?;
    Ok(driver.supports(code).then_some(driver))
}

/// Whether a native operation's error means the kernel does not know the
/// operation (or not for this file), so that the blocking pool should run
/// it instead. A genuine `EINVAL` is reported again by the pool.
pub(crate) fn unsupported(e: &io::Error) -> bool {
    matches!(e.raw_os_error(), Some(libc::EINVAL | libc::EOPNOTSUPP))
}

/// Runs `f` on the blocking pool and names `path` in its error.
pub(crate) async fn blocking<T: Send + 'static>(
    operation: &'static str,
    path: PathBuf,
    f: impl FnOnce(&Path) -> io::Result<T> + Send + 'static,
) -> io::Result<T> {
    let p = path.clone();
    match crate::to_thread(move || f(&p)).await {
        Ok(result) => result.map_err(|e| with_path(operation, &path, e)),
        Err(join) => Err(with_path(
            operation,
            &path,
            io::Error::other(join.to_string()),
        )),
    }
}

/// Reads a whole file (`pathlib.Path.read_bytes`).
///
/// ```
/// # let dir = std::env::temp_dir().join(format!("brigade-fs-read-{}", std::process::id()));
/// # std::fs::create_dir_all(&dir).unwrap();
/// let path = dir.join("greeting.txt");
/// brigade::run(async {
///     brigade::fs::write(&path, b"hello").await.unwrap();
///     assert_eq!(brigade::fs::read(&path).await.unwrap(), b"hello");
/// });
/// # std::fs::remove_dir_all(&dir).unwrap();
/// ```
///
/// # Errors
/// An `io::Error` of the operating system's kind (`NotFound`,
/// `PermissionDenied`, ...) that names the path (see [`PathError`]); called
/// outside a brigade event loop, an error that says so.
///
/// # Cancel safety
/// Cancel-safe: dropping the future abandons the read and changes nothing on
/// disk; an operation still in the kernel is cancelled by the driver.
pub async fn read(path: impl AsRef<Path>) -> io::Result<Vec<u8>> {
    let path = path.as_ref();
    let driver = current_driver("brigade::fs::read")?;
    // A file already in memory is read right here (see `cached.rs`).
    if driver.read_in_place.get() {
        match cached::read(path) {
            Ok(Some(bytes)) => return Ok(bytes),
            Ok(None) => {}
            Err((call, e)) => return Err(with_path(call, path, e)),
        }
    }
    // Boxed: the slow path's state is most of the future's size, and a
    // caller that spawns a task per file pays for that size in every task
    // (`io_fs_cached::the_future_of_a_read_stays_small`).
    Box::pin(read_slowly(driver, path)).await
}

/// [`read`] of a file that is not in memory, or not a small regular one:
/// on the ring, or on the blocking pool with epoll.
async fn read_slowly(driver: Rc<Driver>, path: &Path) -> io::Result<Vec<u8>> {
    if driver.kind() != DriverKind::Uring {
        return blocking("read", path.to_path_buf(), |p| std::fs::read(p)).await;
    }
    match native::open_and_read_direct(driver.clone(), path).await {
        Ok(Some(read)) => read_direct(driver, read, path).await,
        Ok(None) => read_descriptor(driver, path).await,
        Err((call, e)) => Err(with_path(call, path, e)),
    }
}

/// Reads on to the end a file whose first bytes the opening chain read
/// (see `native::open_and_read_direct`). Reads go on until one returns 0:
/// the size is never taken from the path, which could name another file
/// by now (and a direct descriptor has no `fstat`). A buffer much larger
/// than its contents is shrunk: the caller may keep many.
async fn read_direct(
    driver: Rc<Driver>,
    read: native::DirectRead,
    path: &Path,
) -> io::Result<Vec<u8>> {
    let native::DirectRead {
        mut file,
        mut buf,
        mut at_end,
    } = read;
    while !at_end {
        if buf.len() == buf.capacity() {
            buf.reserve(buf.capacity());
        }
        let offset = buf.len() as u64;
        let (result, b, f) = native::read_direct(driver.clone(), file, buf, offset).await;
        (buf, file) = (b, f);
        match result {
            Ok(0) => at_end = true,
            Ok(_) => {}
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(with_path("read", path, e)),
        }
    }
    drop(file);
    if buf.capacity() - buf.len() > buf.len() / 4 {
        buf.shrink_to_fit();
    }
    Ok(buf)
}

/// Reads a file opened as an ordinary descriptor to its end.
async fn read_descriptor(driver: Rc<Driver>, path: &Path) -> io::Result<Vec<u8>> {
    let file = native::open(driver.clone(), path, libc::O_RDONLY, 0)
        .await
        .map_err(|e| with_path("open", path, e))?;
    // The size, as std::fs::read takes it: fstat on an open descriptor
    // reads the inode the open just loaded, so it never waits for a disk.
    let size = file
        .metadata()
        .ok()
        .filter(|m| m.is_file())
        .map_or(0, |m| m.len() as usize);
    let file = Arc::new(file);
    // One more byte than the size: a read that returns less than it asked
    // for has met the end of a regular file, which spares the read that
    // would only say so. Files that report no size (/proc) read to the end.
    let mut out = Vec::with_capacity(if size > 0 { size + 1 } else { 8 * 1024 });
    loop {
        if out.capacity() - out.len() < 4096 && (size == 0 || out.len() >= size) {
            out.reserve(out.capacity().clamp(4096, 1 << 20));
        }
        let offset = out.len() as u64;
        let asked = out.capacity() - out.len();
        let (result, buf) =
            native::read_at(driver.clone(), file.clone(), out, usize::MAX, offset).await;
        out = buf;
        match result {
            Ok(0) => break,
            Ok(n) if size > 0 && n < asked && out.len() >= size => break,
            Ok(_) => {}
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(with_path("read", path, e)),
        }
    }
    // Every read is done: the ring closes the file with its next batch,
    // which spares a `close` system call per file (measured on `bench/`'s
    // `files`, one loop: ~4% less wall time, paired runs on a busy VM).
    if let Ok(file) = Arc::try_unwrap(file) {
        driver.with_uring(|ring| ring.close_later(file.into()));
    }
    Ok(out)
}

/// Reads a whole file as UTF-8 (`pathlib.Path.read_text`). Invalid UTF-8
/// is `ErrorKind::InvalidData`.
///
/// # Examples
/// ```
/// # let dir = std::env::temp_dir().join(format!("brigade-doc-fs-rts-{}", std::process::id()));
/// # std::fs::create_dir_all(&dir).unwrap();
/// let path = dir.join("poem.txt");
/// brigade::run(async {
///     brigade::fs::write(&path, "roses are red\n").await.unwrap();
///     let text = brigade::fs::read_to_string(&path).await.unwrap();
///     assert_eq!(text.lines().next(), Some("roses are red"));
///
///     brigade::fs::write(&path, [0xff, 0xfe]).await.unwrap();
///     let e = brigade::fs::read_to_string(&path).await.unwrap_err();
///     assert_eq!(e.kind(), std::io::ErrorKind::InvalidData);
/// });
/// # std::fs::remove_dir_all(&dir).unwrap();
/// ```
///
/// # Errors
/// As [`read`], and `InvalidData` if the contents are not UTF-8.
///
/// # Cancel safety
/// Cancel-safe, as [`read`].
pub async fn read_to_string(path: impl AsRef<Path>) -> io::Result<String> {
    let path = path.as_ref();
    let bytes = read(path).await?;
    String::from_utf8(bytes).map_err(|e| {
        with_path(
            "read",
            path,
            io::Error::new(io::ErrorKind::InvalidData, e.utf8_error()),
        )
    })
}

/// Creates or truncates a file and writes `contents` to it
/// (`pathlib.Path.write_bytes`).
///
/// # Examples
/// ```
/// # let dir = std::env::temp_dir().join(format!("brigade-doc-fs-write-{}", std::process::id()));
/// # std::fs::create_dir_all(&dir).unwrap();
/// let path = dir.join("out.txt");
/// brigade::run(async {
///     brigade::fs::write(&path, "first").await.unwrap();
///     brigade::fs::write(&path, "2nd").await.unwrap(); // truncates
///     assert_eq!(brigade::fs::read(&path).await.unwrap(), b"2nd");
/// });
/// # std::fs::remove_dir_all(&dir).unwrap();
/// ```
///
/// # Errors
/// An `io::Error` of the operating system's kind that names the path (a
/// missing directory is `NotFound`), `WriteZero` if the file stops accepting
/// bytes; outside a brigade event loop, an error that says so.
///
/// # Cancel safety
/// Not cancel-safe: a future dropped part way has created or truncated the
/// file and may have written part of `contents`. Write to a temporary name
/// and rename it if a reader must never see a partial file.
pub async fn write(path: impl AsRef<Path>, contents: impl AsRef<[u8]>) -> io::Result<()> {
    let path = path.as_ref();
    let contents = contents.as_ref().to_vec();
    let Some(driver) = native_driver("brigade::fs::write")? else {
        return blocking("write", path.to_path_buf(), move |p| {
            std::fs::write(p, contents)
        })
        .await;
    };
    let flags = libc::O_WRONLY | libc::O_CREAT | libc::O_TRUNC;
    let file = native::open(driver.clone(), path, flags, 0o666)
        .await
        .map_err(|e| with_path("open", path, e))?;
    let file = Arc::new(file);
    let mut buf = contents;
    let mut written = 0usize;
    while !buf.is_empty() {
        let (result, rest) =
            native::write_at(driver.clone(), file.clone(), buf, written as u64).await;
        match result {
            Ok(0) => {
                return Err(with_path(
                    "write",
                    path,
                    io::Error::new(io::ErrorKind::WriteZero, "the file accepted no more bytes"),
                ));
            }
            Ok(n) => {
                written += n;
                buf = rest;
                buf.drain(..n);
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => buf = rest,
            Err(e) => return Err(with_path("write", path, e)),
        }
    }
    Ok(())
}

/// Removes a file (`os.remove`). A directory is an error
/// (`IsADirectory`); use [`remove_dir`].
///
/// ```
/// # let dir = std::env::temp_dir().join(format!("brigade-fs-remove-{}", std::process::id()));
/// # std::fs::create_dir_all(&dir).unwrap();
/// let path = dir.join("scratch");
/// brigade::run(async {
///     brigade::fs::write(&path, "x").await.unwrap();
///     brigade::fs::remove_file(&path).await.unwrap();
///     let e = brigade::fs::remove_file(&path).await.unwrap_err();
///     assert_eq!(e.kind(), std::io::ErrorKind::NotFound);
/// });
/// # std::fs::remove_dir_all(&dir).unwrap();
/// ```
///
/// # Errors
/// An `io::Error` of the operating system's kind that names the path:
/// `NotFound`, `IsADirectory`, `PermissionDenied`; outside a brigade event
/// loop, an error that says so.
///
/// # Cancel safety
/// A future dropped after the removal was submitted may still remove the
/// file; once it has returned, nothing more happens.
pub async fn remove_file(path: impl AsRef<Path>) -> io::Result<()> {
    let path = path.as_ref();
    let code = io_uring::opcode::UnlinkAt::CODE;
    match native_op_driver("brigade::fs::remove_file", code)? {
        Some(driver) => native::unlink(driver, path)
            .await
            .map_err(|e| with_path("remove", path, e)),
        None => blocking("remove", path.to_path_buf(), |p| std::fs::remove_file(p)).await,
    }
}
