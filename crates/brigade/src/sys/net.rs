//! Sockets: creation with the flags brigade always wants (non-blocking,
//! close-on-exec), the options that must be set before `bind`
//! (`SO_REUSEADDR`, `SO_REUSEPORT`), non-blocking `connect` and `accept4`,
//! conversions between `std::net::SocketAddr` and `sockaddr`, and the
//! reads and writes of connected streams. Everything else (options after
//! connect, addresses) goes through the standard library's socket types,
//! which brigade wraps.
//!
//! Stream reads use `recv(2)`, not `read(2)`: on a socket both do the same,
//! but `read` first goes through the file layer (the position lock, the
//! range check, the notification hooks). On the echo benchmark at 1,000
//! connections that path was 5% of the process's CPU in a loop of plain
//! blocking calls (`perf`), and `recv` took it away. Stream writes use
//! `send`/`sendmsg` with `MSG_NOSIGNAL`: a write to a connection the peer
//! reset returns `EPIPE` instead of killing the process with `SIGPIPE`
//! (which `write`/`writev` would raise in a program that did not ignore it).

use std::io;
use std::mem::{MaybeUninit, size_of};
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

use super::fd::{cvt, cvt_size, retry};

/// A new non-blocking, close-on-exec socket.
pub(crate) fn socket(domain: libc::c_int, ty: libc::c_int) -> io::Result<OwnedFd> {
    // SAFETY: no pointers; the result is a fresh descriptor.
    let fd =
        cvt(unsafe { libc::socket(domain, ty | libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC, 0) })?;
    // SAFETY: `fd` was just created and is owned by no one else.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// The address family of `addr`.
pub(crate) fn domain_of(addr: &SocketAddr) -> libc::c_int {
    match addr {
        SocketAddr::V4(_) => libc::AF_INET,
        SocketAddr::V6(_) => libc::AF_INET6,
    }
}

/// Sets an integer socket option.
pub(crate) fn set_int_option(
    fd: RawFd,
    level: libc::c_int,
    name: libc::c_int,
    value: libc::c_int,
) -> io::Result<()> {
    // SAFETY: the pointer and length describe `value` for the call.
    cvt(unsafe {
        libc::setsockopt(
            fd,
            level,
            name,
            (&value as *const libc::c_int).cast(),
            size_of::<libc::c_int>() as libc::socklen_t,
        )
    })?;
    Ok(())
}

/// `SO_REUSEADDR`: bind while old connections linger in TIME_WAIT.
pub(crate) fn set_reuseaddr(fd: RawFd) -> io::Result<()> {
    set_int_option(fd, libc::SOL_SOCKET, libc::SO_REUSEADDR, 1)
}

/// `SO_REUSEPORT`: several sockets bind the same port; the kernel spreads
/// incoming connections over them.
pub(crate) fn set_reuseport(fd: RawFd) -> io::Result<()> {
    set_int_option(fd, libc::SOL_SOCKET, libc::SO_REUSEPORT, 1)
}

/// A `sockaddr_storage` holding `addr`, and its length.
fn to_raw(addr: &SocketAddr) -> (libc::sockaddr_storage, libc::socklen_t) {
    // SAFETY: sockaddr_storage is plain data; all zeroes is a valid value.
    let mut storage: libc::sockaddr_storage = unsafe { std::mem::zeroed() };
    let len = match addr {
        SocketAddr::V4(a) => {
            let sin = libc::sockaddr_in {
                sin_family: libc::AF_INET as libc::sa_family_t,
                sin_port: a.port().to_be(),
                sin_addr: libc::in_addr {
                    s_addr: u32::from_ne_bytes(a.ip().octets()),
                },
                sin_zero: [0; 8],
            };
            // SAFETY: sockaddr_storage is larger than and aligned for
            // sockaddr_in, as POSIX requires.
            unsafe { std::ptr::write((&mut storage as *mut libc::sockaddr_storage).cast(), sin) };
            size_of::<libc::sockaddr_in>()
        }
        SocketAddr::V6(a) => {
            let sin6 = libc::sockaddr_in6 {
                sin6_family: libc::AF_INET6 as libc::sa_family_t,
                sin6_port: a.port().to_be(),
                sin6_flowinfo: a.flowinfo(),
                sin6_addr: libc::in6_addr {
                    s6_addr: a.ip().octets(),
                },
                sin6_scope_id: a.scope_id(),
            };
            // SAFETY: as above, for sockaddr_in6.
            unsafe { std::ptr::write((&mut storage as *mut libc::sockaddr_storage).cast(), sin6) };
            size_of::<libc::sockaddr_in6>()
        }
    };
    (storage, len as libc::socklen_t)
}

/// Reads an inet address the kernel wrote into `storage`.
fn from_raw(storage: &libc::sockaddr_storage) -> io::Result<SocketAddr> {
    match storage.ss_family as libc::c_int {
        libc::AF_INET => {
            // SAFETY: the family says the storage holds a sockaddr_in.
            let sin: libc::sockaddr_in =
                unsafe { std::ptr::read((storage as *const libc::sockaddr_storage).cast()) };
            let ip = Ipv4Addr::from(sin.sin_addr.s_addr.to_ne_bytes());
            Ok(SocketAddr::V4(SocketAddrV4::new(
                ip,
                u16::from_be(sin.sin_port),
            )))
        }
        libc::AF_INET6 => {
            // SAFETY: the family says the storage holds a sockaddr_in6.
            let sin6: libc::sockaddr_in6 =
                unsafe { std::ptr::read((storage as *const libc::sockaddr_storage).cast()) };
            let ip = Ipv6Addr::from(sin6.sin6_addr.s6_addr);
            Ok(SocketAddr::V6(SocketAddrV6::new(
                ip,
                u16::from_be(sin6.sin6_port),
                sin6.sin6_flowinfo,
                sin6.sin6_scope_id,
            )))
        }
        _ => Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "the socket address is not an internet address",
        )),
    }
}

