//! A trace file written while the run goes on, in bounded memory.
//!
//! Events are encoded into a buffer of [`CHUNK`] bytes, which goes to the
//! file whenever it fills; so the memory a trace holds is one chunk (and the
//! names of the program's named tracks), however long the run. The first
//! write error is kept, later events are dropped, and
//! [`finish`](Stream::finish) reports the error with the file's path.

use std::fs::File;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use super::chrome;

/// How much encoded JSON waits in memory before it is written.
const CHUNK: usize = 64 * 1024;

#[derive(Debug)]
pub(super) struct Stream {
    file: Option<File>,
    path: PathBuf,
    /// Encoded events not yet written.
    pub(super) buf: Vec<u8>,
    error: Option<io::Error>,
}

impl Stream {
    /// Creates (or truncates) the file at `path` and writes the header.
    pub(super) fn create(path: &Path) -> io::Result<Stream> {
        let file = File::create(path).map_err(|e| named(path, e))?;
        let mut buf = Vec::with_capacity(CHUNK + 4096);
        buf.extend_from_slice(chrome::HEADER);
        Ok(Stream {
            file: Some(file),
            path: path.to_path_buf(),
            buf,
            error: None,
        })
    }

    /// Whether events are still wanted (not finished, no error yet).
    pub(super) fn open(&self) -> bool {
        self.file.is_some() && self.error.is_none()
    }

    /// Writes the buffer out once it holds a chunk.
    pub(super) fn flush_if_full(&mut self) {
        if self.buf.len() >= CHUNK {
            self.write_out();
        }
    }

    fn write_out(&mut self) {
        if let (Some(file), None) = (&mut self.file, &self.error) {
            if let Err(e) = file.write_all(&self.buf) {
                self.error = Some(e);
            }
        }
        self.buf.clear();
    }

    /// Closes the JSON and the file; the first error of the run, if any.
    /// Later calls do nothing and return `Ok`.
    pub(super) fn finish(&mut self) -> io::Result<()> {
        if self.file.is_none() {
            return Ok(());
        }
        self.buf.extend_from_slice(chrome::FOOTER);
        self.write_out();
        self.file = None;
        self.buf = Vec::new();
        match self.error.take() {
            Some(e) => Err(named(&self.path, e)),
            None => Ok(()),
        }
    }
}

fn named(path: &Path, e: io::Error) -> io::Error {
    io::Error::new(
        e.kind(),
        format!("cannot write trace to {}: {e}", path.display()),
    )
}
