//! [`Socket`]: one end of a private `SOCK_SEQPACKET` socketpair carrying
//! frames and descriptors.
//!
//! Sequenced packets keep message boundaries: one `send` is one `recv`,
//! whole, so many processes may read one socket and each gets whole
//! messages, and a sender that dies mid-way cannot leave half a message
//! behind. Payloads up to [`INLINE_MAX`] travel in the packet; larger ones
//! are written to an anonymous memory file whose descriptor travels instead
//! (the kernel bounds a packet by the socket buffer). Either way the payload
//! is checked by [`frame`](super::frame) before it is decoded.
//!
//! ```text
//! let (a, b) = Socket::pair()?;
//! a.send(b"hi", &[])?;
//! assert_eq!(b.recv(None)?.payload, b"hi");
//! ```

use std::cell::RefCell;
use std::fs::File;
use std::io::{self, Write};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd, RawFd};
use std::os::unix::fs::FileExt;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use super::frame::{self, FrameError, HEADER_LEN, Kind};
use crate::sys::{memory as sys_memory, socket as sys_socket};

/// Payloads up to this size travel inside the packet.
///
/// A memory file costs about eight system calls (create, write, seal,
/// then check the seals, the size twice, read, close) and fresh pages on
/// both sides; a packet costs one copy into the kernel and one out. At
/// 64 KiB the packet is still the cheaper (a pool's `map` chunk of 12,500
/// small numbers, about 50 KB, travels inline), and it fits the system's
/// default send buffer (about 208 KiB) with room for a few more.
pub(crate) const INLINE_MAX: usize = 64 * 1024;

/// The send buffer a channel asks for: room for two of the largest inline
/// packets, or many small ones (128 KiB, under the system's usual default,
/// so that making a channel usually costs no call to change it).
const ROOM: usize = 2 * INLINE_MAX;

/// One message as received.
#[derive(Debug)]
pub(crate) struct Message {
    pub(crate) payload: Vec<u8>,
    pub(crate) fds: Vec<OwnedFd>,
}

/// A frame ready to send: the packet's bytes and the descriptors that go
/// with it (a large payload's memory file first). Built once, so that a
/// send that waits for room retries only the system call, not the copy.
///
/// An inline packet is kept in two parts that the kernel gathers as it
/// sends (`sendmsg` with two `iovec`s): the header with any small parts
/// before the payload (a call's name, a reply's tag), and the payload's
/// own encoding, moved in rather than copied behind the header (a pool
/// map's chunk is about 35 KB out and 60 KB back).
///
/// It holds the caller's descriptors by number: the caller keeps them open
/// until the packet is sent or dropped.
#[derive(Debug)]
pub(crate) struct Packet {
    /// The header, then (inline) the parts copied after it.
    head: Vec<u8>,
    /// An inline packet's last part, sent where it lies; empty otherwise.
    body: Vec<u8>,
    fds: Vec<RawFd>,
    /// A large payload's sealed memory file, kept open until sent.
    _file: Option<File>,
}

impl Packet {
    /// Frames `payload` with `fds` attached.
    pub(crate) fn new(payload: &[u8], fds: &[RawFd]) -> io::Result<Packet> {
        Packet::from_parts(&[payload], fds)
    }

    /// Frames the concatenation of `parts` with `fds` attached, copying
    /// each part once, straight into the packet or the memory file (a
    /// call's name and its arguments, a reply's tag and its value, are
    /// encoded apart and never joined in a buffer of their own).
    pub(crate) fn from_parts(parts: &[&[u8]], fds: &[RawFd]) -> io::Result<Packet> {
        Packet::framed(parts, Vec::new(), fds)
    }

