//! Exit as in Python: when `main` returns, the program waits for the
//! non-daemon threads and abandons the daemon ones.
//!
//! Run it with `cargo run -p brigade --example thread_exit`: the baker's
//! last line prints after "main returns", and the watcher's never does.

use std::time::Duration;

use brigade::thread::{Builder, Event};

#[brigade::main]
async fn main() {
    let mut baker = Builder::new().name("baker").build_fn(|| {
        std::thread::sleep(Duration::from_millis(300));
        println!("baker: bread is out of the oven");
    });
    let mut watcher = Builder::new().name("watcher").daemon(true).build_fn(|| {
        Event::new().wait(); // never set: a daemon may run forever
        println!("watcher: this line never prints");
    });
    baker.start().unwrap();
    watcher.start().unwrap();
    println!("main returns; the baker is still working");
}
