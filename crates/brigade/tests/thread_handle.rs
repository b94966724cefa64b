//! `brigade::thread::Thread`: construction, start, join, names, ids, daemon
//! flag, misuse as typed errors, and awaiting a thread from an event loop.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use brigade::thread::{self, Builder, Event, Thread, ThreadError};

fn func2(n: u64) -> Vec<u64> {
    (1..=n).map(|i| i * i).collect()
}

#[test]
fn new_does_not_run_the_target() {
    let ran = Arc::new(AtomicUsize::new(0));
    let t = Thread::from_fn({
        let ran = ran.clone();
        move || ran.fetch_add(1, Ordering::SeqCst)
    });
    drop(t);
    assert_eq!(ran.load(Ordering::SeqCst), 0);
}

#[test]
fn start_runs_the_target_with_its_arguments_and_join_returns_its_result() {
    let mut t = Thread::new(func2, (5,));
    t.start().unwrap();
    assert_eq!(t.join().unwrap(), [1, 4, 9, 16, 25]);
}

#[test]
fn targets_take_up_to_six_arguments() {
    let mut none = Thread::new(|| 0, ());
    let mut six = Thread::new(
        |a: u8, b: u16, c: u32, d: u64, e: i8, f: String| format!("{a}{b}{c}{d}{e}{f}"),
        (1, 2, 3, 4, -5, "x".to_string()),
    );
    none.start().unwrap();
    six.start().unwrap();
    assert_eq!(none.join().unwrap(), 0);
    assert_eq!(six.join().unwrap(), "1234-5x");
}

#[test]
fn the_default_name_counts_threads_and_names_the_target() {
    let a = Thread::new(func2, (1,));
    let b = Thread::new(func2, (1,));
    let number = |t: &Thread<Vec<u64>>| -> u64 {
        let rest = t.name().strip_prefix("Thread-").unwrap();
        let (n, target) = rest.split_once(' ').unwrap();
        assert_eq!(target, "(func2)");
        n.parse().unwrap()
    };
    assert!(number(&b) > number(&a));
}

#[test]
fn a_closure_is_named_after_the_function_around_it() {
    let t = Thread::from_fn(|| ());
    assert!(
        t.name()
            .ends_with(" (a_closure_is_named_after_the_function_around_it::{closure})"),
        "{}",
        t.name()
    );
}

#[test]
fn builder_sets_name_daemon_and_stack_size() {
    let mut t = Builder::new()
        .name("pastry")
        .daemon(true)
        .stack_size(128 * 1024)
        .build(func2, (3,));
    assert_eq!(t.name(), "pastry");
    assert!(t.is_daemon());
    t.start().unwrap();
    assert_eq!(t.join().unwrap(), [1, 4, 9]);
}

#[test]
fn starting_twice_is_a_typed_error() {
    let mut t = Thread::new(func2, (2,));
    t.start().unwrap();
    let err = t.start().unwrap_err();
    assert!(matches!(err, ThreadError::AlreadyStarted { .. }), "{err:?}");
    assert!(err.to_string().contains("can only be started once"));
    assert_eq!(t.join().unwrap(), [1, 4]);
}

#[test]
fn joining_a_thread_never_started_is_a_typed_error() {
    let mut t = Builder::new().name("idle").build(func2, (2,));
    let err = t.join().unwrap_err();
    assert!(matches!(err, ThreadError::NotStarted { .. }));
    assert_eq!(err.thread_name(), "idle");
    assert!(t.join_timeout(Duration::from_millis(1)).is_err());
    // It can still be started and joined afterwards.
    t.start().unwrap();
    assert_eq!(t.join().unwrap(), [1, 4]);
}

#[test]
fn joining_twice_is_a_typed_error() {
    let mut t = Thread::new(func2, (1,));
    t.start().unwrap();
    t.join().unwrap();
    assert!(matches!(
        t.join().unwrap_err(),
        ThreadError::AlreadyJoined { .. }
    ));
}

