//! [`File`]: an open file on the event loop.
//!
//! A `File` offers two ways in:
//! - **positional, owned buffers**: [`File::read_at`] and
//!   [`File::write_at`] take a `Vec<u8>` and hand it back with the result,
//!   the shape io_uring needs (the operation owns its buffer, see
//!   [`crate::io`]); they do not touch the cursor;
//! - **a cursor**, through [`AsyncRead`], [`AsyncWrite`] and [`AsyncSeek`],
//!   for codecs and combinators. Writes are accepted into the file's own
//!   buffer and written behind: [`flush`](crate::io::AsyncWriteExt::flush)
//!   waits for them and reports their errors. A write still in flight when
//!   the `File` is dropped completes anyway. The cursor and its writes
//!   behind live in `cursor.rs`; how a file is opened, in
//!   `open_options.rs` ([`OpenOptions`]).
//!
//! This file holds the handle itself: opening shortcuts, the positional
//! reads and writes, and the calls that wait for the writes behind first
//! ([`File::sync_all`], [`File::sync_data`], [`File::set_len`]), plus
//! [`File::metadata`], which does not.
//!
//! ```
//! use brigade::fs::File;
//!
//! # let dir = std::env::temp_dir().join(format!("brigade-doc-fs-filemod-{}", std::process::id()));
//! # std::fs::create_dir_all(&dir).unwrap();
//! let path = dir.join("table");
//! brigade::run(async {
//!     let mut f = File::create(&path).await.unwrap();
//!     // Two records written by position, in any order.
//!     f.write_all_at(b"world", 5).await.unwrap();
//!     f.write_all_at(b"hello", 0).await.unwrap();
//!     f.sync_data().await.unwrap();
//!     assert_eq!(brigade::fs::read(&path).await.unwrap(), b"helloworld");
//! });
//! # std::fs::remove_dir_all(&dir).unwrap();
//! ```

use std::fmt;
use std::io;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::sync::Arc;

#[cfg(doc)]
use futures_io::{AsyncRead, AsyncSeek, AsyncWrite};

use super::cursor::{Pending, Resize, State};
use super::error::with_path;
use super::metadata::Metadata;
use super::open_options::OpenOptions;
use super::{blocking, native, unsupported};
use crate::io::driver::Driver;

/// The most one cursor operation moves at once.
pub(super) const CHUNK: usize = 256 * 1024;

/// An open file; see the [module documentation](crate::fs).
///
/// ```
/// use brigade::fs::{File, OpenOptions};
/// use brigade::io::{AsyncReadExt, AsyncWriteExt};
///
/// # let dir = std::env::temp_dir().join(format!("brigade-fs-file-{}", std::process::id()));
/// # std::fs::create_dir_all(&dir).unwrap();
/// let path = dir.join("notes.txt");
/// brigade::run(async {
///     let mut file = File::create(&path).await.unwrap();
///     file.write_all(b"first line\n").await.unwrap();
///     file.flush().await.unwrap();
///     let (n, _) = file.write_at(b"FIRST".to_vec(), 0).await;
///     assert_eq!(n.unwrap(), 5);
///     file.sync_all().await.unwrap();
///
///     let mut text = String::new();
///     File::open(&path).await.unwrap().read_to_string(&mut text).await.unwrap();
///     assert_eq!(text, "FIRST line\n");
/// });
/// # std::fs::remove_dir_all(&dir).unwrap();
/// ```
pub struct File {
    pub(super) std: Arc<std::fs::File>,
    pub(super) driver: Option<Rc<Driver>>,
    pub(super) path: PathBuf,
    pub(super) pos: u64,
    pub(super) state: State,
}

