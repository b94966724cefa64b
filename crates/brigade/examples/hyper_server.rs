//! An HTTP/1 server: hyper 1.x on brigade's event loops.
//!
//! `cargo run --release -p brigade --features hyper --example hyper_server -- [ADDR] [--loops N]`
//!
//! Every loop (one per core by default) has its own `SO_REUSEPORT`
//! listener on ADDR (default 127.0.0.1:8080) and serves "Hello, World!" to
//! every request, with keep-alive. Load it with
//! `wrk -t2 -c64 -d10s http://127.0.0.1:8080/`.

use std::convert::Infallible;

use bytes::Bytes;
use http_body_util::Full;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};

use brigade::hyper::{HyperIo, LoopTimer};
use brigade::net::ListenOptions;

async fn hello(_: Request<hyper::body::Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    Ok(Response::new(Full::new(Bytes::from_static(
        b"Hello, World!",
    ))))
}

async fn serve(addr: String) -> std::io::Result<()> {
    let listener = ListenOptions::new().reuse_port(true).bind(addr).await?;
    loop {
        let stream = match listener.accept().await {
            Ok((stream, _)) => stream,
            Err(e) => {
                eprintln!("accept: {e}");
                brigade::sleep(std::time::Duration::from_millis(10)).await;
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        drop(brigade::spawn(async move {
            let conn = http1::Builder::new()
                .timer(LoopTimer)
                .serve_connection(HyperIo::new(stream), service_fn(hello));
            if let Err(e) = conn.await {
                if !e.is_incomplete_message() {
                    eprintln!("connection: {e}");
                }
            }
        }));
    }
}

fn main() {
    let mut addr = "127.0.0.1:8080".to_string();
    let mut loops = std::thread::available_parallelism().map_or(1, |n| n.get());
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--loops" => loops = args.next().and_then(|n| n.parse().ok()).unwrap_or(loops),
            other => addr = other.to_string(),
        }
    }
    eprintln!("HTTP server on http://{addr}/ with {loops} loop(s)");
    // One loop per thread, each with its own SO_REUSEPORT listener.
    for result in brigade::event_loop::run_on_threads(loops, |_| serve(addr.clone())) {
        if let Err(e) = result {
            eprintln!("{e}");
            std::process::exit(1);
        }
    }
}
