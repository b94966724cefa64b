//! The lifetime of a manager's objects: the server counts the proxies of
//! each object, in every process, and frees it when the last is gone.
//!
//! What is checked: an object is freed when its last proxy (and clone)
//! drops; a proxy on its way to a child keeps the object alive even when
//! the parent drops its own at once; a child's proxy keeps an object the
//! parent no longer holds, until the child ends; a killed child's counts
//! are given up, freeing only what it alone held. Every wait that could
//! hang runs under a watchdog far above any run, which fails the test
//! instead.

use std::time::Duration;

use brigade::process::{Connection, DictProxy, ListProxy, Manager, Process, Queue, pipe};

mod watchdog;
use watchdog::within;

#[test]
fn an_object_is_freed_when_its_last_proxy_drops() {
    let manager = Manager::start().unwrap();
    assert_eq!(manager.live_objects().unwrap(), 0);
    let d = manager.dict::<u8, u8>().unwrap();
    let l = manager.list::<u8>().unwrap();
    let ns = manager.namespace().unwrap();
    assert_eq!(manager.live_objects().unwrap(), 3);
    d.insert(1, 2).unwrap();
    let copy = d.clone();
    drop(d);
    // The clone still reaches it, whole.
    assert_eq!(manager.live_objects().unwrap(), 3);
    assert_eq!(copy.get(1).unwrap(), Some(2));
    drop(copy);
    assert_eq!(manager.live_objects().unwrap(), 2);
    drop((l, ns));
    assert_eq!(manager.live_objects().unwrap(), 0);
}

/// Reports the dict's length after inserting one entry.
fn insert_one(d: DictProxy<u32, u32>) -> usize {
    d.insert(7, 49).unwrap();
    d.len().unwrap()
}

#[test]
fn a_proxy_on_its_way_to_a_child_keeps_the_object_alive() {
    within(|| {
        let manager = Manager::start().unwrap();
        let d = manager.dict::<u32, u32>().unwrap();
        d.insert(1, 1).unwrap();
        // The parent's only proxy goes into the arguments and is dropped
        // with them, before the child has even started.
        let mut child = Process::new(insert_one, (d,));
        assert_eq!(manager.live_objects().unwrap(), 1);
        child.start().unwrap();
        assert_eq!(child.join().unwrap(), 2);
        // The child's proxy went with the child: no one holds the dict.
        assert_eq!(manager.live_objects().unwrap(), 0);
    });
}

/// Holds the list until told to let go, and reports what it saw.
fn hold_until_told(l: ListProxy<u32>, talk: Connection<u32>) -> u32 {
    talk.send(&0).unwrap();
    let n = talk.recv().unwrap();
    l.push(n).unwrap();
    l.to_vec().unwrap().iter().sum()
}

#[test]
fn a_child_holding_a_proxy_keeps_the_object_until_it_ends() {
    within(|| {
        let manager = Manager::start().unwrap();
        let l = manager.list::<u32>().unwrap();
        l.push(5).unwrap();
        let (here, there) = pipe::<u32>().unwrap();
        let mut child = Process::new(hold_until_told, (l.clone(), there));
        child.start().unwrap();
        here.recv().unwrap();
        // The child holds its proxy: the parent's going changes nothing.
        drop(l);
        assert_eq!(manager.live_objects().unwrap(), 1);
        here.send(&6).unwrap();
        assert_eq!(child.join().unwrap(), 11);
        assert_eq!(manager.live_objects().unwrap(), 0);
    });
}

/// Says it holds its proxies, then waits for ever.
fn hold_for_ever(d: DictProxy<u32, u32>, l: ListProxy<u32>, talk: Connection<u32>) {
    d.insert(1, 1).unwrap();
    l.push(1).unwrap();
    talk.send(&0).unwrap();
    let _ = talk.recv();
    std::thread::sleep(Duration::from_secs(3600));
}

#[test]
fn a_killed_child_gives_up_its_counts_and_no_one_elses() {
    within(|| {
        let manager = Manager::start().unwrap();
        let d = manager.dict::<u32, u32>().unwrap();
        let l = manager.list::<u32>().unwrap();
        let (here, there) = pipe::<u32>().unwrap();
        let mut child = Process::new(hold_for_ever, (d.clone(), l.clone(), there));
        child.start().unwrap();
        here.recv().unwrap();
        // The dict is the child's alone now; the list is shared.
        drop(d);
        assert_eq!(manager.live_objects().unwrap(), 2);
        child.kill().unwrap();
        assert!(child.join().is_err());
        // The server notices the closed connections on its own time (a
        // sleeping server thread checks between naps): wait for it, under
        // the watchdog.
        while manager.live_objects().unwrap() != 1 {
            std::thread::sleep(Duration::from_millis(5));
        }
        // The list is whole and served.
        assert_eq!(l.to_vec().unwrap(), [1]);
        drop(l);
        assert_eq!(manager.live_objects().unwrap(), 0);
    });
}

