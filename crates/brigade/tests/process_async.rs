//! Awaiting pipes and queues on the event loop: the loop keeps running
//! while a task waits for another process, timeouts and cancellation lose
//! nothing, a closed peer is a typed error.

use std::cell::RefCell;
use std::collections::BTreeSet;
use std::future::{Future, poll_fn};
use std::pin::pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use brigade::process::{Connection, Process, Queue, RecvError, SendError, pipe};
use brigade::{Runtime, time};

/// Runs `f` on a thread of its own and fails the test if it has not ended
/// after two minutes: a loop blocked by a bug hangs that thread, not the
/// test run. (A watchdog, not a timing assertion: it only bounds a hang.)
fn watchdog<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    rx.recv_timeout(Duration::from_secs(120))
        .expect("the test hung (or panicked: see above)")
}

/// Answers each value with ten times it, until the parent closes its end.
fn times_ten(input: Connection<u64>, output: Connection<u64>) -> u64 {
    let mut n = 0;
    while let Ok(v) = input.recv() {
        output.send(&(v * 10)).unwrap();
        n += 1;
    }
    n
}

#[test]
fn a_child_streams_values_while_other_tasks_run() {
    const N: u64 = 50;
    let (requests, child_requests) = pipe::<u64>().unwrap();
    let (child_replies, replies) = pipe::<u64>().unwrap();
    let mut p = Process::new(times_ten, (child_requests, child_replies));
    p.start().unwrap();
    let got = watchdog(move || {
        brigade::run(async move {
            let got = Rc::new(RefCell::new(Vec::new()));
            // The receiver waits first; the child answers only what the
            // other task sends it. Were the receiver to block the loop, the
            // sender would never run and nothing would ever arrive.
            let receiver = brigade::spawn({
                let got = got.clone();
                async move {
                    for _ in 0..N {
                        let v = replies.recv_async().await.unwrap();
                        got.borrow_mut().push(v);
                    }
                    replies
                }
            });
            brigade::yield_now().await;
            for i in 0..N {
                requests.send_async(&i).await.unwrap();
                // Lockstep: the next request only once the receiver task
                // has handled this one's answer, so both tasks alternate.
                while got.borrow().len() as u64 <= i {
                    time::sleep(Duration::from_millis(1)).await;
                }
            }
            let replies = receiver.await.unwrap();
            drop(requests);
            // The child ends when it sees our end close; its end closes
            // with it: the typed end, not a hang.
            assert!(matches!(replies.recv_async().await, Err(RecvError::Closed)));
            got.take()
        })
    });
    assert_eq!(got, (0..N).map(|i| i * 10).collect::<Vec<_>>());
    assert_eq!(p.join().unwrap(), N);
}

/// Polls `future` once, outside any loop.
fn poll_once<F: Future>(future: F) -> Poll<F::Output> {
    let mut future = pin!(future);
    future
        .as_mut()
        .poll(&mut Context::from_waker(Waker::noop()))
}

/// Polls `future` once on the current loop and drops it unfinished.
async fn poll_once_and_drop<F: Future>(future: F) {
    let mut future = pin!(future);
    poll_fn(|cx| {
        assert!(future.as_mut().poll(cx).is_pending(), "expected it to wait");
        Poll::Ready(())
    })
    .await;
}

#[test]
fn timeouts_and_cancelled_waits_lose_nothing() {
    let (a, b) = pipe::<Vec<u8>>().unwrap();
    // The virtual clock: the hour passes at once when every task waits.
    let rt = Runtime::builder().virtual_clock(true).build().unwrap();
    rt.block_on(async move {
        let waited = time::timeout(Duration::from_secs(3600), b.recv_async()).await;
        assert!(waited.is_err(), "nothing was sent");

        // A wait that is cancelled after its message arrived: the message
        // stays, whole, for the next receiver. One small message and one
        // large enough to travel in a memory file.
        let big: Vec<u8> = (0..200_000u32).map(|i| i as u8).collect();
        for message in [vec![1, 2, 3], big] {
            poll_once_and_drop(async {
                let r = b.recv_async().await;
                panic!("the dropped future must not finish: {r:?}");
            })
            .await;
            a.send(&message).unwrap();
            poll_once_and_drop(std::future::pending::<()>()).await;
            let got = time::timeout(Duration::from_secs(3600), b.recv_async())
                .await
                .expect("the message was lost")
                .unwrap();
            assert_eq!(got, message);
        }
        // The blocking API works on the same object as before.
        a.send_async(&vec![9]).await.unwrap();
        assert_eq!(b.recv_timeout(Duration::from_secs(60)).unwrap(), [9]);
    });
}