impl File {
    /// Opens `path` for reading (Python's `open(path, "r")`).
    ///
    /// # Examples
    /// ```
    /// use brigade::fs::File;
    /// use brigade::io::AsyncReadExt;
    ///
    /// brigade::run(async {
    ///     let mut status = String::new();
    ///     File::open("/proc/self/status").await.unwrap().read_to_string(&mut status).await.unwrap();
    ///     assert!(status.starts_with("Name:"));
    /// });
    /// ```
    ///
    /// # Errors
    /// As [`OpenOptions::open`]: `NotFound`, `PermissionDenied`, ..., naming
    /// the path.
    ///
    /// # Cancel safety
    /// Cancel-safe, as [`OpenOptions::open`].
    pub async fn open(path: impl AsRef<Path>) -> io::Result<File> {
        OpenOptions::new().read(true).open(path).await
    }

    /// Creates or truncates `path` for writing (`open(path, "w")`).
    ///
    /// # Examples
    /// ```
    /// use brigade::fs::File;
    /// use brigade::io::AsyncWriteExt;
    ///
    /// # let dir = std::env::temp_dir().join(format!("brigade-doc-fs-create-{}", std::process::id()));
    /// # std::fs::create_dir_all(&dir).unwrap();
    /// let path = dir.join("report.csv");
    /// brigade::run(async {
    ///     let mut f = File::create(&path).await.unwrap();
    ///     f.write_all(b"a,b\n1,2\n").await.unwrap();
    ///     f.flush().await.unwrap();
    ///     assert_eq!(brigade::fs::read_to_string(&path).await.unwrap(), "a,b\n1,2\n");
    /// });
    /// # std::fs::remove_dir_all(&dir).unwrap();
    /// ```
    ///
    /// # Errors
    /// As [`OpenOptions::open`]: a missing directory is `NotFound`, naming the
    /// path.
    ///
    /// # Cancel safety
    /// As [`OpenOptions::open`]; a file created (or truncated) before the drop
    /// stays so.
    pub async fn create(path: impl AsRef<Path>) -> io::Result<File> {
        OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .open(path)
            .await
    }

    /// The path the file was opened with.
    ///
    /// # Examples
    /// ```
    /// use brigade::fs::File;
    ///
    /// brigade::run(async {
    ///     let f = File::open("/proc/self/status").await.unwrap();
    ///     assert_eq!(f.path(), std::path::Path::new("/proc/self/status"));
    /// });
    /// ```
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// A `File` for a descriptor just opened, its cursor at the start.
    pub(super) fn from_std(std: std::fs::File, driver: Option<Rc<Driver>>, path: PathBuf) -> File {
        File {
            std: Arc::new(std),
            driver,
            path,
            pos: 0,
            state: State::Idle(Vec::new()),
        }
    }

    pub(super) fn read_op(&self, buf: Vec<u8>, max: usize, offset: u64) -> Pending {
        let file = self.std.clone();
        match &self.driver {
            Some(driver) => Box::pin(native::read_at(driver.clone(), file, buf, max, offset)),
            None => Box::pin(async move {
                let job = crate::to_thread(move || {
                    let mut buf = buf;
                    let start = buf.len();
                    let want = (buf.capacity() - start).min(max);
                    buf.resize(start + want, 0);
                    let result = file.read_at(&mut buf[start..], offset);
                    buf.truncate(start + *result.as_ref().unwrap_or(&0));
                    (result, buf)
                });
                job.await
                    .unwrap_or_else(|e| (Err(io::Error::other(e.to_string())), Vec::new()))
            }),
        }
    }

    pub(super) fn write_op(&self, buf: Vec<u8>, offset: u64) -> Pending {
        let file = self.std.clone();
        match &self.driver {
            Some(driver) => Box::pin(native::write_at(driver.clone(), file, buf, offset)),
            None => Box::pin(async move {
                let job = crate::to_thread(move || {
                    let result = file.write_at(&buf, offset);
                    (result, buf)
                });
                job.await
                    .unwrap_or_else(|e| (Err(io::Error::other(e.to_string())), Vec::new()))
            }),
        }
    }

