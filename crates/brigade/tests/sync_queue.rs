//! The Queue: order, back-pressure, task_done/join, close, and no item lost
//! or duplicated when a put or a get is cancelled at its await point.

use std::cell::RefCell;
use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;

use brigade::sync::{PutError, Queue, QueueClosed, TaskDoneError, TryGetError, TryPutError};
use brigade::time::{sleep, timeout};

mod common;
use common::{settle, within};

fn drain<T>(queue: &Queue<T>) -> Vec<T> {
    std::iter::from_fn(|| queue.try_get().ok()).collect()
}

#[brigade::test(virtual)]
async fn items_come_out_in_order_and_put_waits_for_room() {
    let queue = Arc::new(Queue::bounded(2));
    assert_eq!(queue.capacity(), Some(2));
    let producer = brigade::spawn({
        let queue = queue.clone();
        async move {
            for i in 0..5 {
                queue.put(i).await.unwrap();
            }
        }
    });
    settle().await;
    assert!(queue.is_full());
    assert_eq!(queue.len(), 2);
    assert!(!producer.is_finished());
    let mut got = Vec::new();
    for _ in 0..5 {
        got.push(within(queue.get()).await.unwrap());
    }
    within(producer).await.unwrap();
    assert_eq!(got, [0, 1, 2, 3, 4]);
    assert!(queue.is_empty());
}

#[brigade::test(virtual)]
async fn waiting_putters_are_served_in_order() {
    let queue = Arc::new(Queue::bounded(1));
    queue.put(0).await.unwrap();
    let putters: Vec<_> = (1..=3)
        .map(|i| {
            let queue = queue.clone();
            brigade::spawn(async move {
                sleep(Duration::from_millis(i)).await;
                queue.put(i).await.unwrap();
            })
        })
        .collect();
    sleep(Duration::from_millis(10)).await;
    assert_eq!(queue.try_put(99), Err(TryPutError::Full(99)));
    let mut got = Vec::new();
    for _ in 0..4 {
        got.push(within(queue.get()).await.unwrap());
    }
    for p in putters {
        p.await.unwrap();
    }
    assert_eq!(got, [0, 1, 2, 3]);
}

#[brigade::test(virtual)]
async fn an_unbounded_queue_never_makes_put_wait() {
    let queue = Queue::unbounded();
    for i in 0..10_000 {
        queue.try_put(i).unwrap();
    }
    assert!(!queue.is_full());
    assert_eq!(queue.capacity(), None);
    assert_eq!(drain(&queue), (0..10_000).collect::<Vec<_>>());
}

#[brigade::test(virtual)]
async fn a_rendezvous_queue_hands_items_over_directly() {
    let queue = Arc::new(Queue::bounded(0));
    assert_eq!(queue.try_put(1), Err(TryPutError::Full(1)));
    let putter = brigade::spawn({
        let queue = queue.clone();
        async move { queue.put(7).await }
    });
    settle().await;
    assert!(!putter.is_finished());
    assert_eq!(within(queue.get()).await, Ok(7));
    within(putter).await.unwrap().unwrap();
    // A waiting getter lets try_put through.
    let getter = brigade::spawn({
        let queue = queue.clone();
        async move { queue.get().await }
    });
    settle().await;
    queue.try_put(8).unwrap();
    assert_eq!(within(getter).await.unwrap(), Ok(8));
}

#[brigade::test(virtual)]
async fn join_waits_until_every_item_is_done() {
    let queue = Arc::new(Queue::unbounded());
    assert_eq!(queue.task_done(), Err(TaskDoneError));
    within(queue.join()).await; // nothing unfinished
    for i in 0..3 {
        queue.put(i).await.unwrap();
    }
    let joiner = brigade::spawn({
        let queue = queue.clone();
        async move { queue.join().await }
    });
    let mut done = 0;
    while let Ok(_item) = queue.try_get() {
        settle().await;
        assert!(!joiner.is_finished(), "join returned with items pending");
        queue.task_done().unwrap();
        done += 1;
    }
    assert_eq!(done, 3);
    within(joiner).await.unwrap();
    assert_eq!(queue.unfinished_tasks(), 0);
    assert_eq!(queue.task_done(), Err(TaskDoneError));
}

