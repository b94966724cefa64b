//! Unix-domain datagram sockets on the loop, on whichever driver
//! `BRIGADE_DRIVER` selects (scripts/test.sh runs this file under both).
//!
//! Every test holds `SERIAL`, so that the descriptor count of
//! `descriptors_never_leak` sees no other test's sockets.

use std::io::ErrorKind;
use std::net::Shutdown;
use std::os::linux::net::SocketAddrExt;
use std::os::unix::net::SocketAddr;
use std::path::PathBuf;
use std::rc::Rc;
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use brigade::net::UnixDatagram;
use brigade::{Runtime, spawn};

static SERIAL: Mutex<()> = Mutex::new(());

fn serial() -> MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("brigade-dgram-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn abstract_name(name: &str) -> SocketAddr {
    let name = format!("brigade-test-{}-{name}", std::process::id());
    SocketAddr::from_abstract_name(name.as_bytes()).unwrap()
}

/// Awaits `future`, failing the test instead of hanging.
async fn within<F: std::future::Future>(future: F) -> F::Output {
    brigade::timeout(Duration::from_secs(60), future)
        .await
        .expect("the operation never completed")
}

#[test]
fn datagrams_round_trip_between_bound_paths_with_their_boundaries() {
    let _serial = serial();
    let dir = temp_dir("paths");
    brigade::run(async {
        let server = UnixDatagram::bind(dir.join("server.sock")).unwrap();
        let client = UnixDatagram::bind(dir.join("client.sock")).unwrap();
        assert_eq!(
            server.local_addr().unwrap().as_pathname(),
            Some(dir.join("server.sock").as_path())
        );
        // Each datagram arrives whole and alone, the empty one included.
        let sizes = [0usize, 1, 100, 4096, 60_000];
        for &n in &sizes {
            let sent = client
                .send_to(&vec![n as u8; n], dir.join("server.sock"))
                .await
                .unwrap();
            assert_eq!(sent, n);
        }
        let mut buf = vec![0; 65_536];
        for &n in &sizes {
            let (got, from) = server.recv_from(&mut buf).await.unwrap();
            assert_eq!(got, n);
            assert!(buf[..got].iter().all(|&b| b == n as u8));
            assert_eq!(from.as_pathname(), Some(dir.join("client.sock").as_path()));
        }
        // A datagram longer than the buffer is truncated, not split.
        client
            .send_to(b"0123456789", dir.join("server.sock"))
            .await
            .unwrap();
        client
            .send_to(b"next", dir.join("server.sock"))
            .await
            .unwrap();
        let mut small = [0; 4];
        assert_eq!(server.recv(&mut small).await.unwrap(), 4);
        assert_eq!(&small, b"0123");
        assert_eq!(server.recv(&mut small).await.unwrap(), 4);
        assert_eq!(&small, b"next");
        // Connected: send and recv, and the peer's address.
        assert_eq!(
            client.peer_addr().unwrap_err().kind(),
            ErrorKind::NotConnected
        );
        client.connect(dir.join("server.sock")).unwrap();
        server.connect(dir.join("client.sock")).unwrap();
        assert_eq!(
            client.peer_addr().unwrap().as_pathname(),
            Some(dir.join("server.sock").as_path())
        );
        client.send(b"connected").await.unwrap();
        let n = server.recv(&mut buf).await.unwrap();
        assert_eq!(&buf[..n], b"connected");
        server.send(b"reply").await.unwrap();
        let n = client.recv(&mut buf).await.unwrap();
        assert_eq!(&buf[..n], b"reply");
        assert!(format!("{client:?}").contains("client.sock"));
    });
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_pair_talks_both_ways_and_several_tasks_receive() {
    let _serial = serial();
    brigade::run(async {
        let (a, b) = UnixDatagram::pair().unwrap();
        assert!(a.local_addr().unwrap().is_unnamed());
        assert!(a.peer_addr().unwrap().is_unnamed());
        let b = Rc::new(b);
        let receivers: Vec<_> = (0..4)
            .map(|_| {
                let b = b.clone();
                spawn(async move {
                    let mut buf = [0; 8];
                    let n = b.recv(&mut buf).await.unwrap();
                    buf[..n].to_vec()
                })
            })
            .collect();
        brigade::yield_now().await;
        for i in 0..4u8 {
            a.send(&[i; 3]).await.unwrap();
        }
        let mut got: Vec<Vec<u8>> = Vec::new();
        for r in receivers {
            got.push(within(r).await.unwrap());
        }
        got.sort();
        assert_eq!(got, (0..4u8).map(|i| vec![i; 3]).collect::<Vec<_>>());
        b.send(b"back").await.unwrap();
        let mut buf = [0; 8];
        let (n, from) = a.recv_from(&mut buf).await.unwrap();
        assert_eq!(&buf[..n], b"back");
        assert!(from.is_unnamed());
    });
}

#[test]
fn abstract_names_bind_connect_and_collide() {
    let _serial = serial();
    brigade::run(async {
        let addr = abstract_name("abstract");
        let server = UnixDatagram::bind_addr(&addr).unwrap();
        assert_eq!(
            server.local_addr().unwrap().as_abstract_name(),
            addr.as_abstract_name()
        );
        let err = UnixDatagram::bind_addr(&addr).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::AddrInUse);
        assert!(err.to_string().contains("brigade-test-"), "{err}");
        let client = UnixDatagram::unbound().unwrap();
        client.send_to_addr(b"one", &addr).await.unwrap();
        client.connect_addr(&addr).unwrap();
        client.send(b"two").await.unwrap();
        let mut buf = [0; 8];
        for want in [&b"one"[..], b"two"] {
            let (n, from) = server.recv_from(&mut buf).await.unwrap();
            assert_eq!(&buf[..n], want);
            assert!(from.is_unnamed());
        }
        // The name is free again once the socket is gone.
        drop(server);
        UnixDatagram::bind_addr(&addr).unwrap();
    });
}

