//! hyper 1.x on brigade: a server and a client, both hyper, on one loop,
//! over loopback, with keep-alive and a timer.

use std::convert::Infallible;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};

use brigade::hyper::{HyperCompat, HyperIo, LocalExecutor, LoopTimer};
use brigade::net::{TcpListener, TcpStream};
use brigade::spawn;

async fn echo_path(
    req: Request<hyper::body::Incoming>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let path = req.uri().path().to_string();
    let body = req
        .into_body()
        .collect()
        .await
        .map(|b| b.to_bytes())
        .unwrap_or_default();
    let text = format!("{path} {}", body.len());
    Ok(Response::new(Full::new(Bytes::from(text))))
}

#[test]
fn hyper_serves_and_fetches_on_brigade() {
    brigade::run(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = spawn(async move {
            let (stream, _) = listener.accept().await.unwrap();
            http1::Builder::new()
                .timer(LoopTimer)
                .header_read_timeout(Duration::from_secs(30))
                .serve_connection(HyperIo::new(stream), service_fn(echo_path))
                .await
                .unwrap();
        });
        let stream = TcpStream::connect(addr).await.unwrap();
        let (mut sender, conn) = hyper::client::conn::http1::handshake(HyperIo::new(stream))
            .await
            .unwrap();
        let driver = spawn(async move { conn.await.unwrap() });
        // Several requests over one kept-alive connection.
        for i in 0..20usize {
            let req = Request::post("/echo")
                .header("host", "localhost")
                .body(Full::new(Bytes::from(vec![b'x'; i * 100])))
                .unwrap();
            let res = sender.send_request(req).await.unwrap();
            assert_eq!(res.status(), 200);
            let body = res.into_body().collect().await.unwrap().to_bytes();
            assert_eq!(body, format!("/echo {}", i * 100));
        }
        drop(sender);
        driver.await.unwrap();
        server.await.unwrap();
    });
}

#[test]
fn the_executor_runs_hyper_futures_on_the_loop() {
    use hyper::rt::Executor;
    brigade::run(async {
        let (tx, rx) = brigade::sync::oneshot::channel();
        LocalExecutor.execute(async move {
            tx.send(7).unwrap();
        });
        assert_eq!(rx.await.unwrap(), 7);
    });
}

#[test]
fn the_timer_follows_the_virtual_clock() {
    use hyper::rt::Timer;
    let rt = brigade::Runtime::builder()
        .virtual_clock(true)
        .build()
        .unwrap();
    rt.block_on(async {
        let start = LoopTimer.now();
        LoopTimer.sleep(Duration::from_secs(3600)).await;
        assert_eq!(LoopTimer.now() - start, Duration::from_secs(3600));
        let mut s = LoopTimer.sleep(Duration::from_secs(10));
        LoopTimer.reset(&mut s, LoopTimer.now() + Duration::from_secs(20));
        s.await;
        assert_eq!(LoopTimer.now() - start, Duration::from_secs(3620));
    });
}

#[test]
fn any_futures_io_stream_serves_hyper_through_the_compat_adapter() {
    brigade::run(async {
        let (server_side, client_side) = brigade::net::UnixStream::pair().unwrap();
        let server = spawn(async move {
            http1::Builder::new()
                .serve_connection(HyperCompat::new(server_side), service_fn(echo_path))
                .await
                .unwrap();
        });
        let (mut sender, conn) =
            hyper::client::conn::http1::handshake(HyperCompat::new(client_side))
                .await
                .unwrap();
        let driver = spawn(async move { conn.await.unwrap() });
        let req = Request::get("/compat")
            .header("host", "localhost")
            .body(Full::new(Bytes::new()))
            .unwrap();
        let res = sender.send_request(req).await.unwrap();
        let body = res.into_body().collect().await.unwrap().to_bytes();
        assert_eq!(body, "/compat 0");
        drop(sender);
        driver.await.unwrap();
        server.await.unwrap();
    });
}
