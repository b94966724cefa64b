//! `timerfd_create(2)`: a one-shot timer that the kernel reports through a
//! descriptor, so that it can end an `epoll_wait`.
//!
//! Why the loop sleeps on one: `epoll_wait` takes its timeout in whole
//! milliseconds, so a loop that sleeps with it wakes up to a millisecond
//! late; and even `epoll_pwait2`, `nanosleep` and `std::thread::sleep`, which
//! take nanoseconds, let the kernel defer the wake-up by the thread's timer
//! slack (50 µs by default, see `prctl(PR_SET_TIMERSLACK)`) so as to batch
//! wake-ups. A timerfd's timer is armed with no slack: it expires at its
//! time, and only the scheduler's latency remains. (The `polling` crate,
//! under smol, uses one for the same reason.)

use std::io;
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::time::Duration;

use super::fd::{cvt, owned};

/// A non-blocking, close-on-exec timerfd on the monotonic clock, the clock
/// of `std::time::Instant`.
pub(crate) struct TimerFd {
    fd: OwnedFd,
}

impl TimerFd {
    pub(crate) fn new() -> io::Result<TimerFd> {
        // SAFETY: no pointers; the result is a fresh descriptor.
        let fd = cvt(unsafe {
            libc::timerfd_create(
                libc::CLOCK_MONOTONIC,
                libc::TFD_NONBLOCK | libc::TFD_CLOEXEC,
            )
        })?;
        Ok(TimerFd { fd: owned(fd) })
    }

    /// Arms the timer to expire once, `after` from now (at least 1 ns: a
    /// zero time would disarm it). Re-arming replaces the previous time and
    /// clears an expiry not yet read.
    pub(crate) fn set(&self, after: Duration) -> io::Result<()> {
        let after = after.max(Duration::from_nanos(1));
        let secs = after.as_secs().min(libc::time_t::MAX as u64) as libc::time_t;
        let spec = libc::itimerspec {
            it_interval: libc::timespec {
                tv_sec: 0,
                tv_nsec: 0,
            },
            it_value: libc::timespec {
                tv_sec: secs,
                tv_nsec: after.subsec_nanos() as libc::c_long,
            },
        };
        // SAFETY: `spec` is a valid itimerspec for the call to read, and a
        // null old value asks the kernel not to write one back.
        cvt(unsafe { libc::timerfd_settime(self.fd.as_raw_fd(), 0, &spec, std::ptr::null_mut()) })?;
        Ok(())
    }

    pub(crate) fn raw_fd(&self) -> RawFd {
        self.fd.as_raw_fd()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_armed_timer_becomes_readable() {
        let timer = TimerFd::new().unwrap();
        timer.set(Duration::from_micros(10)).unwrap();
        let mut fds = libc::pollfd {
            fd: timer.raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        };
        // SAFETY: `fds` is one valid pollfd for the call.
        let n = unsafe { libc::poll(&mut fds, 1, -1) };
        assert_eq!(n, 1);
        assert_ne!(fds.revents & libc::POLLIN, 0);
    }
}