    /// Reads at `offset` into the spare capacity of `buf` (up to
    /// `buf.capacity() - buf.len()` bytes), extending it; returns how many
    /// bytes were read (`0` at the end of the file) and the buffer. The
    /// cursor does not move.
    ///
    /// # Examples
    /// ```
    /// use brigade::fs::File;
    ///
    /// # let dir = std::env::temp_dir().join(format!("brigade-doc-fs-readat-{}", std::process::id()));
    /// # std::fs::create_dir_all(&dir).unwrap();
    /// let path = dir.join("digits");
    /// brigade::run(async {
    ///     brigade::fs::write(&path, "0123456789").await.unwrap();
    ///     let f = File::open(&path).await.unwrap();
    ///     let (n, buf) = f.read_at(Vec::with_capacity(4), 3).await;
    ///     assert_eq!(n.unwrap(), 4);
    ///     assert_eq!(buf, b"3456");
    ///     let (n, _) = f.read_at(Vec::with_capacity(4), 10).await;
    ///     assert_eq!(n.unwrap(), 0); // the end
    /// });
    /// # std::fs::remove_dir_all(&dir).unwrap();
    /// ```
    ///
    /// # Errors
    /// The operating system's error, naming the path (`EBADF` for a file
    /// not open for reading); the buffer comes back either way.
    ///
    /// # Cancel safety
    /// Cancel-safe as to data: the file is not changed and the cursor does not
    /// move. The buffer, owned by the operation, is lost with the dropped
    /// future (the driver frees it once the kernel lets go).
    pub async fn read_at(&self, buf: Vec<u8>, offset: u64) -> (io::Result<usize>, Vec<u8>) {
        let (result, buf) = self.read_op(buf, usize::MAX, offset).await;
        (result.map_err(|e| with_path("read", &self.path, e)), buf)
    }

    /// Writes `buf` at `offset`; returns how many bytes were written and
    /// the buffer. The cursor does not move.
    ///
    /// # Examples
    /// ```
    /// use brigade::fs::OpenOptions;
    ///
    /// # let dir = std::env::temp_dir().join(format!("brigade-doc-fs-writeat-{}", std::process::id()));
    /// # std::fs::create_dir_all(&dir).unwrap();
    /// let path = dir.join("sparse");
    /// brigade::run(async {
    ///     let f = OpenOptions::new().write(true).create(true).open(&path).await.unwrap();
    ///     let (n, buf) = f.write_at(b"end".to_vec(), 5).await;
    ///     assert_eq!(n.unwrap(), 3);
    ///     assert_eq!(buf, b"end"); // handed back for reuse
    ///     assert_eq!(brigade::fs::read(&path).await.unwrap(), b"\0\0\0\0\0end");
    /// });
    /// # std::fs::remove_dir_all(&dir).unwrap();
    /// ```
    ///
    /// # Errors
    /// The operating system's error, naming the path (`ENOSPC`, a file not open
    /// for writing, ...); the buffer comes back either way. A short write is
    /// `Ok(n)` with `n < buf.len()`: see [`File::write_all_at`].
    ///
    /// # Cancel safety
    /// Not cancel-safe: a write submitted before the future was dropped may
    /// still happen, whole or in part.
    pub async fn write_at(&self, buf: Vec<u8>, offset: u64) -> (io::Result<usize>, Vec<u8>) {
        let (result, buf) = self.write_op(buf, offset).await;
        (result.map_err(|e| with_path("write", &self.path, e)), buf)
    }

