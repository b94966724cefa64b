//! [`File`] and [`OpenOptions`]: an open file on the event loop.
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
//!   the `File` is dropped completes anyway.

use std::fmt;
use std::future::Future;
use std::io::{self, SeekFrom};
use std::os::unix::fs::{FileExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::rc::Rc;
use std::sync::Arc;
use std::task::{Context, Poll, ready};

use futures_io::{AsyncRead, AsyncSeek, AsyncWrite};

use super::error::with_path;
use super::metadata::Metadata;
use super::{blocking, native, native_driver, unsupported};
use crate::io::driver::Driver;

/// The most one cursor operation moves at once.
const CHUNK: usize = 256 * 1024;

/// How to open a file, as `std::fs::OpenOptions` (and Python's `open`
/// modes: `"r"` is `read(true)`, `"w"` is `write(true).create(true).truncate(true)`,
/// `"a"` is `append(true).create(true)`, `"x"` is `write(true).create_new(true)`).
///
/// # Examples
/// Python's `open(path, "a")`:
/// ```
/// use brigade::fs::OpenOptions;
///
/// # let dir = std::env::temp_dir().join(format!("brigade-doc-fs-oo-{}", std::process::id()));
/// # std::fs::create_dir_all(&dir).unwrap();
/// let path = dir.join("log.txt");
/// brigade::run(async {
///     for line in ["one\n", "two\n"] {
///         let f = OpenOptions::new().append(true).create(true).open(&path).await.unwrap();
///         f.write_all_at(line.as_bytes(), 0).await.unwrap(); // appends whatever the offset
///     }
///     assert_eq!(brigade::fs::read_to_string(&path).await.unwrap(), "one\ntwo\n");
/// });
/// # std::fs::remove_dir_all(&dir).unwrap();
/// ```
#[derive(Debug, Clone)]
pub struct OpenOptions {
    read: bool,
    write: bool,
    append: bool,
    truncate: bool,
    create: bool,
    create_new: bool,
    mode: u32,
}

impl Default for OpenOptions {
    fn default() -> OpenOptions {
        OpenOptions::new()
    }
}

impl OpenOptions {
    /// All options off; mode `0o666` (before the umask).
    ///
    /// # Examples
    /// ```
    /// use brigade::fs::OpenOptions;
    ///
    /// brigade::run(async {
    ///     // Nothing asked for: there is no way to open the file.
    ///     let e = OpenOptions::new().open("/").await.unwrap_err();
    ///     assert_eq!(e.kind(), std::io::ErrorKind::InvalidInput);
    /// });
    /// ```
    pub fn new() -> OpenOptions {
        OpenOptions {
            read: false,
            write: false,
            append: false,
            truncate: false,
            create: false,
            create_new: false,
            mode: 0o666,
        }
    }

    /// Open for reading.
    ///
    /// # Examples
    /// ```
    /// use brigade::fs::OpenOptions;
    ///
    /// brigade::run(async {
    ///     let f = OpenOptions::new().read(true).open("/proc/self/status").await.unwrap();
    ///     let (n, buf) = f.read_at(Vec::with_capacity(64), 0).await;
    ///     assert!(n.unwrap() > 0 && buf.starts_with(b"Name:"));
    /// });
    /// ```
    pub fn read(&mut self, on: bool) -> &mut OpenOptions {
        self.read = on;
        self
    }

    /// Open for writing.
    ///
    /// # Examples
    /// ```
    /// use brigade::fs::OpenOptions;
    ///
    /// # let dir = std::env::temp_dir().join(format!("brigade-doc-fs-oow-{}", std::process::id()));
    /// # std::fs::create_dir_all(&dir).unwrap();
    /// let path = dir.join("data");
    /// brigade::run(async {
    ///     brigade::fs::write(&path, "abcdef").await.unwrap();
    ///     // Writing without truncating overwrites in place.
    ///     let f = OpenOptions::new().write(true).open(&path).await.unwrap();
    ///     f.write_all_at(b"XY", 2).await.unwrap();
    ///     assert_eq!(brigade::fs::read(&path).await.unwrap(), b"abXYef");
    /// });
    /// # std::fs::remove_dir_all(&dir).unwrap();
    /// ```
    pub fn write(&mut self, on: bool) -> &mut OpenOptions {
        self.write = on;
        self
    }

    /// Every write goes to the end of the file.
    ///
    /// # Examples
    /// ```
    /// use brigade::fs::OpenOptions;
    ///
    /// # let dir = std::env::temp_dir().join(format!("brigade-doc-fs-ooa-{}", std::process::id()));
    /// # std::fs::create_dir_all(&dir).unwrap();
    /// let path = dir.join("journal");
    /// brigade::run(async {
    ///     brigade::fs::write(&path, "a").await.unwrap();
    ///     let f = OpenOptions::new().append(true).open(&path).await.unwrap();
    ///     f.write_all_at(b"b", 0).await.unwrap();
    ///     assert_eq!(brigade::fs::read(&path).await.unwrap(), b"ab");
    /// });
    /// # std::fs::remove_dir_all(&dir).unwrap();
    /// ```
    pub fn append(&mut self, on: bool) -> &mut OpenOptions {
        self.append = on;
        self
    }

    /// Empty the file on opening.
    ///
    /// # Examples
    /// ```
    /// use brigade::fs::OpenOptions;
    ///
    /// # let dir = std::env::temp_dir().join(format!("brigade-doc-fs-oot-{}", std::process::id()));
    /// # std::fs::create_dir_all(&dir).unwrap();
    /// let path = dir.join("cache");
    /// brigade::run(async {
    ///     brigade::fs::write(&path, "stale").await.unwrap();
    ///     let f = OpenOptions::new().write(true).truncate(true).open(&path).await.unwrap();
    ///     assert_eq!(f.metadata().await.unwrap().len(), 0);
    /// });
    /// # std::fs::remove_dir_all(&dir).unwrap();
    /// ```
    pub fn truncate(&mut self, on: bool) -> &mut OpenOptions {
        self.truncate = on;
        self
    }

    /// Create the file if it does not exist.
    ///
    /// # Examples
    /// ```
    /// use brigade::fs::OpenOptions;
    ///
    /// # let dir = std::env::temp_dir().join(format!("brigade-doc-fs-ooc-{}", std::process::id()));
    /// # std::fs::create_dir_all(&dir).unwrap();
    /// let path = dir.join("new");
    /// brigade::run(async {
    ///     OpenOptions::new().write(true).create(true).open(&path).await.unwrap();
    ///     assert!(brigade::fs::metadata(&path).await.unwrap().is_file());
    /// });
    /// # std::fs::remove_dir_all(&dir).unwrap();
    /// ```
    pub fn create(&mut self, on: bool) -> &mut OpenOptions {
        self.create = on;
        self
    }

    /// Create the file, failing with `AlreadyExists` if it exists.
    ///
    /// # Examples
    /// Python's `open(path, "x")`:
    /// ```
    /// use brigade::fs::OpenOptions;
    ///
    /// # let dir = std::env::temp_dir().join(format!("brigade-doc-fs-oocn-{}", std::process::id()));
    /// # std::fs::create_dir_all(&dir).unwrap();
    /// let path = dir.join("lockfile");
    /// brigade::run(async {
    ///     let mut opts = OpenOptions::new();
    ///     opts.write(true).create_new(true);
    ///     opts.open(&path).await.unwrap();
    ///     let e = opts.open(&path).await.unwrap_err();
    ///     assert_eq!(e.kind(), std::io::ErrorKind::AlreadyExists);
    /// });
    /// # std::fs::remove_dir_all(&dir).unwrap();
    /// ```
    pub fn create_new(&mut self, on: bool) -> &mut OpenOptions {
        self.create_new = on;
        self
    }

    /// The permission bits of a created file.
    ///
    /// # Examples
    /// ```
    /// use brigade::fs::OpenOptions;
    /// use std::os::unix::fs::PermissionsExt;
    ///
    /// # let dir = std::env::temp_dir().join(format!("brigade-doc-fs-oom-{}", std::process::id()));
    /// # std::fs::create_dir_all(&dir).unwrap();
    /// let path = dir.join("secret");
    /// brigade::run(async {
    ///     OpenOptions::new().write(true).create(true).mode(0o600).open(&path).await.unwrap();
    ///     let mode = brigade::fs::metadata(&path).await.unwrap().permissions().mode();
    ///     assert_eq!(mode & 0o077, 0); // nobody else may read it, whatever the umask
    /// });
    /// # std::fs::remove_dir_all(&dir).unwrap();
    /// ```
    pub fn mode(&mut self, mode: u32) -> &mut OpenOptions {
        self.mode = mode;
        self
    }

    fn flags(&self) -> io::Result<i32> {
        let writes = self.write || self.append;
        let mut flags = match (self.read, writes) {
            (true, false) => libc::O_RDONLY,
            (false, true) => libc::O_WRONLY,
            (true, true) => libc::O_RDWR,
            (false, false) => {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidInput,
                    "open a file for reading, writing or appending",
                ));
            }
        };
        if (self.create || self.create_new || self.truncate) && !writes {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "creating or truncating a file needs write or append access",
            ));
        }
        if self.truncate && self.append {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "a file cannot be opened to both truncate and append",
            ));
        }
        if self.append {
            flags |= libc::O_APPEND;
        }
        if self.create_new {
            flags |= libc::O_CREAT | libc::O_EXCL;
        } else if self.create {
            flags |= libc::O_CREAT;
        }
        if self.truncate {
            flags |= libc::O_TRUNC;
        }
        Ok(flags)
    }

    /// Opens `path`. Errors name the path and keep their kind
    /// (`NotFound`, `PermissionDenied`, `AlreadyExists`, ...).
    ///
    /// # Examples
    /// ```
    /// use brigade::fs::OpenOptions;
    ///
    /// brigade::run(async {
    ///     let e = OpenOptions::new().read(true).open("/no/such/file").await.unwrap_err();
    ///     assert_eq!(e.kind(), std::io::ErrorKind::NotFound);
    ///     assert!(e.to_string().contains("/no/such/file"));
    /// });
    /// ```
    ///
    /// # Errors
    /// `InvalidInput` for options that cannot go together (no access mode;
    /// create or truncate without write access; truncate with append); else the
    /// operating system's error (`NotFound`, `AlreadyExists`,
    /// `PermissionDenied`, ...), naming the path; outside a brigade event loop,
    /// an error that says so.
    ///
    /// # Cancel safety
    /// Cancel-safe: a file opened after the future was dropped is closed by the
    /// driver, and nothing is lost (a file that `create` made stays, empty).
    pub async fn open(&self, path: impl AsRef<Path>) -> io::Result<File> {
        let path = path.as_ref();
        let flags = self.flags().map_err(|e| with_path("open", path, e))?;
        let driver = native_driver("brigade::fs::OpenOptions::open")?;
        let std = match &driver {
            Some(driver) => native::open(driver.clone(), path, flags, self.mode)
                .await
                .map_err(|e| with_path("open", path, e))?,
            None => {
                let opts = self.clone();
                blocking("open", path.to_path_buf(), move |p| {
                    std::fs::OpenOptions::new()
                        .read(opts.read)
                        .write(opts.write)
                        .append(opts.append)
                        .truncate(opts.truncate)
                        .create(opts.create)
                        .create_new(opts.create_new)
                        .mode(opts.mode)
                        .open(p)
                })
                .await?
            }
        };
        Ok(File {
            std: Arc::new(std),
            driver,
            path: path.to_path_buf(),
            pos: 0,
            state: State::Idle(Vec::new()),
        })
    }
}