    /// Frames the concatenation of `parts` and `body` with `fds` attached:
    /// `parts` are copied as by [`from_parts`](Self::from_parts), and
    /// `body`, an encoding of its own, becomes the end of an inline packet
    /// without a copy (a large payload is copied into its memory file).
    pub(crate) fn framed(parts: &[&[u8]], body: Vec<u8>, fds: &[RawFd]) -> io::Result<Packet> {
        let invalid = |e: FrameError| io::Error::new(io::ErrorKind::InvalidInput, e.to_string());
        let front: usize = parts.iter().map(|p| p.len()).sum();
        let len = front + body.len();
        if len <= INLINE_MAX {
            let mut head = Vec::with_capacity(HEADER_LEN + front);
            head.extend_from_slice(&frame::header(Kind::Inline, len).map_err(invalid)?);
            for part in parts {
                head.extend_from_slice(part);
            }
            return Ok(Packet {
                head,
                body,
                fds: fds.to_vec(),
                _file: None,
            });
        }
        let header = frame::header(Kind::File, len).map_err(invalid)?;
        let file = File::from(sys_memory::sealable_memfd(c"brigade-frame")?);
        for part in parts.iter().chain([&&body[..]]) {
            (&file).write_all(part)?;
        }
        // Frozen before it leaves: the receiver checks the size once and
        // can trust it while it reads.
        sys_memory::seal(file.as_fd())?;
        let mut all = Vec::with_capacity(fds.len() + 1);
        all.push(file.as_raw_fd());
        all.extend_from_slice(fds);
        Ok(Packet {
            head: header.to_vec(),
            body: Vec::new(),
            fds: all,
            _file: Some(file),
        })
    }
}

/// Why no message was received.
#[derive(Debug)]
pub(crate) enum RecvError {
    /// The peer closed its end (every peer, for a shared socket).
    Closed,
    /// The time ran out.
    Timeout,
    /// The bytes were not a valid frame.
    Frame(FrameError),
}

impl From<FrameError> for RecvError {
    fn from(e: FrameError) -> RecvError {
        RecvError::Frame(e)
    }
}

impl From<io::Error> for RecvError {
    fn from(e: io::Error) -> RecvError {
        RecvError::Frame(FrameError::Io(e))
    }
}

/// An end of a socketpair.
#[derive(Debug)]
pub(crate) struct Socket {
    fd: OwnedFd,
}

impl Socket {
    /// A connected pair.
    pub(crate) fn pair() -> io::Result<(Socket, Socket)> {
        let (a, b) = sys_socket::seqpacket_pair()?;
        // Room for two inline packets before a sender blocks. The
        // system's default is usually more than that: look once, and
        // spare every later pair two system calls.
        static DEFAULT_HAS_ROOM: OnceLock<bool> = OnceLock::new();
        let has_room = *DEFAULT_HAS_ROOM.get_or_init(|| {
            // (The kernel counts each packet's bookkeeping too: a quarter
            // more is plenty.)
            sys_socket::send_buffer(a.as_fd()).is_ok_and(|n| n >= ROOM + ROOM / 4)
        });
        if !has_room {
            sys_socket::set_send_buffer(a.as_fd(), ROOM);
            sys_socket::set_send_buffer(b.as_fd(), ROOM);
        }
        Ok((Socket { fd: a }, Socket { fd: b }))
    }

    pub(crate) fn from_fd(fd: OwnedFd) -> Socket {
        Socket { fd }
    }

    pub(crate) fn into_fd(self) -> OwnedFd {
        self.fd
    }