    /// Writes all of `data` at `offset`.
    ///
    /// # Examples
    /// ```
    /// use brigade::fs::OpenOptions;
    ///
    /// # let dir = std::env::temp_dir().join(format!("brigade-doc-fs-wallat-{}", std::process::id()));
    /// # std::fs::create_dir_all(&dir).unwrap();
    /// let path = dir.join("big");
    /// brigade::run(async {
    ///     let f = OpenOptions::new().write(true).create(true).open(&path).await.unwrap();
    ///     let data = vec![7u8; 1 << 20];
    ///     f.write_all_at(&data, 0).await.unwrap();
    ///     assert_eq!(f.metadata().await.unwrap().len(), 1 << 20);
    /// });
    /// # std::fs::remove_dir_all(&dir).unwrap();
    /// ```
    ///
    /// # Errors
    /// The first write's error, naming the path, or `WriteZero` if the file
    /// stops accepting bytes; what was written before stays written.
    ///
    /// # Cancel safety
    /// Not cancel-safe: a dropped future may have written any prefix of `data`.
    pub async fn write_all_at(&self, data: &[u8], mut offset: u64) -> io::Result<()> {
        let mut rest = data;
        let mut buf = Vec::with_capacity(rest.len().min(CHUNK));
        while !rest.is_empty() {
            buf.clear();
            buf.extend_from_slice(&rest[..rest.len().min(CHUNK)]);
            let (result, back) = self.write_at(buf, offset).await;
            buf = back;
            match result? {
                0 => {
                    return Err(with_path(
                        "write",
                        &self.path,
                        io::Error::new(io::ErrorKind::WriteZero, "the file accepted no more bytes"),
                    ));
                }
                n => {
                    rest = &rest[n..];
                    offset += n as u64;
                }
            }
        }
        Ok(())
    }

    /// Flushes the file's data and metadata to the device (`os.fsync`),
    /// after any write still behind.
    ///
    /// # Examples
    /// ```
    /// use brigade::fs::File;
    /// use brigade::io::AsyncWriteExt;
    ///
    /// # let dir = std::env::temp_dir().join(format!("brigade-doc-fs-sync-{}", std::process::id()));
    /// # std::fs::create_dir_all(&dir).unwrap();
    /// brigade::run(async {
    ///     let mut f = File::create(dir.join("durable")).await.unwrap();
    ///     f.write_all(b"committed").await.unwrap();
    ///     f.sync_all().await.unwrap(); // the write behind, then fsync
    ///     assert_eq!(f.metadata().await.unwrap().len(), 9);
    /// });
    /// # std::fs::remove_dir_all(&dir).unwrap();
    /// ```
    ///
    /// # Errors
    /// A write behind that failed (its error is reported here), or the
    /// `fsync`'s error (`EIO`, ...), naming the path.
    ///
    /// # Cancel safety
    /// Cancel-safe: dropping the future leaves the writes behind to finish and
    /// be reported by the file's next operation; the data is just not known to
    /// be on the device.
    pub async fn sync_all(&mut self) -> io::Result<()> {
        self.sync(false).await
    }

    /// Flushes the file's data to the device (`os.fdatasync`).
    ///
    /// # Examples
    /// ```
    /// use brigade::fs::File;
    ///
    /// # let dir = std::env::temp_dir().join(format!("brigade-doc-fs-syncd-{}", std::process::id()));
    /// # std::fs::create_dir_all(&dir).unwrap();
    /// brigade::run(async {
    ///     let mut f = File::create(dir.join("wal")).await.unwrap();
    ///     f.write_all_at(b"record", 0).await.unwrap();
    ///     f.sync_data().await.unwrap();
    /// });
    /// # std::fs::remove_dir_all(&dir).unwrap();
    /// ```
    ///
    /// # Errors
    /// As [`File::sync_all`].
    ///
    /// # Cancel safety
    /// As [`File::sync_all`].
    pub async fn sync_data(&mut self) -> io::Result<()> {
        self.sync(true).await
    }

    async fn sync(&mut self, data_only: bool) -> io::Result<()> {
        std::future::poll_fn(|cx| self.poll_idle(cx)).await?;
        let result = match &self.driver {
            Some(driver) => native::fsync(driver.clone(), self.std.clone(), data_only).await,
            None => {
                let file = self.std.clone();
                blocking("sync", self.path.clone(), move |_| {
                    if data_only {
                        file.sync_data()
                    } else {
                        file.sync_all()
                    }
                })
                .await
            }
        };
        result.map_err(|e| with_path("sync", &self.path, e))
    }

