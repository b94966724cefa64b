//! A blocking call made on an event loop's thread panics at once, naming
//! the call and its async form, instead of deadlocking the loop; the same
//! call from a plain thread still works.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;

use brigade::process::ProcessPool;
use std::time::Duration;

use brigade::sync::{Mutex, broadcast, mpsc, oneshot};
use brigade::thread::ThreadPool;

/// Runs `call` on a loop's thread and returns its panic message.
fn panic_on_loop<R>(call: impl FnOnce() -> R) -> String {
    brigade::run(async move {
        let payload = match catch_unwind(AssertUnwindSafe(call)) {
            Ok(_) => panic!("the blocking call returned on a loop's thread"),
            Err(payload) => payload,
        };
        match payload.downcast::<String>() {
            Ok(message) => *message,
            Err(_) => panic!("the panic carries no formatted message"),
        }
    })
}

fn assert_names(message: &str, call: &str, instead: &str) {
    assert!(message.starts_with("brigade: "), "{message}");
    assert!(message.contains(&format!("`{call}`")), "{message}");
    assert!(message.contains(&format!("use `{instead}`")), "{message}");
    assert!(message.contains("event loop's thread"), "{message}");
}

#[test]
fn mpsc_recv_blocking_on_an_empty_channel_panics_on_a_loop() {
    let (tx, mut rx) = mpsc::channel::<u8>(1);
    let message = panic_on_loop(move || rx.recv_blocking());
    assert_names(&message, "mpsc::Receiver::recv_blocking", "recv().await");
    drop(tx);
}

#[test]
fn mpsc_blocking_calls_that_would_not_block_are_allowed_on_a_loop() {
    let (tx, mut rx) = mpsc::channel::<u8>(1);
    brigade::run(async move {
        tx.send_blocking(1).unwrap(); // room: no sleep
        assert_eq!(rx.recv_blocking(), Some(1)); // a message: no sleep
        drop(tx);
        assert_eq!(rx.recv_blocking(), None); // closed: no sleep
    });
}

#[test]
fn mpsc_send_blocking_on_a_full_channel_panics_on_a_loop() {
    let (tx, rx) = mpsc::channel::<u8>(1);
    tx.try_send(1).unwrap();
    let message = panic_on_loop(move || tx.send_blocking(2));
    assert_names(
        &message,
        "mpsc::Sender::send_blocking",
        "send(message).await",
    );
    drop(rx);
}

#[test]
fn mpsc_blocking_calls_work_from_plain_threads() {
    let (tx, mut rx) = mpsc::channel::<u8>(1);
    let producer = std::thread::spawn(move || {
        for i in 0..4 {
            tx.send_blocking(i).unwrap(); // waits on the full channel
        }
    });
    let got: Vec<u8> = std::iter::from_fn(|| rx.recv_blocking()).collect();
    producer.join().unwrap();
    assert_eq!(got, [0, 1, 2, 3]);
}

#[test]
fn oneshot_recv_blocking_panics_on_a_loop_until_the_value_is_there() {
    let (tx, rx) = oneshot::channel::<u8>();
    let message = panic_on_loop(move || rx.recv_blocking());
    assert_names(
        &message,
        "oneshot::Receiver::recv_blocking",
        "receiver.await",
    );
    drop(tx);
    let (tx, rx) = oneshot::channel::<u8>();
    tx.send(3).unwrap();
    assert_eq!(brigade::run(async move { rx.recv_blocking() }), Ok(3));
    let (tx, rx) = oneshot::channel::<u8>();
    std::thread::spawn(move || tx.send(4).unwrap());
    assert_eq!(rx.recv_blocking(), Ok(4));
}

#[test]
fn mutex_blocking_lock_panics_on_a_loop_even_when_free() {
    let mutex = Arc::new(Mutex::new(0));
    let message = panic_on_loop({
        let mutex = mutex.clone();
        move || drop(mutex.blocking_lock())
    });
    assert_names(&message, "Mutex::blocking_lock", "lock().await");
    let message = panic_on_loop({
        let mutex = mutex.clone();
        move || drop(mutex.blocking_lock_owned())
    });
    assert_names(&message, "Mutex::blocking_lock_owned", "lock_owned().await");
    assert!(
        !mutex.is_locked(),
        "a refused blocking_lock left the lock taken"
    );
}

#[test]
fn mutex_blocking_lock_from_a_thread_waits_for_a_task_to_unlock() {
    let mutex = Arc::new(Mutex::new(0));
    let (locked_tx, locked_rx) = oneshot::channel();
    let (go_tx, go_rx) = oneshot::channel::<()>();
    let loop_thread = std::thread::spawn({
        let mutex = mutex.clone();
        move || {
            brigade::run(async move {
                let mut guard = mutex.lock().await;
                locked_tx.send(()).unwrap();
                go_rx.await.unwrap();
                *guard += 1;
            })
        }
    });
    locked_rx.recv_blocking().unwrap();
    assert!(mutex.is_locked());
    let waiter = std::thread::spawn({
        let mutex = mutex.clone();
        move || *mutex.blocking_lock() * 10
    });
    go_tx.send(()).unwrap();
    assert_eq!(waiter.join().unwrap(), 10);
    loop_thread.join().unwrap();
    *mutex.clone().blocking_lock_owned() += 1;
    assert_eq!(*mutex.blocking_lock(), 2);
}

