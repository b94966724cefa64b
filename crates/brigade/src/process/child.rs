//! The child side: how a fresh copy of the program becomes a worker before
//! its `main` ever runs.
//!
//! brigade places a function in the executable's `.init_array`, which the
//! C runtime calls before `main` in every program that links the process
//! module. It looks for the environment variable [`CHILD_ENV`]; in an
//! ordinary run it is absent and the function returns at once. In a child
//! it names the inherited channel (descriptor 3); the function then serves
//! the parent and exits, so the program's own `main`, or libtest's test
//! runner in a `cargo test` binary, never starts. This is why binaries,
//! examples and test binaries need no set-up at all.
//!
//! The conversation on the channel:
//! 1. the parent sends a [`Hello`]: who it is (the executable's identity and
//!    layout), whether the child is a daemon and whether it serves many
//!    calls (a pool worker) or one;
//! 2. for each call, the parent sends a [`Call`] naming the function
//!    (see [`function`](super::function)) followed by the encoded
//!    arguments; the child answers with a [`Reply`] followed by the encoded
//!    result.
//!
//! A panic is caught and answered with its message; the child then exits
//! with code 101, as a Rust program does after a panic in `main`.
//!
//! ```
//! // Nothing to write: in a child, brigade runs before `main`.
//! # let _ = brigade::process::is_child();
//! ```

use std::ffi::{OsStr, c_char, c_int};
use std::os::fd::{AsFd, FromRawFd, OwnedFd, RawFd};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicBool, Ordering};

use serde::{Deserialize, Serialize};

use super::function::{FnRef, layout_fingerprint};
use super::progress::Progress;
use super::socket::{Packet, RecvError, Socket};
use super::{forkserver, frame};
use crate::sys::{memory as sys_memory, process as sys_process, socket as sys_socket};

/// The environment variable that makes a process a brigade child.
pub const CHILD_ENV: &str = "BRIGADE_CHILD";
/// The descriptor a child finds its channel on.
pub(crate) const CHILD_FD: RawFd = 3;
/// Exit code of a child whose function panicked.
pub(crate) const PANIC_EXIT: i32 = 101;
/// Exit code of a child that could not understand its parent.
pub(crate) const PROTOCOL_EXIT: i32 = 102;
/// Freed memory a pool worker keeps for its next tasks (see
/// [`keep_freed_heap`](sys_memory::keep_freed_heap)); blocks of up to half
/// of it come from that heap.
const WORKER_KEEPS_FREED: usize = 64 << 20;

/// Who the parent is: a child refuses to run code for another executable.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct ExeId {
    dev: u64,
    ino: u64,
    len: u64,
    mtime_ns: i128,
}

impl ExeId {
    const UNKNOWN: ExeId = ExeId {
        dev: 0,
        ino: 0,
        len: 0,
        mtime_ns: 0,
    };

    pub(crate) fn current() -> std::io::Result<ExeId> {
        use std::os::unix::fs::MetadataExt;
        let m = std::fs::metadata("/proc/self/exe")?;
        Ok(ExeId {
            dev: m.dev(),
            ino: m.ino(),
            len: m.len(),
            mtime_ns: i128::from(m.mtime()) * 1_000_000_000 + i128::from(m.mtime_nsec()),
        })
    }
}

/// The first message of a conversation.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Hello {
    pub(crate) exe: ExeId,
    pub(crate) fingerprint: i64,
    pub(crate) daemon: bool,
    pub(crate) worker: bool,
    /// The limit on one message, either way (see
    /// [`DEFAULT_MAX_MESSAGE`](frame::DEFAULT_MAX_MESSAGE)).
    pub(crate) max_message: usize,
    /// The child's name, for its `current_process()`.
    pub(crate) name: String,
    /// The parent's pid and name, for the child's `parent_process()`.
    pub(crate) parent_pid: u32,
    pub(crate) parent_name: String,
    /// A pool worker: the hello's packet carries, as its one descriptor,
    /// the memory file of the worker's [`Progress`] word, where it counts
    /// the calls it starts.
    pub(crate) progress: bool,
}

