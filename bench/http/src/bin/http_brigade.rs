//! The benchmark's HTTP server on brigade: one event loop per core, each
//! with its own SO_REUSEPORT listener, serving "Hello, World!" over HTTP/1
//! with keep-alive. `http-brigade ADDR LOOPS`.

use std::convert::Infallible;

use brigade::hyper::{HyperIo, LoopTimer};
use brigade::net::ListenOptions;
use bytes::Bytes;
use http_body_util::Full;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};

async fn hello(_: Request<hyper::body::Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    Ok(Response::new(Full::new(Bytes::from_static(
        b"Hello, World!",
    ))))
}

async fn serve(addr: String) {
    let listener = ListenOptions::new()
        .reuse_port(true)
        .bind(addr)
        .await
        .expect("bind");
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        let _ = stream.set_nodelay(true);
        brigade::spawn(async move {
            let _ = http1::Builder::new()
                .timer(LoopTimer)
                .serve_connection(HyperIo::new(stream), service_fn(hello))
                .await;
        });
    }
}

fn main() {
    let mut args = std::env::args().skip(1);
    let addr = args.next().unwrap_or_else(|| "127.0.0.1:8080".into());
    let loops: usize = args.next().and_then(|n| n.parse().ok()).unwrap_or(2);
    let threads: Vec<_> = (0..loops)
        .map(|_| {
            let addr = addr.clone();
            std::thread::spawn(move || brigade::run(serve(addr)))
        })
        .collect();
    for t in threads {
        t.join().expect("loop panicked");
    }
}