    /// Sends `payload` as one frame with `fds` attached.
    pub(crate) fn send(&self, payload: &[u8], fds: &[RawFd]) -> io::Result<()> {
        if payload.len() <= INLINE_MAX {
            // The header and the payload gathered by the kernel: no packet
            // of their own to copy them into.
            let header = frame::header(Kind::Inline, payload.len())
                .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e.to_string()))?;
            return sys_socket::send_parts(self.fd.as_fd(), &[&header, payload], fds, false);
        }
        self.send_packet(&Packet::new(payload, fds)?, false)
    }

    /// Sends a prepared [`Packet`]; with `nonblocking`, a full buffer is
    /// `WouldBlock` and nothing was sent (a packet goes whole or not at all).
    pub(crate) fn send_packet(&self, packet: &Packet, nonblocking: bool) -> io::Result<()> {
        let parts: &[&[u8]] = &[&packet.head, &packet.body];
        sys_socket::send_parts(self.fd.as_fd(), parts, &packet.fds, nonblocking)
    }

    /// Receives one message, waiting at most `timeout` (`None`: for ever).
    pub(crate) fn recv(&self, timeout: Option<Duration>) -> Result<Message, RecvError> {
        self.recv_max(timeout, frame::MAX_PAYLOAD)
    }

    /// Like [`recv`](Self::recv) with a payload limit.
    pub(crate) fn recv_max(
        &self,
        timeout: Option<Duration>,
        max: usize,
    ) -> Result<Message, RecvError> {
        if timeout.is_none() {
            // Wait in the kernel: one system call per message.
            return self.recv_now(max, false);
        }
        let deadline = timeout.and_then(|t| Instant::now().checked_add(t));
        loop {
            // Try first: the message is often already there.
            match self.recv_now(max, true) {
                Err(RecvError::Frame(FrameError::Io(e)))
                    if e.kind() == io::ErrorKind::WouldBlock => {}
                other => return other,
            }
            // Nothing yet (or another reader took it): wait for the next.
            let left = deadline.map(|d| d.saturating_duration_since(Instant::now()));
            if !sys_socket::poll_readable(self.fd.as_fd(), left)? {
                return Err(RecvError::Timeout);
            }
        }
    }

    /// Receives without waiting: `Timeout` if nothing is there.
    pub(crate) fn try_recv(&self, max: usize) -> Result<Message, RecvError> {
        self.recv_ready(max).unwrap_or(Err(RecvError::Timeout))
    }

    /// One `recvmsg` that does not wait: `None` if nothing is waiting (so
    /// nothing was taken), else the message or why it is not one.
    pub(crate) fn recv_ready(&self, max: usize) -> Option<Result<Message, RecvError>> {
        match self.recv_now(max, true) {
            Err(RecvError::Frame(FrameError::Io(e))) if e.kind() == io::ErrorKind::WouldBlock => {
                None
            }
            other => Some(other),
        }
    }

    fn recv_now(&self, max: usize, nonblocking: bool) -> Result<Message, RecvError> {
        thread_local! {
            static BUF: RefCell<Vec<u8>> = RefCell::new(vec![0; HEADER_LEN + INLINE_MAX + 1]);
        }
        // The packet lands in this thread's buffer; only an inline payload
        // is copied out of it, once, after its header is checked.
        let (received, header, payload) = match BUF.with(|buf| {
            let mut buf = buf.borrow_mut();
            let r = sys_socket::recv(self.fd.as_fd(), &mut buf, nonblocking)?;
            if r.truncated {
                return Ok((r, None, None));
            }
            let bytes = &buf[..r.len];
            let checked = frame::parse_header(bytes, max).and_then(|header| {
                let payload = match header.kind {
                    Kind::Inline => Some(frame::inline_payload(bytes, max)?.to_vec()),
                    Kind::File if bytes.len() != HEADER_LEN => {
                        return Err(FrameError::Trailing {
                            expected: HEADER_LEN,
                            got: bytes.len(),
                        });
                    }
                    Kind::File => None,
                };
                Ok((header, payload))
            });
            Ok::<_, io::Error>(match checked {
                Ok((header, payload)) => (r, Some(Ok(header)), payload),
                Err(e) => (r, Some(Err(e)), None),
            })
        }) {
            Ok(x) => x,
            // The peer died with our messages unread: it is gone all the same.
            Err(e) if e.kind() == io::ErrorKind::ConnectionReset => {
                return Err(RecvError::Closed);
            }
            Err(e) => return Err(e.into()),
        };
        if received.len == 0 && received.fds.is_empty() {
            // Sequenced packets may be empty: 0 bytes is the end only if
            // the peer has closed and nothing more is queued. An empty
            // packet from a live peer, or one followed by more packets, is
            // garbage like any other short packet, never a closed channel
            // (which would make a parent wait for a child that is not
            // ending, or drop the messages queued behind it).
            let fd = self.fd.as_fd();
            if sys_socket::peer_closed(fd) && sys_socket::queued_bytes(fd) == 0 {
                return Err(RecvError::Closed);
            }
            return Err(FrameError::Truncated {
                expected: HEADER_LEN,
                got: 0,
            }
            .into());
        }
        if received.truncated {
            return Err(FrameError::Trailing {
                expected: HEADER_LEN + INLINE_MAX,
                got: HEADER_LEN + INLINE_MAX + 1,
            }
            .into());
        }
        let mut fds = received.fds;
        // (Set for every packet that is not truncated.)
        let header = match header {
            Some(checked) => checked?,
            None => {
                return Err(FrameError::Malformed("an unchecked packet".into()).into());
            }
        };
        match header.kind {
            Kind::Inline => Ok(Message {
                payload: payload.unwrap_or_default(),
                fds,
            }),
            Kind::File => {
                if fds.is_empty() {
                    return Err(FrameError::Malformed(
                        "a file frame arrived without its file".into(),
                    )
                    .into());
                }
                let file = File::from(fds.remove(0));
                if !sys_memory::is_sealed(file.as_fd()) {
                    return Err(FrameError::Malformed(
                        "the message's memory file is not sealed".into(),
                    )
                    .into());
                }
                let actual = sys_memory::file_len(file.as_fd())?;
                if actual < header.len {
                    return Err(FrameError::Truncated {
                        expected: HEADER_LEN + header.len,
                        got: HEADER_LEN + actual,
                    }
                    .into());
                }
                if actual > header.len {
                    return Err(FrameError::Trailing {
                        expected: HEADER_LEN + header.len,
                        got: HEADER_LEN + actual,
                    }
                    .into());
                }
                // A sparse file costs its sender nothing for its holes, yet
                // would cost this process an allocation and a read of its
                // full size: the sender must have stored what it announces.
                let stored = sys_memory::file_stored_bytes(file.as_fd())?;
                if stored < header.len as u64 {
                    return Err(FrameError::Malformed(format!(
                        "the message's memory file announces {} bytes but stores only {stored} \
                         (a sparse file)",
                        header.len
                    ))
                    .into());
                }
                // The sealed file holds exactly `len` bytes (checked above),
                // all of them stored, so this allocation is what has
                // arrived, within the limit.
                // Read at offset 0: the sender's writes moved the offset,
                // which the two descriptions share.
                let mut payload = vec![0u8; header.len];
                if let Err(e) = file.read_exact_at(&mut payload, 0) {
                    if e.kind() == io::ErrorKind::UnexpectedEof {
                        return Err(FrameError::Truncated {
                            expected: HEADER_LEN + header.len,
                            got: HEADER_LEN + sys_memory::file_len(file.as_fd()).unwrap_or(0),
                        }
                        .into());
                    }
                    return Err(e.into());
                }
                Ok(Message { payload, fds })
            }
        }
    }

    /// Sends raw bytes as one packet, bypassing the framing: for tests of
    /// what a receiver does with garbage.
    #[cfg(test)]
    pub(crate) fn send_raw(&self, bytes: &[u8]) -> io::Result<()> {
        sys_socket::send(self.fd.as_fd(), bytes, &[], false)
    }
}

