//! A long-lived task group (an accept loop, say) must not keep its finished
//! children's memory. Its own test binary: it counts allocations.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicIsize, Ordering};

struct Counting;
static LIVE: AtomicIsize = AtomicIsize::new(0);

// SAFETY: forwards to the system allocator, only counting bytes.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        LIVE.fetch_add(l.size() as isize, Ordering::Relaxed);
        // SAFETY: the caller's contract is passed on unchanged.
        unsafe { System.alloc(l) }
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        LIVE.fetch_sub(l.size() as isize, Ordering::Relaxed);
        // SAFETY: the caller's contract is passed on unchanged.
        unsafe { System.dealloc(p, l) }
    }
}

#[global_allocator]
static A: Counting = Counting;

#[test]
fn finished_children_are_released_while_the_group_runs() {
    let retained = brigade::run(brigade::task_group(
        |g: brigade::TaskGroup<()>| async move {
            let before = LIVE.load(Ordering::Relaxed);
            for _ in 0..2_000 {
                let child = g.spawn(async {
                    let buf = [0u8; 8192];
                    brigade::yield_now().await;
                    Ok(std::hint::black_box(buf)[0])
                });
                child.await.unwrap();
            }
            Ok(LIVE.load(Ordering::Relaxed) - before)
        },
    ))
    .unwrap();
    // 2,000 finished children of 8 KiB each would be 16 MiB.
    assert!(
        retained < 1 << 20,
        "{retained} bytes retained by 2,000 finished children"
    );
}
