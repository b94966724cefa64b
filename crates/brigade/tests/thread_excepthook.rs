//! `brigade::thread::set_excepthook`: Python's `threading.excepthook`. The
//! hook is process-wide, so this binary's tests take turns.

use std::sync::{Arc, Mutex, MutexGuard};

use brigade::thread::{self, Thread, ThreadError};

static TURN: Mutex<()> = Mutex::new(());

fn my_turn() -> MutexGuard<'static, ()> {
    TURN.lock().unwrap_or_else(|e| e.into_inner())
}

type Seen = Arc<Mutex<Vec<(String, Option<u64>, String, bool)>>>;

/// Installs a hook that records (name, ident, message, alive) per call.
fn recording_hook() -> Seen {
    let seen: Seen = Arc::default();
    thread::set_excepthook({
        let seen = seen.clone();
        move |args| {
            seen.lock().unwrap().push((
                args.name().to_string(),
                args.ident(),
                args.message().to_string(),
                args.thread().is_alive(),
            ))
        }
    });
    seen
}

#[test]
fn an_escaped_panic_reaches_the_hook_and_the_join() {
    let _turn = my_turn();
    let seen = recording_hook();
    let mut t = Thread::builder()
        .name("hooked")
        .build_fn(|| -> u8 { panic!("no more flour") });
    t.start().unwrap();
    let ident = t.ident();
    let err = t.join().unwrap_err();
    assert!(matches!(err, ThreadError::Panicked { .. }));
    assert_eq!(err.panic_message(), Some("no more flour"));
    let seen = seen.lock().unwrap().clone();
    assert_eq!(
        seen,
        [(
            "hooked".to_string(),
            ident,
            "no more flour".to_string(),
            true
        )]
    );
    thread::take_excepthook().unwrap();
}

#[test]
fn a_thread_that_returns_does_not_call_the_hook() {
    let _turn = my_turn();
    let seen = recording_hook();
    let mut t = Thread::from_fn(|| 5);
    t.start().unwrap();
    assert_eq!(t.join().unwrap(), 5);
    assert!(seen.lock().unwrap().is_empty());
    thread::take_excepthook().unwrap();
}

#[test]
fn after_take_the_hook_is_not_called() {
    let _turn = my_turn();
    let seen = recording_hook();
    let hook = thread::take_excepthook().unwrap();
    let mut t = Thread::from_fn(|| panic!("unheard"));
    t.start().unwrap();
    assert!(t.join().is_err());
    assert!(seen.lock().unwrap().is_empty());
    // The hook handed back still works, and set returns the one replaced.
    assert!(thread::set_excepthook(move |args| hook(args)).is_none());
    assert!(thread::set_excepthook(|_| ()).is_some());
    thread::take_excepthook().unwrap();
}

#[test]
fn a_panicking_hook_does_not_lose_the_threads_panic() {
    let _turn = my_turn();
    thread::set_excepthook(|_| panic!("the hook itself"));
    let mut t = Thread::from_fn(|| -> () { panic!("the target") });
    t.start().unwrap();
    assert_eq!(t.join().unwrap_err().panic_message(), Some("the target"));
    thread::take_excepthook().unwrap();
}
