//! `process::Barrier::with_action`: Python's `multiprocessing.Barrier(parties,
//! action)`. The action runs once per round, in whichever process arrives
//! last, after everyone has arrived and before anyone is released; an
//! action that panics breaks the barrier for the others and panics in the
//! caller that ran it.
//!
//! Every test runs under a watchdog thread, so a hang fails the test
//! instead of stalling the suite; the bound claims nothing about speed.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::OnceLock;

use brigade::process::{Barrier, Process, Value};

mod watchdog;
use watchdog::within;

const PARTIES: u64 = 3;

/// What the action sees, in whichever process runs it: arrivals so far,
/// the rounds it ran, and the rounds in which it ran too early.
struct Tally {
    arrived: Value<u64>,
    ran: Value<u64>,
    early: Value<u64>,
}

static TALLY: OnceLock<Tally> = OnceLock::new();

fn tally(arrived: &Value<u64>, ran: &Value<u64>, early: &Value<u64>) -> &'static Tally {
    TALLY.get_or_init(|| Tally {
        arrived: arrived.clone(),
        ran: ran.clone(),
        early: early.clone(),
    })
}

/// The action: counts itself, and notes a round in which not everyone had
/// arrived yet.
fn count_round() {
    let t = TALLY
        .get()
        .expect("every process sets the tally before waiting");
    let round = t.ran.update(|n| {
        *n += 1;
        *n
    });
    let round = round.unwrap();
    if t.arrived.get().unwrap() < PARTIES * round {
        t.early.update(|n| *n += 1).unwrap();
    }
}

/// One party: arrives `rounds` times; after each release, the action of
/// that round must have run. Returns the rounds where it had not.
fn party(b: Barrier, rounds: u64, arrived: Value<u64>, ran: Value<u64>, early: Value<u64>) -> u64 {
    let t = tally(&arrived, &ran, &early);
    let mut unseen = 0;
    for round in 1..=rounds {
        t.arrived.update(|n| *n += 1).unwrap();
        b.wait().unwrap();
        if t.ran.get().unwrap() < round {
            unseen += 1;
        }
    }
    unseen
}

#[test]
fn the_action_runs_once_per_round_after_every_arrival_and_before_the_release() {
    within(|| {
        let rounds = 25;
        let b = Barrier::with_action(PARTIES as u32, count_round).unwrap();
        let (arrived, ran, early) = (
            Value::new(0u64).unwrap(),
            Value::new(0u64).unwrap(),
            Value::new(0u64).unwrap(),
        );
        let mut children: Vec<_> = (1..PARTIES)
            .map(|_| {
                let args = (
                    b.clone(),
                    rounds,
                    arrived.clone(),
                    ran.clone(),
                    early.clone(),
                );
                let mut p = Process::new(party, args);
                p.start().unwrap();
                p
            })
            .collect();
        let mut unseen = party(
            b.clone(),
            rounds,
            arrived.clone(),
            ran.clone(),
            early.clone(),
        );
        for child in &mut children {
            unseen += child.join().unwrap();
        }
        assert_eq!(ran.get().unwrap(), rounds, "one action per round");
        assert_eq!(
            early.get().unwrap(),
            0,
            "the action ran before everyone arrived"
        );
        assert_eq!(unseen, 0, "a party was released before the action ran");
        assert!(!b.broken());
    });
}

fn boom() {
    panic!("the action failed");
}

/// 0: released; 1: got `BrokenBarrierError`; 2: the action panicked here.
fn arrive(b: Barrier) -> u8 {
    match catch_unwind(AssertUnwindSafe(|| b.wait())) {
        Ok(Ok(_)) => 0,
        Ok(Err(_)) => 1,
        Err(_) => 2,
    }
}

#[test]
fn a_panicking_action_breaks_the_barrier_and_panics_where_it_ran() {
    within(|| {
        let b = Barrier::with_action(2, boom).unwrap();
        let mut child = Process::new(arrive, (b.clone(),));
        child.start().unwrap();
        let mut outcomes = [arrive(b.clone()), child.join().unwrap()];
        outcomes.sort();
        assert_eq!(
            outcomes,
            [1, 2],
            "one party ran the action, the other saw the break"
        );
        assert!(b.broken());
        assert!(b.wait().is_err(), "broken until reset");
        b.reset();
        assert!(!b.broken());
    });
}

#[test]
fn one_party_runs_the_action_on_every_wait() {
    within(|| {
        let b = Barrier::with_action(1, boom).unwrap();
        assert_eq!(arrive(b.clone()), 2);
        assert!(b.broken());
        b.reset();
        assert_eq!(arrive(b.clone()), 2, "the action runs again after a reset");
    });
}

#[test]
fn an_action_that_captures_state_or_no_parties_is_refused() {
    let state = 7u8;
    let err = Barrier::with_action(2, move || {
        std::hint::black_box(state);
    })
    .expect_err("a capturing closure cannot run in another process");
    assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput);
    assert!(err.to_string().contains("captures state"), "{err}");
    let err = Barrier::with_action(0, count_round).expect_err("zero parties");
    assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput);
}
