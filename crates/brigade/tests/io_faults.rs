//! Faults and bad input on sockets: resets, half-closed peers, a peer that
//! never reads, slowloris clients that hold connections open with requests
//! they never finish. Each is a clear `io::Error` or an orderly wait, never a
//! panic, a busy loop or a leaked descriptor.

use std::io::{ErrorKind, IoSlice};
use std::net::Shutdown;
use std::os::fd::AsRawFd;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use brigade::io::{AsyncReadExt, AsyncWriteExt};
use brigade::net::{TcpListener, TcpStream};
use brigade::{Runtime, spawn};

async fn pair() -> (TcpStream, TcpStream) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let client = TcpStream::connect(listener.local_addr().unwrap())
        .await
        .unwrap();
    let (server, _) = listener.accept().await.unwrap();
    (client, server)
}

/// Makes the next close send a reset instead of a FIN.
fn set_linger_zero(s: &TcpStream) {
    let linger = libc::linger {
        l_onoff: 1,
        l_linger: 0,
    };
    // SAFETY: the pointer and length describe `linger` for the call.
    let ret = unsafe {
        libc::setsockopt(
            s.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_LINGER,
            (&linger as *const libc::linger).cast(),
            std::mem::size_of::<libc::linger>() as libc::socklen_t,
        )
    };
    assert_eq!(ret, 0);
}

/// A client whose peer reset the connection; its read has seen the reset.
async fn reset_client() -> TcpStream {
    let (client, server) = pair().await;
    set_linger_zero(&server);
    drop(server);
    let mut buf = [0; 16];
    let err = client.read(&mut buf).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ConnectionReset);
    client
}

/// Writes to a reset connection until one fails (within ten tries), and
/// checks that the error says the connection is gone.
async fn a_write_fails(client: &mut TcpStream, vectored: bool) {
    let chunk = [7; 512];
    for _ in 0..10 {
        let written = if vectored {
            let bufs = [IoSlice::new(&chunk), IoSlice::new(&chunk)];
            client.write_vectored(&bufs).await.map(drop)
        } else {
            client.write_all(&chunk).await
        };
        if let Err(e) = written {
            assert!(
                matches!(e.kind(), ErrorKind::BrokenPipe | ErrorKind::ConnectionReset),
                "{e}"
            );
            return;
        }
    }
    panic!("ten writes to a reset connection all succeeded");
}

#[test]
fn a_reset_connection_reads_and_writes_as_errors() {
    brigade::run(async {
        let mut client = reset_client().await;
        // Writing after the reset fails too; it never raises SIGPIPE.
        a_write_fails(&mut client, false).await;
    });
}

/// Whether the kernel sent SIGPIPE to this thread while `f` ran. SIGPIPE is
/// blocked on the thread meanwhile: a blocked signal stays pending even
/// when the process ignores it (as Rust programs do), so the test sees it;
/// a pending one is then taken so that it never reaches the process.
fn raises_sigpipe(f: impl FnOnce()) -> bool {
    // SAFETY: the sets are plain values initialized by sigemptyset before
    // use; pthread_sigmask, sigpending and sigtimedwait only read and write
    // them, and change this thread's mask, which is restored below.
    unsafe {
        let mut pipe: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut pipe);
        libc::sigaddset(&mut pipe, libc::SIGPIPE);
        let mut old: libc::sigset_t = std::mem::zeroed();
        libc::pthread_sigmask(libc::SIG_BLOCK, &pipe, &mut old);
        f();
        let mut pending: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut pending);
        libc::sigpending(&mut pending);
        let raised = libc::sigismember(&pending, libc::SIGPIPE) == 1;
        if raised {
            let now = libc::timespec {
                tv_sec: 0,
                tv_nsec: 0,
            };
            libc::sigtimedwait(&pipe, std::ptr::null_mut(), &now);
        }
        libc::pthread_sigmask(libc::SIG_SETMASK, &old, std::ptr::null_mut());
        raised
    }
}

#[test]
fn vectored_writes_to_a_reset_connection_fail_without_sigpipe() {
    let raised = raises_sigpipe(|| {
        brigade::run(async {
            let mut client = reset_client().await;
            a_write_fails(&mut client, true).await;
        });
    });
    assert!(!raised, "a vectored write raised SIGPIPE");
}

#[test]
fn a_half_closed_peer_reads_the_end_and_can_still_answer() {
    brigade::run(async {
        let (mut client, mut server) = pair().await;
        client.write_all(b"question").await.unwrap();
        client.shutdown(Shutdown::Write).unwrap();
        let mut got = Vec::new();
        server.read_to_end(&mut got).await.unwrap();
        assert_eq!(got, b"question");
        // Reading again at the end keeps returning 0, not an error or a hang.
        let mut buf = [0; 4];
        assert_eq!(server.read(&mut buf).await.unwrap(), 0);
        server.write_all(b"answer").await.unwrap();
        drop(server);
        let mut reply = Vec::new();
        client.read_to_end(&mut reply).await.unwrap();
        assert_eq!(reply, b"answer");
    });
}

#[test]
fn dropping_a_stream_closes_the_connection() {
    brigade::run(async {
        for _ in 0..20 {
            let (mut client, server) = pair().await;
            // A task waiting to read keeps the driver watching the socket.
            let reader = spawn(async move {
                let mut buf = [0; 1];
                server.read(&mut buf).await.ok();
                server
            });
            brigade::yield_now().await;
            client.write_all(b"x").await.unwrap();
            drop(reader.await.unwrap());
            let mut rest = Vec::new();
            client.read_to_end(&mut rest).await.unwrap();
            assert!(rest.is_empty());
        }
    });
}

