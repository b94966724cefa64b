//! Unix signals as streams. These tests send signals to their own process,
//! so they live in a binary of their own.

use std::io::ErrorKind;

use brigade::signal::{SignalKind, ctrl_c, signal};
use brigade::spawn;

fn raise(sig: i32) {
    // SAFETY: kill with our own pid and a signal we have a handler for.
    assert_eq!(unsafe { libc::kill(libc::getpid(), sig) }, 0);
}

#[test]
fn a_signal_stream_receives_deliveries_on_every_listener() {
    brigade::run(async {
        let mut a = signal(SignalKind::user_defined1()).unwrap();
        let mut b = signal(SignalKind::user_defined1()).unwrap();
        assert_eq!(a.kind(), SignalKind::user_defined1());
        raise(libc::SIGUSR1);
        a.recv().await.unwrap();
        b.recv().await.unwrap();
        raise(libc::SIGUSR1);
        a.recv().await.unwrap();
    });
}

#[test]
fn ctrl_c_resolves_on_sigint() {
    brigade::run(async {
        let waiter = spawn(ctrl_c());
        // Let the task install its listener before the signal is sent.
        for _ in 0..3 {
            brigade::yield_now().await;
        }
        raise(libc::SIGINT);
        waiter.await.unwrap().unwrap();
    });
}

#[test]
fn uncatchable_signals_are_rejected() {
    brigade::run(async {
        for kind in [
            SignalKind::from_raw(libc::SIGKILL),
            SignalKind::from_raw(libc::SIGSTOP),
            SignalKind::from_raw(libc::SIGSEGV),
            SignalKind::from_raw(0),
            SignalKind::from_raw(1000),
        ] {
            let err = signal(kind).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::InvalidInput);
        }
    });
}

#[test]
fn listeners_are_released_when_dropped() {
    brigade::run(async {
        // Far more than the table holds at once, one at a time.
        for _ in 0..200 {
            let s = signal(SignalKind::hangup()).unwrap();
            drop(s);
        }
    });
}
