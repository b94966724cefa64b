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
    pub fn read(&mut self, on: bool) -> &mut OpenOptions {
        self.read = on;
        self
    }

    /// Open for writing.
    pub fn write(&mut self, on: bool) -> &mut OpenOptions {
        self.write = on;
        self
    }

    /// Every write goes to the end of the file.
    pub fn append(&mut self, on: bool) -> &mut OpenOptions {
        self.append = on;
        self
    }

    /// Empty the file on opening.
    pub fn truncate(&mut self, on: bool) -> &mut OpenOptions {
        self.truncate = on;
        self
    }

    /// Create the file if it does not exist.
    pub fn create(&mut self, on: bool) -> &mut OpenOptions {
        self.create = on;
        self
    }

    /// Create the file, failing with `AlreadyExists` if it exists.
    pub fn create_new(&mut self, on: bool) -> &mut OpenOptions {
        self.create_new = on;
        self
    }

    /// The permission bits of a created file.
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
    pub async fn open(path: impl AsRef<Path>) -> io::Result<File> {
        OpenOptions::new().read(true).open(path).await
    }

    /// Creates or truncates `path` for writing (`open(path, "w")`).
    pub async fn create(path: impl AsRef<Path>) -> io::Result<File> {
        OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .open(path)
            .await
    }

    /// The path the file was opened with.
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
    pub async fn read_at(&self, buf: Vec<u8>, offset: u64) -> (io::Result<usize>, Vec<u8>) {
        let (result, buf) = self.read_op(buf, usize::MAX, offset).await;
        (result.map_err(|e| with_path("read", &self.path, e)), buf)
    }

    /// Writes `buf` at `offset`; returns how many bytes were written and
    /// the buffer. The cursor does not move.
    pub async fn write_at(&self, buf: Vec<u8>, offset: u64) -> (io::Result<usize>, Vec<u8>) {
        let (result, buf) = self.write_op(buf, offset).await;
        (result.map_err(|e| with_path("write", &self.path, e)), buf)
    }

    /// Writes all of `data` at `offset`.
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
    pub async fn sync_all(&mut self) -> io::Result<()> {
        self.sync(false).await
    }

    /// Flushes the file's data to the device (`os.fdatasync`).
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
