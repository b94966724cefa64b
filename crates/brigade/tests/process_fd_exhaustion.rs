//! Out of descriptors, an error still says so. Its own test binary: it
//! lowers the process's descriptor limit, which would disturb any test
//! running beside it.

use brigade::process::{ProcessPool, SharedArray};

fn first(a: SharedArray<u64>) -> u64 {
    a.read()[0]
}

fn open_descriptors() -> u64 {
    std::fs::read_dir("/proc/self/fd").unwrap().count() as u64
}

#[test]
fn a_task_that_cannot_duplicate_its_descriptor_says_too_many_open_files() {
    let pool = ProcessPool::new(1).unwrap();
    let array = SharedArray::<u64>::new(1).unwrap();
    array.write()[0] = 5;
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit writes one rlimit to a live one.
    let got = unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) };
    assert_eq!(got, 0);
    let low = libc::rlimit {
        rlim_cur: open_descriptors() + 50,
        rlim_max: limit.rlim_max,
    };
    // SAFETY: setrlimit reads one valid rlimit; only the soft limit drops.
    let lowered = unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &low) };
    assert_eq!(lowered, 0);
    // Each queued task holds a duplicate of the array's descriptor until it
    // runs, so a hundred of them run the process out.
    let results: Vec<_> = pool.imap(first, vec![array; 100]).collect();
    // SAFETY: as above; the original soft limit is restored.
    let restored = unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &limit) };
    assert_eq!(restored, 0);
    let failures: Vec<String> = results
        .iter()
        .filter_map(|r| r.as_ref().err().map(|e| e.to_string()))
        .collect();
    assert!(!failures.is_empty(), "the limit was never reached");
    for why in &failures {
        assert!(why.contains("Too many open files"), "{why}");
    }
    let done = results.iter().filter(|r| matches!(r, Ok(5))).count();
    assert_eq!(done + failures.len(), 100);
}