#[test]
fn thread_join_panics_on_a_loop_and_works_from_a_plain_thread() {
    let (go_tx, go_rx) = oneshot::channel::<()>();
    let mut t = brigade::thread::spawn(move || go_rx.recv_blocking().is_ok()).unwrap();
    let (message, t) = brigade::run(async move {
        let message = catch_unwind(AssertUnwindSafe(|| t.join())).unwrap_err();
        (*message.downcast::<String>().unwrap(), t)
    });
    assert_names(&message, "Thread::join", "thread.join_async().await");
    go_tx.send(()).unwrap();
    let mut t = t;
    assert!(t.join().unwrap());

    let t = brigade::thread::spawn(|| 5).unwrap();
    let message = panic_on_loop(move || t.into_result());
    assert_names(&message, "Thread::into_result", "thread.await");
}

#[test]
fn job_result_panics_on_a_loop_and_works_from_a_plain_thread() {
    let pool = ThreadPool::builder().workers(1).build().unwrap();
    let job = pool.submit(|| 6 * 7).unwrap();
    let message = panic_on_loop(move || job.result());
    assert_names(&message, "Job::result", "job.await");
    assert_eq!(pool.submit(|| 1).unwrap().result().unwrap(), 1);
}

fn square(n: u64) -> u64 {
    n * n
}

#[test]
fn pool_task_wait_panics_on_a_loop_and_works_from_a_plain_thread() {
    let pool = ProcessPool::new(1).unwrap();
    let task = pool.submit(square, (3,));
    let message = panic_on_loop(move || task.wait());
    assert_names(&message, "PoolTask::wait", "task.await");
    assert_eq!(pool.submit(square, (4,)).wait().unwrap(), 16);
}

#[test]
fn remote_handle_join_panics_on_a_loop_and_works_from_a_plain_thread() {
    let rt = brigade::Runtime::new().unwrap();
    let remote = rt.handle().spawn(std::future::pending::<()>());
    let message = panic_on_loop(move || remote.join());
    assert_names(&message, "RemoteHandle::join", "handle.await");
    let remote = rt.handle().spawn(async { 2 });
    // A plain thread joins while the loop runs the task.
    let mut joiner = brigade::thread::spawn(move || remote.join()).unwrap();
    let joined = rt.block_on(async move { joiner.join_async().await.unwrap() });
    assert_eq!(joined.unwrap(), 2);
}

#[test]
fn broadcast_recv_blocking_on_an_empty_channel_panics_on_a_loop() {
    let (tx, mut rx) = broadcast::channel::<u8>(2);
    let message = panic_on_loop(move || rx.recv_blocking());
    assert_names(
        &message,
        "broadcast::Receiver::recv_blocking",
        "recv().await",
    );
    drop(tx);
}

#[test]
fn broadcast_recv_blocking_that_would_not_block_is_allowed_on_a_loop() {
    let (tx, mut rx) = broadcast::channel::<u8>(2);
    brigade::run(async move {
        for n in 0..3 {
            tx.send(n).unwrap(); // the third overwrites the first
        }
        assert_eq!(rx.recv_blocking(), Err(broadcast::RecvError::Lagged(1)));
        assert_eq!(rx.recv_blocking(), Ok(1)); // a message: no sleep
        assert_eq!(rx.recv_blocking(), Ok(2));
        drop(tx);
        assert_eq!(rx.recv_blocking(), Err(broadcast::RecvError::Closed));
    });
}

#[test]
fn broadcast_recv_blocking_from_a_thread_waits_for_a_send() {
    let (tx, mut rx) = broadcast::channel::<u8>(2);
    let sender = std::thread::spawn(move || tx.send(5).is_ok());
    assert_eq!(rx.recv_blocking(), Ok(5));
    assert!(sender.join().unwrap());
    assert_eq!(rx.recv_blocking(), Err(broadcast::RecvError::Closed));
}

#[test]
fn oneshot_recv_timeout_panics_on_a_loop_until_the_value_is_there() {
    let (tx, rx) = oneshot::channel::<u8>();
    let message = panic_on_loop(move || rx.recv_timeout(Duration::from_secs(1)));
    assert_names(
        &message,
        "oneshot::Receiver::recv_timeout",
        "brigade::time::timeout(duration, receiver).await",
    );
    drop(tx);
    // A value already there, a gone sender, or a zero timeout never sleeps.
    let (tx, rx) = oneshot::channel::<u8>();
    tx.send(3).unwrap();
    let got = brigade::run(async move { rx.recv_timeout(Duration::from_secs(1)).ok() });
    assert_eq!(got, Some(3));
    let (tx, rx) = oneshot::channel::<u8>();
    drop(tx);
    let closed = brigade::run(async move { rx.recv_timeout(Duration::from_secs(1)) });
    assert!(matches!(closed, Err(oneshot::RecvTimeoutError::Closed)));
    let (tx, rx) = oneshot::channel::<u8>();
    let polled = brigade::run(async move { rx.recv_timeout(Duration::ZERO) });
    let Err(oneshot::RecvTimeoutError::Timeout(rx)) = polled else {
        panic!("nothing was sent, so a zero timeout times out");
    };
    // From a plain thread it waits for the value.
    std::thread::spawn(move || tx.send(4).unwrap());
    assert_eq!(rx.recv_timeout(Duration::from_secs(60)).ok(), Some(4));
}