impl AsFd for Socket {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_and_large_payloads_arrive_whole() {
        let (a, b) = Socket::pair().unwrap();
        a.send(b"small", &[]).unwrap();
        assert_eq!(b.recv(None).unwrap().payload, b"small");
        let big: Vec<u8> = (0..200_000u32).map(|i| i as u8).collect();
        let sender = std::thread::spawn(move || a.send(&big, &[]).map(|_| big));
        let got = b.recv(None).unwrap().payload;
        assert_eq!(got, sender.join().unwrap().unwrap());
    }

    #[test]
    fn a_framed_packet_is_its_parts_then_its_body() {
        let (a, b) = Socket::pair().unwrap();
        // Inline (the body sent where it lies), at the inline limit, and
        // one byte over it (everything copied into a memory file).
        for len in [0, 1000, INLINE_MAX - 3, INLINE_MAX - 2] {
            let body: Vec<u8> = (0..len).map(|i| (i * 7) as u8).collect();
            let packet = Packet::framed(&[b"a", b"bc"], body.clone(), &[]).unwrap();
            let whole = [&b"abc"[..], &body].concat();
            // (One packet of at most 64 KiB fits the channel's room.)
            a.send_packet(&packet, false).unwrap();
            assert_eq!(b.recv(None).unwrap().payload, whole, "{len}");
        }
    }