#[brigade::test(virtual)]
async fn a_cancelled_join_does_not_disturb_the_others() {
    let queue = Arc::new(Queue::unbounded());
    queue.put(1).await.unwrap();
    assert!(
        timeout(Duration::from_millis(5), queue.join())
            .await
            .is_err()
    );
    let joiner = brigade::spawn({
        let queue = queue.clone();
        async move { queue.join().await }
    });
    settle().await;
    queue.get().await.unwrap();
    queue.task_done().unwrap();
    within(joiner).await.unwrap();
}

#[brigade::test(virtual)]
async fn close_lets_getters_drain_then_fail_and_gives_putters_their_item() {
    let queue = Arc::new(Queue::bounded(2));
    queue.put("a").await.unwrap();
    queue.put("b").await.unwrap();
    let putter = brigade::spawn({
        let queue = queue.clone();
        async move { queue.put("c").await }
    });
    settle().await;
    queue.close();
    assert!(queue.is_closed());
    assert_eq!(within(putter).await.unwrap(), Err(PutError("c")));
    assert_eq!(queue.put("d").await, Err(PutError("d")));
    assert_eq!(queue.try_put("e"), Err(TryPutError::Closed("e")));
    assert_eq!(queue.get().await, Ok("a"));
    assert_eq!(queue.try_get(), Ok("b"));
    assert_eq!(queue.get().await, Err(QueueClosed));
    assert_eq!(queue.try_get(), Err(TryGetError::Closed));
}

#[brigade::test(virtual)]
async fn close_wakes_waiting_getters() {
    let queue = Arc::new(Queue::<u8>::unbounded());
    let getters: Vec<_> = (0..2)
        .map(|_| {
            let queue = queue.clone();
            brigade::spawn(async move { queue.get().await })
        })
        .collect();
    settle().await;
    queue.close();
    for g in getters {
        assert_eq!(within(g).await.unwrap(), Err(QueueClosed));
    }
}

#[brigade::test(virtual)]
async fn close_immediately_hands_the_items_back_and_releases_join() {
    let queue = Arc::new(Queue::unbounded());
    for i in 0..3 {
        queue.put(i).await.unwrap();
    }
    let joiner = brigade::spawn({
        let queue = queue.clone();
        async move { queue.join().await }
    });
    settle().await;
    assert_eq!(queue.close_immediately(), [0, 1, 2]);
    within(joiner).await.unwrap();
    assert_eq!(queue.try_get(), Err(TryGetError::Closed));
}

#[brigade::test(virtual)]
async fn a_cancelled_put_either_put_its_item_once_or_not_at_all() {
    let queue = Arc::new(Queue::bounded(1));
    queue.put(0).await.unwrap();
    // Times out while waiting for room: the item is not put.
    assert!(
        timeout(Duration::from_millis(5), queue.put(1))
            .await
            .is_err()
    );
    assert_eq!(queue.len(), 1);
    // Served (its item moved into the freed slot), then cancelled before it
    // ran: the item is in the queue exactly once.
    let putter = brigade::spawn({
        let queue = queue.clone();
        async move { queue.put(2).await }
    });
    settle().await;
    assert_eq!(queue.try_get(), Ok(0));
    putter.abort();
    assert!(putter.await.unwrap_err().is_cancelled());
    assert_eq!(drain(&queue), [2]);
    assert_eq!(queue.unfinished_tasks(), 2);
}