#[test]
fn setting_daemon_after_start_is_a_typed_error() {
    let mut t = Thread::new(func2, (1,));
    t.set_daemon(true).unwrap();
    t.set_daemon(false).unwrap();
    t.start().unwrap();
    let err = t.set_daemon(true).unwrap_err();
    assert!(matches!(err, ThreadError::DaemonAfterStart { .. }));
    assert!(!t.is_daemon());
    t.join().unwrap();
}

#[test]
fn a_panic_reaches_join_with_its_message_and_the_thread_name() {
    let mut t = Builder::new()
        .name("burnt")
        .build_fn(|| -> u8 { panic!("the oven caught fire") });
    t.start().unwrap();
    let err = t.join().unwrap_err();
    assert_eq!(err.panic_message(), Some("the oven caught fire"));
    assert_eq!(err.thread_name(), "burnt");
    assert_eq!(
        err.to_string(),
        "thread burnt panicked: the oven caught fire"
    );
    assert!(!t.is_alive());
}

#[test]
fn join_timeout_times_out_then_joins() {
    let gate = Arc::new(Event::new());
    let mut t = Thread::from_fn({
        let gate = gate.clone();
        move || {
            gate.wait();
            7
        }
    });
    t.start().unwrap();
    let err = t.join_timeout(Duration::from_millis(5)).unwrap_err();
    assert!(err.is_timeout());
    assert!(t.is_alive());
    gate.set();
    assert_eq!(t.join_timeout(Duration::from_secs(3600)).unwrap(), 7);
}

#[test]
fn is_alive_follows_the_target() {
    let gate = Arc::new(Event::new());
    let mut t = Thread::from_fn({
        let gate = gate.clone();
        move || gate.wait()
    });
    assert!(!t.is_alive());
    t.start().unwrap();
    assert!(t.is_alive());
    gate.set();
    t.join().unwrap();
    assert!(!t.is_alive());
}

#[test]
fn ident_and_native_id_match_what_the_thread_sees() {
    let mut t = Thread::from_fn(|| (thread::get_ident(), thread::get_native_id()));
    assert_eq!((t.ident(), t.native_id()), (None, None));
    t.start().unwrap();
    let (ident, native) = (t.ident(), t.native_id());
    assert_eq!(t.join().unwrap(), (ident.unwrap(), native.unwrap()));
    assert_ne!(ident.unwrap(), thread::get_ident());
    assert_ne!(native.unwrap(), thread::get_native_id());
}

#[test]
fn current_thread_inside_a_thread_is_that_thread() {
    let mut t = Builder::new()
        .name("inside")
        .build_fn(thread::current_thread);
    t.start().unwrap();
    let me = t.thread_ref();
    let seen = t.join().unwrap();
    assert_eq!(seen, me);
    assert_eq!(seen.name(), "inside");
}

#[test]
fn the_os_thread_carries_the_name_cut_to_fifteen_bytes() {
    fn comm() -> String {
        let tid = thread::get_native_id();
        std::fs::read_to_string(format!("/proc/self/task/{tid}/comm")).unwrap()
    }
    let mut ascii = Builder::new().name("Thread-26 (func2)").build_fn(comm);
    let mut accents = Builder::new().name("Thread-1 (éééééé)").build_fn(comm);
    ascii.start().unwrap();
    accents.start().unwrap();
    assert_eq!(ascii.join().unwrap(), "Thread-26 (func\n");
    assert_eq!(accents.join().unwrap(), "Thread-1 (éé\n");
}

#[test]
fn std_sees_the_brigade_name_too() {
    let mut t = Builder::new()
        .name("sous-chef")
        .build_fn(|| std::thread::current().name().map(str::to_string));
    t.start().unwrap();
    assert_eq!(t.join().unwrap().as_deref(), Some("sous-chef"));
}

#[test]
fn daemon_is_inherited_from_a_brigade_daemon_thread() {
    let parent = Builder::new().daemon(true).build_fn(|| {
        let child = Thread::from_fn(|| ());
        child.is_daemon()
    });
    let mut parent = parent;
    parent.start().unwrap();
    assert!(parent.join().unwrap());
    // Threads made outside brigade threads are not daemons.
    assert!(!Thread::from_fn(|| ()).is_daemon());
}