/// `bind(2)` to an internet address.
pub(crate) fn bind(fd: RawFd, addr: &SocketAddr) -> io::Result<()> {
    let (storage, len) = to_raw(addr);
    // SAFETY: `storage` holds a valid address of `len` bytes.
    cvt(unsafe { libc::bind(fd, (&storage as *const libc::sockaddr_storage).cast(), len) })?;
    Ok(())
}

/// `listen(2)`.
pub(crate) fn listen(fd: RawFd, backlog: i32) -> io::Result<()> {
    // SAFETY: no pointers.
    cvt(unsafe { libc::listen(fd, backlog) })?;
    Ok(())
}

/// Starts a non-blocking `connect(2)`: `Ok(true)` if it completed at once,
/// `Ok(false)` if it is in progress (wait until writable, then check
/// `SO_ERROR`).
pub(crate) fn connect(fd: RawFd, addr: &SocketAddr) -> io::Result<bool> {
    let (storage, len) = to_raw(addr);
    // SAFETY: `storage` holds a valid address of `len` bytes.
    let ret = unsafe { libc::connect(fd, (&storage as *const libc::sockaddr_storage).cast(), len) };
    match cvt(ret) {
        Ok(_) => Ok(true),
        Err(e) if e.raw_os_error() == Some(libc::EINPROGRESS) => Ok(false),
        Err(e) => Err(e),
    }
}

/// `accept4(2)` a connection as a non-blocking, close-on-exec socket, with
/// the peer's internet address.
pub(crate) fn accept(fd: RawFd) -> io::Result<(OwnedFd, SocketAddr)> {
    let mut storage = MaybeUninit::<libc::sockaddr_storage>::zeroed();
    let mut len = size_of::<libc::sockaddr_storage>() as libc::socklen_t;
    let new = retry(|| {
        // SAFETY: the pointers describe `storage` and `len`, which the
        // kernel writes an address and its length into.
        cvt(unsafe {
            libc::accept4(
                fd,
                storage.as_mut_ptr().cast(),
                &mut len,
                libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC,
            )
        })
    })?;
    // SAFETY: `new` was just returned by accept4 and is owned by no one else.
    let new = unsafe { OwnedFd::from_raw_fd(new) };
    // SAFETY: zero-initialized and then (partly) written by the kernel.
    let storage = unsafe { storage.assume_init() };
    Ok((new, from_raw(&storage)?))
}

/// `accept4(2)` on a Unix-domain listener (the peer address is unnamed).
pub(crate) fn accept_unix(fd: RawFd) -> io::Result<OwnedFd> {
    let new = retry(|| {
        // SAFETY: null address pointers are allowed and ask for no address.
        cvt(unsafe {
            libc::accept4(
                fd,
                std::ptr::null_mut(),
                std::ptr::null_mut(),
                libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC,
            )
        })
    })?;
    // SAFETY: `new` was just returned by accept4 and is owned by no one else.
    Ok(unsafe { OwnedFd::from_raw_fd(new) })
}