#[test]
fn a_peer_that_never_reads_makes_writes_wait_not_spin() {
    // On a virtual clock a busy loop would keep the loop from ever being
    // idle, so the timeout could not fire: the test ending shows an
    // orderly wait.
    let rt = Runtime::builder().virtual_clock(true).build().unwrap();
    rt.block_on(async {
        let (mut client, server) = pair().await;
        let chunk = vec![1u8; 64 * 1024];
        let mut sent = 0usize;
        loop {
            match brigade::timeout(Duration::from_secs(1), client.write(&chunk)).await {
                Ok(n) => sent += n.unwrap(),
                Err(_) => break, // the socket buffers are full: we wait
            }
            assert!(
                sent < 1 << 30,
                "a gigabyte went into a peer that never reads"
            );
        }
        assert!(sent > 0);
        // Once the peer reads, the writer goes on.
        let reader = spawn(async move {
            let mut total = 0;
            let mut buf = vec![0; 64 * 1024];
            loop {
                let n = server.read(&mut buf).await.unwrap();
                if n == 0 {
                    return total;
                }
                total += n;
            }
        });
        client.write_all(&chunk).await.unwrap();
        client.shutdown(Shutdown::Write).unwrap();
        assert_eq!(reader.await.unwrap(), sent + chunk.len());
    });
}

#[test]
fn a_runtime_dropped_with_sockets_waiting_releases_them() {
    for _ in 0..10 {
        let rt = Runtime::new().unwrap();
        let (client, server) = rt.block_on(pair());
        drop(rt.spawn(async move {
            let mut buf = [0; 1];
            server.read(&mut buf).await.ok();
        }));
        rt.block_on(brigade::yield_now());
        assert!(rt.io_stats().registered >= 2);
        drop(client);
        drop(rt);
    }
}

#[test]
fn data_and_end_of_stream_arriving_together_are_both_read() {
    // A short read clears the readable bit; the FIN that came with the
    // data sends no further event, so the end of the stream must still be
    // seen (the closed bit is never cleared).
    brigade::run(async {
        for _ in 0..20 {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            let writer = std::thread::spawn(move || {
                use std::io::Write;
                let mut s = std::net::TcpStream::connect(addr).unwrap();
                s.write_all(b"last words").unwrap();
            });
            writer.join().unwrap();
            let (conn, _) = listener.accept().await.unwrap();
            let mut buf = [0; 4096];
            let n = conn.read(&mut buf).await.unwrap();
            assert_eq!(&buf[..n], b"last words");
            assert_eq!(conn.read(&mut buf).await.unwrap(), 0);
        }
    });
}

/// Reads one line (up to `\n`) from `conn` a byte at a time, as a naive
/// server would; `None` if the peer goes away first.
async fn read_line(conn: &TcpStream) -> Option<Vec<u8>> {
    let mut line = Vec::new();
    let mut byte = [0; 1];
    loop {
        match conn.read(&mut byte).await {
            Ok(1) if byte[0] == b'\n' => return Some(line),
            Ok(1) => line.push(byte[0]),
            _ => return None,
        }
    }
}

#[test]
fn slowloris_clients_do_not_starve_the_others() {
    // Fifty clients open connections and trickle a request a byte at a
    // time without ever finishing it, holding their connections, until a
    // fast client has been served: only then do they finish. A server that
    // served connections one at a time, or stalled on a half-read request,
    // would never answer the fast client (the watchdog would fire), and
    // the slow clients would never be told to finish.
    const SLOW: usize = 50;
    brigade::run(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = spawn(async move {
            for _ in 0..SLOW + 1 {
                let (mut conn, _) = listener.accept().await.unwrap();
                spawn(async move {
                    if let Some(line) = read_line(&conn).await {
                        conn.write_all(&line).await.unwrap();
                        conn.write_all(b"\n").await.unwrap();
                    }
                });
            }
        });
        let fast_done = Arc::new(AtomicBool::new(false));
        let trickling = Arc::new(AtomicUsize::new(0));
        let mut slow = Vec::new();
        for i in 0..SLOW {
            let (fast_done, trickling) = (fast_done.clone(), trickling.clone());
            slow.push(spawn(async move {
                let mut conn = TcpStream::connect(addr).await.unwrap();
                conn.write_all(b"s").await.unwrap();
                trickling.fetch_add(1, Ordering::SeqCst);
                // Trickle until the fast client has its answer.
                while !fast_done.load(Ordering::SeqCst) {
                    brigade::time::sleep(Duration::from_millis(2)).await;
                    conn.write_all(b"s").await.unwrap();
                }
                conn.write_all(format!("{i}\n").as_bytes()).await.unwrap();
                let mut reply = Vec::new();
                conn.read_to_end(&mut reply).await.unwrap();
                assert!(reply.starts_with(b"ss") && reply.ends_with(format!("{i}\n").as_bytes()));
            }));
        }
        // Every slow client holds its connection, its request begun.
        while trickling.load(Ordering::SeqCst) < SLOW {
            brigade::time::sleep(Duration::from_millis(1)).await;
        }
        let mut fast = TcpStream::connect(addr).await.unwrap();
        fast.write_all(b"fast\n").await.unwrap();
        let reply = brigade::timeout(Duration::from_secs(60), read_line(&fast))
            .await
            .expect("the fast client was starved by slow ones");
        assert_eq!(reply.as_deref(), Some(&b"fast"[..]));
        let held = slow.iter().filter(|t| !t.is_finished()).count();
        assert_eq!(held, SLOW, "a slow client finished before it was told to");
        fast_done.store(true, Ordering::SeqCst);
        for t in slow {
            t.await.unwrap();
        }
        server.await.unwrap();
        println!("slowloris: slow_connections_held={held} fast_clients_served=1");
    });
}
