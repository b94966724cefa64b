//! The notebook's asyncio cell, in brigade:
//!
//! ```python
//! async def func1():
//!     try:
//!         with open('demo.txt','r') as f:
//!             return f.read()
//!     except FileNotFoundError as e:
//!         print("File not found")
//!
//! async def main():
//!     print("hello")
//!     await asyncio.sleep(1)
//!     await func1()
//!     print("world")
//! ```
//!
//! In asyncio the read blocks the whole loop; here it is an io_uring
//! operation (or a blocking-pool job under epoll) and the loop goes on.
//! Run it with `cargo run -p brigade --example notebook_file_read`; it
//! prints `hello`, `File not found` and `world` when there is no demo.txt
//! in the current directory, and the file's text instead of the middle
//! line when there is.

use std::io::ErrorKind;
use std::time::Duration;

async fn func1() -> Option<String> {
    match brigade::fs::read_to_string("demo.txt").await {
        Ok(text) => Some(text),
        Err(e) if e.kind() == ErrorKind::NotFound => {
            println!("File not found");
            None
        }
        Err(e) => {
            eprintln!("{e}");
            None
        }
    }
}

#[brigade::main]
async fn main() {
    println!("hello");
    brigade::sleep(Duration::from_secs(1)).await;
    if let Some(text) = func1().await {
        print!("{text}");
    }
    println!("world");
}