#[test]
fn an_address_in_use_or_missing_is_a_clear_error() {
    let _serial = serial();
    let dir = temp_dir("errors");
    let path = dir.join("taken.sock");
    brigade::run(async {
        let first = UnixDatagram::bind(&path).unwrap();
        let err = UnixDatagram::bind(&path).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::AddrInUse);
        assert!(err.to_string().contains("taken.sock"), "{err}");
        // A stale socket file is still in use for bind, but refuses
        // datagrams: nobody is bound to it.
        drop(first);
        assert_eq!(
            UnixDatagram::bind(&path).unwrap_err().kind(),
            ErrorKind::AddrInUse
        );
        let sender = UnixDatagram::unbound().unwrap();
        let err = sender.send_to(b"x", &path).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::ConnectionRefused);
        assert!(err.to_string().contains("taken.sock"), "{err}");
        let err = sender.connect(&path).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::ConnectionRefused);
        let missing = dir.join("missing.sock");
        let err = sender.send_to(b"x", &missing).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::NotFound);
        assert!(err.to_string().contains("missing.sock"), "{err}");
        let err = sender.connect(&missing).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::NotFound);
        assert!(err.to_string().contains("missing.sock"), "{err}");
        // Bad input is an error, not a panic.
        let long = dir.join("x".repeat(200));
        assert_eq!(
            UnixDatagram::bind(&long).unwrap_err().kind(),
            ErrorKind::InvalidInput
        );
        // Sending without a peer.
        let err = sender.send(b"x").await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::NotConnected);
    });
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_peer_gone_refuses_sends_and_a_waiting_receive_can_be_ended() {
    let _serial = serial();
    let rt = Runtime::builder().virtual_clock(true).build().unwrap();
    rt.block_on(async {
        let (a, b) = UnixDatagram::pair().unwrap();
        drop(b);
        let err = a.send(b"anyone?").await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::ConnectionRefused);
        // The kernel disconnected the socket on the refusal.
        let err = a.send(b"anyone?").await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::NotConnected);

        // A receive has no end of stream to see: it waits, and a timeout
        // bounds it (on the virtual clock, at once).
        let (c, d) = UnixDatagram::pair().unwrap();
        drop(d);
        let mut buf = [0; 8];
        let waited = brigade::timeout(Duration::from_secs(5), c.recv(&mut buf)).await;
        assert!(waited.is_err(), "{waited:?}");

        // Shutting down the reading side ends a receive already waiting,
        // after the datagrams queued before it.
        let (e, f) = UnixDatagram::pair().unwrap();
        let e = Rc::new(e);
        f.send(b"queued").await.unwrap();
        let mut buf = [0; 8];
        let n = e.recv(&mut buf).await.unwrap();
        assert_eq!(&buf[..n], b"queued");
        let waiter = {
            let e = e.clone();
            spawn(async move {
                let mut buf = [0; 8];
                e.recv_from(&mut buf)
                    .await
                    .map(|(n, from)| (n, from.is_unnamed()))
            })
        };
        brigade::yield_now().await;
        e.shutdown(Shutdown::Read).unwrap();
        assert_eq!(within(waiter).await.unwrap().unwrap(), (0, true));
        assert_eq!(e.recv(&mut buf).await.unwrap(), 0);
        // Shutting down writing makes sends fail.
        e.shutdown(Shutdown::Write).unwrap();
        assert_eq!(
            e.send(b"x").await.unwrap_err().kind(),
            ErrorKind::BrokenPipe
        );
        assert!(e.take_error().unwrap().is_none());
    });
}

