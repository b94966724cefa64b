//! The other direction of the guide's chapter (`brigade::guide::tokio_crates`):
//! a brigade socket wrapped in `async_compat::Compat` is a tokio
//! `AsyncRead + AsyncWrite`, so tokio's own I/O helpers (`split`, `copy`,
//! `BufReader`, the `AsyncReadExt`/`AsyncWriteExt` methods) work on it, on
//! a brigade loop, against a brigade echo server on loopback.

use async_compat::Compat;
use brigade::net::{TcpListener, TcpStream};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};

/// Echoes one connection with tokio's `split` and `copy`, run on the
/// brigade socket through `Compat`; returns how many bytes went through.
async fn echo_once(listener: TcpListener) -> u64 {
    let (conn, _) = listener.accept().await.unwrap();
    let (mut from_peer, mut to_peer) = tokio::io::split(Compat::new(conn));
    let copied = tokio::io::copy(&mut from_peer, &mut to_peer).await.unwrap();
    // The peer's end of file was copied: close our side so it sees one too.
    to_peer.shutdown().await.unwrap();
    copied
}

#[test]
fn a_compat_wrapped_brigade_stream_works_with_tokio_io_helpers() {
    brigade::run(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = brigade::spawn(echo_once(listener));

        let stream = TcpStream::connect(addr).await.unwrap();
        let mut stream = Compat::new(stream);
        // tokio's AsyncWriteExt on a brigade socket.
        stream.write_all(b"first line\n").await.unwrap();
        stream.write_all(b"second line\n").await.unwrap();
        stream.flush().await.unwrap();
        // tokio's BufReader and AsyncBufReadExt read the echo back.
        let mut reader = BufReader::new(stream);
        let mut line = String::new();
        reader.read_line(&mut line).await.unwrap();
        assert_eq!(line, "first line\n");
        line.clear();
        reader.read_line(&mut line).await.unwrap();
        assert_eq!(line, "second line\n");
        // Half-close through tokio's shutdown: the server's copy ends, it
        // closes its side, and tokio's read_to_end sees the end of file.
        let mut stream = reader.into_inner();
        stream.shutdown().await.unwrap();
        let mut rest = Vec::new();
        assert_eq!(stream.read_to_end(&mut rest).await.unwrap(), 0);
        assert!(rest.is_empty());
        assert_eq!(server.await.unwrap(), 23);
    });
}

#[test]
fn tokio_read_exact_on_a_compat_wrapped_brigade_stream_reports_an_early_end() {
    brigade::run(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = brigade::spawn(echo_once(listener));
        let mut stream = Compat::new(TcpStream::connect(addr).await.unwrap());
        stream.write_all(b"abc").await.unwrap();
        stream.shutdown().await.unwrap();
        // Asking for more than the peer will ever send is an error value
        // (tokio's UnexpectedEof), after the bytes that did come.
        let mut buf = [0u8; 8];
        let err = stream.read_exact(&mut buf).await.unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::UnexpectedEof);
        assert_eq!(server.await.unwrap(), 3);
    });
}