type Pending = Pin<Box<dyn Future<Output = (io::Result<usize>, Vec<u8>)>>>;
type Resize = Pin<Box<dyn Future<Output = io::Result<()>>>>;

enum State {
    Idle(Vec<u8>),
    Reading(Pending),
    /// A write behind: `len` bytes submitted at `offset`.
    Writing {
        op: Pending,
        len: usize,
        offset: u64,
    },
    /// A `set_len`, held here so that one whose future was dropped still
    /// finishes before the file's next operation (never after a later
    /// `set_len` or write), as a write behind does. `buf` is the idle
    /// buffer, kept for the next operation.
    Resizing {
        op: Resize,
        buf: Vec<u8>,
    },
}

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
    std: Arc<std::fs::File>,
    driver: Option<Rc<Driver>>,
    path: PathBuf,
    pos: u64,
    state: State,
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

    fn read_op(&self, buf: Vec<u8>, max: usize, offset: u64) -> Pending {
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

    fn write_op(&self, buf: Vec<u8>, offset: u64) -> Pending {
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

    /// Waits for the operation in flight, if any; reports a failed write
    /// or resize.
    fn poll_idle(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        loop {
            match &mut self.state {
                State::Idle(_) => return Poll::Ready(Ok(())),
                State::Resizing { op, buf } => {
                    let result = ready!(op.as_mut().poll(cx));
                    self.state = State::Idle(std::mem::take(buf));
                    return Poll::Ready(result.map_err(|e| with_path("resize", &self.path, e)));
                }
                State::Reading(op) => {
                    // A read nobody waits for any more: its bytes are
                    // dropped (the cursor only moves when they are taken).
                    let (_, buf) = ready!(op.as_mut().poll(cx));
                    self.state = State::Idle(buf);
                }
                State::Writing { op, len, offset } => {
                    let (result, mut buf) = ready!(op.as_mut().poll(cx));
                    let (len, offset) = (*len, *offset);
                    match result {
                        Ok(n) if n < len && n > 0 => {
                            // A short write: the rest goes out next.
                            buf.drain(..n);
                            let op = self.write_op(buf, offset + n as u64);
                            self.state = State::Writing {
                                op,
                                len: len - n,
                                offset: offset + n as u64,
                            };
                        }
                        Ok(0) if len > 0 => {
                            self.state = State::Idle(buf);
                            return Poll::Ready(Err(with_path(
                                "write",
                                &self.path,
                                io::Error::new(
                                    io::ErrorKind::WriteZero,
                                    "the file accepted no more bytes",
                                ),
                            )));
                        }
                        Ok(_) => self.state = State::Idle(buf),
                        Err(e) => {
                            self.state = State::Idle(buf);
                            return Poll::Ready(Err(with_path("write", &self.path, e)));
                        }
                    }
                }
            }
        }
    }
}

impl AsyncRead for File {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        dst: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        if dst.is_empty() {
            return Poll::Ready(Ok(0));
        }
        loop {
            match &mut this.state {
                State::Writing { .. } | State::Resizing { .. } => ready!(this.poll_idle(cx))?,
                State::Idle(buf) => {
                    let mut buf = std::mem::take(buf);
                    buf.clear();
                    let want = dst.len().min(CHUNK);
                    buf.reserve(want);
                    this.state = State::Reading(this.read_op(buf, want, this.pos));
                }
                State::Reading(op) => {
                    let (result, buf) = ready!(op.as_mut().poll(cx));
                    let copied = match &result {
                        Ok(n) => {
                            let k = (*n).min(dst.len()).min(buf.len());
                            dst[..k].copy_from_slice(&buf[..k]);
                            k
                        }
                        Err(_) => 0,
                    };
                    this.state = State::Idle(buf);
                    return Poll::Ready(match result {
                        Ok(_) => {
                            this.pos += copied as u64;
                            Ok(copied)
                        }
                        Err(e) => Err(with_path("read", &this.path, e)),
                    });
                }
            }
        }
    }
}

