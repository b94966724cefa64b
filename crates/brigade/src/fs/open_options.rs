//! [`OpenOptions`]: how to open a [`File`], as `std::fs::OpenOptions`.
//!
//! The options are plain flags, checked together when [`OpenOptions::open`]
//! runs: a combination that cannot be opened (no access mode; create or
//! truncate without write access; truncate with append) is an
//! `InvalidInput` error that names the path, before anything reaches the
//! kernel. The open itself is an `openat` on the io_uring driver and a
//! `std::fs::OpenOptions::open` on the blocking pool under epoll.
//!
//! Python's `open` modes map onto the flags:
//!
//! | Python | brigade |
//! |---|---|
//! | `"r"` | `read(true)` |
//! | `"w"` | `write(true).create(true).truncate(true)` |
//! | `"a"` | `append(true).create(true)` |
//! | `"x"` | `write(true).create_new(true)` |
//! | `"r+"` | `read(true).write(true)` |
//!
//! ```
//! use brigade::fs::OpenOptions;
//!
//! # let dir = std::env::temp_dir().join(format!("brigade-doc-fs-oomod-{}", std::process::id()));
//! # std::fs::create_dir_all(&dir).unwrap();
//! let path = dir.join("r-plus");
//! brigade::run(async {
//!     brigade::fs::write(&path, "hello").await.unwrap();
//!     // "r+": read and write in place, no truncation.
//!     let f = OpenOptions::new().read(true).write(true).open(&path).await.unwrap();
//!     f.write_all_at(b"J", 0).await.unwrap();
//!     let (n, buf) = f.read_at(Vec::with_capacity(8), 0).await;
//!     assert_eq!((n.unwrap(), buf.as_slice()), (5, &b"Jello"[..]));
//!
//!     // Truncating a file opened only for reading cannot be done.
//!     let e = OpenOptions::new().read(true).truncate(true).open(&path).await.unwrap_err();
//!     assert_eq!(e.kind(), std::io::ErrorKind::InvalidInput);
//! });
//! # std::fs::remove_dir_all(&dir).unwrap();
//! ```

use std::io;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

use super::error::with_path;
use super::file::File;
use super::{blocking, native, native_driver};

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
        Ok(File::from_std(std, driver, path.to_path_buf()))
    }
}
