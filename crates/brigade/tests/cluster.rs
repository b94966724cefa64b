//! The pool beyond one machine, with real parts: a `redis-server` of each
//! test's own, and worker programs standing in for machines (see
//! `cluster_parts`). Cargo feature `cluster`.

mod cluster_parts;

use std::collections::HashSet;
use std::time::Duration;

use brigade::process::{Cluster, ClusterError, ProcessError, ProcessPool, StartError};
use cluster_parts::{Server, Worker, eventually};

fn square(n: u64) -> u64 {
    n * n
}

fn add(a: u64, b: u64) -> u64 {
    a + b
}

fn ident(n: u32) -> u32 {
    n
}

fn fail(n: u32) -> u32 {
    panic!("bad input {n}")
}

fn abort(_: u32) -> u32 {
    std::process::abort()
}

fn bytes(n: usize) -> Vec<u8> {
    vec![7; n]
}

fn len(v: Vec<u8>) -> usize {
    v.len()
}

fn slow(n: u32) -> u32 {
    std::thread::sleep(Duration::from_millis(20));
    n
}

fn pool(server: &Server, ns: &str) -> ProcessPool {
    ProcessPool::builder()
        .cluster(Cluster::new(server.url()).namespace(ns))
        .build()
        .unwrap()
}

#[test]
fn the_local_api_works_through_the_broker() {
    let server = Server::start();
    let _w1 = Worker::start(&server.url(), "api", 2);
    let _w2 = Worker::start(&server.url(), "api", 2);
    let pool = pool(&server, "api");
    assert_eq!(
        pool.map(square, 0..1000u64).unwrap(),
        (0..1000u64).map(|n| n * n).collect::<Vec<_>>()
    );
    assert_eq!(pool.starmap(add, [(1, 2), (3, 4)]).unwrap(), [3, 7]);
    assert_eq!(pool.apply(square, (9,)).unwrap(), 81);
    let ordered: Vec<u32> = pool.imap(ident, 0..50u32).map(Result::unwrap).collect();
    assert_eq!(ordered, (0..50).collect::<Vec<_>>());
    let mut unordered: Vec<u32> = pool
        .imap_unordered(ident, 0..50u32)
        .map(Result::unwrap)
        .collect();
    unordered.sort_unstable();
    assert_eq!(unordered, (0..50).collect::<Vec<_>>());
    // Awaited from a loop, or waited for from plain code.
    let task = pool.submit(square, (5,));
    assert_eq!(brigade::run(task).unwrap(), 25);
    // A panic is the local pool's error, with its message.
    match pool.apply(fail, (3,)) {
        Err(ProcessError::Panicked { message, .. }) => assert!(message.contains("bad input 3")),
        other => panic!("expected a panic, got {other:?}"),
    }
    pool.close();
    pool.join();
}

#[test]
fn a_pool_mixes_local_and_remote_workers() {
    let server = Server::start();
    let _w = Worker::start(&server.url(), "mixed", 2);
    let pool = ProcessPool::builder()
        .cluster(Cluster::new(server.url()).namespace("mixed").window(4))
        .processes(2)
        .build()
        .unwrap();
    assert_eq!(pool.size(), 6);
    let got: Vec<(u32, u32)> = pool.imap(slow_pid, 0..200u32).map(Result::unwrap).collect();
    let values: Vec<u32> = got.iter().map(|(n, _)| *n).collect();
    assert_eq!(values, (0..200).collect::<Vec<_>>());
    // Both kinds of worker took a share: the local ones (the pool's own
    // children) and the remote ones (the worker program's).
    let local: HashSet<u32> = pool.pids().into_iter().collect();
    assert!(
        got.iter().any(|(_, pid)| local.contains(pid)),
        "no task ran locally"
    );
    assert!(
        got.iter().any(|(_, pid)| !local.contains(pid)),
        "no task ran remotely"
    );
}

fn slow_pid(n: u32) -> (u32, u32) {
    std::thread::sleep(Duration::from_millis(20));
    (n, std::process::id())
}

