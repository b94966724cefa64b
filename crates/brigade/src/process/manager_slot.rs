//! A [`Manager`](super::Manager) connection's fast path: a [`Slot`] of
//! shared memory that carries one request to the server and its answer
//! back, with no system call when both sides are awake.
//!
//! # The idea
//! A client and its server thread take turns on one page of an anonymous
//! memory file that both map (a [`Region`](super::region)). The page holds
//! a *state word* that says whose turn it is, the length of the message and
//! the message's bytes. The client, on its turn, writes a request and hands
//! the turn over; the server, on its turn, reads the request, writes the
//! answer in its place and hands the turn back. Exactly one request is in
//! flight per connection, so one buffer serves both directions.
//!
//! The side that waits for its turn first *spins* (re-reads the word, then
//! yields the processor between reads) for up to [`SPIN`]: a round trip's
//! other half usually comes within a few microseconds, and catching it
//! awake costs two cache-line transfers where a sleep and a wake-up cost
//! two system calls and a scheduler round. Past that it sleeps on the word
//! with a futex (futex(2)), and the side that hands the turn over wakes it,
//! but only if it said it sleeps. This is the classic "sleeping flag in the
//! futex word" handshake (Drepper, "Futexes Are Tricky", 2011, §5): the
//! state word is
//!
//! | word | meaning |
//! | --- | --- |
//! | `CLIENT` (0) | the client's turn (a fresh, zeroed page starts here) |
//! | `SERVER` | the server's turn: a request is there |
//! | either \| `SLEEPS` | the side waiting for its turn may be asleep on the word |
//!
//! - Handing over is one `swap` of the whole word to the other side's
//!   value; if the old value had `SLEEPS`, one `FUTEX_WAKE` follows.
//! - A waiter that has spun long enough sets `SLEEPS` with a
//!   compare-and-swap from exactly the value it saw, then sleeps with
//!   `FUTEX_WAIT` while the word holds that value.
//!
//! No wake-up is lost: the swap and the compare-and-swap are both
//! read-modify-writes of one word, so one comes first. If the
//! compare-and-swap does, the swap returns `SLEEPS` and wakes (a
//! `FUTEX_WAIT` not yet begun returns at once, since the word changed); if
//! the swap does, the compare-and-swap fails and the waiter sees its turn.
//!
//! # Memory ordering
//! The message's length and bytes are relaxed atomics; what orders them is
//! the state word. The side that hands over writes the message, *then*
//! swaps the word with `Release`; the waiter reads the word with `Acquire`
//! and reads the message only once it sees its own turn there. The swap
//! heads a release sequence that the waiter's compare-and-swap (a
//! read-modify-write) does not break, so whichever of the two the waiter's
//! load reads, it synchronizes with the hand-over: every byte written
//! before the swap is visible. The same edge orders the other way round a
//! reader's last read of the buffer before its own hand-over, so a side
//! never overwrites bytes the other is still reading. The model at the end
//! of this file checks both (and that no wake-up is lost) over every
//! interleaving with loom.
//!
//! # A dead peer
//! A futex knows nothing of processes: a peer that dies leaves the word
//! as it was. So a waiter sleeps at most a short while (doubling from 1 ms
//! to a cap), and between sleeps asks its caller whether the peer is gone
//! (the connection's socket reports the hang-up of a closed end). A dead
//! server is therefore an error for a waiting client within a few
//! milliseconds, and at once for one that calls after the death (it checks
//! right after its spin).
//!
//! A message that does not fit the page ([`CAPACITY`]) travels on the
//! connection's socket instead: the sender sends it there first, then hands
//! the turn over with the length [`ON_SOCKET`], and the receiver takes it
//! from the socket.
//!
//! ```
//! // Internal: a proxy's connection and its server thread use it.
//! # let _ = brigade::process::Manager::start;
//! ```

use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use super::region::SharedState;
use crate::sys::futex;

/// The bytes of message a slot holds; a longer one goes on the socket.
pub(crate) const CAPACITY: usize = 4096 - 8;
const WORDS: usize = CAPACITY / 8;

/// The length that says "the message is on the socket".
pub(crate) const ON_SOCKET: u32 = u32::MAX;

/// The client's turn.
pub(crate) const CLIENT: u32 = 0;
/// The server's turn.
pub(crate) const SERVER: u32 = 1;
/// Set while the waiting side may be asleep on the word.
const SLEEPS: u32 = 1 << 31;