#[test]
fn a_proxy_whose_message_fails_to_encode_leaves_no_count_behind() {
    within(|| {
        let manager = Manager::start().unwrap();
        let d = manager.dict::<u8, u8>().unwrap();
        // Outside brigade's channels a proxy refuses to serialize.
        assert!(brigade::process::frame::encode(&d).is_err());
        // A message with more descriptors than one may carry is refused
        // whole, after every proxy in it was serialized.
        let many: Vec<DictProxy<u8, u8>> = (0..65).map(|_| d.clone()).collect();
        let q = Queue::<Vec<DictProxy<u8, u8>>>::new().unwrap();
        assert!(q.put(&many).is_err());
        drop((many, d));
        // No copy is in flight: nothing may keep the dict alive.
        assert_eq!(manager.live_objects().unwrap(), 0);
    });
}

/// Sends its proxy back through the queue, and ends.
fn send_back(d: DictProxy<u8, u8>, q: Queue<DictProxy<u8, u8>>) {
    q.put(&d).unwrap();
}

#[test]
fn a_copy_sent_by_a_process_that_ends_lives_only_with_its_senders_counts() {
    // As the Manager's docs say: the copy in flight is counted to its
    // sender, and an ended sender gives up all its counts.
    within(|| {
        let manager = Manager::start().unwrap();
        let d = manager.dict::<u8, u8>().unwrap();
        let q = Queue::<DictProxy<u8, u8>>::new().unwrap();
        let mut child = Process::new(send_back, (d, q.clone()));
        child.start().unwrap();
        child.join().unwrap();
        while manager.live_objects().unwrap() != 0 {
            std::thread::sleep(Duration::from_millis(5));
        }
        let back = q.get().unwrap();
        assert!(matches!(
            back.len(),
            Err(brigade::process::ManagerError::Refused(_))
        ));
    });
}

/// Runs `f` with this process's descriptor limit at its lowest free
/// descriptor, so that every descriptor `f` tries to open fails (`EMFILE`),
/// then restores the limit. (Run in a child: the limit is the process's.)
fn with_no_descriptor_left<T>(f: impl FnOnce() -> T) -> T {
    let mut old = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit fills the live structure it is given.
    assert_eq!(unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut old) }, 0);
    // SAFETY: dup of standard input, closed at once: it only finds the
    // lowest free descriptor number.
    let lowest = unsafe { libc::dup(0) };
    assert!(lowest >= 0);
    // SAFETY: `lowest` is ours, from the dup above.
    unsafe { libc::close(lowest) };
    let low = libc::rlimit {
        rlim_cur: lowest as libc::rlim_t,
        rlim_max: old.rlim_max,
    };
    // SAFETY: setrlimit reads the live structure it is given.
    assert_eq!(unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &low) }, 0);
    let out = f();
    // SAFETY: as above.
    assert_eq!(unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &old) }, 0);
    out
}

/// Fails one operation for want of a descriptor, then reports whether it
/// failed and the dict's length as the server sees it afterwards.
fn fail_once_for_want_of_a_descriptor(d: DictProxy<u32, Vec<u8>>) -> (bool, Option<usize>) {
    d.insert(1, vec![1]).unwrap();
    // A value this large travels in a memory file of its own, which
    // cannot be made now.
    let failed = with_no_descriptor_left(|| d.insert(2, vec![0; 100_000]).is_err());
    // Time for the server to see a closed connection, had one closed (it
    // would free what this process alone holds); nothing waits on it.
    std::thread::sleep(Duration::from_millis(500));
    (failed, d.len().ok())
}

#[test]
fn a_failed_call_leaves_the_process_holding_its_objects() {
    within(|| {
        let manager = Manager::start().unwrap();
        let d = manager.dict::<u32, Vec<u8>>().unwrap();
        // The child holds the only proxy.
        let mut child = Process::new(fail_once_for_want_of_a_descriptor, (d,));
        child.start().unwrap();
        assert_eq!(child.join().unwrap(), (true, Some(1)));
        assert_eq!(manager.live_objects().unwrap(), 0);
    });
}