#[test]
fn a_thread_cannot_join_itself() {
    let (handle_tx, handle_rx) = std::sync::mpsc::channel::<Thread<()>>();
    let (seen_tx, seen_rx) = std::sync::mpsc::channel::<bool>();
    let mut t = Thread::from_fn(move || {
        let mut me = handle_rx.recv().unwrap();
        let _ = seen_tx.send(matches!(me.join(), Err(ThreadError::JoinSelf { .. })));
    });
    t.start().unwrap();
    handle_tx.send(t).unwrap();
    assert!(seen_rx.recv().unwrap());
}

#[test]
fn spawn_is_build_and_start() {
    let t = thread::spawn(|| "ready").unwrap();
    assert_eq!(t.into_result().unwrap(), "ready");
}

#[test]
fn a_thread_is_awaited_without_blocking_the_loop() {
    let gate = Arc::new(Event::new());
    let ticks = brigade::run({
        let gate = gate.clone();
        async move {
            let mut t = Thread::from_fn({
                let gate = gate.clone();
                move || {
                    gate.wait();
                    "done"
                }
            });
            t.start().unwrap();
            // A task that runs while the thread is blocked proves the loop
            // is not blocked: it is what releases the thread.
            let opener = brigade::spawn(async move {
                brigade::yield_now().await;
                gate.set();
                1
            });
            let out = t.join_async().await.unwrap();
            assert_eq!(out, "done");
            opener.await.unwrap()
        }
    });
    assert_eq!(ticks, 1);
}

#[test]
fn a_thread_can_be_awaited_directly() {
    let out = brigade::run(async {
        let t = thread::spawn(|| func2(4)).unwrap();
        t.await
    });
    assert_eq!(out.unwrap(), [1, 4, 9, 16]);
}

#[test]
fn awaiting_a_panicked_thread_gives_the_panic() {
    let err = brigade::run(async {
        let t = thread::spawn(|| -> () { panic!("no yeast") }).unwrap();
        t.await.unwrap_err()
    });
    assert_eq!(err.panic_message(), Some("no yeast"));
}

#[test]
fn debug_looks_like_python_repr() {
    let t = Builder::new().name("repr").daemon(true).build_fn(|| ());
    assert_eq!(format!("{t:?}"), "<Thread(repr, initial daemon)>");
}

#[test]
fn the_notebook_thread_cell() {
    // threading.Thread(target=func2, args=(5,)) ... start, daemon,
    // is_alive, name, join: the cell of the seed notebook.
    let mut thread1 = Thread::new(func2, (5,));
    let mut thread2 = Thread::new(func2, (10,));
    thread1.start().unwrap();
    thread2.start().unwrap();
    assert!(!thread1.is_daemon());
    let name = thread1.name().to_string();
    assert!(
        name.starts_with("Thread-") && name.ends_with(" (func2)"),
        "{name}"
    );
    assert_eq!(thread1.join().unwrap(), [1, 4, 9, 16, 25]);
    assert_eq!(
        thread2.join().unwrap(),
        [1, 4, 9, 16, 25, 36, 49, 64, 81, 100]
    );
    assert!(!thread1.is_alive() && !thread2.is_alive());
    assert_ne!(thread1.ident(), thread2.ident());
}

#[test]
fn the_virtual_clock_does_not_jump_while_a_thread_is_awaited() {
    use std::time::Duration;
    let rt = brigade::Runtime::builder()
        .virtual_clock(true)
        .build()
        .unwrap();
    rt.block_on(async {
        let start = brigade::time::Instant::now();
        let sleeper = brigade::spawn(brigade::sleep(Duration::from_secs(3600)));
        let mut worker =
            brigade::thread::Thread::from_fn(|| std::thread::sleep(Duration::from_millis(20)));
        worker.start().unwrap();
        worker.join_async().await.unwrap();
        assert!(
            start.elapsed() < Duration::from_secs(3600),
            "time jumped while a thread worked"
        );
        sleeper.await.unwrap();
    });
}

