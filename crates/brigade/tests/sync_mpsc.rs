//! mpsc channels: order, back-pressure, close, cancellation of send and
//! recv, the Stream impl, and traffic across real threads and loops.

use std::collections::HashMap;
use std::pin::Pin;
use std::time::Duration;

use brigade::sync::mpsc::{self, SendError, TryRecvError, TrySendError};
use brigade::time::{sleep, timeout};
use futures_core::Stream;

mod common;
use common::{settle, within};

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

// ---- reserve / Permit ----

#[brigade::test(virtual)]
async fn a_permit_holds_its_slot_until_it_sends_or_drops() {
    let (tx, mut rx) = mpsc::channel(1);
    let permit = tx.reserve().await.unwrap();
    assert_eq!(tx.capacity(), Some(0));
    assert_eq!(tx.try_send(1), Err(TrySendError::Full(1)));
    assert!(matches!(tx.try_reserve(), Err(TrySendError::Full(()))));
    drop(permit);
    assert_eq!(tx.capacity(), Some(1));
    tx.try_reserve().unwrap().send(2);
    assert_eq!(rx.recv().await, Some(2));
}

#[brigade::test(virtual)]
async fn reservations_and_sends_wait_in_one_fifo() {
    let (tx, mut rx) = mpsc::channel(1);
    tx.send(0).await.unwrap();
    let reserver = brigade::spawn({
        let tx = tx.clone();
        async move {
            let permit = tx.reserve().await.unwrap();
            sleep(Duration::from_millis(5)).await; // a slow producer
            permit.send(1);
        }
    });
    settle().await;
    let sender = brigade::spawn({
        let tx = tx.clone();
        async move { tx.send(2).await.unwrap() }
    });
    settle().await;
    drop(tx);
    let mut got = Vec::new();
    while let Some(v) = within(rx.recv()).await {
        got.push(v);
    }
    // The reservation came first, so its message does too.
    assert_eq!(got, [0, 1, 2]);
    reserver.await.unwrap();
    sender.await.unwrap();
}

#[brigade::test(virtual)]
async fn a_dropped_reserve_gives_back_the_slot_it_was_handed() {
    let (tx, mut rx) = mpsc::channel(1);
    tx.send(0).await.unwrap();
    let reserver = brigade::spawn({
        let tx = tx.clone();
        async move { tx.reserve().await.map(|p| p.send(99)) }
    });
    settle().await;
    let sender = brigade::spawn({
        let tx = tx.clone();
        async move { tx.send(1).await }
    });
    settle().await;
    // The receive hands the freed slot to the reserver, which is cancelled
    // before it runs: the slot must go on to the sender.
    assert_eq!(rx.try_recv(), Ok(0));
    reserver.abort();
    assert!(reserver.await.is_err());
    within(sender).await.unwrap().unwrap();
    assert_eq!(rx.try_recv(), Ok(1));
    assert_eq!(tx.capacity(), Some(1));
}

#[brigade::test(virtual)]
async fn a_reserve_cancelled_while_parked_leaves_the_queue() {
    let (tx, mut rx) = mpsc::channel(1);
    tx.send(0).await.unwrap();
    assert!(
        timeout(Duration::from_millis(5), tx.reserve())
            .await
            .is_err()
    );
    assert_eq!(rx.recv().await, Some(0));
    // Nobody waits any more, so the slot is free at once.
    tx.try_reserve().unwrap().send(1);
    assert_eq!(rx.recv().await, Some(1));
}

#[brigade::test(virtual)]
async fn reserve_fails_once_the_receiver_closes_even_while_parked() {
    let (tx, mut rx) = mpsc::channel::<u8>(1);
    tx.send(0).await.unwrap();
    let parked = brigade::spawn({
        let tx = tx.clone();
        async move { tx.reserve().await.map(drop) }
    });
    settle().await;
    rx.close();
    assert_eq!(within(parked).await.unwrap(), Err(SendError(())));
    assert!(tx.reserve().await.is_err());
    assert!(matches!(tx.try_reserve(), Err(TrySendError::Closed(()))));
}

#[brigade::test(virtual)]
async fn a_permit_granted_before_close_still_delivers_and_recv_waits_for_it() {
    let (tx, mut rx) = mpsc::channel(2);
    let permit = tx.try_reserve().unwrap();
    let unused = tx.try_reserve().unwrap();
    rx.close();
    let receiver = brigade::spawn(async move {
        let mut got = Vec::new();
        while let Some(v) = rx.recv().await {
            got.push(v);
        }
        got
    });
    settle().await;
    assert!(
        !receiver.is_finished(),
        "recv ended with permits outstanding"
    );
    permit.send(7);
    settle().await;
    assert!(!receiver.is_finished());
    drop(unused);
    assert_eq!(within(receiver).await.unwrap(), [7]);
}

