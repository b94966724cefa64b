//! `join!` and `try_join!`: mixed output types, concurrency, short-circuit,
//! and cancellation at the await point.

use std::cell::Cell;
use std::rc::Rc;
use std::time::Duration;

use brigade::time::{Instant, sleep, timeout};

struct DropFlag(Rc<Cell<u32>>);
impl Drop for DropFlag {
    fn drop(&mut self) {
        self.0.set(self.0.get() + 1);
    }
}

fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

async fn after<T>(s: u64, value: T) -> T {
    sleep(secs(s)).await;
    value
}

#[brigade::test(virtual)]
async fn join_runs_mixed_types_concurrently_and_keeps_argument_order() {
    let start = Instant::now();
    let borrowed = String::from("borrowed");
    let (a, b, c, d) = brigade::join!(
        after(3, 1u8),
        after(1, "two"),
        async { borrowed.len() },
        after(2, vec![4.0f64]),
    );
    assert_eq!((a, b, c, d), (1, "two", 8, vec![4.0]));
    assert_eq!(
        start.elapsed(),
        secs(3),
        "concurrent: the longest, not the sum"
    );
}

#[brigade::test(virtual)]
async fn join_takes_twelve_and_more_futures() {
    let t = brigade::join!(
        after(1, 1u8),
        after(2, 2u16),
        after(3, 3u32),
        after(4, 4u64),
        after(5, 5i8),
        after(6, 6i16),
        after(7, 7i32),
        after(8, 8i64),
        after(9, '9'),
        after(10, "10"),
        after(11, 11usize),
        after(12, 12isize),
        after(13, 13u128),
    );
    assert_eq!(t.0, 1);
    assert_eq!(t.8, '9');
    assert_eq!(t.11, 12);
    assert_eq!(t.12, 13);
}

#[brigade::test(virtual)]
async fn try_join_gives_all_values_when_every_member_succeeds() {
    let out: Result<(u8, &str, ()), String> =
        brigade::try_join!(after(2, Ok(1)), after(1, Ok("x")), async { Ok(()) });
    assert_eq!(out, Ok((1, "x", ())));
}

#[brigade::test(virtual)]
async fn try_join_returns_the_first_error_and_drops_the_rest() {
    let dropped = Rc::new(Cell::new(0));
    let (f1, f2) = (DropFlag(dropped.clone()), DropFlag(dropped.clone()));
    let start = Instant::now();
    let out: Result<(u8, u16, char), String> = brigade::try_join!(
        async move {
            let _f = f1;
            after(10, Ok(1)).await
        },
        after(2, Err("late".to_string())),
        async move {
            let _f = f2;
            after(1, Err::<char, _>("first".to_string())).await
        },
    );
    assert_eq!(out, Err("first".to_string()));
    assert_eq!(
        start.elapsed(),
        secs(1),
        "short-circuits at the first error"
    );
    assert_eq!(dropped.get(), 2, "every member was dropped on return");
}

#[brigade::test(virtual)]
async fn dropping_a_join_drops_its_unfinished_members() {
    let dropped = Rc::new(Cell::new(0));
    let (f1, f2) = (DropFlag(dropped.clone()), DropFlag(dropped.clone()));
    let joined = async move {
        brigade::join!(
            async move {
                let _f = f1;
                after(1, 1).await
            },
            async move {
                let _f = f2;
                after(5, 2).await
            },
        )
    };
    // Cancelled at its await point, after one member finished.
    assert!(timeout(secs(2), joined).await.is_err());
    assert_eq!(dropped.get(), 2);
}

#[brigade::test(virtual)]
async fn aborting_the_task_that_awaits_try_join_drops_every_member() {
    let dropped = Rc::new(Cell::new(0));
    let (f1, f2) = (DropFlag(dropped.clone()), DropFlag(dropped.clone()));
    let task = brigade::spawn(async move {
        let out: Result<(u8, u8), ()> = brigade::try_join!(
            async move {
                let _f = f1;
                after(5, Ok(1)).await
            },
            async move {
                let _f = f2;
                after(5, Ok(2)).await
            },
        );
        out
    });
    sleep(secs(1)).await;
    assert_eq!(dropped.get(), 0);
    task.abort();
    assert!(task.await.unwrap_err().is_cancelled());
    assert_eq!(dropped.get(), 2);
}
