//! Descriptor accounting: nothing leaks, and running out of descriptors
//! (EMFILE) is an error the program can recover from. This changes the
//! process's descriptor limit, so it is the only test in its binary.

use std::time::Duration;

use brigade::io::{AsyncReadExt, AsyncWriteExt, DriverKind};
use brigade::net::{TcpListener, TcpStream, UdpSocket};
use brigade::subprocess::Command;
use brigade::{Runtime, spawn};

fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd").unwrap().count()
}

fn workload() {
    let dir = std::env::temp_dir().join(format!("brigade-limits-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let rt = Runtime::new().unwrap();
    rt.block_on(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = spawn(async move {
            for _ in 0..50 {
                let (mut c, _) = listener.accept().await.unwrap();
                spawn(async move {
                    let mut buf = [0; 8];
                    let n = c.read(&mut buf).await.unwrap();
                    c.write_all(&buf[..n]).await.unwrap();
                });
            }
        });
        for _ in 0..50 {
            let mut c = TcpStream::connect(addr).await.unwrap();
            c.write_all(b"ping").await.unwrap();
            let mut buf = [0; 4];
            c.read_exact(&mut buf).await.unwrap();
        }
        server.await.unwrap();
        let _ = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        for i in 0..20 {
            let p = dir.join(format!("{i}"));
            brigade::fs::write(&p, b"data").await.unwrap();
            brigade::fs::read(&p).await.unwrap();
        }
        let out = Command::new("echo").arg("hi").output().await.unwrap();
        assert_eq!(out.stdout, b"hi\n");
    });
    drop(rt);
    std::fs::remove_dir_all(&dir).unwrap();
}

fn set_fd_limit(n: u64) -> libc::rlimit {
    let mut old = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: valid out-pointer.
    assert_eq!(unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut old) }, 0);
    let new = libc::rlimit {
        rlim_cur: n,
        rlim_max: old.rlim_max,
    };
    // SAFETY: valid pointer to a limit below the hard maximum.
    assert_eq!(unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &new) }, 0);
    old
}

fn restore_fd_limit(old: libc::rlimit) {
    // SAFETY: valid pointer to the limit we read before.
    assert_eq!(unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &old) }, 0);
}

#[test]
fn descriptors_do_not_leak_and_exhaustion_is_recoverable() {
    // Warm up lazily created process-wide descriptors (the blocking pool
    // has none, but std may cache some), then count.
    workload();
    let before = open_fds();
    for _ in 0..3 {
        workload();
    }
    assert_eq!(open_fds(), before, "descriptors leaked");

    // Exhaustion: a limit a little above what is open now.
    let rt = Runtime::new().unwrap();
    let driver = rt.io_driver();
    rt.block_on(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let old = set_fd_limit(open_fds() as u64 + 16);
        let mut held = Vec::new();
        let mut error = None;
        for _ in 0..64 {
            match TcpStream::connect(addr).await {
                Ok(c) => held.push(c),
                Err(e) => {
                    error = Some(e);
                    break;
                }
            }
            match listener.accept().await {
                Ok((c, _)) => held.push(c),
                Err(e) => {
                    error = Some(e);
                    break;
                }
            }
        }
        let error = error.expect("the descriptor limit was never reached");
        let held_at_the_limit = held.len();
        assert_eq!(error.raw_os_error(), Some(libc::EMFILE), "{error}");
        // Opening a file reports it as an error naming the file.
        let err = brigade::fs::File::open("/proc/self/status")
            .await
            .unwrap_err();
        assert!(err.to_string().contains("/proc/self/status"), "{err}");
        // fs::read on io_uring opens a direct descriptor, in the ring's own
        // table: it works even now (if the kernel has them, 5.19+).
        match brigade::fs::read("/proc/self/status").await {
            Ok(status) => {
                assert_eq!(driver, DriverKind::Uring);
                assert!(!status.is_empty());
            }
            Err(err) => assert!(err.to_string().contains("/proc/self/status"), "{err}"),
        }
        // Freeing descriptors lets the server go on: the queued connection
        // (if any) is accepted, new ones work.
        held.clear();
        restore_fd_limit(old);
        let client = TcpStream::connect(addr).await.unwrap();
        let accepted = brigade::timeout(Duration::from_secs(10), listener.accept()).await;
        assert!(accepted.unwrap().is_ok());
        drop(client);
        println!(
            "emfile: connections_held_at_the_limit={held_at_the_limit} \
             served_after_recovery=1"
        );
    });
    drop(rt);
}
