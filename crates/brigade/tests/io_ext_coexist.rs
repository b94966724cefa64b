//! brigade's I/O extension traits and `futures::io`'s, imported together:
//! every call below would be E0034 ("multiple applicable items in scope")
//! if brigade defined traits of its own with the same method names. That
//! this file compiles is the test; running it checks the calls do what
//! they say, on a brigade file, a TCP stream and plain slices.
//!
//! `futures_util::io` is what `futures::io` re-exports, so these imports are
//! the ones a program using the `futures` crate writes.

use std::io::ErrorKind;

// brigade's by name, futures' anonymously, as `futures::prelude::*` brings
// them in. (Two `use`s of one name are E0252 whatever they import, so a
// program never has both by the same name; the `globs` test below has both
// sets by glob.)
use brigade::io::{AsyncReadExt, AsyncSeekExt, AsyncWriteExt};
// rustc calls this import unused: the traits are in scope already, being
// the same traits. That is the point of the test.
#[allow(unused_imports)]
use futures_util::io::{AsyncBufReadExt as _, AsyncReadExt as _, AsyncWriteExt as _};
// And under names of their own, to call each path explicitly below.
use futures_util::io::{AsyncReadExt as FuturesRead, AsyncWriteExt as FuturesWrite};

use brigade::net::{TcpListener, TcpStream};

#[test]
fn file_read_exact_read_to_end_write_all_with_both_imported() {
    brigade::run(async {
        let dir = std::env::temp_dir().join(format!("brigade-ext-{}", std::process::id()));
        brigade::fs::create_dir_all(&dir).await.unwrap();
        let path = dir.join("data");
        let mut file = brigade::fs::File::create(&path).await.unwrap();
        file.write_all(b"0123456789").await.unwrap();
        file.flush().await.unwrap();
        drop(file);

        let mut file = brigade::fs::File::open(&path).await.unwrap();
        let mut head = [0; 4];
        file.read_exact(&mut head).await.unwrap();
        assert_eq!(&head, b"0123");
        let mut rest = Vec::new();
        assert_eq!(file.read_to_end(&mut rest).await.unwrap(), 6);
        assert_eq!(rest, b"456789");
        // At the end: read_exact reports the short read, it does not hang.
        let err = file.read_exact(&mut head).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::UnexpectedEof);
        file.seek(std::io::SeekFrom::Start(8)).await.unwrap();
        let mut tail = String::new();
        file.read_to_string(&mut tail).await.unwrap();
        assert_eq!(tail, "89");
        brigade::fs::remove_file(&path).await.unwrap();
        brigade::fs::remove_dir(&dir).await.unwrap();
    });
}

#[test]
fn tcp_stream_read_exact_write_all_with_both_imported() {
    brigade::run(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = brigade::spawn(async move {
            let (mut conn, _) = listener.accept().await.unwrap();
            let mut word = [0; 5];
            conn.read_exact(&mut word).await.unwrap();
            conn.write_all(&word).await.unwrap();
            conn.close().await.unwrap();
        });
        let mut client = TcpStream::connect(addr).await.unwrap();
        client.write_all(b"hello").await.unwrap();
        let mut echo = Vec::new();
        client.read_to_end(&mut echo).await.unwrap();
        assert_eq!(echo, b"hello");
        server.await.unwrap();
    });
}

#[test]
fn the_two_imports_name_one_trait() {
    // Calling through either path reaches the same method: a slice read
    // through futures' path and one through brigade's share one cursor.
    brigade::run(async {
        let mut input: &[u8] = b"abcd";
        let mut a = [0; 2];
        let mut b = [0; 2];
        FuturesRead::read_exact(&mut input, &mut a).await.unwrap();
        AsyncReadExt::read_exact(&mut input, &mut b).await.unwrap();
        assert_eq!((&a, &b), (b"ab", b"cd"));
        let mut out = Vec::new();
        FuturesWrite::write_all(&mut out, b"xy").await.unwrap();
        AsyncWriteExt::write_all(&mut out, b"z").await.unwrap();
        assert_eq!(out, b"xyz");
    });
}

mod globs {
    // Every name of both modules.
    use brigade::io::*;
    // Unused by rustc's count, as above: brigade's glob brought the traits.
    #[allow(unused_imports)]
    use futures_util::io::*;

    #[test]
    fn glob_imports_of_both_resolve_too() {
        brigade::run(async {
            let mut input: &[u8] = b"line\nrest";
            let mut line = String::new();
            input.read_line(&mut line).await.unwrap();
            assert_eq!(line, "line\n");
            let mut rest = [0; 4];
            input.read_exact(&mut rest).await.unwrap();
            assert_eq!(&rest, b"rest");
            let mut out = Vec::new();
            out.write_all(&rest).await.unwrap();
            assert_eq!(out, b"rest");
        });
    }
}
