//! An echo server: every byte a client sends comes back.
//!
//! `cargo run --release -p brigade --example echo_server -- [ADDR] [--loops N]`
//!
//! With `--loops N` it runs N event loops on N threads, each with its own
//! listener on the same port (`SO_REUSEPORT`): the kernel spreads the
//! connections over the loops, which share nothing. The default address is
//! 127.0.0.1:7000 and the default is one loop per core.

use brigade::io::AsyncWriteExt;
use brigade::net::{ListenOptions, TcpStream};

async fn serve(addr: String) -> std::io::Result<()> {
    let listener = ListenOptions::new().reuse_port(true).bind(addr).await?;
    loop {
        match listener.accept().await {
            Ok((conn, _)) => drop(brigade::spawn(echo(conn))),
            Err(e) => {
                // Out of descriptors and the like: back off, don't spin.
                eprintln!("accept: {e}");
                brigade::sleep(std::time::Duration::from_millis(10)).await;
            }
        }
    }
}

async fn echo(mut conn: TcpStream) {
    let _ = conn.set_nodelay(true);
    let mut buf = vec![0; 16 * 1024];
    loop {
        match conn.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => {
                if conn.write_all(&buf[..n]).await.is_err() {
                    return;
                }
            }
        }
    }
}

fn main() {
    let mut addr = "127.0.0.1:7000".to_string();
    let mut loops = std::thread::available_parallelism().map_or(1, |n| n.get());
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--loops" => loops = args.next().and_then(|n| n.parse().ok()).unwrap_or(loops),
            other => addr = other.to_string(),
        }
    }
    eprintln!("echo server on {addr} with {loops} loop(s)");
    // One loop per thread, each with its own SO_REUSEPORT listener.
    for result in brigade::event_loop::run_on_threads(loops, |_| serve(addr.clone())) {
        if let Err(e) = result {
            eprintln!("{e}");
            std::process::exit(1);
        }
    }
}
