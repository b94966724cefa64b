//! [`Metadata`]: what `stat` says about a file, from io_uring's `statx` or
//! from `std::fs::metadata` on the blocking pool.

use std::io;
use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::time::{Duration, SystemTime};

use super::error::with_path;
use super::{blocking, native, native_driver};

/// A file's size, type, permissions and times.
///
/// # Examples
/// ```
/// # let dir = std::env::temp_dir().join(format!("brigade-doc-fs-meta-{}", std::process::id()));
/// # std::fs::create_dir_all(&dir).unwrap();
/// let path = dir.join("ten");
/// brigade::run(async {
///     brigade::fs::write(&path, "0123456789").await.unwrap();
///     let m = brigade::fs::metadata(&path).await.unwrap();
///     assert_eq!(m.len(), 10);
///     assert!(m.is_file() && !m.is_dir() && !m.is_symlink());
///     assert!(m.modified() <= std::time::SystemTime::now());
/// });
/// # std::fs::remove_dir_all(&dir).unwrap();
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Metadata {
    len: u64,
    mode: u32,
    modified: SystemTime,
    accessed: SystemTime,
}

fn time(sec: i64, nsec: u32) -> SystemTime {
    if sec >= 0 {
        SystemTime::UNIX_EPOCH + Duration::new(sec as u64, nsec)
    } else {
        SystemTime::UNIX_EPOCH - Duration::from_secs(sec.unsigned_abs())
            + Duration::from_nanos(nsec as u64)
    }
}

impl Metadata {
    pub(crate) fn from_statx(s: &libc::statx) -> Metadata {
        Metadata {
            len: s.stx_size,
            mode: s.stx_mode as u32,
            modified: time(s.stx_mtime.tv_sec, s.stx_mtime.tv_nsec),
            accessed: time(s.stx_atime.tv_sec, s.stx_atime.tv_nsec),
        }
    }

    pub(crate) fn from_std(m: &std::fs::Metadata) -> Metadata {
        Metadata {
            len: m.len(),
            mode: m.mode(),
            modified: time(m.mtime(), m.mtime_nsec() as u32),
            accessed: time(m.atime(), m.atime_nsec() as u32),
        }
    }

    /// The size in bytes.
    ///
    /// # Examples
    /// ```
    /// brigade::run(async {
    ///     let m = brigade::fs::metadata("/proc/self/exe").await.unwrap();
    ///     assert!(m.len() > 0); // this doctest's own executable
    /// });
    /// ```
    pub fn len(&self) -> u64 {
        self.len
    }

    /// Whether the size is zero.
    ///
    /// # Examples
    /// ```
    /// brigade::run(async {
    ///     // /proc files report no size.
    ///     assert!(brigade::fs::metadata("/proc/self/status").await.unwrap().is_empty());
    /// });
    /// ```
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// A regular file.
    ///
    /// # Examples
    /// ```
    /// brigade::run(async {
    ///     assert!(brigade::fs::metadata("/proc/self/exe").await.unwrap().is_file());
    ///     assert!(!brigade::fs::metadata("/").await.unwrap().is_file());
    /// });
    /// ```
    pub fn is_file(&self) -> bool {
        self.mode & libc::S_IFMT == libc::S_IFREG
    }

    /// A directory.
    ///
    /// # Examples
    /// ```
    /// brigade::run(async {
    ///     assert!(brigade::fs::metadata("/tmp").await.unwrap().is_dir());
    /// });
    /// ```
    pub fn is_dir(&self) -> bool {
        self.mode & libc::S_IFMT == libc::S_IFDIR
    }

    /// A symbolic link (only from [`symlink_metadata`]).
    ///
    /// # Examples
    /// ```
    /// brigade::run(async {
    ///     // /proc/self is a link to this process's directory.
    ///     assert!(brigade::fs::symlink_metadata("/proc/self").await.unwrap().is_symlink());
    ///     assert!(!brigade::fs::metadata("/proc/self").await.unwrap().is_symlink());
    /// });
    /// ```
    pub fn is_symlink(&self) -> bool {
        self.mode & libc::S_IFMT == libc::S_IFLNK
    }

