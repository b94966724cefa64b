//! `brigade demo`: the notebook's cells, run on brigade.

use std::time::Duration;

/// The notebook's `func1`: read demo.txt, or say it is not there (the
/// notebook catches `FileNotFoundError` only, so any other failure, such as
/// a directory by that name or text that is not UTF-8, is named instead).
/// The read runs on brigade's blocking pool, so the event loop is never
/// blocked.
async fn func1() -> Option<String> {
    let read = brigade::to_thread(|| std::fs::read_to_string("demo.txt")).await;
    match read {
        Ok(Ok(text)) => Some(text),
        Ok(Err(e)) if e.kind() == std::io::ErrorKind::NotFound => {
            println!("File not found");
            None
        }
        Ok(Err(e)) => {
            println!("Cannot read demo.txt: {e}");
            None
        }
        Err(e) => {
            println!("Cannot read demo.txt: the reading thread failed: {e}");
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

/// The notebook's `func2`: print the thread's ident, then the squares, as
/// one write so that two threads' lines never interleave.
fn func2(n: u64) {
    let squares: Vec<u64> = (1..=n).map(|i| i * i).collect();
    print!(
        "Threading id: {}\n{squares:?}\n",
        brigade::thread::get_ident()
    );
}

/// The threads cell: start two threads; `daemon`, `join()`, then
/// `is_alive()` and `name`, as the notebook's cells show them.
pub fn run_threads() -> Result<(), String> {
    use brigade::thread::Thread;
    let mut thread1 = Thread::new(func2, (5,));
    let mut thread2 = Thread::new(func2, (10,));
    thread1.start().map_err(|e| e.to_string())?;
    thread2.start().map_err(|e| e.to_string())?;
    let daemon = thread1.is_daemon();
    thread1.join().map_err(|e| e.to_string())?;
    thread2.join().map_err(|e| e.to_string())?;
    println!("thread1.daemon = {daemon}");
    println!("thread1.is_alive() = {}", thread1.is_alive());
    println!("thread1.name = {:?}", thread1.name());
    Ok(())
}

/// The notebook's `square`, run in a child process.
fn square(n: i64) -> i64 {
    n * n
}

/// The processes cell: two child processes square 2 and 4; print their pids
/// and results.
pub fn run_processes() -> Result<(), String> {
    use brigade::process::Process;
    let mut p1 = Process::new(square, (2,));
    let mut p2 = Process::new(square, (4,));
    p1.start().map_err(|e| e.to_string())?;
    p2.start().map_err(|e| e.to_string())?;
    let (pid1, pid2) = (p1.pid().unwrap_or(0), p2.pid().unwrap_or(0));
    let r1 = p1.join().map_err(|e| e.to_string())?;
    let r2 = p2.join().map_err(|e| e.to_string())?;
    println!("p1.pid = {pid1}: square(2) = {r1}");
    println!("p2.pid = {pid2}: square(4) = {r2}");
    Ok(())
}
