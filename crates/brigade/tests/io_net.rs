//! Sockets on the loop: TCP, UDP and Unix streams over loopback, on
//! whichever driver `BRIGADE_DRIVER` selects (scripts/test.sh runs this
//! file under both).

use std::net::{Shutdown, SocketAddr};
use std::rc::Rc;
use std::time::Duration;

use brigade::io::{AsyncReadExt, AsyncWriteExt, DriverKind};
use brigade::net::{ListenOptions, TcpListener, TcpStream, UdpSocket, UnixListener, UnixStream};
use brigade::{Runtime, spawn};

fn temp_dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("brigade-net-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

async fn echo_server(listener: TcpListener, connections: usize) {
    let mut handlers = Vec::new();
    for _ in 0..connections {
        let (mut conn, _) = listener.accept().await.unwrap();
        handlers.push(spawn(async move {
            let mut buf = vec![0; 4096];
            loop {
                let n = conn.read(&mut buf).await.unwrap();
                if n == 0 {
                    break;
                }
                conn.write_all(&buf[..n]).await.unwrap();
            }
        }));
    }
    for h in handlers {
        h.await.unwrap();
    }
}

#[test]
fn the_driver_is_the_one_the_environment_asks_for() {
    let rt = Runtime::new().unwrap();
    match std::env::var("BRIGADE_DRIVER").as_deref() {
        Ok("epoll") => assert_eq!(rt.io_driver(), DriverKind::Epoll),
        Ok("uring") => assert_eq!(rt.io_driver(), DriverKind::Uring),
        _ => {}
    }
    let epoll = Runtime::builder()
        .io_driver(DriverKind::Epoll)
        .build()
        .unwrap();
    assert_eq!(epoll.io_driver(), DriverKind::Epoll);
}

#[test]
fn many_clients_echo_through_one_server() {
    brigade::run(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = spawn(echo_server(listener, 32));
        let clients: Vec<_> = (0..32u32)
            .map(|i| {
                spawn(async move {
                    let mut conn = TcpStream::connect(addr).await.unwrap();
                    let message: Vec<u8> = (0..10_000u32).map(|j| (i + j) as u8).collect();
                    conn.write_all(&message).await.unwrap();
                    conn.shutdown(Shutdown::Write).unwrap();
                    let mut back = Vec::new();
                    conn.read_to_end(&mut back).await.unwrap();
                    back == message
                })
            })
            .collect();
        for c in clients {
            assert!(c.await.unwrap());
        }
        server.await.unwrap();
    });
}

#[test]
fn ipv6_loopback_works() {
    brigade::run(async {
        let Ok(listener) = TcpListener::bind("[::1]:0").await else {
            return; // no IPv6 on this machine
        };
        let addr = listener.local_addr().unwrap();
        let mut client = TcpStream::connect(addr).await.unwrap();
        let (server, peer) = listener.accept().await.unwrap();
        assert!(peer.is_ipv6());
        client.write_all(b"six").await.unwrap();
        let mut buf = [0; 3];
        (&server).read_exact(&mut buf).await.unwrap();
        assert_eq!(&buf, b"six");
    });
}

#[test]
fn streams_report_addresses_and_options() {
    brigade::run(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let client = TcpStream::connect(addr).await.unwrap();
        let (server, peer) = listener.accept().await.unwrap();
        assert_eq!(client.peer_addr().unwrap(), addr);
        assert_eq!(server.local_addr().unwrap(), addr);
        assert_eq!(peer, client.local_addr().unwrap());
        client.set_nodelay(true).unwrap();
        assert!(client.nodelay().unwrap());
        client.set_nodelay(false).unwrap();
        assert!(!client.nodelay().unwrap());
        assert!(client.take_error().unwrap().is_none());
    });
}

#[test]
fn split_halves_work_in_separate_tasks_and_reunite() {
    brigade::run(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = spawn(echo_server(listener, 1));
        let stream = TcpStream::connect(addr).await.unwrap();
        let (mut reader, mut writer) = stream.into_split();
        let writing = spawn(async move {
            for i in 0..100u8 {
                writer.write_all(&[i; 100]).await.unwrap();
            }
            writer
        });
        let mut got = vec![0; 100 * 100];
        reader.read_exact(&mut got).await.unwrap();
        for (i, chunk) in got.chunks(100).enumerate() {
            assert!(chunk.iter().all(|b| *b == i as u8));
        }
        let writer = writing.await.unwrap();
        let stream = reader.reunite(writer).unwrap();
        // Borrowed halves on the reunited stream. With `AsyncReadExt` in
        // scope, `stream.split()` would be that trait's `split(self)`,
        // which takes the stream by value; the path names the inherent one.
        let (mut r, mut w) = TcpStream::split(&stream);
        w.write_all(b"again").await.unwrap();
        let mut buf = [0; 5];
        r.read_exact(&mut buf).await.unwrap();
        assert_eq!(&buf, b"again");
        stream.shutdown(Shutdown::Write).unwrap();
        server.await.unwrap();
    });
}