/// A `sockaddr_un` for `path`, and its length.
fn unix_addr(path: &Path) -> io::Result<(libc::sockaddr_un, libc::socklen_t)> {
    // SAFETY: sockaddr_un is plain data; all zeroes is a valid value.
    let mut addr: libc::sockaddr_un = unsafe { std::mem::zeroed() };
    addr.sun_family = libc::AF_UNIX as libc::sa_family_t;
    let bytes = path.as_os_str().as_bytes();
    if bytes.contains(&0) {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("the socket path {} contains a NUL byte", path.display()),
        ));
    }
    // Keep one byte for the terminating NUL.
    if bytes.len() >= addr.sun_path.len() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!(
                "the socket path {} is longer than the {} bytes a Unix socket address holds",
                path.display(),
                addr.sun_path.len() - 1
            ),
        ));
    }
    for (dst, src) in addr.sun_path.iter_mut().zip(bytes) {
        *dst = *src as libc::c_char;
    }
    let len = std::mem::offset_of!(libc::sockaddr_un, sun_path) + bytes.len() + 1;
    Ok((addr, len as libc::socklen_t))
}

/// `bind(2)` to a Unix-domain path.
pub(crate) fn bind_unix(fd: RawFd, path: &Path) -> io::Result<()> {
    let (addr, len) = unix_addr(path)?;
    // SAFETY: `addr` holds a valid address of `len` bytes.
    cvt(unsafe { libc::bind(fd, (&addr as *const libc::sockaddr_un).cast(), len) })?;
    Ok(())
}

/// A non-blocking `connect(2)` to a Unix-domain path. Like [`connect`];
/// a full backlog shows as `WouldBlock`.
pub(crate) fn connect_unix(fd: RawFd, path: &Path) -> io::Result<bool> {
    let (addr, len) = unix_addr(path)?;
    // SAFETY: `addr` holds a valid address of `len` bytes.
    let ret = unsafe { libc::connect(fd, (&addr as *const libc::sockaddr_un).cast(), len) };
    match cvt(ret) {
        Ok(_) => Ok(true),
        Err(e) if e.raw_os_error() == Some(libc::EINPROGRESS) => Ok(false),
        Err(e) => Err(e),
    }
}

/// The pending error of a socket (`SO_ERROR`), which is how a failed
/// non-blocking connect reports itself.
pub(crate) fn take_error(fd: &impl AsRawFd) -> io::Result<Option<io::Error>> {
    let mut value: libc::c_int = 0;
    let mut len = size_of::<libc::c_int>() as libc::socklen_t;
    // SAFETY: the pointers describe `value` and `len` for the call.
    cvt(unsafe {
        libc::getsockopt(
            fd.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_ERROR,
            (&mut value as *mut libc::c_int).cast(),
            &mut len,
        )
    })?;
    Ok((value != 0).then(|| io::Error::from_raw_os_error(value)))
}

/// `recv(2)` from a connected stream socket into `buf`.
pub(crate) fn recv(fd: RawFd, buf: &mut [u8]) -> io::Result<usize> {
    // SAFETY: `buf` is valid for writes of `buf.len()` bytes for the call.
    retry(|| cvt_size(unsafe { libc::recv(fd, buf.as_mut_ptr().cast(), buf.len(), 0) }))
}

/// `recv(2)` into memory that need not be initialized; the first `n` bytes
/// are initialized when it returns `Ok(n)`.
pub(crate) fn recv_uninit(fd: RawFd, buf: &mut [MaybeUninit<u8>]) -> io::Result<usize> {
    // SAFETY: `buf` is valid for writes of `buf.len()` bytes for the call;
    // the kernel only writes, never reads, the buffer.
    retry(|| cvt_size(unsafe { libc::recv(fd, buf.as_mut_ptr().cast(), buf.len(), 0) }))
}

/// `send(2)` of `buf` on a connected stream socket, with `MSG_NOSIGNAL`.
pub(crate) fn send(fd: RawFd, buf: &[u8]) -> io::Result<usize> {
    retry(|| {
        // SAFETY: `buf` is valid for reads of `buf.len()` bytes for the call.
        cvt_size(unsafe { libc::send(fd, buf.as_ptr().cast(), buf.len(), libc::MSG_NOSIGNAL) })
    })
}

/// `sendmsg(2)` of several buffers at once on a connected stream socket,
/// with `MSG_NOSIGNAL` (`writev` with the `send` flags).
pub(crate) fn send_vectored(fd: RawFd, bufs: &[io::IoSlice<'_>]) -> io::Result<usize> {
    let count = bufs.len().min(libc::UIO_MAXIOV as usize);
    // SAFETY: an all-zero `msghdr` is valid (no address, no control data).
    let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
    // `IoSlice` is ABI-compatible with `iovec` (std guarantees it on Unix);
    // the kernel only reads through the pointer.
    msg.msg_iov = bufs.as_ptr().cast_mut().cast();
    msg.msg_iovlen = count as _;
    // SAFETY: `msg` points to `count` iovecs, each valid for reads of its
    // length for the call, and to nothing else.
    retry(|| cvt_size(unsafe { libc::sendmsg(fd, &msg, libc::MSG_NOSIGNAL) }))
}
