//! Pipes, queues and shared arrays between processes.

use std::time::Duration;

use brigade::process::{Connection, Process, Queue, RecvError, SharedArray, pipe};

fn echo_upper(conn: Connection<String>) -> usize {
    let mut n = 0;
    while let Ok(s) = conn.recv() {
        if s == "bye" {
            break;
        }
        conn.send(&s.to_uppercase()).unwrap();
        n += 1;
    }
    n
}

#[test]
fn a_pipe_carries_messages_both_ways() {
    let (here, there) = pipe::<String>().unwrap();
    let mut p = Process::new(echo_upper, (there,));
    p.start().unwrap();
    for word in ["a", "bc", "def"] {
        here.send(&word.to_string()).unwrap();
        assert_eq!(here.recv().unwrap(), word.to_uppercase());
    }
    here.send(&"bye".to_string()).unwrap();
    assert_eq!(p.join().unwrap(), 3);
    // The child's end is gone: the pipe reports the end, not a hang.
    assert!(matches!(here.recv(), Err(RecvError::Closed)));
}

#[test]
fn pipe_timeouts_and_polls() {
    let (a, b) = pipe::<u32>().unwrap();
    assert!(matches!(
        a.recv_timeout(Duration::from_millis(1)),
        Err(RecvError::Timeout)
    ));
    assert!(matches!(a.try_recv(), Err(RecvError::Empty)));
    assert!(!a.poll(Duration::ZERO));
    b.send(&5).unwrap();
    assert!(a.poll(Duration::from_secs(5)));
    assert_eq!(a.try_recv().unwrap(), 5);
}

fn produce(q: Queue<u64>, from: u64, count: u64) {
    for i in from..from + count {
        q.put(&i).unwrap();
    }
}

fn consume(q: Queue<u64>) -> Vec<u64> {
    // A consumer closes its own sending side so that the end of the queue
    // can be seen once every producer has closed.
    q.close();
    let mut got = Vec::new();
    while let Ok(v) = q.get() {
        got.push(v);
    }
    got
}

#[test]
fn a_queue_serves_many_producers_and_consumers_across_processes() {
    let q = Queue::<u64>::new().unwrap();
    let mut consumers: Vec<_> = (0..3)
        .map(|_| {
            let mut p = Process::new(consume, (q.clone(),));
            p.start().unwrap();
            p
        })
        .collect();
    let mut producers: Vec<_> = (0..4)
        .map(|k| {
            let mut p = Process::new(produce, (q.clone(), k * 1000, 500));
            p.start().unwrap();
            p
        })
        .collect();
    for p in &mut producers {
        p.join().unwrap();
    }
    // Our handle was the last one able to put: closing it ends the queue.
    q.close();
    let mut all: Vec<u64> = consumers
        .iter_mut()
        .flat_map(|c| c.join().unwrap())
        .collect();
    all.sort();
    let expected: Vec<u64> = (0..4).flat_map(|k| k * 1000..k * 1000 + 500).collect();
    assert_eq!(all, expected, "every item exactly once");
}

#[test]
fn queue_timeouts_close_and_large_messages() {
    let q = Queue::<Vec<u8>>::new().unwrap();
    assert!(matches!(
        q.get_timeout(Duration::from_millis(1)),
        Err(RecvError::Timeout)
    ));
    assert!(matches!(q.try_get(), Err(RecvError::Empty)));
    let big = vec![7u8; 1 << 20];
    q.put(&big).unwrap();
    assert_eq!(q.get().unwrap(), big);
    q.put(&vec![1]).unwrap();
    q.close();
    assert!(q.put(&vec![2]).is_err());
    assert_eq!(q.get().unwrap(), [1]);
    assert!(matches!(q.get(), Err(RecvError::Closed)));
}

#[test]
fn a_full_queue_times_out_on_put() {
    let q = Queue::<Vec<u8>>::new().unwrap();
    let chunk = vec![0u8; 16 * 1024];
    let mut put = 0;
    loop {
        match q.put_timeout(&chunk, Duration::from_millis(1)) {
            Ok(()) => put += 1,
            Err(brigade::process::SendError::Full(())) => break,
            Err(e) => panic!("{e}"),
        }
        assert!(put < 100_000, "the queue never filled");
    }
    assert!(put > 0);
    let mut got = 0;
    while q.try_get().is_ok() {
        got += 1;
    }
    assert_eq!(got, put);
}

fn add_to_all(a: SharedArray<u64>, times: u64) {
    for _ in 0..times {
        let mut w = a.write();
        for x in w.iter_mut() {
            *x += 1;
        }
    }
}

#[test]
fn a_shared_array_is_shared_and_its_lock_spans_processes() {
    let a = SharedArray::<u64>::new(256).unwrap();
    assert_eq!(a.len(), 256);
    let mut workers: Vec<_> = (0..4)
        .map(|_| {
            let mut p = Process::new(add_to_all, (a.clone(), 200));
            p.start().unwrap();
            p
        })
        .collect();
    add_to_all(a.clone(), 200);
    for w in &mut workers {
        w.join().unwrap();
    }
    assert!(a.read().iter().all(|&x| x == 1000), "{:?}", &a.read()[..4]);
    let b = SharedArray::from_slice(&[1.5f32, 2.5]).unwrap();
    assert_eq!(b.to_vec(), [1.5, 2.5]);
}

#[test]
fn descriptor_values_refuse_other_serializers() {
    let (a, _b) = pipe::<u8>().unwrap();
    assert!(brigade::process::frame::encode(&a).is_err());
}