#[test]
fn reuniting_halves_of_different_streams_hands_them_back() {
    brigade::run(async {
        let (a, b) = UnixStream::pair().unwrap();
        let (ra, _wa) = a.into_split();
        let (_rb, wb) = b.into_split();
        let err = ra.reunite(wb).unwrap_err();
        assert_eq!(
            err.to_string(),
            "the two halves come from different streams"
        );
    });
}

#[test]
fn dropping_the_owned_write_half_sends_end_of_stream() {
    brigade::run(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let client = TcpStream::connect(listener.local_addr().unwrap())
            .await
            .unwrap();
        let (server, _) = listener.accept().await.unwrap();
        let (_read, write) = client.into_split();
        drop(write);
        let mut rest = Vec::new();
        (&server).read_to_end(&mut rest).await.unwrap();
        assert!(rest.is_empty());
    });
}

#[test]
fn a_refused_connection_is_connection_refused() {
    brigade::run(async {
        let addr = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap()
        };
        let err = TcpStream::connect(addr).await.unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::ConnectionRefused);
        assert!(err.to_string().contains(&addr.to_string()), "{err}");
    });
}

#[test]
fn an_address_in_use_is_addr_in_use_and_names_the_address() {
    brigade::run(async {
        let first = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = first.local_addr().unwrap();
        let err = TcpListener::bind(addr).await.unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::AddrInUse);
        assert!(err.to_string().contains(&addr.to_string()), "{err}");
        let udp = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let err = UdpSocket::bind(udp.local_addr().unwrap())
            .await
            .unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::AddrInUse);
    });
}

#[test]
fn reuse_port_lets_several_listeners_share_a_port() {
    brigade::run(async {
        let opts = ListenOptions::new().reuse_port(true);
        let a = opts.bind("127.0.0.1:0").await.unwrap();
        let addr = a.local_addr().unwrap();
        let b = opts.bind(addr).await.unwrap();
        assert_eq!(b.local_addr().unwrap(), addr);
        // Every connection lands on one of them.
        let a = Rc::new(a);
        let b = Rc::new(b);
        let mut clients = Vec::new();
        for _ in 0..8 {
            clients.push(TcpStream::connect(addr).await.unwrap());
        }
        let mut accepted = 0;
        for listener in [a, b] {
            while let Ok(Ok(_)) =
                brigade::timeout(Duration::from_millis(50), listener.accept()).await
            {
                accepted += 1;
                if accepted == 8 {
                    break;
                }
            }
        }
        assert_eq!(accepted, 8);
    });
}

#[test]
fn connect_times_out_against_a_full_backlog_on_the_virtual_clock() {
    let rt = Runtime::builder().virtual_clock(true).build().unwrap();
    rt.block_on(async {
        let listener = ListenOptions::new()
            .backlog(1)
            .bind("127.0.0.1:0")
            .await
            .unwrap();
        let addr: SocketAddr = listener.local_addr().unwrap();
        let mut kept = Vec::new();
        let mut timed_out = false;
        for _ in 0..16 {
            match TcpStream::connect_timeout(&addr, Duration::from_secs(5)).await {
                Ok(s) => kept.push(s),
                Err(e) => {
                    assert_eq!(e.kind(), std::io::ErrorKind::TimedOut, "{e}");
                    timed_out = true;
                    break;
                }
            }
        }
        assert!(
            timed_out,
            "{} connections went through a backlog of 1",
            kept.len()
        );
    });
}

