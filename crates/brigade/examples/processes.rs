//! The notebook's multiprocessing cell, in Rust:
//!
//! ```python
//! def square(n: int) -> int:
//!     return n**2
//!
//! p1 = mp.Process(target=square, args=(2,))
//! p2 = mp.Process(target=square, args=(4,))
//! p1.start(); p2.start()
//! p1.join(); p2.join()
//! print(p1.pid); print(p2.pid)
//! ```
//!
//! Run it with `cargo run -p brigade --example processes`. Nothing is needed
//! in `main` for the children: brigade takes a child over before `main`.

use brigade::process::Process;

fn square(n: u64) -> u64 {
    n.pow(2)
}

fn main() {
    let mut p1 = Process::new(square, (2,));
    let mut p2 = Process::new(square, (4,));

    p1.start().expect("start p1");
    p2.start().expect("start p2");

    // Unlike Python's join, ours hands back the function's result.
    let r1 = p1.join().expect("p1 failed");
    let r2 = p2.join().expect("p2 failed");

    println!(
        "{} (pid {}): square(2) = {r1}",
        p1.name(),
        p1.pid().unwrap()
    );
    println!(
        "{} (pid {}): square(4) = {r2}",
        p2.name(),
        p2.pid().unwrap()
    );
    println!("exit codes: {:?} {:?}", p1.exitcode(), p2.exitcode());
}