/// How long a waiting side spins before it sleeps.
pub(crate) const SPIN: Duration = Duration::from_micros(40);
/// Pure spins (no yield) at the start of a wait: a few microseconds.
const PURE_SPINS: u32 = 64;

/// One page of shared memory: the state word, a length, a message.
#[repr(C)]
pub(crate) struct Slot {
    state: AtomicU32,
    len: AtomicU32,
    data: [AtomicU64; WORDS],
}

// SAFETY: atomics only: every bit pattern (zeroes too) is a valid Slot, it
// holds no pointer, and all its mutation is atomic. It holds no mutex.
unsafe impl SharedState for Slot {}

/// What a side finds in the slot on its turn.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Message {
    /// The bytes were in the slot.
    Here(Vec<u8>),
    /// The bytes wait on the socket.
    OnSocket,
}

/// The peer's end of the connection is closed: it died or went away.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct PeerGone;

impl Slot {
    /// Writes `payload` for the other side, on this side's turn; `false`
    /// (and nothing written) if it does not fit.
    pub(crate) fn write(&self, payload: &[u8]) -> bool {
        if payload.len() > CAPACITY {
            return false;
        }
        for (word, chunk) in self.data.iter().zip(payload.chunks(8)) {
            let mut bytes = [0u8; 8];
            bytes[..chunk.len()].copy_from_slice(chunk);
            word.store(u64::from_le_bytes(bytes), Ordering::Relaxed);
        }
        // Ordered before the reader's read by the hand-over (module docs).
        self.len.store(payload.len() as u32, Ordering::Relaxed);
        true
    }

    /// Says that this turn's message went on the socket.
    pub(crate) fn write_on_socket(&self) {
        self.len.store(ON_SOCKET, Ordering::Relaxed);
    }

    /// Reads the message, on this side's turn (after [`wait_turn`]
    /// returned). A length out of range (a peer's bug) is an error that
    /// names it.
    pub(crate) fn read(&self) -> Result<Message, String> {
        let len = self.len.load(Ordering::Relaxed);
        if len == ON_SOCKET {
            return Ok(Message::OnSocket);
        }
        let len = len as usize;
        if len > CAPACITY {
            return Err(format!("a message of {len} bytes in a slot of {CAPACITY}"));
        }
        let mut out = Vec::with_capacity(len);
        for word in &self.data[..len.div_ceil(8)] {
            let bytes = word.load(Ordering::Relaxed).to_le_bytes();
            let take = (len - out.len()).min(8);
            out.extend_from_slice(&bytes[..take]);
        }
        Ok(Message::Here(out))
    }

    /// Whether it is `side`'s turn now.
    pub(crate) fn is_turn(&self, side: u32) -> bool {
        self.state.load(Ordering::Acquire) & !SLEEPS == side
    }

    /// Whether the side waiting for its turn has said it sleeps.
    #[cfg(test)]
    pub(crate) fn waiter_sleeps(&self) -> bool {
        self.state.load(Ordering::Relaxed) & SLEEPS != 0
    }

    /// Hands the turn to `to` ([`CLIENT`] or [`SERVER`]), waking it if it
    /// sleeps.
    pub(crate) fn hand_over(&self, to: u32) {
        hand_over(&self.state, to);
    }

    /// Waits for `mine` to be the turn: spins for up to [`SPIN`], then
    /// sleeps on the word in naps from 1 ms doubling to `max_nap`, asking
    /// `peer_gone` after the spin and after each nap.
    pub(crate) fn wait_turn(
        &self,
        mine: u32,
        peer_gone: impl FnMut() -> bool,
        max_nap: Duration,
    ) -> Result<(), PeerGone> {
        let start = Instant::now();
        let mut spins = 0u32;
        let spin = || {
            spins += 1;
            if spins <= PURE_SPINS {
                std::hint::spin_loop();
                return true;
            }
            if start.elapsed() >= SPIN {
                return false;
            }
            // The other side may need this very processor (a busy
            // machine, or one core): let it run.
            std::thread::yield_now();
            true
        };
        wait_for(&self.state, mine, spin, peer_gone, max_nap)
    }
}