#[test]
fn a_sender_to_a_full_receiver_waits_and_then_delivers() {
    let _serial = serial();
    let dir = temp_dir("full");
    let path = dir.join("slow.sock");
    brigade::run(async {
        let receiver = UnixDatagram::bind(&path).unwrap();
        // Another process's sender fills the receiver's queue, so the
        // kernel has no reason to wake ours when it drains.
        let filler = std::os::unix::net::UnixDatagram::unbound().unwrap();
        filler.set_nonblocking(true).unwrap();
        let mut queued = 0;
        while filler.send_to(b"filler", &path).is_ok() {
            queued += 1;
        }
        assert!(queued > 0);
        let sender = UnixDatagram::unbound().unwrap();
        let p = path.clone();
        let send = spawn(async move { sender.send_to(b"mine", &p).await });
        for _ in 0..10 {
            brigade::yield_now().await;
        }
        assert!(!send.is_finished(), "the send went through a full queue");
        let mut buf = [0; 16];
        for _ in 0..queued {
            let n = receiver.recv(&mut buf).await.unwrap();
            assert_eq!(&buf[..n], b"filler");
        }
        assert_eq!(within(send).await.unwrap().unwrap(), 4);
        let n = within(receiver.recv(&mut buf)).await.unwrap();
        assert_eq!(&buf[..n], b"mine");

        // Connected senders: the kernel wakes them as the queue drains.
        let (a, b) = UnixDatagram::pair().unwrap();
        let writer = spawn(async move {
            for i in 0..200u32 {
                a.send(&i.to_le_bytes()).await.unwrap();
            }
        });
        for i in 0..200u32 {
            let n = within(b.recv(&mut buf)).await.unwrap();
            assert_eq!(&buf[..n], i.to_le_bytes());
        }
        within(writer).await.unwrap();
    });
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn sockets_outside_a_loop_are_an_error_not_a_panic() {
    let _serial = serial();
    let err = UnixDatagram::unbound().unwrap_err();
    assert!(err.to_string().contains("brigade event loop"), "{err}");
    let err = UnixDatagram::pair().unwrap_err();
    assert!(err.to_string().contains("brigade event loop"), "{err}");
}

fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd").unwrap().count()
}

fn workload(dir: &std::path::Path) {
    let rt = Runtime::new().unwrap();
    rt.block_on(async {
        for i in 0..20 {
            let path = dir.join(format!("{i}.sock"));
            let bound = UnixDatagram::bind(&path).unwrap();
            // Failures must close the socket they made.
            assert!(UnixDatagram::bind(&path).is_err());
            assert!(UnixDatagram::bind_addr(&abstract_name("leak")).is_ok());
            let (a, b) = UnixDatagram::pair().unwrap();
            a.send(b"x").await.unwrap();
            let mut buf = [0; 1];
            b.recv(&mut buf).await.unwrap();
            let c = UnixDatagram::unbound().unwrap();
            assert!(c.connect(dir.join("missing")).is_err());
            c.send_to(b"y", &path).await.unwrap();
            bound.recv_from(&mut buf).await.unwrap();
            let std = std::os::unix::net::UnixDatagram::unbound().unwrap();
            drop(UnixDatagram::from_std(std).unwrap());
            std::fs::remove_file(&path).unwrap();
        }
    });
}

#[test]
fn descriptors_never_leak() {
    let _serial = serial();
    let dir = temp_dir("fds");
    workload(&dir);
    let before = open_fds();
    for _ in 0..3 {
        workload(&dir);
    }
    assert_eq!(open_fds(), before, "descriptors leaked");
    std::fs::remove_dir_all(&dir).unwrap();
}
