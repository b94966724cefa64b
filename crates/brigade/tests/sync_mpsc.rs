//! mpsc channels: order, back-pressure, close, cancellation of send and
//! recv, the Stream impl, and traffic across real threads and loops.

use std::collections::HashMap;
use std::pin::Pin;
use std::time::Duration;

use brigade::sync::mpsc::{self, SendError, TryRecvError, TrySendError};
use brigade::time::{sleep, timeout};
use futures_core::Stream;

async fn settle() {
    sleep(Duration::from_millis(1)).await;
}

async fn within<F: std::future::Future>(future: F) -> F::Output {
    timeout(Duration::from_secs(60), future)
        .await
        .expect("the operation never completed: something was lost")
}

fn drain<T>(rx: &mut mpsc::Receiver<T>) -> Vec<T> {
    std::iter::from_fn(|| rx.try_recv().ok()).collect()
}

#[brigade::test(virtual)]
async fn messages_arrive_in_order_and_send_waits_for_room() {
    let (tx, mut rx) = mpsc::channel(2);
    assert_eq!(tx.capacity(), Some(2));
    let producer = brigade::spawn(async move {
        for i in 0..10 {
            tx.send(i).await.unwrap();
        }
    });
    settle().await;
    assert_eq!(rx.len(), 2);
    assert!(!producer.is_finished());
    let mut got = Vec::new();
    while let Some(i) = within(rx.recv()).await {
        got.push(i);
    }
    assert_eq!(got, (0..10).collect::<Vec<_>>());
    producer.await.unwrap();
}

#[brigade::test(virtual)]
async fn try_send_and_try_recv_report_full_empty_and_closed() {
    let (tx, mut rx) = mpsc::channel(1);
    assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
    tx.try_send(1).unwrap();
    assert_eq!(tx.try_send(2), Err(TrySendError::Full(2)));
    assert_eq!(rx.try_recv(), Ok(1));
    tx.try_send(3).unwrap();
    drop(tx);
    assert_eq!(rx.try_recv(), Ok(3));
    assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));
    assert_eq!(rx.recv().await, None);

    let (tx, rx) = mpsc::unbounded();
    drop(rx);
    assert!(tx.is_closed());
    assert_eq!(tx.try_send(4), Err(TrySendError::Closed(4)));
    assert_eq!(tx.send(5).await, Err(SendError(5)));
}

#[brigade::test(virtual)]
async fn the_receiver_ends_only_when_every_clone_is_gone() {
    let (tx, mut rx) = mpsc::unbounded();
    let tx2 = tx.clone();
    assert!(tx.same_channel(&tx2));
    drop(tx);
    tx2.send("late").await.unwrap();
    assert_eq!(rx.recv().await, Some("late"));
    assert!(timeout(Duration::from_millis(5), rx.recv()).await.is_err());
    drop(tx2);
    assert_eq!(within(rx.recv()).await, None);
}

#[brigade::test(virtual)]
async fn waiting_senders_are_served_in_order() {
    let (tx, mut rx) = mpsc::channel(1);
    tx.send(0).await.unwrap();
    let senders: Vec<_> = (1..=4u64)
        .map(|i| {
            let tx = tx.clone();
            brigade::spawn(async move {
                sleep(Duration::from_millis(i)).await;
                tx.send(i).await.unwrap();
            })
        })
        .collect();
    drop(tx);
    sleep(Duration::from_millis(10)).await;
    let mut got = Vec::new();
    while let Some(i) = within(rx.recv()).await {
        got.push(i);
    }
    assert_eq!(got, [0, 1, 2, 3, 4]);
    for s in senders {
        s.await.unwrap();
    }
}

#[brigade::test(virtual)]
async fn close_refuses_sends_but_keeps_the_buffer() {
    let (tx, mut rx) = mpsc::channel(1);
    tx.send("kept").await.unwrap();
    let waiting = brigade::spawn({
        let tx = tx.clone();
        async move { tx.send("refused").await }
    });
    settle().await;
    rx.close();
    assert_eq!(within(waiting).await.unwrap(), Err(SendError("refused")));
    assert_eq!(tx.try_send("after"), Err(TrySendError::Closed("after")));
    assert_eq!(rx.recv().await, Some("kept"));
    assert_eq!(rx.recv().await, None);
}

#[brigade::test(virtual)]
async fn dropping_the_receiver_hands_waiting_senders_their_message() {
    let (tx, rx) = mpsc::channel(1);
    tx.send(1).await.unwrap();
    let waiting = brigade::spawn(async move { tx.send(2).await });
    settle().await;
    drop(rx);
    assert_eq!(within(waiting).await.unwrap(), Err(SendError(2)));
}

#[brigade::test(virtual)]
async fn a_cancelled_send_sends_once_or_not_at_all() {
    let (tx, mut rx) = mpsc::channel(1);
    tx.send(0).await.unwrap();
    assert!(timeout(Duration::from_millis(5), tx.send(1)).await.is_err());
    let sender = brigade::spawn({
        let tx = tx.clone();
        async move { tx.send(2).await }
    });
    settle().await;
    assert_eq!(rx.try_recv(), Ok(0)); // moves 2 into the freed slot...
    sender.abort(); // ...and its sender is cancelled before it runs
    assert!(sender.await.unwrap_err().is_cancelled());
    drop(tx);
    assert_eq!(drain(&mut rx), [2]);
}