/// The state word's operations, so that the handshake runs on a real
/// futex word in shared memory and on loom's model of one alike.
pub(crate) trait StateWord {
    /// Reads the word (`Acquire`: the message written before the
    /// hand-over that stored it is visible after).
    fn load_acquire(&self) -> u32;
    /// Stores `to` (`Release`: publishes the message), returning the old
    /// value.
    fn swap_release(&self, to: u32) -> u32;
    /// Sets `SLEEPS` if the word still holds exactly `seen`.
    fn mark_sleeping(&self, seen: u32) -> bool;
    /// Sleeps while the word holds `expected`, at most `timeout`.
    fn sleep(&self, expected: u32, timeout: Duration);
    /// Wakes whoever sleeps on the word.
    fn wake(&self);
}

impl StateWord for AtomicU32 {
    fn load_acquire(&self) -> u32 {
        self.load(Ordering::Acquire)
    }

    fn swap_release(&self, to: u32) -> u32 {
        self.swap(to, Ordering::Release)
    }

    fn mark_sleeping(&self, seen: u32) -> bool {
        // Relaxed: the waiter reads the word again with Acquire before it
        // reads any message.
        self.compare_exchange(seen, seen | SLEEPS, Ordering::Relaxed, Ordering::Relaxed)
            .is_ok()
    }

    fn sleep(&self, expected: u32, timeout: Duration) {
        futex::wait(self, expected, Some(timeout));
    }

    fn wake(&self) {
        futex::wake(self, u32::MAX);
    }
}

/// Hands the turn over: see the module docs.
pub(crate) fn hand_over<W: StateWord>(word: &W, to: u32) {
    if word.swap_release(to) & SLEEPS != 0 {
        word.wake();
    }
}

