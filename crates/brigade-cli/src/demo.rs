//! `brigade demo`: the notebook's cells, run on brigade.

use std::time::Duration;

/// The notebook's `func1`: read demo.txt, or say it is not there. The read
/// runs on brigade's blocking pool, so the event loop is never blocked.
async fn func1() -> Option<String> {
    let read = brigade::to_thread(|| std::fs::read_to_string("demo.txt")).await;
    match read {
        Ok(Ok(text)) => Some(text),
        _ => {
            println!("File not found");
            None
        }
    }
}

/// The async cell: `func1()` starts nothing; `main` prints hello, sleeps a
/// second, awaits `func1()` and prints world.
pub fn run_async() {
    let coroutine = func1();
    println!(
        "func1() returned <future {}> and ran nothing yet (Python: <coroutine object func1>)",
        std::any::type_name_of_val(&coroutine)
    );
    drop(coroutine);
    brigade::run(async {
        println!("hello");
        brigade::sleep(Duration::from_secs(1)).await;
        if let Some(text) = func1().await {
            print!("{text}");
            if !text.ends_with('\n') {
                println!();
            }
        }
        println!("world");
    });
}