#[brigade::test(virtual)]
async fn a_cancelled_recv_leaves_the_message_in_the_channel() {
    let (tx, rx) = mpsc::channel(4);
    let rx = std::sync::Arc::new(brigade::sync::Mutex::new(rx));
    assert!(
        timeout(Duration::from_millis(5), async {
            rx.lock().await.recv().await
        })
        .await
        .is_err()
    );
    let receiver = brigade::spawn({
        let rx = rx.clone();
        async move { rx.lock().await.recv().await }
    });
    settle().await;
    tx.send(7).await.unwrap(); // wakes the receiver...
    receiver.abort(); // ...which is cancelled before it polls again
    assert!(receiver.await.unwrap_err().is_cancelled());
    assert_eq!(rx.lock().await.try_recv(), Ok(7));
}

#[brigade::test(virtual)]
async fn a_rendezvous_channel_completes_send_when_the_message_is_taken() {
    let (tx, mut rx) = mpsc::channel(0);
    assert_eq!(tx.try_send(1), Err(TrySendError::Full(1)));
    let sender = brigade::spawn(async move {
        tx.send(2).await.unwrap();
        tx.send(3).await.unwrap();
    });
    settle().await;
    assert!(!sender.is_finished());
    assert_eq!(within(rx.recv()).await, Some(2));
    assert_eq!(within(rx.recv()).await, Some(3));
    within(sender).await.unwrap();
    assert_eq!(rx.recv().await, None);
}

#[brigade::test(virtual)]
async fn the_receiver_is_a_stream() {
    let (tx, mut rx) = mpsc::unbounded();
    for i in 0..3 {
        tx.try_send(i).unwrap();
    }
    drop(tx);
    let mut got = Vec::new();
    while let Some(i) = std::future::poll_fn(|cx| Pin::new(&mut rx).poll_next(cx)).await {
        got.push(i);
    }
    assert_eq!(got, [0, 1, 2]);
}

#[brigade::test]
async fn ping_pong_between_two_tasks_on_one_loop() {
    let (to_pong, mut pong_rx) = mpsc::channel::<u64>(1);
    let (to_ping, mut ping_rx) = mpsc::channel::<u64>(1);
    let pong = brigade::spawn(async move {
        while let Some(v) = pong_rx.recv().await {
            if to_ping.send(v + 1).await.is_err() {
                break;
            }
        }
    });
    let mut sum = 0;
    for i in 0..10_000u64 {
        to_pong.send(i).await.unwrap();
        sum += ping_rx.recv().await.unwrap();
    }
    drop(to_pong);
    pong.await.unwrap();
    assert_eq!(sum, (1..=10_000).sum::<u64>());
}

/// Checks that every (producer, seq) message arrived exactly once and in
/// order per producer.
fn check_streams(received: &[(usize, usize)], producers: usize, per_producer: usize) {
    assert_eq!(received.len(), producers * per_producer);
    let mut next: HashMap<usize, usize> = HashMap::new();
    for &(p, seq) in received {
        let expected = next.entry(p).or_insert(0);
        assert_eq!(
            seq, *expected,
            "producer {p}: out of order, lost or duplicated"
        );
        *expected += 1;
    }
    assert!(next.values().all(|&n| n == per_producer));
}

#[test]
fn blocking_senders_on_threads_feed_a_task_on_a_loop() {
    const PRODUCERS: usize = 4;
    const EACH: usize = 5_000;
    let (tx, mut rx) = mpsc::channel(8);
    let threads: Vec<_> = (0..PRODUCERS)
        .map(|p| {
            let tx = tx.clone();
            std::thread::spawn(move || {
                for seq in 0..EACH {
                    tx.send_blocking((p, seq)).unwrap();
                }
            })
        })
        .collect();
    drop(tx);
    let received = brigade::run(async move {
        let mut received = Vec::new();
        while let Some(m) = rx.recv().await {
            received.push(m);
        }
        received
    });
    for t in threads {
        t.join().unwrap();
    }
    check_streams(&received, PRODUCERS, EACH);
}

#[test]
fn tasks_on_a_loop_feed_a_blocking_receiver_on_a_thread() {
    const PRODUCERS: usize = 4;
    const EACH: usize = 5_000;
    let (tx, mut rx) = mpsc::channel(4);
    let consumer = std::thread::spawn(move || {
        let mut received = Vec::new();
        while let Some(m) = rx.recv_blocking() {
            received.push(m);
        }
        received
    });
    brigade::run(async move {
        let tasks: Vec<_> = (0..PRODUCERS)
            .map(|p| {
                let tx = tx.clone();
                brigade::spawn(async move {
                    for seq in 0..EACH {
                        tx.send((p, seq)).await.unwrap();
                    }
                })
            })
            .collect();
        for t in tasks {
            t.await.unwrap();
        }
    });
    check_streams(&consumer.join().unwrap(), PRODUCERS, EACH);
}

#[test]
fn two_loops_on_two_threads_ping_pong() {
    const ROUNDS: u64 = 2_000;
    let (to_pong, mut pong_rx) = mpsc::channel::<u64>(1);
    let (to_ping, mut ping_rx) = mpsc::channel::<u64>(1);
    let pong = std::thread::spawn(move || {
        brigade::run(async move {
            while let Some(v) = pong_rx.recv().await {
                to_ping.send(v + 1).await.unwrap();
            }
        })
    });
    let sum = brigade::run(async move {
        let mut sum = 0;
        for i in 0..ROUNDS {
            to_pong.send(i).await.unwrap();
            sum += ping_rx.recv().await.unwrap();
        }
        sum
    });
    pong.join().unwrap();
    assert_eq!(sum, (1..=ROUNDS).sum::<u64>());
}

#[test]
fn a_rendezvous_between_plain_threads() {
    let (tx, mut rx) = mpsc::channel(0);
    let t = std::thread::spawn(move || {
        for i in 0..1_000 {
            tx.send_blocking(i).unwrap();
        }
    });
    let got: Vec<i32> = std::iter::from_fn(|| rx.recv_blocking()).collect();
    t.join().unwrap();
    assert_eq!(got, (0..1_000).collect::<Vec<_>>());
}