/// Waits for the turn `mine`: polls while `spin` says so, then sleeps in
/// naps (1 ms doubling to `max_nap`), asking `peer_gone` before each.
pub(crate) fn wait_for<W: StateWord>(
    word: &W,
    mine: u32,
    mut spin: impl FnMut() -> bool,
    mut peer_gone: impl FnMut() -> bool,
    max_nap: Duration,
) -> Result<(), PeerGone> {
    loop {
        if word.load_acquire() & !SLEEPS == mine {
            return Ok(());
        }
        if !spin() {
            break;
        }
    }
    let mut nap = Duration::from_millis(1).min(max_nap);
    loop {
        let seen = word.load_acquire();
        if seen & !SLEEPS == mine {
            return Ok(());
        }
        // Asked only while the turn is not ours: a peer that handed over
        // and then died still gets its message read.
        if peer_gone() {
            return Err(PeerGone);
        }
        if seen & SLEEPS == 0 && !word.mark_sleeping(seen) {
            // The word moved (most likely: our turn came). Look again.
            continue;
        }
        word.sleep(seen | SLEEPS, nap);
        nap = (nap * 2).min(max_nap);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::process::region::Region;

    fn slot() -> Region<Slot> {
        Region::new(c"slot-test", |_| Ok(())).unwrap()
    }

    #[test]
    fn a_message_reads_back_as_written_at_every_length_near_a_word() {
        let region = slot();
        let s = region.state();
        for len in [0, 1, 7, 8, 9, 15, 16, 17, 100, CAPACITY - 1, CAPACITY] {
            let payload: Vec<u8> = (0..len).map(|i| (i * 7 + len) as u8).collect();
            assert!(s.write(&payload));
            assert_eq!(s.read().unwrap(), Message::Here(payload));
        }
        assert!(!s.write(&vec![1; CAPACITY + 1]));
        s.write_on_socket();
        assert_eq!(s.read().unwrap(), Message::OnSocket);
    }

    #[test]
    fn a_length_out_of_range_is_an_error_not_a_panic() {
        let region = slot();
        region
            .state()
            .len
            .store(CAPACITY as u32 + 1, Ordering::Relaxed);
        assert!(region.state().read().is_err());
    }

    #[test]
    fn turns_alternate_across_threads_with_sleeps_and_wakes() {
        let region = slot();
        let server = region.clone();
        let t = std::thread::spawn(move || {
            let s = server.state();
            for _ in 0..200 {
                s.wait_turn(SERVER, || false, Duration::from_millis(50))
                    .unwrap();
                let Message::Here(bytes) = s.read().unwrap() else {
                    panic!("not in the slot");
                };
                let n = u32::from_le_bytes(bytes.try_into().unwrap());
                assert!(s.write(&(n + 1).to_le_bytes()));
                s.hand_over(CLIENT);
            }
        });
        let s = region.state();
        for i in 0..200u32 {
            assert!(s.write(&(i * 2).to_le_bytes()));
            s.hand_over(SERVER);
            s.wait_turn(CLIENT, || false, Duration::from_millis(50))
                .unwrap();
            assert_eq!(
                s.read().unwrap(),
                Message::Here((i * 2 + 1).to_le_bytes().into())
            );
            if i % 50 == 0 {
                // Let the server fall asleep, so a wake is needed.
                std::thread::sleep(Duration::from_millis(2));
            }
        }
        t.join().unwrap();
    }

    #[test]
    fn a_waiter_whose_peer_is_gone_returns_instead_of_sleeping_on() {
        let region = slot();
        let mut asked = 0;
        let r = region.state().wait_turn(
            SERVER,
            || {
                asked += 1;
                asked == 3
            },
            Duration::from_millis(1),
        );
        assert_eq!(r, Err(PeerGone));
        assert_eq!(asked, 3);
    }
}

#[cfg(all(test, loom))]
mod loom_tests {
    //! The handshake over every interleaving: the futex is modelled as a
    //! mutex-guarded check-and-wait (what the kernel's hash-bucket lock
    //! makes of `FUTEX_WAIT` against `FUTEX_WAKE`), with no timeout, so a
    //! lost wake-up is a deadlock loom reports; the message is a loom
    //! `UnsafeCell`, so a read not ordered after its write is a race loom
    //! reports.
    use super::*;
    use crate::loom::cell::UnsafeCell;
    use crate::loom::sync::atomic::AtomicU32 as ModelU32;
    use crate::loom::sync::{Arc, Condvar, Mutex};

    struct Word {
        word: ModelU32,
        bucket: Mutex<()>,
        sleepers: Condvar,
    }

    impl StateWord for Word {
        fn load_acquire(&self) -> u32 {
            self.word.load(Ordering::Acquire)
        }
        fn swap_release(&self, to: u32) -> u32 {
            self.word.swap(to, Ordering::Release)
        }
        fn mark_sleeping(&self, seen: u32) -> bool {
            self.word
                .compare_exchange(seen, seen | SLEEPS, Ordering::Relaxed, Ordering::Relaxed)
                .is_ok()
        }
        fn sleep(&self, expected: u32, _timeout: Duration) {
            let bucket = self.bucket.lock().unwrap();
            if self.word.load(Ordering::Relaxed) == expected {
                drop(self.sleepers.wait(bucket).unwrap());
            }
        }
        fn wake(&self) {
            let _bucket = self.bucket.lock().unwrap();
            self.sleepers.notify_all();
        }
    }

    struct Model {
        word: Word,
        message: UnsafeCell<u32>,
    }

    // SAFETY: the model's message is reached only on a side's turn (what
    // the test checks); loom reports any access that races.
    unsafe impl Sync for Model {}

    #[test]
    fn loom_turns_hand_each_message_over_whole_and_lose_no_wake_up() {
        // Two round trips (so that the buffer is reused after each side
        // read it), with at most 3 preemptions per run to keep the search
        // short. It catches a hand-over without its wake (a deadlock) and
        // a relaxed hand-over (a race on the message): both were tried.
        let mut model = loom::model::Builder::new();
        model.preemption_bound = Some(3);
        model.check(|| {
            let m = Arc::new(Model {
                word: Word {
                    word: ModelU32::new(CLIENT),
                    bucket: Mutex::new(()),
                    sleepers: Condvar::new(),
                },
                message: UnsafeCell::new(0),
            });
            let server = m.clone();
            let t = loom::thread::spawn(move || {
                for _ in 0..2 {
                    wait_for(&server.word, SERVER, || false, || false, SPIN).unwrap();
                    // SAFETY: the server's turn: the client does not touch it.
                    server.message.with_mut(|p| unsafe { *p += 1 });
                    hand_over(&server.word, CLIENT);
                }
            });
            for i in 0..2u32 {
                // SAFETY: the client's turn.
                m.message.with_mut(|p| unsafe { *p = i * 10 });
                hand_over(&m.word, SERVER);
                // One poll, then to sleep: both paths are explored.
                let mut once = true;
                let spin = move || std::mem::replace(&mut once, false);
                wait_for(&m.word, CLIENT, spin, || false, SPIN).unwrap();
                // SAFETY: the client's turn again.
                let got = m.message.with(|p| unsafe { *p });
                assert_eq!(got, i * 10 + 1);
            }
            t.join().unwrap();
        });
    }
}
