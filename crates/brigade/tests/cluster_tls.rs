//! A cluster pool over TLS (`rediss://`; cargo feature `cluster-tls`),
//! with a real `redis-server` serving TLS alone on its port.

mod cluster_parts;

use brigade::process::{Cluster, ProcessPool};
use cluster_parts::{Server, Worker};

fn square(n: u64) -> u64 {
    n * n
}

#[test]
fn tasks_and_results_travel_over_tls() {
    let server = Server::start_full(false, Some("s3cret"), true);
    assert!(server.url().starts_with("rediss://"));
    let _w = Worker::start(&server.url(), "tls", 2);
    let pool = ProcessPool::builder()
        .cluster(Cluster::new(server.url()).namespace("tls"))
        .build()
        .unwrap();
    assert_eq!(
        pool.map(square, 0..100u64).unwrap(),
        (0..100u64).map(|n| n * n).collect::<Vec<_>>()
    );
    // A plain-text client gets nowhere on the TLS port: an error, within
    // the bound.
    let plain = format!("redis://:s3cret@127.0.0.1:{}/0", server.port);
    let refused = ProcessPool::builder()
        .cluster(Cluster::new(plain).broker_timeout(std::time::Duration::from_millis(300)))
        .build();
    assert!(refused.is_err());
}