#[brigade::test(virtual)]
async fn a_cancelled_get_never_swallows_an_item() {
    let queue = Arc::new(Queue::unbounded());
    let spawn_getter = || {
        let queue = queue.clone();
        brigade::spawn(async move { queue.get().await })
    };
    let first = spawn_getter();
    settle().await;
    let second = spawn_getter();
    settle().await;
    queue.put("x").await.unwrap(); // handed to `first`...
    first.abort(); // ...which is cancelled before it returns it
    assert!(first.await.unwrap_err().is_cancelled());
    assert_eq!(within(second).await.unwrap(), Ok("x"));

    // With nobody else waiting, the item goes back to the front.
    let lone = spawn_getter();
    settle().await;
    queue.put("y").await.unwrap();
    queue.put("z").await.unwrap();
    lone.abort();
    assert!(lone.await.unwrap_err().is_cancelled());
    assert_eq!(drain(&queue), ["y", "z"]);
    // A get that timed out took nothing either.
    assert!(
        timeout(Duration::from_millis(5), queue.get())
            .await
            .is_err()
    );
    queue.put("w").await.unwrap();
    assert_eq!(queue.try_get(), Ok("w"));
}

#[brigade::test(virtual)]
async fn no_item_is_lost_or_duplicated_under_random_cancellation() {
    let queue = Arc::new(Queue::bounded(3));
    let accepted = Rc::new(RefCell::new(Vec::new()));
    let received = Rc::new(RefCell::new(Vec::new()));
    let mut tasks = Vec::new();
    for p in 0..6u64 {
        let (queue, accepted) = (queue.clone(), accepted.clone());
        tasks.push(brigade::spawn(async move {
            for i in 0..30u64 {
                let item = p * 1000 + i;
                let patience = Duration::from_millis((p + i) % 4);
                if let Ok(Ok(())) = timeout(patience, queue.put(item)).await {
                    accepted.borrow_mut().push(item);
                }
            }
        }));
    }
    for c in 0..4u64 {
        let (queue, received) = (queue.clone(), received.clone());
        tasks.push(brigade::spawn(async move {
            for i in 0..60u64 {
                let patience = Duration::from_millis((c * 3 + i) % 5);
                if let Ok(Ok(item)) = timeout(patience, queue.get()).await {
                    received.borrow_mut().push(item);
                }
            }
        }));
    }
    for t in tasks {
        within(t).await.unwrap();
    }
    // A timeout polls its future before giving up, so a put or get that
    // was served in its last moment still reports it: the two lists match.
    let mut got = received.borrow().clone();
    got.extend(drain(&queue));
    got.sort();
    let mut put = accepted.borrow().clone();
    put.sort();
    let mut unique = got.clone();
    unique.dedup();
    assert_eq!(unique.len(), got.len(), "an item came out twice");
    assert_eq!(got, put, "an item was lost");
    assert!(got.len() > 20);
    assert!(got.len() < 180, "no put timed out: the test lost its point");
}

#[test]
fn producers_and_consumers_on_different_loops_share_a_queue() {
    const PER_PRODUCER: u64 = 2_000;
    let queue = Arc::new(Queue::bounded(4));
    let producers = std::thread::spawn({
        let queue = queue.clone();
        move || {
            brigade::run(async move {
                let tasks: Vec<_> = (0..3u64)
                    .map(|p| {
                        let queue = queue.clone();
                        brigade::spawn(async move {
                            for i in 0..PER_PRODUCER {
                                queue.put(p * PER_PRODUCER + i).await.unwrap();
                            }
                        })
                    })
                    .collect();
                for t in tasks {
                    t.await.unwrap();
                }
                queue.join().await;
                queue.close();
            })
        }
    });
    let mut got = brigade::run(async move {
        let consumers: Vec<_> = (0..2)
            .map(|_| {
                let queue = queue.clone();
                brigade::spawn(async move {
                    let mut got = Vec::new();
                    while let Ok(item) = queue.get().await {
                        got.push(item);
                        queue.task_done().unwrap();
                    }
                    got
                })
            })
            .collect();
        let mut all = Vec::new();
        for c in consumers {
            all.extend(c.await.unwrap());
        }
        all
    });
    producers.join().unwrap();
    got.sort();
    assert_eq!(got, (0..3 * PER_PRODUCER).collect::<Vec<_>>());
}

// ---- PriorityQueue and LifoQueue ----

use brigade::sync::{LifoQueue, PriorityQueue};