#[test]
fn a_cancelled_queue_get_leaves_the_value_for_the_next_consumer() {
    let q = Queue::<String>::new().unwrap();
    let rt = Runtime::builder().virtual_clock(true).build().unwrap();
    rt.block_on(async move {
        assert!(
            time::timeout(Duration::from_secs(60), q.get_async())
                .await
                .is_err()
        );
        let waiting = q.clone();
        poll_once_and_drop(async move { waiting.get_async().await }).await;
        q.put_async(&"kept".to_string()).await.unwrap();
        // A blocking consumer sees it: the cancelled get took nothing.
        assert_eq!(q.try_get().unwrap(), "kept");
        q.close();
        assert!(matches!(q.get_async().await, Err(RecvError::Closed)));
        assert!(matches!(
            q.put_async(&"late".to_string()).await,
            Err(SendError::Closed(()))
        ));
    });
}

fn hang_up(conn: Connection<u32>) {
    drop(conn);
}

#[test]
fn a_closed_peer_is_a_typed_error_not_a_hang() {
    let (here, there) = pipe::<u32>().unwrap();
    let mut p = Process::new(hang_up, (there,));
    p.start().unwrap();
    let (recv, send) = watchdog(move || {
        brigade::run(async move {
            let recv = here.recv_async().await;
            let mut send = Ok(());
            // The peer is gone: a send fails at once rather than waiting
            // for room that will never come.
            for _ in 0..1000 {
                send = here.send_async(&1).await;
                if send.is_err() {
                    break;
                }
            }
            (recv, send)
        })
    });
    p.join().unwrap();
    assert!(matches!(recv, Err(RecvError::Closed)), "{recv:?}");
    assert!(matches!(send, Err(SendError::Closed(()))), "{send:?}");
}

#[test]
fn outside_a_loop_the_async_methods_are_typed_errors() {
    let (a, b) = pipe::<u32>().unwrap();
    a.send(&5).unwrap();
    match poll_once(b.recv_async()) {
        Poll::Ready(Err(RecvError::Io(e))) => {
            assert!(e.to_string().contains("event loop"), "{e}");
        }
        other => panic!("expected an error, got {other:?}"),
    }
    assert!(matches!(
        poll_once(a.send_async(&6)),
        Poll::Ready(Err(SendError::Io((), _)))
    ));
    // Nothing was taken or sent.
    assert_eq!(b.try_recv().unwrap(), 5);
    assert!(matches!(b.try_recv(), Err(RecvError::Empty)));
    let q = Queue::<u8>::new().unwrap();
    assert!(matches!(
        poll_once(q.get_async()),
        Poll::Ready(Err(RecvError::Io(_)))
    ));
}

#[test]
fn a_full_pipe_makes_send_wait_without_blocking_the_loop() {
    const N: usize = 2000;
    let (a, b) = pipe::<Vec<u8>>().unwrap();
    let got = watchdog(move || {
        brigade::run(async move {
            // Far more than the socket buffer holds: the sender must wait
            // for this same loop's receiver to make room.
            let sender = brigade::spawn(async move {
                for i in 0..N {
                    a.send_async(&vec![i as u8; 1024]).await.unwrap();
                }
            });
            let mut got = Vec::new();
            for _ in 0..N {
                got.push(b.recv_async().await.unwrap());
            }
            sender.await.unwrap();
            got
        })
    });
    assert_eq!(got.len(), N);
    for (i, m) in got.iter().enumerate() {
        assert_eq!(
            m,
            &vec![i as u8; 1024],
            "message {i} arrived whole and in order"
        );
    }
}

#[test]
fn several_tasks_of_one_loop_wait_on_one_connection() {
    let (a, b) = pipe::<u32>().unwrap();
    let got = watchdog(move || {
        brigade::run(async move {
            let b = Rc::new(b);
            let waiters: Vec<_> = (0..3)
                .map(|_| {
                    let b = b.clone();
                    brigade::spawn(async move { b.recv_async().await.unwrap() })
                })
                .collect();
            brigade::yield_now().await;
            for i in 0..3 {
                a.send_async(&i).await.unwrap();
            }
            let mut got = BTreeSet::new();
            for w in waiters {
                got.insert(w.await.unwrap());
            }
            got
        })
    });
    assert_eq!(got, BTreeSet::from([0, 1, 2]));
}

/// A message whose body is derived from its id, so a mixed-up or cut one
/// shows. Every 50th is large enough to travel in a memory file.
fn message(id: u32) -> (u32, Vec<u8>) {
    let len = if id % 50 == 0 {
        40_000
    } else {
        id as usize % 300
    };
    (id, (0..len).map(|i| (i as u32 ^ id) as u8).collect())
}

fn produce(q: Queue<(u32, Vec<u8>)>, from: u32, count: u32) {
    for id in from..from + count {
        q.put(&message(id)).unwrap();
    }
}

fn consume(q: Queue<(u32, Vec<u8>)>) -> Vec<u32> {
    q.close();
    let mut ids = Vec::new();
    while let Ok((id, body)) = q.get() {
        assert_eq!((id, body), message(id), "a message arrived whole");
        ids.push(id);
    }
    ids
}