    #[test]
    fn garbage_packets_are_typed_errors() {
        let (a, b) = Socket::pair().unwrap();
        a.send_raw(b"no").unwrap();
        assert!(matches!(
            b.recv(None),
            Err(RecvError::Frame(FrameError::Truncated { .. }))
        ));
        let mut lying = frame::header(Kind::Inline, 100).unwrap().to_vec();
        lying.extend_from_slice(b"short");
        a.send_raw(&lying).unwrap();
        assert!(matches!(
            b.recv(None),
            Err(RecvError::Frame(FrameError::Truncated { .. }))
        ));
        // A file frame whose file is missing.
        a.send_raw(&frame::header(Kind::File, 10).unwrap()).unwrap();
        assert!(matches!(
            b.recv(None),
            Err(RecvError::Frame(FrameError::Malformed(_)))
        ));
        // A file frame whose file is not sealed: its size could change.
        let file = sys_memory::memfd(c"test", 10).unwrap();
        let header = frame::header(Kind::File, 10).unwrap();
        sys_socket::send(a.as_fd(), &header, &[file.as_raw_fd()], false).unwrap();
        assert!(matches!(
            b.recv(None),
            Err(RecvError::Frame(FrameError::Malformed(_)))
        ));
        let mut huge = frame::header(Kind::Inline, 0).unwrap().to_vec();
        huge[4..].copy_from_slice(&u32::MAX.to_le_bytes());
        a.send_raw(&huge).unwrap();
        assert!(matches!(
            b.recv(None),
            Err(RecvError::Frame(FrameError::TooLarge { .. }))
        ));
        drop(a);
        assert!(matches!(b.recv(None), Err(RecvError::Closed)));
    }

    #[test]
    fn a_sparse_memory_file_is_refused_before_it_is_read() {
        let (a, b) = Socket::pair().unwrap();
        // 64 MiB announced, none of it stored: free for the sender.
        let len = 64 << 20;
        let file = File::from(sys_memory::sealable_memfd(c"sparse").unwrap());
        file.set_len(len as u64).unwrap();
        sys_memory::seal(file.as_fd()).unwrap();
        let header = frame::header(Kind::File, len).unwrap();
        sys_socket::send(a.as_fd(), &header, &[file.as_raw_fd()], false).unwrap();
        match b.recv(None) {
            Err(RecvError::Frame(FrameError::Malformed(why))) => {
                assert!(why.contains("sparse"), "{why}")
            }
            other => panic!("expected a refusal, got {other:?}"),
        }
        // Above the receiver's limit: refused on the header alone.
        sys_socket::send(a.as_fd(), &header, &[file.as_raw_fd()], false).unwrap();
        assert!(matches!(
            b.recv_max(None, 1 << 20),
            Err(RecvError::Frame(FrameError::TooLarge { .. }))
        ));
    }

    #[test]
    fn an_empty_packet_is_garbage_not_the_end() {
        let (a, b) = Socket::pair().unwrap();
        a.send_raw(&[]).unwrap();
        assert!(matches!(
            b.recv(None),
            Err(RecvError::Frame(FrameError::Truncated { got: 0, .. }))
        ));
        assert!(matches!(
            b.try_recv(frame::MAX_PAYLOAD),
            Err(RecvError::Timeout)
        ));
        // The channel still works, and its real end is still the end.
        a.send(b"after", &[]).unwrap();
        assert_eq!(b.recv(None).unwrap().payload, b"after");
        a.send_raw(&[]).unwrap();
        drop(a);
        assert!(matches!(b.recv(None), Err(RecvError::Closed)));
    }

    #[test]
    fn recv_times_out() {
        let (_a, b) = Socket::pair().unwrap();
        assert!(matches!(
            b.recv(Some(Duration::from_millis(1))),
            Err(RecvError::Timeout)
        ));
    }
}