    /// The permission bits (`0o644` and so on).
    ///
    /// # Examples
    /// ```
    /// use std::fs::Permissions;
    /// use std::os::unix::fs::PermissionsExt;
    ///
    /// # let dir = std::env::temp_dir().join(format!("brigade-doc-fs-perm-{}", std::process::id()));
    /// # std::fs::create_dir_all(&dir).unwrap();
    /// let path = dir.join("shared.txt");
    /// brigade::run(async {
    ///     brigade::fs::write(&path, "x").await.unwrap();
    ///     std::fs::set_permissions(&path, Permissions::from_mode(0o640)).unwrap();
    ///     let m = brigade::fs::metadata(&path).await.unwrap();
    ///     assert_eq!(m.permissions().mode() & 0o777, 0o640);
    /// });
    /// # std::fs::remove_dir_all(&dir).unwrap();
    /// ```
    pub fn permissions(&self) -> std::fs::Permissions {
        use std::os::unix::fs::PermissionsExt;
        std::fs::Permissions::from_mode(self.mode & 0o7777)
    }

    /// The time of the last change to the contents.
    ///
    /// # Examples
    /// ```
    /// # let dir = std::env::temp_dir().join(format!("brigade-doc-fs-mtime-{}", std::process::id()));
    /// # std::fs::create_dir_all(&dir).unwrap();
    /// brigade::run(async {
    ///     brigade::fs::write(dir.join("f"), "x").await.unwrap();
    ///     let m = brigade::fs::metadata(dir.join("f")).await.unwrap();
    ///     assert!(m.modified() > std::time::SystemTime::UNIX_EPOCH);
    /// });
    /// # std::fs::remove_dir_all(&dir).unwrap();
    /// ```
    pub fn modified(&self) -> SystemTime {
        self.modified
    }

    /// The time of the last access.
    ///
    /// # Examples
    /// ```
    /// brigade::run(async {
    ///     let m = brigade::fs::metadata("/").await.unwrap();
    ///     assert!(m.accessed() > std::time::SystemTime::UNIX_EPOCH);
    /// });
    /// ```
    pub fn accessed(&self) -> SystemTime {
        self.accessed
    }
}

/// The metadata of `path`, following symbolic links (`os.stat`).
///
/// ```
/// brigade::run(async {
///     let m = brigade::fs::metadata("/").await.unwrap();
///     assert!(m.is_dir());
///     let e = brigade::fs::metadata("/no/such/file").await.unwrap_err();
///     assert_eq!(e.kind(), std::io::ErrorKind::NotFound);
///     assert!(e.to_string().contains("/no/such/file"));
/// });
/// ```
///
/// # Errors
/// `NotFound`, `PermissionDenied`, `NotADirectory` (a file used as a
/// directory) and the other operating-system errors, naming the path;
/// outside a brigade event loop, an error that says so.
///
/// # Cancel safety
/// Cancel-safe: it only reads.
pub async fn metadata(path: impl AsRef<Path>) -> io::Result<Metadata> {
    stat(path.as_ref(), false).await
}

/// The metadata of `path` itself, not following a symbolic link
/// (`os.lstat`).
///
/// # Examples
/// ```
/// brigade::run(async {
///     let link = brigade::fs::symlink_metadata("/proc/self").await.unwrap();
///     assert!(link.is_symlink());
/// });
/// ```
///
/// # Errors
/// As [`metadata`].
///
/// # Cancel safety
/// Cancel-safe: it only reads.
pub async fn symlink_metadata(path: impl AsRef<Path>) -> io::Result<Metadata> {
    stat(path.as_ref(), true).await
}

async fn stat(path: &Path, nofollow: bool) -> io::Result<Metadata> {
    match native_driver("brigade::fs::metadata")? {
        Some(driver) => native::statx(driver, path, nofollow)
            .await
            .map(|s| Metadata::from_statx(&s))
            .map_err(|e| with_path("stat", path, e)),
        None => {
            blocking("stat", path.to_path_buf(), move |p| {
                let m = if nofollow {
                    std::fs::symlink_metadata(p)?
                } else {
                    std::fs::metadata(p)?
                };
                Ok(Metadata::from_std(&m))
            })
            .await
        }
    }
}
