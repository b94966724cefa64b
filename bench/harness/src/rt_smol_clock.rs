//! `smol-vclock`: the chess exhibitions on smol's `LocalExecutor` with a
//! small virtual clock written here, since smol has none.
//!
//! This is the baseline brigade's own virtual clock is measured against:
//! the least a virtual clock on a fast executor must do. Timers sit in a
//! binary heap ordered by (deadline, sequence number); the driver runs every
//! ready task (`try_tick`), and when none is left it jumps the clock to the
//! earliest deadline and wakes every timer due then. The master is a FIFO
//! mutex with direct hand-off (the unlocker passes the lock to the first
//! waiter), as fair as tokio's and brigade's: an unfair lock would let
//! boards finish early and leave the master idle at the end, and the
//! check value (the virtual end time) would catch it.

use std::cell::{Cell, RefCell};
use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use async_executor::LocalExecutor;

use crate::measure::{self, Measured, Meter};
use crate::registry::Entry;
use crate::workloads::{self as w, Workload};

/// The pairs implemented here.
pub fn entries() -> Vec<Entry> {
    vec![
        Entry::run(Workload::Chess24, "smol-vclock", || {
            chess(Workload::Chess24)
        }),
        Entry::run(Workload::Chess100k, "smol-vclock", || {
            chess(Workload::Chess100k)
        }),
    ]
}

/// A timer in the heap: due at `deadline`, `seq` breaks ties in order of
/// arming, so that equal deadlines fire first-armed first.
struct Due {
    deadline: Duration,
    seq: u64,
    waker: Waker,
}

impl PartialEq for Due {
    fn eq(&self, other: &Self) -> bool {
        (self.deadline, self.seq) == (other.deadline, other.seq)
    }
}

impl Eq for Due {}

impl PartialOrd for Due {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Due {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (self.deadline, self.seq).cmp(&(other.deadline, other.seq))
    }
}

/// Virtual time since the start, and the armed timers.
#[derive(Default)]
struct Clock {
    now: Cell<Duration>,
    seq: Cell<u64>,
    timers: RefCell<BinaryHeap<Reverse<Due>>>,
}

impl Clock {
    fn sleep(self: &Rc<Self>, d: Duration) -> Sleep {
        Sleep {
            clock: self.clone(),
            deadline: self.now.get() + d,
            armed: false,
        }
    }

    /// Jumps to the earliest deadline and wakes every timer due then;
    /// false when no timer is armed.
    fn advance(&self) -> bool {
        let mut timers = self.timers.borrow_mut();
        let Some(Reverse(first)) = timers.pop() else {
            return false;
        };
        self.now.set(first.deadline);
        first.waker.wake();
        while timers
            .peek()
            .is_some_and(|Reverse(t)| t.deadline <= first.deadline)
        {
            let Reverse(due) = timers.pop().expect("peeked");
            due.waker.wake();
        }
        true
    }
}

struct Sleep {
    clock: Rc<Clock>,
    deadline: Duration,
    armed: bool,
}

impl Future for Sleep {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.clock.now.get() >= self.deadline {
            return Poll::Ready(());
        }
        if !self.armed {
            self.armed = true;
            let seq = self.clock.seq.get();
            self.clock.seq.set(seq + 1);
            self.clock.timers.borrow_mut().push(Reverse(Due {
                deadline: self.deadline,
                seq,
                waker: cx.waker().clone(),
            }));
        }
        Poll::Pending
    }
}

/// A FIFO mutex without a guard type: `lock().await`, then `unlock()`.
#[derive(Default)]
struct Master {
    locked: Cell<bool>,
    waiters: RefCell<VecDeque<(Rc<Cell<bool>>, Waker)>>,
}

impl Master {
    fn lock(&self) -> Lock<'_> {
        Lock {
            master: self,
            granted: None,
        }
    }

    /// Hands the lock to the first waiter, or frees it.
    fn unlock(&self) {
        match self.waiters.borrow_mut().pop_front() {
            Some((granted, waker)) => {
                granted.set(true);
                waker.wake();
            }
            None => self.locked.set(false),
        }
    }
}

struct Lock<'a> {
    master: &'a Master,
    granted: Option<Rc<Cell<bool>>>,
}

impl Future for Lock<'_> {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if let Some(granted) = &self.granted {
            return if granted.get() {
                Poll::Ready(())
            } else {
                Poll::Pending
            };
        }
        if !self.master.locked.replace(true) {
            return Poll::Ready(());
        }
        let granted = Rc::new(Cell::new(false));
        self.master
            .waiters
            .borrow_mut()
            .push_back((granted.clone(), cx.waker().clone()));
        self.granted = Some(granted);
        Poll::Pending
    }
}

fn chess(workload: Workload) -> Measured {
    measure::repeat(w::chess_exhibitions(workload), || exhibition(workload))
}

/// One exhibition, timed from the first board's spawn to the last board's end.
fn exhibition(workload: Workload) -> Measured {
    let ex = LocalExecutor::new();
    let clock = Rc::new(Clock::default());
    let master = Rc::new(Master::default());
    let boards = w::chess_boards(workload);
    let finished = Rc::new(Cell::new(0));
    let meter = Meter::start();
    for _ in 0..boards {
        let (clock, master, finished) = (clock.clone(), master.clone(), finished.clone());
        ex.spawn(async move {
            for _ in 0..w::CHESS_MOVES {
                master.lock().await;
                clock.sleep(Duration::from_secs(w::CHESS_MASTER_SECS)).await;
                master.unlock();
                clock
                    .sleep(Duration::from_secs(w::CHESS_OPPONENT_SECS))
                    .await;
            }
            finished.set(finished.get() + 1);
        })
        .detach();
    }
    loop {
        while ex.try_tick() {}
        if finished.get() == boards || !clock.advance() {
            break;
        }
    }
    assert_eq!(finished.get(), boards, "boards left waiting");
    let end = clock.now.get().as_millis() as u64;
    meter.finish(end)
}