#[test]
fn limits_and_errors_are_the_local_pools() {
    let server = Server::start();
    let _w = Worker::start(&server.url(), "limits", 1);
    let pool = ProcessPool::builder()
        .cluster(Cluster::new(server.url()).namespace("limits"))
        .max_message_size(1024)
        .build()
        .unwrap();
    let big = pool.apply(len, (vec![0u8; 4096],));
    assert!(matches!(
        big,
        Err(ProcessError::Start(StartError::TooLarge { max: 1024, .. }))
    ));
    let result = pool.apply(bytes, (4096,));
    assert!(
        matches!(result, Err(ProcessError::ResultTooLarge { max: 1024, .. })),
        "{result:?}"
    );
    assert_eq!(pool.apply(bytes, (10,)).unwrap(), vec![7; 10]);
    // A descriptor cannot travel to another machine.
    fn take_pipe(_: brigade::process::Connection<u8>) -> u8 {
        0
    }
    let (a, _b) = brigade::process::pipe::<u8>().unwrap();
    let piped = pool.apply(take_pipe, (a,));
    assert!(matches!(
        piped,
        Err(ProcessError::Cluster(ClusterError::Descriptors))
    ));
}

#[test]
fn whole_workers_killed_mid_map_lose_and_duplicate_nothing() {
    let server = Server::start();
    let url = server.url();
    let mut workers: Vec<Worker> = (0..3).map(|_| Worker::start(&url, "kills", 2)).collect();
    // Generous attempts: a task held by several of the killed workers in
    // turn must still run, since this test is about loss, not poison.
    let pool = ProcessPool::builder()
        .cluster(
            Cluster::new(url.clone())
                .namespace("kills")
                .max_attempts(10),
        )
        .build()
        .unwrap();
    let mut seen = HashSet::new();
    let mut count = 0;
    for (i, r) in pool.imap_unordered(ident, 0..10_000u32).enumerate() {
        let n = r.unwrap();
        assert!(seen.insert(n), "result {n} arrived twice");
        count += 1;
        // Mid-map, kill a whole worker (its processes die with it) and
        // start another in its place, three times.
        if i == 1000 || i == 4000 || i == 7000 {
            let slot = i / 3000;
            workers[slot].kill();
            workers[slot] = Worker::start(&url, "kills", 2);
        }
    }
    assert_eq!(count, 10_000);
    assert_eq!(seen.len(), 10_000);
}

#[test]
fn a_broker_restart_mid_map_loses_nothing() {
    let mut server = Server::start_with(true);
    let url = server.url();
    let _w1 = Worker::start(&url, "restart", 2);
    let _w2 = Worker::start(&url, "restart", 2);
    let pool = pool(&server, "restart");
    let mut seen = HashSet::new();
    for (i, r) in pool.imap_unordered(slow, 0..400u32).enumerate() {
        assert!(seen.insert(r.unwrap()));
        if i == 100 {
            server.restart();
        }
    }
    assert_eq!(seen.len(), 400);
}

