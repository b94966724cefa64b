//! The notebook's thread cell, in brigade:
//!
//! ```python
//! import threading
//!
//! def func2(n: int) -> list[int]:
//!     print(f"Threading id: {threading.get_ident()}")
//!     print([i**2 for i in range(1,n+1)])
//!
//! thread1 = threading.Thread(target=func2,args=(5,))
//! thread2 = threading.Thread(target=func2,args=(10,))
//! thread1.start()
//! thread2.start()
//! thread1.daemon      # False
//! thread1.is_alive()  # False
//! thread1.name        # 'Thread-26 (func2)'
//! thread1.join()
//! thread2.join()
//! ```
//!
//! Run it with `cargo run -p brigade --example threads`.

use brigade::thread::{self, Thread};

fn func2(n: u64) -> Vec<u64> {
    println!("Threading id: {}", thread::get_ident());
    let squares: Vec<u64> = (1..=n).map(|i| i.pow(2)).collect();
    println!("{squares:?}");
    // Python's func2 returns None; returning the list lets join hand it back.
    squares
}

fn main() -> Result<(), thread::ThreadError> {
    let mut thread1 = Thread::new(func2, (5,));
    let mut thread2 = Thread::new(func2, (10,));

    thread1.start()?;
    thread2.start()?;

    println!("thread1.daemon = {}", thread1.is_daemon());
    // In the notebook the thread had finished by the time this cell ran;
    // here it may still be running, so the answer depends on timing.
    println!("thread1.is_alive() = {}", thread1.is_alive());
    println!("thread1.name = {:?}", thread1.name());

    let first = thread1.join()?;
    let second = thread2.join()?;
    println!("joined: {} and {} squares", first.len(), second.len());
    println!("thread1.is_alive() after join = {}", thread1.is_alive());

    // What Python would raise RuntimeError for, brigade returns as errors.
    if let Err(e) = thread1.start() {
        println!("starting again: {e}");
    }
    Ok(())
}
