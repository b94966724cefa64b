//! The process manager: shared dicts, lists and namespaces used by many
//! processes at once through typed proxies.
//!
//! What is checked: every operation of each proxy; concurrent updates from
//! several child processes all land; a client killed with `SIGKILL` in the
//! middle of sending large values never leaves a half-applied change, and
//! the server goes on serving; a killed manager is
//! [`ManagerError::ManagerDied`] in the parent and in a child, never a
//! hang. Every wait that could hang runs under a watchdog far above any
//! run, which fails the test instead.

use brigade::process::{
    Connection, DictProxy, ListProxy, Manager, ManagerError, NamespaceProxy, Process, pipe,
};

mod watchdog;
use watchdog::within;

#[test]
fn dict_operations() {
    let manager = Manager::start().unwrap();
    let d = manager.dict::<String, Vec<u32>>().unwrap();
    assert!(d.is_empty().unwrap());
    assert_eq!(d.insert("b".to_string(), vec![2]).unwrap(), None);
    assert_eq!(d.insert("a".to_string(), vec![1]).unwrap(), None);
    assert_eq!(
        d.insert("b".to_string(), vec![2, 2]).unwrap(),
        Some(vec![2])
    );
    assert_eq!(d.get("b".to_string()).unwrap(), Some(vec![2, 2]));
    assert_eq!(d.get("zz".to_string()).unwrap(), None);
    assert!(d.contains_key("a".to_string()).unwrap());
    assert_eq!(d.len().unwrap(), 2);
    // Insertion order, with a replaced value keeping its key's place.
    assert_eq!(d.keys().unwrap(), ["b", "a"]);
    assert_eq!(d.values().unwrap(), [vec![2, 2], vec![1]]);
    d.update([("c".to_string(), vec![]), ("a".to_string(), vec![9])])
        .unwrap();
    assert_eq!(
        d.items().unwrap(),
        [
            ("b".to_string(), vec![2, 2]),
            ("a".to_string(), vec![9]),
            ("c".to_string(), vec![]),
        ]
    );
    assert_eq!(d.remove("b".to_string()).unwrap(), Some(vec![2, 2]));
    assert_eq!(d.remove("b".to_string()).unwrap(), None);
    assert_eq!(d.keys().unwrap(), ["a", "c"]);
    d.clear().unwrap();
    assert_eq!(d.len().unwrap(), 0);
    // Two dicts of one manager are two objects.
    let other = manager.dict::<String, Vec<u32>>().unwrap();
    d.insert("x".to_string(), vec![]).unwrap();
    assert!(other.is_empty().unwrap());
}

#[test]
fn list_operations() {
    let manager = Manager::start().unwrap();
    let l = manager.list::<i64>().unwrap();
    assert_eq!(l.pop().unwrap(), None);
    l.push(1).unwrap();
    l.extend([2, 3, 4]).unwrap();
    assert_eq!(l.get(3).unwrap(), Some(4));
    assert_eq!(l.get(4).unwrap(), None);
    assert_eq!(l.set(0, 10).unwrap(), 1);
    l.insert(1, -1).unwrap();
    l.insert(5, 5).unwrap();
    assert_eq!(l.to_vec().unwrap(), [10, -1, 2, 3, 4, 5]);
    assert_eq!(l.remove(1).unwrap(), -1);
    assert_eq!(l.pop().unwrap(), Some(5));
    assert_eq!(l.len().unwrap(), 4);
    assert!(matches!(
        l.set(4, 0),
        Err(ManagerError::IndexOutOfRange { index: 4, len: 4 })
    ));
    assert!(matches!(
        l.remove(9),
        Err(ManagerError::IndexOutOfRange { index: 9, len: 4 })
    ));
    assert!(matches!(
        l.insert(5, 0),
        Err(ManagerError::IndexOutOfRange { .. })
    ));
    // A refused operation changed nothing.
    assert_eq!(l.to_vec().unwrap(), [10, 2, 3, 4]);
    l.clear().unwrap();
    assert!(l.is_empty().unwrap());
}

#[test]
fn namespace_attributes_are_typed_one_by_one() {
    let manager = Manager::start().unwrap();
    let ns = manager.namespace().unwrap();
    assert_eq!(ns.get::<u32>("n").unwrap(), None);
    ns.set("n", &5u32).unwrap();
    ns.set("label", &"five".to_string()).unwrap();
    assert_eq!(ns.get::<u32>("n").unwrap(), Some(5));
    assert_eq!(ns.get::<String>("label").unwrap().as_deref(), Some("five"));
    match ns.get::<String>("n") {
        Err(ManagerError::TypeMismatch { stored, requested }) => {
            assert_eq!(stored, "u32");
            assert!(requested.contains("String"), "{requested}");
        }
        other => panic!("expected a type mismatch, got {other:?}"),
    }
    // The mismatch changed nothing.
    assert_eq!(ns.get::<u32>("n").unwrap(), Some(5));
    assert!(ns.delete("n").unwrap());
    assert!(!ns.delete("n").unwrap());
    assert_eq!(ns.get::<u32>("n").unwrap(), None);
}