#[brigade::test(virtual)]
async fn a_permit_of_a_dropped_receiver_drops_its_message() {
    let (tx, rx) = mpsc::channel(1);
    let permit = tx.try_reserve().unwrap();
    drop(rx);
    let value = std::sync::Arc::new(());
    permit.send(value.clone());
    assert_eq!(
        std::sync::Arc::strong_count(&value),
        1,
        "the message leaked"
    );
}

#[brigade::test(virtual)]
async fn owned_permits_move_into_tasks_and_hand_the_sender_back() {
    let (tx, mut rx) = mpsc::channel(1);
    let permit = tx.reserve_owned().await.unwrap();
    let tx = brigade::spawn(async move { permit.send("moved") })
        .await
        .unwrap();
    assert_eq!(rx.recv().await, Some("moved"));
    let tx = tx.try_reserve_owned().unwrap().release();
    assert_eq!(tx.capacity(), Some(1));
    drop(tx.try_reserve_owned().unwrap()); // dropping frees the slot too
    drop(rx);
}

#[brigade::test(virtual)]
async fn a_rendezvous_reservation_waits_for_the_receiver() {
    let (tx, mut rx) = mpsc::channel(0);
    assert!(tx.try_reserve().is_err());
    let producer = brigade::spawn(async move {
        tx.reserve().await.unwrap().send(5);
    });
    assert_eq!(within(rx.recv()).await, Some(5));
    producer.await.unwrap();
}

// ---- recv_many ----

#[brigade::test(virtual)]
async fn recv_many_takes_up_to_the_limit_and_pulls_parked_senders_in() {
    let (tx, mut rx) = mpsc::channel(2);
    let producer = brigade::spawn(async move {
        for i in 0..5 {
            tx.send(i).await.unwrap();
        }
    });
    settle().await;
    let mut batch = Vec::new();
    assert_eq!(rx.recv_many(&mut batch, 0).await, 0);
    // Two buffered, and each take moves the next parked message in.
    assert_eq!(within(rx.recv_many(&mut batch, 10)).await, 3);
    assert_eq!(batch, [0, 1, 2]);
    producer.await.unwrap();
    assert_eq!(rx.recv_many(&mut batch, 10).await, 2);
    assert_eq!(rx.recv_many(&mut batch, 10).await, 0);
    assert_eq!(batch, [0, 1, 2, 3, 4]);
}

#[brigade::test(virtual)]
async fn recv_many_waits_for_the_first_message_and_is_cancel_safe() {
    let (tx, mut rx) = mpsc::unbounded();
    let mut batch = Vec::new();
    assert!(
        timeout(Duration::from_millis(5), rx.recv_many(&mut batch, 4))
            .await
            .is_err()
    );
    assert!(batch.is_empty());
    brigade::spawn(async move {
        sleep(Duration::from_millis(5)).await;
        tx.try_send(1).unwrap();
        tx.try_send(2).unwrap();
    });
    assert_eq!(within(rx.recv_many(&mut batch, 4)).await, 2);
    assert_eq!(batch, [1, 2]);
}

// ---- timeouts ----

#[brigade::test(virtual)]
async fn send_timeout_hands_the_message_back_when_time_runs_out() {
    let (tx, mut rx) = mpsc::channel(1);
    tx.send_timeout(1, Duration::from_secs(1)).await.unwrap();
    let start = brigade::time::Instant::now();
    let err = tx
        .send_timeout(2, Duration::from_secs(1))
        .await
        .unwrap_err();
    assert_eq!(err, mpsc::SendTimeoutError::Timeout(2));
    assert_eq!(start.elapsed(), Duration::from_secs(1));
    // The timed-out message did not sneak in.
    assert_eq!(drain(&mut rx), [1]);
    drop(rx);
    let closed = tx.send_timeout(3, Duration::from_secs(1)).await;
    assert_eq!(closed, Err(mpsc::SendTimeoutError::Closed(3)));
}

#[brigade::test(virtual)]
async fn send_timeout_succeeds_when_room_comes_in_time() {
    let (tx, mut rx) = mpsc::channel(1);
    tx.send(1).await.unwrap();
    let consumer = brigade::spawn(async move {
        sleep(Duration::from_millis(500)).await;
        let first = rx.recv().await;
        (first, rx.recv().await)
    });
    tx.send_timeout(2, Duration::from_secs(1)).await.unwrap();
    drop(tx);
    assert_eq!(within(consumer).await.unwrap(), (Some(1), Some(2)));
}

