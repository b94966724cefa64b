//! An echo client: sends each line of its arguments to an echo server and
//! prints what comes back.
//!
//! `cargo run -p brigade --example echo_client -- [ADDR] MESSAGE...`
//! (the default address is 127.0.0.1:7000, where `echo_server` listens).

use std::time::Duration;

use brigade::io::{AsyncReadExt, AsyncWriteExt};
use brigade::net::TcpStream;

#[brigade::main]
async fn main() -> std::io::Result<()> {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let addr = match args.first() {
        Some(a) if a.parse::<std::net::SocketAddr>().is_ok() => args.remove(0),
        _ => "127.0.0.1:7000".to_string(),
    };
    if args.is_empty() {
        args.push("hello".into());
    }
    let addr = addr.parse().expect("checked above");
    let mut conn = TcpStream::connect_timeout(&addr, Duration::from_secs(5)).await?;
    for message in args {
        conn.write_all(message.as_bytes()).await?;
        let mut back = vec![0; message.len()];
        conn.read_exact(&mut back).await?;
        println!("{}", String::from_utf8_lossy(&back));
    }
    Ok(())
}
