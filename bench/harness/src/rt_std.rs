//! The standard library, no runtime at all:
//!
//! * `std-thread` (`threads`): `std::thread::spawn` 10,000 threads, then join
//!   them; (`threads1`): spawn one, join it, 10,000 times;
//! * `std-thread` (`echo*`): blocking sockets, one server thread and one
//!   client thread per connection;
//! * `std-fs` (`files*`): blocking `std::fs::read` of every file, one after
//!   the other, on the calling thread;
//! * `std-fs-mt` (`files*`): the same with one thread per core, each reading
//!   a contiguous share of the files — the plain program any concurrent
//!   reader has to beat;
//! * `std-thread` (`lateness`): one thread per sleeper, each sleeping with
//!   `std::thread::sleep` (`clock_nanosleep`), the floor for a blocking wait.
//!
//! Also home of [`TempFiles`], the untimed setup of `files` shared by all
//! Rust runtimes.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::os::fd::AsRawFd;
use std::path::PathBuf;

use crate::measure::{Measured, Meter, lateness_sleeper, record_lateness};
use crate::registry::Entry;
use crate::workloads::{self as w, Workload};

/// The pairs implemented here.
pub fn entries() -> Vec<Entry> {
    vec![
        Entry::run(Workload::Lateness, "std-thread", lateness),
        Entry::run(Workload::Threads, "std-thread", threads),
        Entry::run(Workload::Threads1, "std-thread", threads_one_at_a_time),
        Entry::run(Workload::Echo10, "std-thread", || echo(Workload::Echo10)),
        Entry::run(Workload::Echo, "std-thread", || echo(Workload::Echo)),
        Entry::run(Workload::Echo1000, "std-thread", || {
            echo(Workload::Echo1000)
        }),
        Entry::run(Workload::Files, "std-fs", || files(Workload::Files)),
        Entry::run(Workload::Files, "std-fs-mt", || files_mt(Workload::Files)),
        Entry::run(Workload::FilesTmpfs, "std-fs", || {
            files(Workload::FilesTmpfs)
        }),
        Entry::run(Workload::FilesTmpfs, "std-fs-mt", || {
            files_mt(Workload::FilesTmpfs)
        }),
    ]
}

fn threads_one_at_a_time() -> Measured {
    let meter = Meter::start();
    let mut sum = 0;
    for i in 0..w::THREADS {
        sum += std::thread::spawn(move || i)
            .join()
            .expect("thread panicked");
    }
    meter.finish(sum)
}

/// Sets the accept backlog of a listening socket (Linux applies a second
/// `listen` to the socket already listening).
pub fn listen_backlog(listener: &TcpListener, backlog: i32) {
    // SAFETY: the descriptor is a listening socket owned by `listener`,
    // alive for the call.
    let done = unsafe { libc::listen(listener.as_raw_fd(), backlog) };
    assert_eq!(done, 0, "listen: {}", std::io::Error::last_os_error());
}

fn echo(workload: Workload) -> Measured {
    let (connections, rounds) = w::echo_shape(workload);
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    listen_backlog(&listener, 1024);
    let addr = listener.local_addr().expect("local addr");
    let meter = Meter::start();
    let bytes = std::thread::scope(|scope| {
        scope.spawn(|| {
            for _ in 0..connections {
                let (stream, _) = listener.accept().expect("accept");
                scope.spawn(move || echo_serve(stream));
            }
        });
        let clients: Vec<_> = (0..connections)
            .map(|conn| scope.spawn(move || echo_client(addr, conn, rounds)))
            .collect();
        clients
            .into_iter()
            .map(|c| c.join().expect("client panicked"))
            .sum()
    });
    meter.finish(bytes)
}

fn echo_serve(mut stream: TcpStream) {
    stream.set_nodelay(true).expect("nodelay");
    let mut buf = [0u8; w::ECHO_MESSAGE];
    loop {
        match stream.read_exact(&mut buf) {
            Ok(()) => stream.write_all(&buf).expect("server write"),
            Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => return,
            Err(e) => panic!("server read: {e}"),
        }
    }
}

