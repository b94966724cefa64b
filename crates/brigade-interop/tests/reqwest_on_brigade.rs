//! reqwest, a tokio-based HTTP client, against a brigade HTTP server on
//! loopback: under `async_compat::Compat` it works, and the one catch (tokio
//! objects made outside the `Compat` future) fails loudly, as documented in
//! `brigade::guide::tokio_crates`.

use std::any::Any;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::time::Duration;

use async_compat::Compat;
use brigade::hyper::{HyperIo, LoopTimer};
use brigade::net::TcpListener;
use bytes::Bytes;
use http_body_util::Full;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};

/// Answers every request with its own path, so that each reply can be
/// matched to its request.
async fn echo_path(
    req: Request<hyper::body::Incoming>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let body = format!("brigade says {}", req.uri().path());
    Ok(Response::new(Full::new(Bytes::from(body))))
}

/// Serves HTTP/1.1 on `listener`, one brigade task per connection.
async fn serve(listener: TcpListener) {
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        brigade::spawn(async move {
            // A client closing its kept-alive connection ends it with an
            // error that is none of this test's business.
            let _ = http1::Builder::new()
                .timer(LoopTimer)
                .serve_connection(HyperIo::new(stream), service_fn(echo_path))
                .await;
        });
    }
}

/// A client that never asks a proxy: the `HTTP_PROXY` of the machine that
/// runs the tests must not get between the client and loopback.
fn client() -> reqwest::Client {
    reqwest::Client::builder().no_proxy().build().unwrap()
}

async fn get(client: &reqwest::Client, addr: SocketAddr, path: &str) -> reqwest::Result<String> {
    client
        .get(format!("http://{addr}{path}"))
        .send()
        .await?
        .error_for_status()?
        .text()
        .await
}

fn panic_message(payload: Box<dyn Any + Send>) -> String {
    match payload.downcast::<String>() {
        Ok(s) => *s,
        Err(payload) => payload
            .downcast::<&str>()
            .map(|s| s.to_string())
            .unwrap_or_default(),
    }
}

#[test]
fn fifty_concurrent_reqwest_requests_from_a_brigade_task_all_succeed() {
    brigade::run(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = brigade::spawn(serve(listener));
        // The client runs in a brigade task; Compat gives it tokio's context.
        let requests = brigade::spawn(Compat::new(async move {
            let client = client();
            brigade::gather((0..50).map(|i| {
                let client = &client;
                async move { get(client, addr, &format!("/{i}")).await }
            }))
            .await
        }));
        let replies = requests.await.unwrap();
        assert_eq!(replies.len(), 50);
        for (i, reply) in replies.into_iter().enumerate() {
            assert_eq!(reply.unwrap(), format!("brigade says /{i}"));
        }
        server.abort();
    });
}

#[test]
fn without_compat_reqwest_panics_for_want_of_a_reactor() {
    let outcome = catch_unwind(AssertUnwindSafe(|| {
        brigade::run(async {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            let _server = brigade::spawn(serve(listener));
            get(&client(), addr, "/").await
        })
    }));
    let message = panic_message(outcome.unwrap_err());
    assert!(message.contains("no reactor running"), "{message}");
}

#[test]
fn a_tokio_timer_made_outside_compat_panics_and_one_made_inside_works() {
    // The catch: tokio finds its runtime when an object is made, not when
    // it is polled, so wrapping an already-made tokio future is too late.
    let outcome = catch_unwind(|| {
        let sleep = tokio::time::sleep(Duration::from_millis(1));
        brigade::run(Compat::new(sleep));
    });
    let message = panic_message(outcome.unwrap_err());
    assert!(message.contains("no reactor running"), "{message}");

    // Made inside the Compat future, the same timer works.
    let waited = brigade::run(Compat::new(async {
        let start = std::time::Instant::now();
        tokio::time::sleep(Duration::from_millis(1)).await;
        start.elapsed()
    }));
    assert!(waited >= Duration::from_millis(1));
}

#[test]
fn a_reqwest_request_with_a_timeout_must_be_sent_inside_compat() {
    // reqwest makes the request's timer when `send` is called, so `send`
    // belongs inside the Compat future even though the client may be built
    // anywhere.
    let client = reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap();
    let outside = catch_unwind(AssertUnwindSafe(|| {
        brigade::run(async {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            let _server = brigade::spawn(serve(listener));
            let pending = client.get(format!("http://{addr}/late")).send();
            Compat::new(pending).await.map(|r| r.status())
        })
    }));
    let message = panic_message(outside.unwrap_err());
    assert!(message.contains("no reactor running"), "{message}");

    let inside = brigade::run(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let _server = brigade::spawn(serve(listener));
        Compat::new(async { get(&client, addr, "/in-time").await }).await
    });
    assert_eq!(inside.unwrap(), "brigade says /in-time");
}