#[test]
fn large_values_round_trip() {
    let manager = Manager::start().unwrap();
    let d = manager.dict::<u8, Vec<u8>>().unwrap();
    // Above the inline packet size: it travels in a memory file, both ways.
    let big: Vec<u8> = (0..3_000_000u32).map(|i| (i % 251) as u8).collect();
    d.insert(1, &big).unwrap();
    assert_eq!(d.get(1).unwrap().as_deref(), Some(&big[..]));
    assert_eq!(d.values().unwrap(), [big]);
}

fn insert_range(d: DictProxy<u32, u32>, l: ListProxy<u32>, from: u32, count: u32) {
    for k in from..from + count {
        d.insert(k, k * 2).unwrap();
        l.push(k).unwrap();
    }
}

#[test]
fn concurrent_updates_from_many_processes_all_land() {
    within(|| {
        let manager = Manager::start().unwrap();
        let d = manager.dict::<u32, u32>().unwrap();
        let l = manager.list::<u32>().unwrap();
        let mut children: Vec<_> = (0..4)
            .map(|i| Process::new(insert_range, (d.clone(), l.clone(), i * 100, 100)))
            .collect();
        for c in &mut children {
            c.start().unwrap();
        }
        // The parent's threads update at the same time, each clone making
        // a connection of its own.
        let threads: Vec<_> = (4..6)
            .map(|i| {
                let (d, l) = (d.clone(), l.clone());
                std::thread::spawn(move || insert_range(d, l, i * 100, 100))
            })
            .collect();
        for c in &mut children {
            c.join().unwrap();
        }
        for t in threads {
            t.join().unwrap();
        }
        assert_eq!(d.len().unwrap(), 600);
        for k in 0..600 {
            assert_eq!(d.get(k).unwrap(), Some(k * 2), "key {k}");
        }
        let mut pushed = l.to_vec().unwrap();
        pushed.sort_unstable();
        assert_eq!(pushed, (0..600).collect::<Vec<_>>());
    });
}

/// Inserts large values for ever, telling the parent once it is under way.
fn insert_large_values(d: DictProxy<u32, Vec<u8>>, started: Connection<u32>) {
    let mut k = 0u32;
    loop {
        d.insert(k, vec![k as u8; 200_000]).unwrap();
        if k == 2 {
            started.send(&k).unwrap();
        }
        k += 1;
    }
}

#[test]
fn a_client_killed_mid_update_leaves_the_server_whole_and_serving() {
    within(|| {
        let manager = Manager::start().unwrap();
        let d = manager.dict::<u32, Vec<u8>>().unwrap();
        for round in 0..5 {
            d.clear().unwrap();
            let (here, there) = pipe::<u32>().unwrap();
            let mut child = Process::new(insert_large_values, (d.clone(), there));
            child.start().unwrap();
            // It is in its loop of large inserts (most of its time goes to
            // writing and sending values): kill it wherever it is.
            here.recv().unwrap();
            child.kill().unwrap();
            assert!(child.join().is_err());
            // Every entry is whole: keys 0..n with no gap, each value all
            // of its own byte and of full length.
            let items = d.items().unwrap();
            assert!(items.len() >= 3, "round {round}: {} entries", items.len());
            for (i, (k, v)) in items.iter().enumerate() {
                assert_eq!(*k, i as u32, "round {round}");
                assert_eq!(v.len(), 200_000, "round {round}, key {k}");
                assert!(v.iter().all(|&b| b == *k as u8), "round {round}, key {k}");
            }
            // And the server serves on.
            d.insert(u32::MAX, vec![1]).unwrap();
            assert_eq!(d.get(u32::MAX).unwrap(), Some(vec![1]));
        }
    });
}

/// Waits for the go, then reports what a proxy operation returned.
fn try_after_go(d: DictProxy<u8, u8>, go: Connection<u8>) -> String {
    go.recv().unwrap();
    match d.get(1) {
        Err(ManagerError::ManagerDied) => "died".to_string(),
        other => format!("{other:?}"),
    }
}

#[test]
fn a_killed_manager_is_a_typed_error_in_every_client() {
    within(|| {
        let manager = Manager::start().unwrap();
        let d = manager.dict::<u8, u8>().unwrap();
        let l = manager.list::<u8>().unwrap();
        let ns = manager.namespace().unwrap();
        d.insert(1, 1).unwrap();
        let (here, there) = pipe::<u8>().unwrap();
        let mut child = Process::new(try_after_go, (d.clone(), there));
        child.start().unwrap();
        // The child connects before the kill.
        let pid = manager.pid().unwrap();
        // SAFETY: kill sends a signal to the manager's server, a child
        // process of this test that is alive (pid() says so) and not yet
        // reaped (only the Manager reaps it), so the pid is not reused.
        let killed = unsafe { libc::kill(pid as i32, libc::SIGKILL) };
        assert_eq!(killed, 0);
        // Established connections and new ones alike.
        assert!(matches!(d.get(1), Err(ManagerError::ManagerDied)));
        assert!(matches!(l.push(1), Err(ManagerError::ManagerDied)));
        assert!(matches!(ns.get::<u8>("x"), Err(ManagerError::ManagerDied)));
        assert!(matches!(
            manager.dict::<u8, u8>(),
            Err(ManagerError::ManagerDied)
        ));
        let fresh = d.clone();
        std::thread::spawn(move || {
            assert!(matches!(fresh.len(), Err(ManagerError::ManagerDied)));
        })
        .join()
        .unwrap();
        here.send(&0).unwrap();
        assert_eq!(child.join().unwrap(), "died");
        assert_eq!(manager.pid(), None);
    });
}