#[brigade::test(virtual)]
async fn a_priority_queue_gives_the_smallest_first_and_a_lifo_queue_the_newest() {
    let prio = PriorityQueue::unbounded();
    let lifo = LifoQueue::unbounded();
    for n in [4, 1, 3, 1, 5, 9, 2, 6] {
        prio.put(n).await.unwrap();
        lifo.put(n).await.unwrap();
    }
    let mut from_prio = Vec::new();
    while let Ok(n) = prio.try_get() {
        from_prio.push(n);
    }
    assert_eq!(from_prio, [1, 1, 2, 3, 4, 5, 6, 9]);
    let mut from_lifo = Vec::new();
    while let Ok(n) = lifo.try_get() {
        from_lifo.push(n);
    }
    assert_eq!(from_lifo, [6, 2, 9, 5, 1, 3, 1, 4]);
}

#[brigade::test(virtual)]
async fn a_full_priority_queue_takes_waiting_putters_in_as_room_frees() {
    let queue = Arc::new(PriorityQueue::bounded(2));
    queue.put(5).await.unwrap();
    queue.put(7).await.unwrap();
    let putters: Vec<_> = [1, 9]
        .into_iter()
        .map(|n| {
            let queue = queue.clone();
            brigade::spawn(async move { queue.put(n).await.unwrap() })
        })
        .collect();
    settle().await;
    assert!(queue.is_full());
    // Taking 5 lets the first putter's 1 in, which then comes out first.
    assert_eq!(queue.get().await, Ok(5));
    assert_eq!(queue.get().await, Ok(1));
    assert_eq!(queue.get().await, Ok(7));
    assert_eq!(queue.get().await, Ok(9));
    for p in putters {
        within(p).await.unwrap();
    }
    assert_eq!(queue.unfinished_tasks(), 4);
}

#[brigade::test(virtual)]
async fn a_cancelled_priority_get_puts_its_item_back_in_order() {
    let queue = Arc::new(PriorityQueue::unbounded());
    let getter = brigade::spawn({
        let queue = queue.clone();
        async move { queue.get().await }
    });
    settle().await;
    queue.put(3).await.unwrap(); // handed to the waiting getter...
    getter.abort(); // ...which is cancelled before it runs
    assert!(getter.await.is_err());
    queue.put(1).await.unwrap();
    queue.put(2).await.unwrap();
    assert_eq!(drain_ordered(&queue), [1, 2, 3]);
}

fn drain_ordered<T: Ord>(queue: &PriorityQueue<T>) -> Vec<T> {
    std::iter::from_fn(|| queue.try_get().ok()).collect()
}

#[brigade::test(virtual)]
async fn a_cancelled_lifo_get_puts_its_item_back_on_top() {
    let queue = Arc::new(LifoQueue::unbounded());
    let getter = brigade::spawn({
        let queue = queue.clone();
        async move { queue.get().await }
    });
    settle().await;
    queue.put(1).await.unwrap();
    getter.abort();
    assert!(getter.await.is_err());
    assert_eq!(queue.try_get(), Ok(1));
    assert!(queue.try_get().is_err());
}

#[brigade::test(virtual)]
async fn lifo_and_priority_queues_share_join_close_and_put_cancellation() {
    let queue = Arc::new(LifoQueue::bounded(1));
    queue.put(1).await.unwrap();
    // A put cancelled while it waits for room never lands.
    assert!(
        timeout(Duration::from_millis(5), queue.put(2))
            .await
            .is_err()
    );
    let joiner = brigade::spawn({
        let queue = queue.clone();
        async move { queue.join().await }
    });
    settle().await;
    assert!(!joiner.is_finished());
    assert_eq!(queue.get().await, Ok(1));
    queue.task_done().unwrap();
    within(joiner).await.unwrap();
    assert_eq!(queue.try_get(), Err(TryGetError::Empty));

    let prio = PriorityQueue::bounded(4);
    prio.put(2).await.unwrap();
    prio.put(1).await.unwrap();
    prio.close();
    assert_eq!(prio.put(0).await, Err(PutError(0)));
    assert_eq!(prio.close_immediately(), [1, 2]);
    assert_eq!(prio.get().await, Err(QueueClosed));
    assert_eq!(prio.unfinished_tasks(), 0);
}