#[brigade::test(virtual)]
async fn a_dropped_send_timeout_neither_sends_nor_leaks() {
    let (tx, mut rx) = mpsc::channel(1);
    tx.send(std::sync::Arc::new(0)).await.unwrap();
    let value = std::sync::Arc::new(1);
    assert!(
        timeout(
            Duration::from_millis(5),
            tx.send_timeout(value.clone(), Duration::from_secs(1))
        )
        .await
        .is_err()
    );
    assert_eq!(std::sync::Arc::strong_count(&value), 1);
    assert_eq!(rx.recv().await.map(|v| *v), Some(0));
    assert!(rx.try_recv().is_err());
}

#[brigade::test(virtual)]
async fn recv_timeout_reports_timeout_then_closed() {
    let (tx, mut rx) = mpsc::channel::<u8>(1);
    let start = brigade::time::Instant::now();
    assert_eq!(
        rx.recv_timeout(Duration::from_secs(2)).await,
        Err(mpsc::RecvTimeoutError::Timeout)
    );
    assert_eq!(start.elapsed(), Duration::from_secs(2));
    brigade::spawn({
        let tx = tx.clone();
        async move {
            sleep(Duration::from_secs(1)).await;
            tx.send(4).await.unwrap();
        }
    });
    assert_eq!(rx.recv_timeout(Duration::from_secs(2)).await, Ok(4));
    drop(tx);
    assert_eq!(
        rx.recv_timeout(Duration::from_secs(2)).await,
        Err(mpsc::RecvTimeoutError::Closed)
    );
}

// ---- capacity, closed, WeakSender ----

#[brigade::test(virtual)]
async fn capacity_counts_free_slots_and_max_capacity_the_bound() {
    let (tx, mut rx) = mpsc::channel(3);
    assert_eq!((tx.capacity(), tx.max_capacity()), (Some(3), Some(3)));
    tx.send(1).await.unwrap();
    let permit = tx.reserve().await.unwrap();
    assert_eq!(tx.capacity(), Some(1));
    assert_eq!(rx.capacity(), Some(1));
    drop(permit);
    rx.recv().await.unwrap();
    assert_eq!(rx.capacity(), Some(3));
    assert_eq!(rx.max_capacity(), Some(3));
    let (utx, _urx) = mpsc::unbounded::<u8>();
    assert_eq!((utx.capacity(), utx.max_capacity()), (None, None));
}

#[brigade::test(virtual)]
async fn closed_resolves_when_the_receiver_closes_or_drops() {
    let (tx, mut rx) = mpsc::channel::<u8>(1);
    assert!(
        timeout(Duration::from_millis(5), tx.closed())
            .await
            .is_err()
    );
    let waiters: Vec<_> = (0..2)
        .map(|_| {
            let tx = tx.clone();
            brigade::spawn(async move { tx.closed().await })
        })
        .collect();
    settle().await;
    rx.close();
    for w in waiters {
        within(w).await.unwrap();
    }
    tx.closed().await; // already closed: at once
    let (tx, rx) = mpsc::channel::<u8>(1);
    let waiter = brigade::spawn(async move { tx.closed().await });
    settle().await;
    drop(rx);
    within(waiter).await.unwrap();
}

#[brigade::test(virtual)]
async fn a_weak_sender_does_not_keep_the_channel_open() {
    let (tx, mut rx) = mpsc::channel(2);
    let weak = tx.downgrade();
    let strong = weak.upgrade().unwrap();
    assert_eq!(weak.strong_count(), 2);
    strong.send(1).await.unwrap();
    drop((tx, strong));
    assert_eq!(weak.strong_count(), 0);
    assert!(weak.upgrade().is_none());
    assert_eq!(within(rx.recv()).await, Some(1));
    assert_eq!(within(rx.recv()).await, None);
    assert!(weak.clone().upgrade().is_none(), "upgraded after the end");
}

// ---- oneshot: Sender::closed ----

#[brigade::test(virtual)]
async fn oneshot_closed_resolves_when_the_receiver_drops() {
    use brigade::sync::oneshot;
    let (mut tx, rx) = oneshot::channel::<u8>();
    assert!(!tx.is_closed());
    assert!(
        timeout(Duration::from_millis(5), tx.closed())
            .await
            .is_err()
    );
    // A cancelled `closed` left nothing behind: a new one still wakes.
    let dropper = brigade::spawn(async move {
        sleep(Duration::from_millis(5)).await;
        drop(rx);
    });
    within(tx.closed()).await;
    assert!(tx.is_closed());
    assert_eq!(tx.send(1), Err(1));
    dropper.await.unwrap();
}

#[test]
fn oneshot_closed_wakes_a_task_when_a_thread_drops_the_receiver() {
    use brigade::sync::oneshot;
    let (mut tx, rx) = oneshot::channel::<u8>();
    brigade::run(async move {
        let dropper = std::thread::spawn(move || drop(rx));
        tx.closed().await;
        assert!(tx.is_closed());
        dropper.join().unwrap();
    });
}