impl Hello {
    pub(crate) fn new(daemon: bool, worker: bool, max_message: usize) -> std::io::Result<Hello> {
        // The parent's executable is the one it was started from: look once.
        static EXE: std::sync::OnceLock<ExeId> = std::sync::OnceLock::new();
        let exe = match EXE.get() {
            Some(exe) => exe.clone(),
            None => EXE
                .get_or_init(|| ExeId::current().unwrap_or(ExeId::UNKNOWN))
                .clone(),
        };
        if exe == ExeId::UNKNOWN {
            return Err(std::io::Error::other(
                "cannot identify the running executable",
            ));
        }
        Ok(Hello {
            exe,
            fingerprint: layout_fingerprint(),
            daemon,
            worker,
            max_message: max_message.min(frame::MAX_PAYLOAD),
            name: String::new(),
            parent_pid: std::process::id(),
            parent_name: super::identity::current_process().name().to_owned(),
            progress: false,
        })
    }

    /// Whether this process can run the parent's functions.
    pub(crate) fn check(&self) -> Result<(), String> {
        let mine = ExeId::current().map_err(|e| format!("cannot identify the executable: {e}"))?;
        if mine != self.exe {
            return Err("the child runs a different executable than its parent".into());
        }
        if layout_fingerprint() != self.fingerprint {
            return Err("the child's code layout differs from its parent's".into());
        }
        Ok(())
    }
}

/// One call: the function; the encoded argument tuple follows.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub(crate) struct Call {
    pub(crate) function: FnRef,
}

/// The answer to a call; after `Returned` comes the encoded result.
///
/// (A pool worker says nothing before it runs a call: it counts the call
/// in its [`Progress`] word instead.)
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) enum Reply {
    /// The function returned.
    Returned,
    /// The function panicked with this message.
    Panicked(String),
    /// The call could not be made.
    Refused(String),
    /// The function returned, but its encoded result (`len` bytes) is
    /// larger than the limit on one message (`max`): it was not sent.
    TooLarge { len: usize, max: usize },
}

#[used]
#[unsafe(link_section = ".init_array")]
static ENTRY: extern "C" fn(c_int, *const *const c_char, *const *const c_char) = entry;

/// Makes sure the constructor is linked into any program that starts
/// children (a static nobody names could be left out by the linker).
pub(crate) fn ensure_linked() {
    std::hint::black_box(&ENTRY);
}

static IS_CHILD: AtomicBool = AtomicBool::new(false);

/// Whether this process is a brigade child (only true while a child runs
/// its function).
///
/// # Examples
/// ```
/// use brigade::process::{Process, is_child};
///
/// fn where_am_i() -> bool {
///     is_child()
/// }
///
/// assert!(!is_child());
/// let mut p = Process::new(where_am_i, ());
/// p.start().unwrap();
/// assert!(p.join().unwrap());
/// ```
pub fn is_child() -> bool {
    IS_CHILD.load(Ordering::Relaxed)
}

extern "C" fn entry(_argc: c_int, _argv: *const *const c_char, _envp: *const *const c_char) {
    let Some(value) = std::env::var_os(CHILD_ENV) else {
        // Not a local child; perhaps a cluster worker (which never returns).
        #[cfg(feature = "cluster")]
        super::cluster::take_over();
        return;
    };
    // SAFETY: this runs from .init_array, before `main` and before any
    // thread of this process could exist (nothing has run yet that could
    // have started one), so no other thread reads the environment.
    unsafe { std::env::remove_var(CHILD_ENV) };
    take_over(&value);
}

/// The same as the start-up entry, for [`init`](super::init) at the top of
/// `main`, in case a linker dropped the entry: if the variable is still
/// there, the entry did not run. (The variable is left in place: removing
/// it is only sound while no other thread runs, which `main` cannot know;
/// brigade's own children never inherit it either way.)
pub(crate) fn take_over_late() {
    if let Some(value) = std::env::var_os(CHILD_ENV) {
        take_over(&value);
    }
}