#[test]
fn udp_datagrams_round_trip() {
    brigade::run(async {
        let a = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let b = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let b_addr = b.local_addr().unwrap();
        for i in 0..20u8 {
            a.send_to(&[i; 32], b_addr).await.unwrap();
        }
        let mut buf = [0; 64];
        for i in 0..20u8 {
            let (n, from) = b.recv_from(&mut buf).await.unwrap();
            assert_eq!(n, 32);
            assert_eq!(buf[0], i);
            assert_eq!(from, a.local_addr().unwrap());
        }
        a.connect(b_addr).await.unwrap();
        b.connect(a.local_addr().unwrap()).await.unwrap();
        a.send(b"connected").await.unwrap();
        let n = b.recv(&mut buf).await.unwrap();
        assert_eq!(&buf[..n], b"connected");
        assert_eq!(a.peer_addr().unwrap(), b_addr);
    });
}

#[test]
fn several_tasks_receive_on_one_udp_socket() {
    brigade::run(async {
        let sock = Rc::new(UdpSocket::bind("127.0.0.1:0").await.unwrap());
        let addr = sock.local_addr().unwrap();
        let receivers: Vec<_> = (0..4)
            .map(|_| {
                let sock = sock.clone();
                spawn(async move {
                    let mut buf = [0; 8];
                    sock.recv_from(&mut buf).await.unwrap().0
                })
            })
            .collect();
        brigade::yield_now().await;
        let sender = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        for _ in 0..4 {
            sender.send_to(b"x", addr).await.unwrap();
        }
        for r in receivers {
            assert_eq!(r.await.unwrap(), 1);
        }
    });
}

#[test]
fn unix_streams_echo_and_report_a_path_in_use() {
    let dir = temp_dir("unix");
    let path = dir.join("echo.sock");
    brigade::run(async {
        let listener = UnixListener::bind(&path).unwrap();
        let err = UnixListener::bind(&path).unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::AddrInUse);
        assert!(err.to_string().contains("echo.sock"), "{err}");
        let server = spawn(async move {
            let (mut conn, _) = listener.accept().await.unwrap();
            let mut all = Vec::new();
            conn.read_to_end(&mut all).await.unwrap();
            conn.write_all(&all).await.unwrap();
        });
        let mut client = UnixStream::connect(&path).await.unwrap();
        let data = vec![7u8; 300_000];
        client.write_all(&data).await.unwrap();
        client.shutdown(Shutdown::Write).unwrap();
        let mut back = Vec::new();
        client.read_to_end(&mut back).await.unwrap();
        assert_eq!(back, data);
        server.await.unwrap();
    });
    let err = brigade::run(UnixStream::connect(dir.join("missing.sock"))).unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::NotFound);
    assert!(err.to_string().contains("missing.sock"), "{err}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn sockets_outside_a_loop_are_an_error_not_a_panic() {
    let std = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let err = TcpListener::from_std(std).unwrap_err();
    assert!(err.to_string().contains("brigade event loop"), "{err}");
}

#[test]
fn io_wakes_a_loop_that_sleeps_with_a_far_timer() {
    // The loop parks in the driver until a long timer; the peer's data,
    // written from another thread, must end the wait.
    brigade::run(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let _far = spawn(brigade::sleep(Duration::from_secs(3600)));
        let writer = std::thread::spawn(move || {
            use std::io::Write;
            let mut s = std::net::TcpStream::connect(addr).unwrap();
            s.write_all(b"from a thread").unwrap();
        });
        let (mut conn, _) = listener.accept().await.unwrap();
        let mut text = String::new();
        conn.read_to_string(&mut text).await.unwrap();
        assert_eq!(text, "from a thread");
        writer.join().unwrap();
    });
}

#[test]
fn a_udp_error_report_does_not_spin_the_next_receive() {
    // A connected UDP socket whose peer port is closed gets an ICMP error
    // (EPOLLERR). Once the error is reported, the next receive must wait
    // for data again, not spin inside the loop.
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        brigade::run(async {
            let closed = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
            let closed_addr = closed.local_addr().unwrap();
            drop(closed);
            let sock = UdpSocket::bind("127.0.0.1:0").await.unwrap();
            sock.connect(closed_addr).await.unwrap();
            sock.send(b"anyone?").await.unwrap();
            let mut buf = [0; 8];
            let err = sock.recv(&mut buf).await.unwrap_err();
            assert_eq!(err.kind(), std::io::ErrorKind::ConnectionRefused);
            let again = brigade::timeout(Duration::from_millis(50), sock.recv(&mut buf)).await;
            assert!(again.is_err(), "{again:?}");
        });
        tx.send(()).unwrap();
    });
    rx.recv_timeout(Duration::from_secs(30))
        .expect("a receive after an error report spun the loop");
}
