//! System calls for private `AF_UNIX` socketpairs: sequenced packets with
//! descriptors attached (`SCM_RIGHTS`), and waiting on descriptors.
//!
//! Sockets are created `CLOEXEC`, sends never raise `SIGPIPE`
//! (`MSG_NOSIGNAL`), and received descriptors arrive `CLOEXEC`
//! (`MSG_CMSG_CLOEXEC`), so nothing here leaks into a child.
//!
//! ```ignore
//! let (a, b) = sys::socket::seqpacket_pair()?;
//! sys::socket::send_parts(a.as_fd(), &[b"h", b"i"], &[], false)?;
//! ```

use std::ffi::{c_int, c_void};
use std::io;
use std::os::fd::{AsRawFd, BorrowedFd, OwnedFd, RawFd};
use std::ptr;
use std::time::{Duration, Instant};

use super::{cvt, owned};

/// A connected pair of `AF_UNIX` `SOCK_SEQPACKET` sockets: every `send` is
/// delivered whole by one `recv`, so several readers never split a message.
pub(crate) fn seqpacket_pair() -> io::Result<(OwnedFd, OwnedFd)> {
    let mut fds = [0 as c_int; 2];
    // SAFETY: `fds` is a valid, writable array of two ints.
    cvt(unsafe {
        libc::socketpair(
            libc::AF_UNIX,
            libc::SOCK_SEQPACKET | libc::SOCK_CLOEXEC,
            0,
            fds.as_mut_ptr(),
        )
    })?;
    Ok((owned(fds[0]), owned(fds[1])))
}

/// Waits until `fd` is readable (or hung up) or `timeout` passes; returns
/// whether it is. `None` waits for ever.
pub(crate) fn poll_readable(fd: BorrowedFd<'_>, timeout: Option<Duration>) -> io::Result<bool> {
    let deadline = timeout.map(|t| Instant::now() + t);
    loop {
        let ms = match deadline {
            None => -1,
            Some(d) => {
                let left = d.saturating_duration_since(Instant::now());
                // Round up so that a short wait never becomes a busy loop.
                left.as_micros().div_ceil(1000).min(i32::MAX as u128) as c_int
            }
        };
        let mut pfd = libc::pollfd {
            fd: fd.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        };
        // SAFETY: one valid pollfd.
        let rc = unsafe { libc::poll(&mut pfd, 1, ms) };
        match rc {
            -1 => {
                let err = io::Error::last_os_error();
                if err.kind() != io::ErrorKind::Interrupted {
                    return Err(err);
                }
            }
            0 => {
                if deadline.is_some_and(|d| Instant::now() >= d) {
                    return Ok(false);
                }
            }
            _ => return Ok(true),
        }
    }
}

/// Blocks until the peer of `fd` has closed its end (`POLLHUP`).
pub(crate) fn wait_hangup(fd: BorrowedFd<'_>) {
    loop {
        let mut pfd = libc::pollfd {
            fd: fd.as_raw_fd(),
            events: 0,
            revents: 0,
        };
        // SAFETY: one valid pollfd.
        let rc = unsafe { libc::poll(&mut pfd, 1, -1) };
        if rc > 0 && pfd.revents & (libc::POLLHUP | libc::POLLERR | libc::POLLNVAL) != 0 {
            return;
        }
    }
}

/// Most descriptors one message carries (the kernel's `SCM_MAX_FD` is 253).
pub(crate) const MAX_FDS: usize = 64;

/// Sends one message with `fds` attached; never raises `SIGPIPE`.
/// `nonblocking` turns a full socket buffer into `WouldBlock`. (brigade
/// itself sends with [`send_parts`]; this one-part form serves tests.)
#[cfg(test)]
pub(crate) fn send(
    fd: BorrowedFd<'_>,
    bytes: &[u8],
    fds: &[RawFd],
    nonblocking: bool,
) -> io::Result<()> {
    send_parts(fd, &[bytes], fds, nonblocking)
}

/// Most parts [`send_parts`] gathers into one message.
pub(crate) const MAX_PARTS: usize = 4;

