//! asyncio's first program: hello → sleep → world.
//!
//! ```text
//! cargo run -p brigade --example hello
//! ```
//!
//! `async fn main` under `#[brigade::main]` is `asyncio.run(main())`.

use std::time::Duration;

#[brigade::main]
async fn main() {
    println!("hello");
    brigade::sleep(Duration::from_secs(1)).await;
    println!("world");
}