/// The same, many times over with threads that end at once: a thread that
/// ends must wake its joiner before it lets the clock go, or the loop may
/// find nothing to run in between and jump. (A race: it showed about once
/// in forty runs of the test above on a loaded machine.)
#[test]
fn a_finishing_thread_wakes_its_joiner_before_it_releases_the_clock() {
    use std::time::Duration;
    let rt = brigade::Runtime::builder()
        .virtual_clock(true)
        .build()
        .unwrap();
    for round in 0..500 {
        rt.block_on(async {
            let start = brigade::time::Instant::now();
            let sleeper = brigade::spawn(brigade::sleep(Duration::from_secs(3600)));
            let mut worker = brigade::thread::Thread::from_fn(|| ());
            worker.start().unwrap();
            worker.join_async().await.unwrap();
            assert!(
                start.elapsed() < Duration::from_secs(3600),
                "round {round}: time jumped while a thread ended"
            );
            sleeper.abort();
        });
    }
}

/// A join returns only after the thread's thread-locals were destroyed, as
/// `std`'s join does, although brigade threads are detached. Many rounds,
/// because a wrong order would show as a race.
#[test]
fn join_returns_after_the_threads_thread_locals_are_destroyed() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static DROPPED: AtomicUsize = AtomicUsize::new(0);
    struct Slow;
    impl Drop for Slow {
        fn drop(&mut self) {
            std::thread::yield_now();
            DROPPED.fetch_add(1, Ordering::SeqCst);
        }
    }
    thread_local! {
        static SLOW: std::cell::RefCell<Option<Slow>> = const { std::cell::RefCell::new(None) };
    }
    for round in 1..=200 {
        let mut t = brigade::thread::spawn(|| SLOW.with(|s| *s.borrow_mut() = Some(Slow))).unwrap();
        t.join().unwrap();
        assert_eq!(DROPPED.load(Ordering::SeqCst), round);
    }
}

/// Dropping a thread's handle without a join detaches it: the thread runs
/// on to the end.
#[test]
fn a_thread_dropped_without_join_runs_to_completion() {
    let (tx, rx) = std::sync::mpsc::channel();
    let t = brigade::thread::spawn(move || tx.send(7).unwrap()).unwrap();
    drop(t);
    assert_eq!(rx.recv().unwrap(), 7);
}

/// Set by the destructor of a pthread key, which glibc runs after every
/// thread-local destructor of Rust's, as the last step of a thread before
/// the C library's own teardown.
static KEY_DESTRUCTOR_RAN: AtomicUsize = AtomicUsize::new(0);

extern "C" fn slow_key_destructor(_: *mut libc::c_void) {
    // Slow on purpose: a join that returned before the OS thread ended
    // would see the count unchanged.
    std::thread::sleep(Duration::from_millis(5));
    KEY_DESTRUCTOR_RAN.fetch_add(1, Ordering::SeqCst);
}

#[test]
fn every_kind_of_join_returns_only_once_the_os_thread_has_ended() {
    let mut key: libc::pthread_key_t = 0;
    // SAFETY: `key` is a valid place for the new key; the destructor is an
    // `extern "C" fn` that lives as long as the program.
    let created = unsafe { libc::pthread_key_create(&mut key, Some(slow_key_destructor)) };
    assert_eq!(created, 0);
    for round in 0..30 {
        let before = KEY_DESTRUCTOR_RAN.load(Ordering::SeqCst);
        let mut t = thread::spawn(move || {
            // SAFETY: the key was created above; a non-null value makes
            // glibc run its destructor when this thread ends.
            unsafe { libc::pthread_setspecific(key, std::ptr::dangling::<libc::c_void>()) };
            1
        })
        .unwrap();
        match round % 3 {
            0 => assert_eq!(t.join().unwrap(), 1),
            1 => assert_eq!(t.join_timeout(Duration::from_secs(60)).unwrap(), 1),
            _ => assert_eq!(brigade::run(t.join_async()).unwrap(), 1),
        }
        assert!(
            KEY_DESTRUCTOR_RAN.load(Ordering::SeqCst) > before,
            "round {round}: join returned while the thread was still ending"
        );
    }
}