/// Sends the concatenation of `parts` as one message, gathered by the
/// kernel (`sendmsg` with one `iovec` per part), so that a header and a
/// payload kept apart are never joined in a buffer first. As [`send`]
/// otherwise; more than [`MAX_PARTS`] parts is `InvalidInput`.
pub(crate) fn send_parts(
    fd: BorrowedFd<'_>,
    parts: &[&[u8]],
    fds: &[RawFd],
    nonblocking: bool,
) -> io::Result<()> {
    if fds.len() > MAX_FDS {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "too many descriptors in one message",
        ));
    }
    if parts.len() > MAX_PARTS {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "too many parts in one message",
        ));
    }
    let mut iov = [libc::iovec {
        iov_base: ptr::null_mut(),
        iov_len: 0,
    }; MAX_PARTS];
    for (slot, part) in iov.iter_mut().zip(parts) {
        slot.iov_base = part.as_ptr().cast_mut().cast::<c_void>();
        slot.iov_len = part.len();
    }
    let mut control = [0u64; 64];
    // SAFETY: zeroed msghdr is a valid empty header.
    let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
    msg.msg_iov = iov.as_mut_ptr();
    msg.msg_iovlen = parts.len();
    if !fds.is_empty() {
        let payload = std::mem::size_of_val(fds) as u32;
        // SAFETY: CMSG_SPACE is arithmetic; `control` (512 bytes) holds the
        // space for MAX_FDS descriptors (24 + 256 bytes), and the cmsg
        // pointer returned by CMSG_FIRSTHDR points into it.
        unsafe {
            msg.msg_control = control.as_mut_ptr().cast::<c_void>();
            msg.msg_controllen = libc::CMSG_SPACE(payload) as usize;
            let cmsg = libc::CMSG_FIRSTHDR(&msg);
            (*cmsg).cmsg_level = libc::SOL_SOCKET;
            (*cmsg).cmsg_type = libc::SCM_RIGHTS;
            (*cmsg).cmsg_len = libc::CMSG_LEN(payload) as usize;
            ptr::copy_nonoverlapping(
                fds.as_ptr().cast::<u8>(),
                libc::CMSG_DATA(cmsg),
                payload as usize,
            );
        }
    }
    let mut flags = libc::MSG_NOSIGNAL;
    if nonblocking {
        flags |= libc::MSG_DONTWAIT;
    }
    loop {
        // SAFETY: `msg` points at `iov` and `control`, both alive; each
        // used `iov` entry points at a part borrowed for this call.
        let rc = unsafe { libc::sendmsg(fd.as_raw_fd(), &msg, flags) };
        if rc >= 0 {
            return Ok(());
        }
        let err = io::Error::last_os_error();
        if err.kind() != io::ErrorKind::Interrupted {
            return Err(err);
        }
    }
}

/// What one `recv` returned.
pub(crate) struct Received {
    /// Bytes written into the buffer; 0 means the peer has closed.
    pub(crate) len: usize,
    /// The message did not fit the buffer and was cut.
    pub(crate) truncated: bool,
    /// Descriptors that came with it (CLOEXEC).
    pub(crate) fds: Vec<OwnedFd>,
}

/// Receives one message into `buf`. `nonblocking` turns "nothing yet" into
/// `WouldBlock`.
pub(crate) fn recv(fd: BorrowedFd<'_>, buf: &mut [u8], nonblocking: bool) -> io::Result<Received> {
    let mut iov = libc::iovec {
        iov_base: buf.as_mut_ptr().cast::<c_void>(),
        iov_len: buf.len(),
    };
    let mut control = [0u64; 64];
    // SAFETY: zeroed msghdr is a valid empty header.
    let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
    msg.msg_iov = &mut iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control.as_mut_ptr().cast::<c_void>();
    msg.msg_controllen = std::mem::size_of_val(&control);
    let mut flags = libc::MSG_CMSG_CLOEXEC;
    if nonblocking {
        flags |= libc::MSG_DONTWAIT;
    }
    let len = loop {
        // SAFETY: `msg` points at `iov` (into `buf`) and `control`.
        let rc = unsafe { libc::recvmsg(fd.as_raw_fd(), &mut msg, flags) };
        if rc >= 0 {
            break rc as usize;
        }
        let err = io::Error::last_os_error();
        if err.kind() != io::ErrorKind::Interrupted {
            return Err(err);
        }
    };
    let mut fds = Vec::new();
    // SAFETY: the kernel filled `control` up to msg_controllen; the CMSG
    // macros walk only inside it, and each SCM_RIGHTS payload is an array of
    // descriptors now owned by this process.
    unsafe {
        let mut cmsg = libc::CMSG_FIRSTHDR(&msg);
        while !cmsg.is_null() {
            if (*cmsg).cmsg_level == libc::SOL_SOCKET && (*cmsg).cmsg_type == libc::SCM_RIGHTS {
                let data = libc::CMSG_DATA(cmsg);
                let bytes = (*cmsg).cmsg_len - (data as usize - cmsg as usize);
                let n = bytes / std::mem::size_of::<c_int>();
                for i in 0..n {
                    let raw = ptr::read_unaligned(data.cast::<c_int>().add(i));
                    fds.push(owned(raw));
                }
            }
            cmsg = libc::CMSG_NXTHDR(&msg, cmsg);
        }
    }
    let truncated = msg.msg_flags & (libc::MSG_TRUNC | libc::MSG_CTRUNC) != 0;
    Ok(Received {
        len,
        truncated,
        fds,
    })
}

