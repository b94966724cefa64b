//! `brigade::thread`'s module functions: `current_thread`, `main_thread`,
//! `enumerate`, `active_count`, `get_ident`, `get_native_id`.

use std::sync::Arc;

use brigade::thread::{self, Builder, Event, Thread};

#[test]
fn main_thread_is_the_process() {
    let main = thread::main_thread();
    assert_eq!(main.name(), "MainThread");
    assert!(main.is_main() && main.is_alive() && !main.is_daemon());
    assert_eq!(main.native_id(), Some(u64::from(std::process::id())));
    assert!(main.ident().is_some());
    // Tests run on the harness's worker threads, not on main.
    assert_ne!(thread::current_thread(), main);
}

#[test]
fn a_running_thread_is_enumerated_until_it_finishes() {
    let gate = Arc::new(Event::new());
    let mut t = Builder::new().name("listed").build_fn({
        let gate = gate.clone();
        move || gate.wait()
    });
    assert!(!thread::enumerate().contains(&t.thread_ref()));
    t.start().unwrap();
    let all = thread::enumerate();
    assert!(all.contains(&t.thread_ref()));
    assert_eq!(all[0], thread::main_thread());
    assert!(thread::active_count() >= 2);
    gate.set();
    t.join().unwrap();
    assert!(!thread::enumerate().contains(&t.thread_ref()));
}

#[test]
fn a_foreign_thread_becomes_a_daemon_dummy_while_it_lives() {
    let (me, listed) = std::thread::spawn(|| {
        let me = thread::current_thread();
        (me.clone(), thread::enumerate().contains(&me))
    })
    .join()
    .unwrap();
    assert!(me.name().starts_with("Dummy-"), "{}", me.name());
    assert!(me.is_daemon());
    assert!(listed);
    // Its thread has ended: it has left the registry.
    assert!(!me.is_alive());
    assert!(!thread::enumerate().contains(&me));
}

#[test]
fn get_ident_is_stable_per_thread_and_distinct_across_threads() {
    let here = thread::get_ident();
    assert_eq!(here, thread::get_ident());
    assert_eq!(thread::current_thread().ident(), Some(here));
    let there = std::thread::spawn(thread::get_ident).join().unwrap();
    assert_ne!(here, there);
    assert_ne!(here, 0);
}

#[test]
fn get_ident_before_current_thread_keeps_the_same_ident() {
    let (first, later) = std::thread::spawn(|| {
        let first = thread::get_ident();
        (first, thread::current_thread().ident())
    })
    .join()
    .unwrap();
    assert_eq!(Some(first), later);
}

#[test]
fn get_native_id_is_the_kernel_thread_id() {
    let tid = thread::get_native_id();
    assert!(std::path::Path::new(&format!("/proc/self/task/{tid}")).exists());
}

#[test]
fn a_thread_sees_itself_in_enumerate() {
    let mut t = Thread::from_fn(|| thread::enumerate().contains(&thread::current_thread()));
    t.start().unwrap();
    assert!(t.join().unwrap());
}

#[test]
fn wait_for_non_daemon_returns_when_the_threads_are_done() {
    // Other tests of this binary run threads concurrently; this one only
    // checks that the wait ends and that its own thread had finished.
    let mut t = Thread::from_fn(|| ());
    t.start().unwrap();
    let probe = t.thread_ref();
    thread::wait_for_non_daemon();
    assert!(!probe.is_alive());
    t.join().unwrap();
}

#[test]
fn a_foreign_thread_named_through_std_keeps_its_whole_name() {
    let name = std::thread::Builder::new()
        .name("a std worker with a long name".into())
        .spawn(|| thread::current_thread().name().to_string())
        .unwrap()
        .join()
        .unwrap();
    assert_eq!(name, "a std worker with a long name");
}

#[test]
fn a_foreign_thread_named_only_by_the_kernel_shows_that_name() {
    // As a C library's thread would be: no std name, a kernel name set with
    // PR_SET_NAME (here through /proc).
    let name = std::thread::spawn(|| {
        std::fs::write("/proc/thread-self/comm", "c-worker").unwrap();
        thread::current_thread().name().to_string()
    })
    .join()
    .unwrap();
    assert!(name.starts_with("Dummy-"), "{name}");
    assert!(name.ends_with(" (c-worker)"), "{name}");
}