impl AsyncWrite for File {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        src: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        ready!(this.poll_idle(cx))?;
        if src.is_empty() {
            return Poll::Ready(Ok(0));
        }
        let State::Idle(buf) = &mut this.state else {
            unreachable!("poll_idle returned with an operation in flight")
        };
        let mut buf = std::mem::take(buf);
        buf.clear();
        let n = src.len().min(CHUNK);
        buf.extend_from_slice(&src[..n]);
        let offset = this.pos;
        this.state = State::Writing {
            op: this.write_op(buf, offset),
            len: n,
            offset,
        };
        this.pos += n as u64;
        Poll::Ready(Ok(n))
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.get_mut().poll_idle(cx)
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.get_mut().poll_idle(cx)
    }
}

impl AsyncSeek for File {
    /// Moves the cursor. `SeekFrom::End` asks the kernel for the file's
    /// size (an `fstat`, which does not wait for the disk).
    fn poll_seek(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        to: SeekFrom,
    ) -> Poll<io::Result<u64>> {
        let this = self.get_mut();
        ready!(this.poll_idle(cx))?;
        let base_and_delta = match to {
            SeekFrom::Start(n) => {
                this.pos = n;
                return Poll::Ready(Ok(n));
            }
            SeekFrom::Current(d) => (this.pos, d),
            SeekFrom::End(d) => {
                let len = this
                    .std
                    .metadata()
                    .map_err(|e| with_path("stat", &this.path, e))?
                    .len();
                (len, d)
            }
        };
        match base_and_delta.0.checked_add_signed(base_and_delta.1) {
            Some(pos) => {
                this.pos = pos;
                Poll::Ready(Ok(pos))
            }
            None => Poll::Ready(Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "seek to a negative or overflowing position",
            ))),
        }
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