/// The socket's send buffer, in the kernel's accounting (which counts
/// each packet's bookkeeping too, and reports twice what was asked for).
pub(crate) fn send_buffer(fd: BorrowedFd<'_>) -> io::Result<usize> {
    let mut value: c_int = 0;
    let mut len = std::mem::size_of::<c_int>() as libc::socklen_t;
    // SAFETY: getsockopt writes at most `len` bytes into `value`.
    cvt(unsafe {
        libc::getsockopt(
            fd.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_SNDBUF,
            (&mut value as *mut c_int).cast::<c_void>(),
            &mut len,
        )
    })?;
    Ok(value.max(0) as usize)
}

/// Raises the socket's send buffer towards `bytes` (the kernel caps it at
/// `wmem_max`); a larger buffer lets bigger messages travel inline.
pub(crate) fn set_send_buffer(fd: BorrowedFd<'_>, bytes: usize) {
    let value = bytes.min(c_int::MAX as usize) as c_int;
    // SAFETY: setsockopt reads one int from a valid pointer.
    unsafe {
        libc::setsockopt(
            fd.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_SNDBUF,
            (&value as *const c_int).cast::<c_void>(),
            std::mem::size_of::<c_int>() as libc::socklen_t,
        );
    }
}

/// Waits until `fd` can be written, for at most `ms` milliseconds (-1: no
/// limit); returns whether it can.
pub(crate) fn poll_writable(fd: BorrowedFd<'_>, ms: c_int) -> io::Result<bool> {
    let mut pfd = libc::pollfd {
        fd: fd.as_raw_fd(),
        events: libc::POLLOUT,
        revents: 0,
    };
    // SAFETY: one valid pollfd.
    let rc = unsafe { libc::poll(&mut pfd, 1, ms) };
    match rc {
        -1 => {
            let err = io::Error::last_os_error();
            if err.kind() == io::ErrorKind::Interrupted {
                Ok(false)
            } else {
                Err(err)
            }
        }
        0 => Ok(false),
        _ => Ok(true),
    }
}

/// Whether the peer of `fd` has closed or shut down its end (`POLLRDHUP`
/// or `POLLHUP` now), without waiting. A `SOCK_SEQPACKET` `recv` of 0 bytes
/// is either the end or an empty packet; this tells the two apart.
pub(crate) fn peer_closed(fd: BorrowedFd<'_>) -> bool {
    let mut pfd = libc::pollfd {
        fd: fd.as_raw_fd(),
        events: libc::POLLRDHUP,
        revents: 0,
    };
    // SAFETY: one valid pollfd; a zero timeout never blocks.
    let rc = unsafe { libc::poll(&mut pfd, 1, 0) };
    rc > 0 && pfd.revents & (libc::POLLRDHUP | libc::POLLHUP | libc::POLLERR | libc::POLLNVAL) != 0
}

/// Bytes waiting in a sequenced-packet socket's receive queue, all packets
/// together (`FIONREAD`; Linux sums every queued packet for
/// `SOCK_SEQPACKET`). An error counts as nothing queued.
pub(crate) fn queued_bytes(fd: BorrowedFd<'_>) -> usize {
    let mut queued: libc::c_int = 0;
    // SAFETY: FIONREAD writes one c_int to the pointer, which points to a
    // live c_int; the descriptor is valid for the call.
    let rc = unsafe { libc::ioctl(fd.as_raw_fd(), libc::FIONREAD, &mut queued) };
    if rc == 0 { queued.max(0) as usize } else { 0 }
}

/// Shuts a socket down both ways: its peer sees the end of the stream.
pub(crate) fn shutdown(fd: BorrowedFd<'_>) {
    // SAFETY: shutdown on a valid descriptor changes only the socket state.
    unsafe { libc::shutdown(fd.as_raw_fd(), libc::SHUT_RDWR) };
}

/// Whether descriptor number `fd` is open and is a `SOCK_SEQPACKET` socket
/// (used before taking ownership of an inherited descriptor).
pub(crate) fn is_seqpacket(fd: RawFd) -> bool {
    let mut kind: c_int = 0;
    let mut len = std::mem::size_of::<c_int>() as libc::socklen_t;
    // SAFETY: getsockopt on a number that may not be open only fails with
    // EBADF/ENOTSOCK; it writes one int into `kind`.
    let rc = unsafe {
        libc::getsockopt(
            fd,
            libc::SOL_SOCKET,
            libc::SO_TYPE,
            (&mut kind as *mut c_int).cast::<c_void>(),
            &mut len,
        )
    };
    rc == 0 && kind == libc::SOCK_SEQPACKET
}

/// The identity of the socket behind `fd` (device and inode numbers):
/// equal for every descriptor of one socket, in any process, and unique
/// among the sockets that exist.
pub(crate) fn identity(fd: BorrowedFd<'_>) -> io::Result<(u64, u64)> {
    // SAFETY: a zeroed stat structure is a valid value for fstat to fill.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    // SAFETY: the descriptor is valid for the call (borrowed) and `st` is a
    // live, writable stat structure.
    cvt(unsafe { libc::fstat(fd.as_raw_fd(), &mut st) })?;
    Ok((st.st_dev, st.st_ino))
}