fn echo_client(addr: SocketAddr, conn: usize, rounds: usize) -> u64 {
    let mut stream = TcpStream::connect(addr).expect("connect");
    stream.set_nodelay(true).expect("nodelay");
    let mut back = [0u8; w::ECHO_MESSAGE];
    let mut bytes = 0;
    for round in 0..rounds {
        let msg = w::echo_message(conn, round);
        stream.write_all(&msg).expect("client write");
        stream.read_exact(&mut back).expect("client read");
        assert_eq!(back, msg, "echoed bytes differ");
        bytes += back.len() as u64;
    }
    bytes
}

fn lateness() -> Measured {
    let sleepers = w::lateness_delays_us();
    let meter = Meter::start();
    let results: Vec<(u64, Vec<std::time::Duration>)> = std::thread::scope(|scope| {
        let threads: Vec<_> = sleepers
            .into_iter()
            .map(|delays| {
                scope.spawn(move || {
                    // The sleeper's future never waits on anything but
                    // the blocking sleep: one poll runs it to the end.
                    let sleeper = lateness_sleeper(delays, |d| {
                        std::thread::sleep(d);
                        std::future::ready(())
                    });
                    futures_lite::future::block_on(sleeper)
                })
            })
            .collect();
        threads
            .into_iter()
            .map(|t| t.join().expect("sleeper panicked"))
            .collect()
    });
    let sum = results.iter().map(|(s, _)| s).sum();
    let measured = meter.finish(sum);
    record_lateness(results.into_iter().flat_map(|(_, l)| l).collect());
    measured
}

fn threads() -> Measured {
    let meter = Meter::start();
    let handles: Vec<_> = (0..w::THREADS)
        .map(|i| std::thread::spawn(move || i))
        .collect();
    let mut sum = 0;
    for handle in handles {
        sum += handle.join().expect("thread panicked");
    }
    meter.finish(sum)
}

fn files(workload: Workload) -> Measured {
    let files = TempFiles::create(workload);
    let meter = Meter::start();
    let contents: Vec<Vec<u8>> = files
        .paths()
        .iter()
        .map(|path| std::fs::read(path).expect("read"))
        .collect();
    let timing = meter.stop();
    timing.with_value(w::files_checksum(&contents))
}

fn files_mt(workload: Workload) -> Measured {
    read_per_core(&TempFiles::create(workload), |paths| {
        let read = |path| std::fs::read(path).expect("read");
        paths.iter().map(read).collect()
    })
}

/// Times `read_share` on one thread per core, each given a contiguous
/// share of the files, and checks what they read, in order. Shared by
/// `std-fs-mt` and `uring-bare`.
pub fn read_per_core(
    files: &TempFiles,
    read_share: impl Fn(&[PathBuf]) -> Vec<Vec<u8>> + Sync,
) -> Measured {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let meter = Meter::start();
    let share = files.paths().len().div_ceil(threads);
    let contents: Vec<Vec<u8>> = std::thread::scope(|scope| {
        let readers: Vec<_> = files
            .paths()
            .chunks(share)
            .map(|paths| scope.spawn(|| read_share(paths)))
            .collect();
        readers
            .into_iter()
            .flat_map(|r| r.join().expect("reader panicked"))
            .collect()
    });
    let timing = meter.stop();
    timing.with_value(w::files_checksum(&contents))
}

/// The 10,000 files of a files workload, in a fresh directory under
/// [`w::files_root`]; the directory is removed on drop.
pub struct TempFiles {
    dir: PathBuf,
    paths: Vec<PathBuf>,
}

impl TempFiles {
    /// Creates the directory and writes every file (untimed setup).
    pub fn create(workload: Workload) -> TempFiles {
        let dir =
            w::files_root(workload).join(format!("brigade-bench-files-{}", std::process::id()));
        if dir.exists() {
            std::fs::remove_dir_all(&dir).expect("remove stale temp dir");
        }
        std::fs::create_dir(&dir).expect("create temp dir");
        let block = w::files_block();
        let paths = (0..w::FILES)
            .map(|i| {
                let path = dir.join(format!("f{i:05}.bin"));
                std::fs::write(&path, w::file_contents(&block, i)).expect("write temp file");
                path
            })
            .collect();
        // Write the new files back now, untimed, so that the kernel's
        // writeback does not compete with the measured reads.
        // SAFETY: sync has no arguments and cannot fail.
        unsafe { libc::sync() };
        TempFiles { dir, paths }
    }

    /// The files, in index order.
    pub fn paths(&self) -> &[PathBuf] {
        &self.paths
    }
}

impl Drop for TempFiles {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