/// Serves the parent if descriptor 3 is really a channel; never returns
/// then. Otherwise returns, and the program runs as usual.
fn take_over(value: &OsStr) {
    if !sys_socket::is_seqpacket(CHILD_FD) {
        // Set by hand, or inherited by a program brigade did not start:
        // this is no child of ours, so run the program normally.
        eprintln!(
            "brigade: {CHILD_ENV} is set but descriptor 3 is not a brigade channel; ignoring it"
        );
        return;
    }
    match value.to_str() {
        Some("spawn") => serve_inherited(),
        Some("forkserver") => forkserver::serve(take_channel()),
        _ => eprintln!("brigade: ignoring unknown {CHILD_ENV}={value:?}"),
    }
}

/// The channel the parent left on descriptor 3.
pub(crate) fn take_channel() -> OwnedFd {
    // SAFETY: the parent's posix_spawn placed our channel on descriptor 3
    // and it is owned by nothing else in this fresh process.
    let fd = unsafe { OwnedFd::from_raw_fd(CHILD_FD) };
    // The function's own children must not inherit it.
    let _ = sys_process::set_cloexec(fd.as_fd());
    fd
}

pub(crate) fn serve_inherited() -> ! {
    serve(take_channel(), Identity::Unverified)
}

/// Whether a child still has to check that it runs its parent's program.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Identity {
    /// A fresh `exec`: it might be another build of the program.
    Unverified,
    /// A fork of the forkserver, which made that check (and set up what
    /// every child needs, such as ignoring `SIGPIPE`) when it started: a
    /// copy of it runs the same code.
    Inherited,
}

/// Serves the parent on `channel` and exits.
pub(crate) fn serve(channel: OwnedFd, identity: Identity) -> ! {
    IS_CHILD.store(true, Ordering::Relaxed);
    if identity == Identity::Unverified {
        // (A fork inherits the forkserver's.)
        sys_process::ignore_sigpipe();
    }
    let socket = Socket::from_fd(channel);
    let mut first = match socket.recv(None) {
        Ok(m) => m,
        Err(RecvError::Closed) => finish(0),
        Err(e) => refuse(&socket, format!("{e:?}")),
    };
    // The hello, and after it in the same packet, for a one-shot child, the
    // call.
    let (hello, call_len) = match frame::take_from_payload::<Hello>(&first.payload) {
        Ok((hello, rest)) => (hello, rest.len()),
        Err(e) => refuse(&socket, e.to_string()),
    };
    if identity == Identity::Unverified {
        if let Err(why) = hello.check() {
            refuse(&socket, why);
        }
    }
    super::identity::set_child_identity(
        hello.name.clone(),
        hello.daemon,
        hello.parent_pid,
        hello.parent_name.clone(),
    );
    if hello.daemon {
        watch_parent(&socket);
    }
    let progress = if hello.progress {
        let word = match first.fds.pop() {
            Some(fd) if first.fds.is_empty() => Progress::from_fd(fd),
            _ => Err(std::io::Error::other("expected one descriptor")),
        };
        match word {
            Ok(word) => Some(word),
            Err(e) => refuse(&socket, format!("no progress word: {e}")),
        }
    } else {
        None
    };
    if hello.worker {
        // A worker runs task after task, mostly of one size: it keeps the
        // memory one task frees for the next, rather than giving it back
        // and faulting it in again a page at a time.
        sys_memory::keep_freed_heap(WORKER_KEEPS_FREED);
    }
    // The calls taken so far, as the progress word counts them.
    let mut calls = 0;
    let mut pending = (call_len > 0).then(|| {
        first.payload.drain(..first.payload.len() - call_len);
        first
    });
    let max = hello.max_message;
    loop {
        let message = match pending
            .take()
            .map_or_else(|| socket.recv_max(None, max), Ok)
        {
            Ok(m) => m,
            Err(RecvError::Closed) => finish(0),
            Err(e) => refuse(&socket, format!("bad message from the parent: {e:?}")),
        };
        let (call, args) = match frame::take_from_payload::<Call>(&message.payload) {
            Ok(x) => x,
            Err(e) => refuse(&socket, e.to_string()),
        };
        calls += 1;
        if let Some(progress) = &progress {
            // From here on, a death fails this call rather than handing
            // it to another worker.
            progress.start(calls);
        }
        let outcome = catch_unwind(AssertUnwindSafe(|| call.function.call(args, message.fds)));
        let panicked = outcome.is_err();
        let (reply, mut encoded) = match outcome {
            Ok(Ok(encoded)) => (Reply::Returned, encoded),
            Ok(Err(why)) => (Reply::Refused(why), Default::default()),
            Err(payload) => (
                Reply::Panicked(panic_message(&*payload)),
                Default::default(),
            ),
        };
        let tag = frame::to_payload(&reply).unwrap_or_default();
        let sent = if tag.len() + encoded.bytes.len() > max {
            // Said instead of sent: the parent would refuse it anyway.
            let too_large = Reply::TooLarge {
                len: encoded.bytes.len(),
                max,
            };
            drop(encoded);
            socket.send(&frame::to_payload(&too_large).unwrap_or_default(), &[])
        } else {
            // The tag goes into the packet, and the value's encoding is
            // its body, sent where it lies.
            let fds = encoded.raw_fds();
            Packet::framed(&[&tag], std::mem::take(&mut encoded.bytes), &fds)
                .and_then(|packet| socket.send_packet(&packet, false))
        };
        if sent.is_err() {
            // The parent is gone or gave up on us.
            finish(PROTOCOL_EXIT);
        }
        if !hello.worker {
            finish(if panicked { PANIC_EXIT } else { 0 });
        }
        // A pool worker lives on after a panic, as a Python worker does
        // after an exception: its state is its own.
    }
}

