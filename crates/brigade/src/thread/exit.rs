//! A brigade thread's last act: telling its joiners it has ended, after
//! its thread-locals are gone.
//!
//! A join waits on the thread's completion cell first (which is what makes
//! a join with a time limit, or an awaited join, possible), then joins the
//! OS thread, whose remaining teardown is then short.
//!
//! A join must still mean what it means for `std`: the thread is done,
//! destructors of its thread-locals included (a `thread_local!` holding a
//! channel's sender has dropped it). So the report is itself a
//! thread-local destructor, registered before anything else of the
//! thread's touches a thread-local. Thread-local destructors run in the
//! reverse order of their registration (`__cxa_thread_atexit_impl`, as in
//! C++; std's fallback list pops from the end as well), so the report runs
//! after all of them. Only the C library's own teardown of the thread
//! follows.
//!
//! If the thread ends without handing over an outcome (a panic outside the
//! target's catch), the report still runs, with nothing: joiners get an
//! error instead of waiting forever.
//!
//! [`join`]: super::Thread::join
//!
//! ```
//! use std::sync::mpsc;
//!
//! thread_local! {
//!     static SENDER: std::cell::RefCell<Option<mpsc::Sender<u8>>> =
//!         const { std::cell::RefCell::new(None) };
//! }
//!
//! let (tx, rx) = mpsc::channel();
//! let mut t = brigade::thread::spawn(move || SENDER.with(|s| *s.borrow_mut() = Some(tx)))
//!     .unwrap();
//! t.join().unwrap();
//! // The thread-local's sender is gone: the channel is closed.
//! assert!(rx.recv().is_err());
//! ```

use std::cell::Cell;

/// What a thread runs when it ends; empty until armed.
struct Report(Cell<Option<Box<dyn FnOnce()>>>);

impl Drop for Report {
    fn drop(&mut self) {
        if let Some(report) = self.0.take() {
            report();
        }
    }
}

thread_local! {
    static REPORT: Report = const { Report(Cell::new(None)) };
}

/// Runs `report` when the calling thread ends, after the destructors of
/// every thread-local first used after this call. Call it first thing on
/// a new thread.
pub(crate) fn at_thread_exit(report: impl FnOnce() + 'static) {
    let mut report: Option<Box<dyn FnOnce()>> = Some(Box::new(report));
    // Touching the thread-local registers its destructor. It cannot be
    // gone already this early in the thread's life; if it were, reporting
    // now is the best left to do.
    let _ = REPORT.try_with(|slot| slot.0.set(report.take()));
    if let Some(report) = report {
        report();
    }
}
