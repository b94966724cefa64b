//! A task's stage: its future while it runs, then its result, in one place.
//!
//! A task holds its future or its result, never both, so the two share
//! their memory in a `union`. Which of them is there (the *phase*) lives in
//! the task's header among its other owner-only fields, where it fits in a
//! spare byte. An `enum` would keep the same fact in a tag of its own, and
//! for a future and a result of two words each (a task that captures an
//! index and returns it) that tag grows the task past the next size class
//! of the allocator: 16 more bytes for every one of a million tiny tasks.
//!
//! [`StageRef`] pairs the stage with its phase, so that the rest of the
//! task's code never reads a field the phase does not name.

use std::cell::Cell;
use std::future::Future;
use std::mem::ManuallyDrop;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::Pin;
use std::task::{Context, Poll};

use super::join::JoinError;
use super::task::TaskId;

/// Which of the stage's fields holds a live value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Phase {
    /// The future, not yet finished.
    Running,
    /// The result (the output, or why there is none).
    Finished,
    /// Neither: the result was taken or dropped.
    Consumed,
}

/// The future, then the result; `Phase` says which.
pub(crate) union Stage<F: Future> {
    running: ManuallyDrop<F>,
    finished: ManuallyDrop<Result<F::Output, JoinError>>,
}

impl<F: Future> Stage<F> {
    /// A stage holding `future`, to go with `Phase::Running`.
    pub(crate) fn new(future: F) -> Stage<F> {
        Stage {
            running: ManuallyDrop::new(future),
        }
    }
}

/// A task's stage with the phase that says what it holds.
pub(crate) struct StageRef<'a, F: Future> {
    stage: &'a mut Stage<F>,
    phase: &'a Cell<Phase>,
}

impl<'a, F: Future> StageRef<'a, F> {
    /// # Safety
    /// `phase` names the live field of `stage` (it was set together with
    /// it, and only a `StageRef` changes either).
    pub(crate) unsafe fn new(stage: &'a mut Stage<F>, phase: &'a Cell<Phase>) -> Self {
        StageRef { stage, phase }
    }

    pub(crate) fn phase(&self) -> Phase {
        self.phase.get()
    }

    /// Polls the future; returns true once the stage holds the result.
    /// A panic in the future, or in its destructor, becomes the result.
    pub(crate) fn poll(&mut self, cx: &mut Context<'_>) -> bool {
        if self.phase() != Phase::Running {
            return true;
        }
        // SAFETY: the phase says the future is live. It lives inside the
        // task's heap allocation, which never moves, and is only ever
        // dropped in place (`drop_future`), as `Pin` requires.
        let future = unsafe { Pin::new_unchecked(&mut *self.stage.running) };
        match catch_unwind(AssertUnwindSafe(|| future.poll(cx))) {
            Ok(Poll::Pending) => false,
            Ok(Poll::Ready(output)) => {
                // The finished future is dropped here; a panic in its
                // destructor is the task's panic, not the loop's.
                let result = match self.drop_future() {
                    Ok(()) => Ok(output),
                    Err(payload) => Err(JoinError::panicked(payload)),
                };
                self.finish(result);
                true
            }
            Err(payload) => {
                self.fail(JoinError::panicked(payload));
                true
            }
        }
    }

    /// Drops a running future and stores `Cancelled`, or the panic of the
    /// future's destructor.
    pub(crate) fn cancel(&mut self, id: TaskId) {
        if self.phase() == Phase::Running {
            self.fail(JoinError::cancelled(id));
        }
    }

    /// Takes the result, leaving the stage consumed; `None` if there is
    /// none (yet, or any more).
    pub(crate) fn take(&mut self) -> Option<Result<F::Output, JoinError>> {
        if self.phase() != Phase::Finished {
            return None;
        }
        self.phase.set(Phase::Consumed);
        // SAFETY: the phase said the result was live; it is now marked
        // consumed, so it is read out exactly once.
        Some(unsafe { ManuallyDrop::take(&mut self.stage.finished) })
    }

    /// Drops whatever the stage still holds. A panic in a destructor is
    /// swallowed: the loop that called this must survive it.
    pub(crate) fn clear(&mut self) {
        match self.phase() {
            Phase::Running => drop(self.drop_future()),
            Phase::Finished => {
                let result = self.take();
                let _ = catch_unwind(AssertUnwindSafe(move || drop(result)));
            }
            Phase::Consumed => {}
        }
    }

    /// Replaces a running future by a failed result; a panic in the
    /// future's destructor is reported instead of `error`.
    fn fail(&mut self, error: JoinError) {
        let result = match self.drop_future() {
            Ok(()) => Err(error),
            Err(payload) => Err(JoinError::panicked(payload)),
        };
        self.finish(result);
    }

    fn finish(&mut self, result: Result<F::Output, JoinError>) {
        debug_assert_eq!(self.phase(), Phase::Consumed);
        self.stage.finished = ManuallyDrop::new(result);
        self.phase.set(Phase::Finished);
    }

    /// Drops the running future where it lies and marks the stage
    /// consumed; a panic in the future's destructor is returned instead of
    /// unwinding.
    ///
    /// The future was pinned when it was polled, and `Pin` promises a
    /// pinned value that it is dropped before its memory is reused or
    /// moved. A future that borrows from itself (an `async` block holding a
    /// reference to its own local across an `.await`) relies on that in
    /// its destructor, so the future is never moved out to be dropped.
    fn drop_future(&mut self) -> std::thread::Result<()> {
        debug_assert_eq!(self.phase(), Phase::Running);
        // Marked first: the value counts as dropped whether its destructor
        // returns or unwinds (drop glue goes on dropping the remaining
        // fields while unwinding), so it must never be dropped again.
        self.phase.set(Phase::Consumed);
        catch_unwind(AssertUnwindSafe(|| {
            // SAFETY: the phase said the future was live, and it is now
            // marked consumed, so it is dropped exactly once, in place.
            unsafe { ManuallyDrop::drop(&mut self.stage.running) }
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The reason for the `union`: a task that captures one word and
    /// returns one word keeps a stage of two words, not three.
    #[test]
    fn a_stage_is_as_large_as_its_largest_phase() {
        fn size_of_stage<F: Future>(_: &F) -> usize {
            std::mem::size_of::<Stage<F>>()
        }
        let index = 5usize;
        assert_eq!(size_of_stage(&async move { index }), 16);
    }
}