/// Ends the child as Python's children end (`os._exit` after the
/// function): buffered output is flushed, but no `atexit` handler or
/// destructor of the parent's program runs, since none of it was set up
/// for the child.
fn finish(code: i32) -> ! {
    use std::io::Write;
    let _ = std::io::stdout().flush();
    let _ = std::io::stderr().flush();
    sys_process::exit_now(code)
}

/// Sets up, once in the forkserver, what every child touches first, so
/// that each fork inherits it ready instead of paying for it (the first
/// touch of a lazily made value costs a child allocations and page
/// faults): stdout's buffer, which [`finish`] flushes, the tables of
/// descriptors that travel in messages, and where the executable lies,
/// which every call checks.
pub(crate) fn prepare_for_forks() {
    use std::io::Write;
    let _ = std::io::stdout().flush();
    let _ = std::io::stderr().flush();
    super::transfer::prepare();
    let _ = sys_process::executable_span();
}

fn refuse(socket: &Socket, why: String) -> ! {
    if let Ok(bytes) = frame::to_payload(&Reply::Refused(why)) {
        let _ = socket.send(&bytes, &[]);
    }
    finish(PROTOCOL_EXIT)
}

/// A daemon child dies with its parent: a thread waits for the parent's end
/// of the channel to close (which happens when the parent process ends,
/// however it ends) and kills this process.
fn watch_parent(socket: &Socket) {
    let Ok(fd) = sys_process::dup(socket.as_fd()) else {
        return;
    };
    let _ = std::thread::Builder::new()
        .name("brigade-parent-watch".into())
        .spawn(move || {
            sys_socket::wait_hangup(fd.as_fd());
            sys_process::kill_self();
        });
}

/// The text of a panic payload.
pub(crate) fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "Box<dyn Any>".to_string()
    }
}

/// The environment for a child: ours, plus the marker.
pub(crate) fn child_env(mode: &str) -> Vec<std::ffi::CString> {
    use std::os::unix::ffi::OsStrExt;
    let mut env: Vec<std::ffi::CString> = std::env::vars_os()
        .filter(|(k, _)| k != OsStr::new(CHILD_ENV))
        .filter_map(|(k, v)| {
            let mut kv = k.as_bytes().to_vec();
            kv.push(b'=');
            kv.extend_from_slice(v.as_bytes());
            std::ffi::CString::new(kv).ok()
        })
        .collect();
    env.push(std::ffi::CString::new(format!("{CHILD_ENV}={mode}")).expect("no nul"));
    env
}
