//! Directories: [`create_dir_all`] and [`read_dir`], on the blocking pool
//! (io_uring has no operation that lists a directory, and a recursive
//! create is a walk of several system calls).

use std::collections::VecDeque;
use std::ffi::OsString;
use std::io;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::task::{Context, Poll};

use super::blocking;

/// Creates a directory and any missing parents (`os.makedirs(exist_ok=True)`).
pub async fn create_dir_all(path: impl AsRef<Path>) -> io::Result<()> {
    blocking("create directory", path.as_ref().to_path_buf(), |p| {
        std::fs::create_dir_all(p)
    })
    .await
}

/// One entry of a directory listing.
#[derive(Debug, Clone)]
pub struct DirEntry {
    path: PathBuf,
    file_name: OsString,
    file_type: std::fs::FileType,
}

impl DirEntry {
    /// The entry's full path (the directory's path joined with its name).
    pub fn path(&self) -> PathBuf {
        self.path.clone()
    }

    /// The entry's name within the directory.
    pub fn file_name(&self) -> OsString {
        self.file_name.clone()
    }

    /// The entry's type, without following a symbolic link.
    pub fn file_type(&self) -> std::fs::FileType {
        self.file_type
    }
}

/// The entries of a directory, in the order the file system gives them;
/// see [`read_dir`]. Also a `futures_core::Stream` of entries.
#[derive(Debug)]
pub struct ReadDir {
    entries: VecDeque<DirEntry>,
}

impl ReadDir {
    /// The next entry, or `None` at the end.
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
/// the blocking pool, so an error in the middle fails the call, naming the
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
