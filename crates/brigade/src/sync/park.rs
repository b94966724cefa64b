//! Waiting from plain threads: drive one of our futures to completion by
//! parking the thread between polls.
//!
//! The channels' blocking calls (`send_blocking`, `recv_blocking`) are the
//! async operations themselves, polled by this tiny executor. A blocked
//! thread therefore queues in the same FIFO, with the same hand-off and
//! cancellation rules, as a task does; its waker flips a flag under a mutex
//! and signals a condition variable, which works from any thread. The mutex
//! and condvar come from the loom shim so that models see the handshake.
//!
//! ```
//! use brigade::sync::mpsc;
//!
//! let (tx, mut rx) = mpsc::channel(1);
//! let t = std::thread::spawn(move || {
//!     for i in 0..3 {
//!         tx.send_blocking(i).unwrap(); // parks while the buffer is full
//!     }
//! });
//! let got: Vec<i32> = std::iter::from_fn(|| rx.recv_blocking()).collect();
//! t.join().unwrap();
//! assert_eq!(got, [0, 1, 2]);
//! ```

use std::future::Future;
use std::pin::pin;
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};

use crate::loom::sync::{Condvar, Mutex};

/// The waker of a blocked thread.
struct Parker {
    woken: Mutex<bool>,
    ready: Condvar,
}

impl Wake for Parker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        *self.woken.lock().unwrap_or_else(|e| e.into_inner()) = true;
        self.ready.notify_one();
    }
}

/// Polls `future` on the current thread until it completes, sleeping while
/// it is pending. Never call this on an event loop's thread: the loop would
/// stop while the thread sleeps.
pub(crate) fn block_on<F: Future>(future: F) -> F::Output {
    let parker = Arc::new(Parker {
        woken: Mutex::new(false),
        ready: Condvar::new(),
    });
    let waker = Waker::from(parker.clone());
    let mut cx = Context::from_waker(&waker);
    let mut future = pin!(future);
    loop {
        if let Poll::Ready(output) = future.as_mut().poll(&mut cx) {
            return output;
        }
        let mut woken = parker.woken.lock().unwrap_or_else(|e| e.into_inner());
        while !*woken {
            woken = parker.ready.wait(woken).unwrap_or_else(|e| e.into_inner());
        }
        *woken = false;
    }
}