fn read_and_answer(d: DictProxy<String, u32>, l: ListProxy<String>, ns: NamespaceProxy) -> u32 {
    let seed = d.get("seed".to_string()).unwrap().unwrap();
    l.push(format!("saw {seed}")).unwrap();
    ns.set("answer", &(seed + 1)).unwrap();
    seed
}

#[test]
fn proxies_passed_to_a_child_reach_the_same_objects() {
    within(|| {
        let manager = Manager::start().unwrap();
        let d = manager.dict::<String, u32>().unwrap();
        let l = manager.list::<String>().unwrap();
        let ns = manager.namespace().unwrap();
        d.insert("seed".to_string(), 41).unwrap();
        let mut child = Process::new(read_and_answer, (d, l.clone(), ns.clone()));
        child.start().unwrap();
        assert_eq!(child.join().unwrap(), 41);
        assert_eq!(l.to_vec().unwrap(), ["saw 41"]);
        assert_eq!(ns.get::<u32>("answer").unwrap(), Some(42));
    });
}

#[test]
fn a_value_that_cannot_be_encoded_is_an_error_and_changes_nothing() {
    let manager = Manager::start().unwrap();
    let d = manager.dict::<u8, Connection<u8>>().unwrap();
    let (a, _b) = pipe::<u8>().unwrap();
    // A connection is a descriptor: the server keeps bytes, not those.
    assert!(matches!(d.insert(1, a), Err(ManagerError::Encode(_))));
    assert!(d.is_empty().unwrap());
}

fn increment(d: DictProxy<String, u64>, times: u32) {
    for _ in 0..times {
        d.update_with("n".to_string(), |n: Option<u64>| n.unwrap_or(0) + 1)
            .unwrap();
    }
}

#[test]
fn update_with_loses_no_increment_across_processes() {
    within(|| {
        let manager = Manager::start().unwrap();
        let d = manager.dict::<String, u64>().unwrap();
        let mut workers: Vec<_> = (0..4)
            .map(|_| Process::new(increment, (d.clone(), 100)))
            .collect();
        for w in &mut workers {
            w.start().unwrap();
        }
        increment(d.clone(), 100);
        for w in &mut workers {
            w.join().unwrap();
        }
        assert_eq!(d.get("n".to_string()).unwrap(), Some(500));
    });
}

#[test]
fn update_with_refuses_captures_and_survives_panics() {
    let manager = Manager::start().unwrap();
    let d = manager.dict::<u8, u32>().unwrap();
    d.insert(1, 7).unwrap();
    let step = 2;
    assert!(matches!(
        d.update_with(1, move |n: Option<u32>| n.unwrap_or(0) + step),
        Err(ManagerError::Function(_))
    ));
    let failed = d.update_with(1, |n: Option<u32>| -> u32 {
        if n == Some(7) {
            panic!("seven is refused")
        }
        0
    });
    match failed {
        Err(ManagerError::Panicked(message)) => assert!(message.contains("seven"), "{message}"),
        other => panic!("expected a panic, got {other:?}"),
    }
    // Unchanged, and the server serves on.
    assert_eq!(d.get(1).unwrap(), Some(7));
    assert_eq!(
        d.update_with(1, |n: Option<u32>| n.unwrap_or(0) * 3)
            .unwrap(),
        21
    );
    assert_eq!(
        d.update_with(2, |n: Option<u32>| n.unwrap_or(5)).unwrap(),
        5
    );
    assert_eq!(d.items().unwrap(), [(1, 21), (2, 5)]);
}

fn record_square(d: DictProxy<u32, u32>, n: u32) -> u32 {
    d.insert(n, n * n).unwrap();
    n
}

#[test]
fn pool_tasks_that_carry_a_proxy_all_land() {
    within(|| {
        let manager = Manager::start().unwrap();
        let d = manager.dict::<u32, u32>().unwrap();
        let pool = brigade::process::ProcessPool::new(2).unwrap();
        let items: Vec<_> = (0..200).map(|n| (d.clone(), n)).collect();
        let done = pool.starmap(record_square, items).unwrap();
        assert_eq!(done, (0..200).collect::<Vec<_>>());
        assert_eq!(d.len().unwrap(), 200);
        assert_eq!(d.get(199).unwrap(), Some(199 * 199));
    });
}