#[test]
fn async_consumers_share_a_queue_with_a_blocking_consumer_in_a_child() {
    let q = Queue::<(u32, Vec<u8>)>::new().unwrap();
    let mut child_consumer = Process::new(consume, (q.clone(),));
    child_consumer.start().unwrap();
    let mut producers: Vec<_> = [0, 10_000]
        .into_iter()
        .map(|from| {
            let mut p = Process::new(produce, (q.clone(), from, 400));
            p.start().unwrap();
            p
        })
        .collect();
    // Only the producers put: once they are done, the queue ends.
    q.close();
    let ours = watchdog(move || {
        brigade::run(async move {
            let tasks: Vec<_> = (0..2)
                .map(|_| {
                    let q = q.clone();
                    brigade::spawn(async move {
                        let mut ids = Vec::new();
                        loop {
                            match q.get_async().await {
                                Ok((id, body)) => {
                                    assert_eq!((id, body), message(id), "a message arrived whole");
                                    ids.push(id);
                                }
                                Err(RecvError::Closed) => return ids,
                                Err(e) => panic!("{e}"),
                            }
                        }
                    })
                })
                .collect();
            let mut ids = Vec::new();
            for t in tasks {
                ids.extend(t.await.unwrap());
            }
            ids
        })
    });
    for p in &mut producers {
        p.join().unwrap();
    }
    let theirs = child_consumer.join().unwrap();
    let mut all: Vec<u32> = ours.into_iter().chain(theirs).collect();
    all.sort();
    let expected: Vec<u32> = (0..400).chain(10_000..10_400).collect();
    assert_eq!(all, expected, "every message exactly once");
}

#[test]
fn a_timeout_on_a_child_that_has_not_answered_yet_loses_nothing() {
    let (requests, child_requests) = pipe::<u64>().unwrap();
    let (child_replies, replies) = pipe::<u64>().unwrap();
    let mut p = Process::new(times_ten, (child_requests, child_replies));
    p.start().unwrap();
    let rt = Runtime::builder().virtual_clock(true).build().unwrap();
    rt.block_on(async move {
        // The child answers only what it is asked: on the virtual clock
        // the hour passes at once, and the wait is cancelled.
        let waited = time::timeout(Duration::from_secs(3600), replies.recv_async()).await;
        assert!(waited.is_err());
        requests.send_async(&4).await.unwrap();
        // Real time passes while the child answers; the loop waits for it
        // (a timer far away would let the virtual clock jump, so none is
        // set here).
        assert_eq!(replies.recv_async().await.unwrap(), 40);
    });
    assert_eq!(p.join().unwrap(), 1);
}

/// Like [`produce`], with pauses, so that consumers wait (and their waits
/// get cancelled) often.
fn produce_slowly(q: Queue<(u32, Vec<u8>)>, from: u32, count: u32) {
    for id in from..from + count {
        q.put(&message(id)).unwrap();
        if id % 4 == 0 {
            std::thread::sleep(Duration::from_micros(300));
        }
    }
}

#[test]
fn consumers_cancelled_over_and_over_lose_and_corrupt_nothing() {
    let q = Queue::<(u32, Vec<u8>)>::new().unwrap();
    let mut producers: Vec<_> = [0, 10_000]
        .into_iter()
        .map(|from| {
            let mut p = Process::new(produce_slowly, (q.clone(), from, 400));
            p.start().unwrap();
            p
        })
        .collect();
    q.close();
    let (ids, cancelled) = watchdog(move || {
        brigade::run(async move {
            let cancelled = Rc::new(std::cell::Cell::new(0u32));
            let tasks: Vec<_> = (0..3)
                .map(|_| {
                    let q = q.clone();
                    let cancelled = cancelled.clone();
                    brigade::spawn(async move {
                        let mut ids = Vec::new();
                        loop {
                            // A short real timeout: many waits are dropped
                            // half way, while producers keep putting.
                            match time::timeout(Duration::from_micros(100), q.get_async()).await {
                                Ok(Ok((id, body))) => {
                                    assert_eq!((id, body), message(id), "a message arrived whole");
                                    ids.push(id);
                                }
                                Ok(Err(RecvError::Closed)) => return ids,
                                Ok(Err(e)) => panic!("{e}"),
                                Err(_) => cancelled.set(cancelled.get() + 1),
                            }
                        }
                    })
                })
                .collect();
            let mut ids = Vec::new();
            for t in tasks {
                ids.extend(t.await.unwrap());
            }
            (ids, cancelled.get())
        })
    });
    for p in &mut producers {
        p.join().unwrap();
    }
    let mut all = ids;
    all.sort();
    let expected: Vec<u32> = (0..400).chain(10_000..10_400).collect();
    assert_eq!(
        all, expected,
        "every message exactly once ({cancelled} waits cancelled)"
    );
}
