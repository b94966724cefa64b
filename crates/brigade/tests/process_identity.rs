//! `current_process`, `parent_process`, `active_children` and
//! `Process::close`. Children that must stay alive wait on a `Queue` the
//! test releases, so nothing here depends on timing.

use brigade::process::{self, Process, ProcessError, ProcessPool, Queue, StartError, StartMethod};

type Me = (String, u32, bool);
type Parent = Option<(String, u32, bool)>;

fn who() -> (Me, Parent) {
    let me = process::current_process();
    let parent =
        process::parent_process().map(|p| (p.name().to_owned(), p.pid().unwrap(), p.is_alive()));
    (
        (me.name().to_owned(), me.pid().unwrap(), me.is_daemon()),
        parent,
    )
}

fn who_in_pool(_: u8) -> (Me, Parent) {
    who()
}

fn hold(q: Queue<()>) {
    q.get().unwrap();
}

fn nothing() {}

#[test]
fn the_program_is_the_main_process_without_a_parent() {
    let me = process::current_process();
    assert_eq!(me.name(), "MainProcess");
    assert_eq!(me.pid(), Some(std::process::id()));
    assert!(!me.is_daemon() && me.is_alive());
    assert!(process::parent_process().is_none());
}

#[test]
fn a_child_knows_its_name_daemon_flag_and_parent() {
    for method in [StartMethod::Spawn, StartMethod::Forkserver] {
        let mut p = Process::new(who, ())
            .with_name("kneader")
            .daemon(true)
            .start_method(method);
        p.start().unwrap();
        let pid = p.pid().unwrap();
        let ((name, child_pid, daemon), parent) = p.join().unwrap();
        assert_eq!(name, "kneader");
        assert_eq!(child_pid, pid);
        assert!(daemon);
        let (parent_name, parent_pid, alive) = parent.expect("a child has a parent");
        assert_eq!(parent_name, "MainProcess");
        assert_eq!(parent_pid, std::process::id());
        assert!(alive, "the parent is alive while it waits ({method:?})");
    }
}

#[test]
fn a_default_child_is_named_process_n_and_is_no_daemon() {
    let mut p = Process::new(who, ());
    let given = p.name().to_owned();
    p.start().unwrap();
    let ((name, _, daemon), _) = p.join().unwrap();
    assert_eq!(name, given);
    assert!(name.starts_with("Process-"));
    assert!(!daemon);
}

#[test]
fn pool_workers_are_named_daemons() {
    let pool = ProcessPool::new(1).unwrap();
    let ((name, _, daemon), parent) = pool.apply(who_in_pool, (0,)).unwrap();
    assert!(name.starts_with("SpawnPoolWorker-"), "{name}");
    assert!(daemon);
    assert_eq!(parent.unwrap().1, std::process::id());
}

#[test]
fn active_children_lists_running_children_and_drops_ended_ones() {
    let q = Queue::new().unwrap();
    let mut p = Process::new(hold, (q.clone(),)).with_name("active-child-test");
    p.start().unwrap();
    let pid = p.pid();
    let listed = process::active_children();
    let entry = listed
        .iter()
        .find(|c| c.pid() == pid)
        .expect("a running child is listed");
    assert_eq!(entry.name(), "active-child-test");
    assert!(entry.is_alive() && !entry.is_daemon());
    q.put(&()).unwrap();
    p.join().unwrap();
    assert!(!entry.is_alive());
    assert!(process::active_children().iter().all(|c| c.pid() != pid));
}

#[test]
fn close_refuses_a_running_process_then_closes_it() {
    let q = Queue::new().unwrap();
    let mut p = Process::new(hold, (q.clone(),));
    p.start().unwrap();
    assert!(matches!(p.close(), Err(ProcessError::StillRunning)));
    assert!(p.is_alive(), "a refused close changes nothing");
    q.put(&()).unwrap();
    p.join().unwrap();
    p.close().unwrap();
    p.close().unwrap(); // again: harmless
    assert!(matches!(p.join(), Err(ProcessError::Closed)));
    assert!(matches!(p.kill(), Err(ProcessError::Closed)));
    assert!(matches!(p.terminate(), Err(ProcessError::Closed)));
    assert!(matches!(p.start(), Err(StartError::Closed)));
    assert_eq!(p.pid(), None);
    assert!(!p.is_alive());
}

#[test]
fn a_process_closed_before_start_cannot_start() {
    let mut p = Process::new(nothing, ());
    p.close().unwrap();
    assert!(matches!(p.start(), Err(StartError::Closed)));
    assert_eq!(
        ProcessError::Closed.to_string(),
        "the process object is closed"
    );
}

#[test]
fn an_ended_unjoined_process_can_be_closed() {
    let q = Queue::new().unwrap();
    let mut p = Process::new(hold, (q.clone(),));
    p.start().unwrap();
    q.put(&()).unwrap();
    // Wait for the end without taking the result, then close.
    while p.is_alive() {
        std::thread::yield_now();
    }
    p.close().unwrap();
    assert!(matches!(p.join(), Err(ProcessError::Closed)));
}