#[test]
fn a_worker_of_another_build_refuses_the_work() {
    let server = Server::start();
    let _w = Worker::start_with(
        &server.url(),
        "builds",
        1,
        &[(brigade::process::BUILD_SALT_ENV, "another build")],
    );
    let pool = pool(&server, "builds");
    match pool.apply(square, (3,)) {
        Err(ProcessError::Cluster(ClusterError::BuildMismatch { worker, client })) => {
            assert_ne!(worker, client);
            assert_eq!(client, brigade::process::build_identity());
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
}

#[test]
fn a_poison_task_fails_naming_its_attempts() {
    let server = Server::start();
    let _w1 = Worker::start(&server.url(), "poison", 1);
    let _w2 = Worker::start(&server.url(), "poison", 1);
    let pool = ProcessPool::builder()
        .cluster(
            Cluster::new(server.url())
                .namespace("poison")
                .max_attempts(2),
        )
        .build()
        .unwrap();
    match pool.apply(abort, (1,)) {
        Err(e @ ProcessError::Cluster(ClusterError::Poisoned { attempts: 2, .. })) => {
            assert!(e.to_string().contains("2 attempts"), "{e}");
        }
        other => panic!("expected a poisoned task, got {other:?}"),
    }
    // The workers serve on.
    assert_eq!(pool.apply(square, (4,)).unwrap(), 16);
}

#[test]
fn an_unreachable_broker_is_an_error_within_the_bound() {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let built = ProcessPool::builder()
        .cluster(
            Cluster::new(format!("redis://127.0.0.1:{port}/0"))
                .broker_timeout(Duration::from_millis(300)),
        )
        .build();
    assert!(matches!(
        built,
        Err(StartError::Cluster(ClusterError::Broker { .. }))
    ));
    let bad = ProcessPool::builder().cluster("not a url").build();
    assert!(matches!(
        bad,
        Err(StartError::Cluster(ClusterError::Url { .. }))
    ));
}

#[test]
fn a_broker_that_dies_fails_the_waiting_tasks_within_the_bound() {
    let mut server = Server::start();
    // No worker: the task waits at the broker.
    let pool = ProcessPool::builder()
        .cluster(
            Cluster::new(server.url())
                .namespace("dies")
                .broker_timeout(Duration::from_millis(500)),
        )
        .build()
        .unwrap();
    let task = pool.submit(square, (2,));
    eventually(
        Duration::from_secs(10),
        "the task reaches the broker",
        || server.keys("dies:tasks").len() == 1,
    );
    server.stop();
    match task.wait() {
        Err(ProcessError::Cluster(ClusterError::Broker { .. })) => {}
        other => panic!("expected the broker's error, got {other:?}"),
    }
}

/// The client of the next test, in a child process of its own.
fn client(url: String) -> u32 {
    let pool = ProcessPool::builder()
        .cluster(
            Cluster::new(url)
                .namespace("gone")
                .key_ttl(Duration::from_secs(2)),
        )
        .build()
        .unwrap();
    pool.imap(slow, 0..100_000u32).map(Result::unwrap).sum()
}

#[test]
fn a_client_killed_mid_map_leaves_keys_that_expire() {
    let server = Server::start();
    let _w = Worker::start(&server.url(), "gone", 2);
    let mut process = brigade::process::Process::new(client, (server.url(),));
    process.start().unwrap();
    // Mid-map: its results are flowing.
    eventually(Duration::from_secs(30), "the client's keys appear", || {
        !server.keys("gone:results:*").is_empty() && !server.keys("gone:attempts:*").is_empty()
    });
    assert_eq!(server.keys("gone:client:*").len(), 1);
    process.kill().unwrap();
    let _ = process.join();
    eventually(Duration::from_secs(30), "the client's keys expire", || {
        server.keys("gone:client:*").is_empty()
            && server.keys("gone:results:*").is_empty()
            && server.keys("gone:attempts:*").is_empty()
    });
    // The shared task stream has a time to live too.
    let mut c = server.connection().unwrap();
    let ttl: i64 = redis::cmd("PTTL").arg("gone:tasks").query(&mut c).unwrap();
    assert!(ttl != -1, "the task stream never expires");
}

#[test]
fn auth_comes_through_the_url() {
    let server = Server::start_full(false, Some("s3cret"), false);
    let _w = Worker::start(&server.url(), "auth", 1);
    let pool = pool(&server, "auth");
    assert_eq!(pool.apply(square, (6,)).unwrap(), 36);
    // A wrong password is refused at once, not waited on, and the error
    // does not repeat the URL.
    let wrong = format!("redis://:wrong@127.0.0.1:{}/0", server.port);
    match ProcessPool::builder().cluster(wrong).build() {
        Err(e @ StartError::Cluster(ClusterError::Refused { .. })) => {
            assert!(!e.to_string().contains("wrong@"), "{e}");
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
}

#[test]
fn queued_tasks_cancel_and_terminate_fails_the_rest() {
    let server = Server::start();
    // No worker yet: a window of one keeps one task at the broker and the
    // others in the pool's queue, where they can still be cancelled.
    let pool = ProcessPool::builder()
        .cluster(Cluster::new(server.url()).namespace("cancel").window(1))
        .build()
        .unwrap();
    let first = pool.submit(square, (1,));
    eventually(
        Duration::from_secs(10),
        "the first task reaches the broker",
        || first.running(),
    );
    let second = pool.submit(square, (2,));
    let third = pool.submit(square, (3,));
    assert!(!first.cancel(), "a task at the broker cannot be cancelled");
    assert!(second.cancel());
    // A worker arrives: the first task runs, the cancelled one never does.
    let _w = Worker::start(&server.url(), "cancel", 1);
    assert_eq!(first.wait().unwrap(), 1);
    assert!(matches!(second.wait(), Err(ProcessError::Cancelled)));
    assert_eq!(third.wait().unwrap(), 9);
    // Dropped futures lose nothing: the next tasks still come back.
    let dropped = pool.submit(square, (4,));
    drop(dropped);
    assert_eq!(pool.apply(square, (5,)).unwrap(), 25);
    // Terminate fails what waits at the broker, at once.
    drop(_w);
    let waiting = pool.submit(square, (6,));
    eventually(
        Duration::from_secs(10),
        "the task reaches the broker",
        || waiting.running(),
    );
    pool.terminate();
    assert!(matches!(waiting.wait(), Err(ProcessError::PoolClosed)));
    assert!(matches!(
        pool.apply(square, (7,)),
        Err(ProcessError::PoolClosed)
    ));
}

fn pool_without_workers(server: &Server, ns: &str, pickup: Duration) -> ProcessPool {
    ProcessPool::builder()
        .cluster(
            Cluster::new(server.url())
                .namespace(ns)
                .pickup_timeout(pickup),
        )
        .build()
        .unwrap()
}

fn not_taken<T: std::fmt::Debug>(result: Result<T, ProcessError>) -> bool {
    matches!(
        result,
        Err(ProcessError::Cluster(ClusterError::NotTaken { .. }))
    )
}

fn stream_len(server: &Server, key: &str) -> usize {
    let mut c = server.connection().unwrap();
    redis::cmd("XLEN").arg(key).query(&mut c).unwrap()
}

#[test]
fn with_no_worker_tasks_are_withdrawn_and_nothing_hangs() {
    let server = Server::start();
    let pool = pool_without_workers(&server, "empty", Duration::from_millis(300));
    assert!(not_taken(pool.apply(square, (3,))));
    // More chunks than the window: each round is withdrawn in turn.
    assert!(not_taken(pool.map(square, 0..500u64)));
    let unordered: Vec<_> = pool.imap_unordered(ident, 0..10u32).collect();
    assert_eq!(unordered.len(), 10);
    assert!(unordered.into_iter().all(not_taken));
    // Dropping the pool waits for its queued task, which ends too.
    let queued = pool.submit(square, (4,));
    drop(pool);
    assert!(not_taken(queued.wait()));
    // The broker keeps nothing of the withdrawn tasks.
    assert_eq!(stream_len(&server, "empty:tasks"), 0);
}

#[test]
fn a_worker_that_comes_in_time_takes_the_waiting_tasks() {
    let server = Server::start();
    let pool = pool_without_workers(&server, "late", Duration::from_secs(60));
    let task = pool.submit(square, (6,));
    let _w = Worker::start(&server.url(), "late", 1);
    assert_eq!(task.wait().unwrap(), 36);
}

fn hang() {
    loop {
        std::thread::sleep(Duration::from_secs(1));
    }
}

#[test]
fn a_task_whose_worker_died_alone_is_withdrawn() {
    let server = Server::start();
    let mut worker = Worker::start(&server.url(), "orphan", 1);
    // Above twice the test workers' lease (1 s).
    let pool = pool_without_workers(&server, "orphan", Duration::from_secs(3));
    let task = pool.submit(hang, ());
    let mut c = server.connection().unwrap();
    eventually(Duration::from_secs(30), "the worker takes the task", || {
        let pending: redis::Value = redis::cmd("XPENDING")
            .arg("orphan:tasks")
            .arg("workers")
            .query(&mut c)
            .unwrap_or(redis::Value::Nil);
        matches!(pending, redis::Value::Array(ref p) if p.first() == Some(&redis::Value::Int(1)))
    });
    worker.kill();
    assert!(not_taken(task.wait()));
    assert_eq!(stream_len(&server, "orphan:tasks"), 0);
}

static SCALE: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);

fn set_scale(scale: u32) {
    SCALE.store(scale, std::sync::atomic::Ordering::Relaxed);
}

fn scaled(n: u32) -> u32 {
    n * SCALE.load(std::sync::atomic::Ordering::Relaxed)
}

fn bad_init() {
    panic!("no config")
}

#[test]
fn remote_workers_run_the_initializer_and_enforce_the_time_limit() {
    let server = Server::start();
    let _w = Worker::start(&server.url(), "profile", 1);
    let cluster = Cluster::new(server.url()).namespace("profile");
    let pool = ProcessPool::builder()
        .cluster(cluster.clone())
        .initializer(set_scale, (10,))
        .task_timeout(Duration::from_millis(500))
        .build()
        .unwrap();
    assert!(pool.pids().is_empty(), "no local worker");
    assert_eq!(pool.apply(scaled, (4,)).unwrap(), 40);
    match pool.apply(hang, ()) {
        Err(ProcessError::TimedOut { pid }) => assert_ne!(pid, 0),
        other => panic!("expected a time-out, got {other:?}"),
    }
    // The killed process's successor ran the initializer too.
    assert_eq!(pool.apply(scaled, (5,)).unwrap(), 50);
    // Another pool on the same worker gets processes of its own profile.
    let plain = ProcessPool::builder()
        .cluster(cluster.clone())
        .build()
        .unwrap();
    assert_eq!(plain.apply(scaled, (4,)).unwrap(), 0);
    let failing = ProcessPool::builder()
        .cluster(cluster)
        .initializer(bad_init, ())
        .build()
        .unwrap();
    match failing.apply(scaled, (4,)) {
        Err(ProcessError::Panicked { message, .. }) => {
            assert!(message.contains("initializer"), "{message}");
            assert!(message.contains("no config"), "{message}");
        }
        other => panic!("expected the initializer's panic, got {other:?}"),
    }
    assert_eq!(pool.apply(scaled, (6,)).unwrap(), 60);
}

#[test]
fn an_initializer_with_a_descriptor_cannot_travel() {
    fn keep(_: brigade::process::Connection<u8>) {}
    let server = Server::start();
    let (a, _b) = brigade::process::pipe::<u8>().unwrap();
    let built = ProcessPool::builder()
        .cluster(Cluster::new(server.url()).namespace("fds"))
        .initializer(keep, (a,))
        .build();
    assert!(matches!(
        built,
        Err(StartError::Cluster(ClusterError::Descriptors))
    ));
}

#[test]
fn a_broker_that_refuses_the_withdrawal_still_ends_the_wait() {
    let server = Server::start();
    let mut c = server.connection().unwrap();
    redis::cmd("ACL")
        .arg("SETUSER")
        .arg("noscripts")
        .arg("on")
        .arg(">secret")
        .arg("~*")
        .arg("+@all")
        .arg("-@scripting")
        .query::<()>(&mut c)
        .unwrap();
    let url = server
        .url()
        .replacen("redis://", "redis://noscripts:secret@", 1);
    let pool = ProcessPool::builder()
        .cluster(
            Cluster::new(url)
                .namespace("noeval")
                .pickup_timeout(Duration::from_millis(300)),
        )
        .build()
        .unwrap();
    match pool.apply(square, (2,)) {
        Err(ProcessError::Cluster(ClusterError::Refused { reason })) => {
            assert!(reason.to_lowercase().contains("eval"), "{reason}")
        }
        other => panic!("expected the broker's refusal, got {other:?}"),
    }
}