    /// The file's metadata (`os.fstat`): a `statx` of the descriptor on
    /// io_uring. Writes still behind are not waited for; [`flush`] first
    /// to see their size.
    ///
    /// [`flush`]: crate::io::AsyncWriteExt::flush
    ///
    /// # Examples
    /// ```
    /// use brigade::fs::File;
    ///
    /// # let dir = std::env::temp_dir().join(format!("brigade-doc-fs-fmeta-{}", std::process::id()));
    /// # std::fs::create_dir_all(&dir).unwrap();
    /// brigade::run(async {
    ///     let f = File::create(dir.join("empty")).await.unwrap();
    ///     let m = f.metadata().await.unwrap();
    ///     assert!(m.is_file() && m.is_empty());
    /// });
    /// # std::fs::remove_dir_all(&dir).unwrap();
    /// ```
    ///
    /// # Errors
    /// The operating system's error, naming the path.
    ///
    /// # Cancel safety
    /// Cancel-safe: it only reads.
    pub async fn metadata(&self) -> io::Result<Metadata> {
        let file = self.std.clone();
        match &self.driver {
            Some(driver) => native::statx_file(driver.clone(), file)
                .await
                .map(|s| Metadata::from_statx(&s))
                .map_err(|e| with_path("stat", &self.path, e)),
            None => {
                blocking("stat", self.path.clone(), move |_| {
                    file.metadata().map(|m| Metadata::from_std(&m))
                })
                .await
            }
        }
    }

    /// Truncates or extends the file to `len` bytes, after any write still
    /// behind (`os.truncate`). On io_uring this is an `ftruncate`
    /// operation where the kernel has it (Linux 6.9+), the blocking pool
    /// otherwise. The cursor does not move. The file must be open for
    /// writing (else `InvalidInput`, naming the path). If this future is
    /// dropped, the resize still happens before the file's next operation,
    /// which reports its error (as with a write behind).
    ///
    /// ```
    /// use brigade::fs::OpenOptions;
    ///
    /// # let dir = std::env::temp_dir().join(format!("brigade-fs-setlen-{}", std::process::id()));
    /// # std::fs::create_dir_all(&dir).unwrap();
    /// let path = dir.join("sized");
    /// brigade::run(async {
    ///     let mut f = OpenOptions::new().write(true).create(true).open(&path).await.unwrap();
    ///     f.set_len(4096).await.unwrap();
    ///     assert_eq!(f.metadata().await.unwrap().len(), 4096);
    ///     f.set_len(10).await.unwrap();
    ///     assert_eq!(brigade::fs::metadata(&path).await.unwrap().len(), 10);
    /// });
    /// # std::fs::remove_dir_all(&dir).unwrap();
    /// ```
    ///
    /// # Errors
    /// `InvalidInput` if the file is not open for writing, a write behind that
    /// failed, or the operating system's error (`EFBIG`, ...), naming the path.
    ///
    /// # Cancel safety
    /// Cancel-safe in the sense above: a dropped resize still happens, in
    /// order, and its error goes to the next operation.
    pub async fn set_len(&mut self, len: u64) -> io::Result<()> {
        std::future::poll_fn(|cx| self.poll_idle(cx)).await?;
        let State::Idle(buf) = &mut self.state else {
            unreachable!("poll_idle returned with an operation in flight")
        };
        let buf = std::mem::take(buf);
        self.state = State::Resizing {
            op: self.resize_op(len),
            buf,
        };
        std::future::poll_fn(|cx| self.poll_idle(cx)).await
    }

    fn resize_op(&self, len: u64) -> Resize {
        let file = self.std.clone();
        let native = self
            .driver
            .clone()
            .filter(|d| d.supports(io_uring::opcode::Ftruncate::CODE));
        let path = self.path.clone();
        Box::pin(async move {
            if let Some(driver) = native {
                match native::ftruncate(driver, file.clone(), len).await {
                    // An old kernel, or a file system without the
                    // operation: the pool's ftruncate(2) decides.
                    Err(e) if unsupported(&e) => {}
                    result => return result,
                }
            }
            blocking("resize", path, move |_| file.set_len(len)).await
        })
    }
}

impl fmt::Debug for File {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("File")
            .field("path", &self.path)
            .field("pos", &self.pos)
            .finish()
    }
}
