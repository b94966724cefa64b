//! The readiness registry: what the loop knows about each registered
//! descriptor, shared by both drivers.
//!
//! This is the edge-triggered readiness model of mio and tokio: a slot
//! remembers "readable"/"writable" from the moment the kernel reports it
//! until an operation on the descriptor fails with `WouldBlock`, when the
//! task clears the bit and waits for the next report. Because the loop is
//! single-threaded, no report can slip in between the failed operation and
//! the clearing: reports are only dispatched while the loop parks.
//!
//! Each direction keeps a short list of wakers (deduplicated with
//! `Waker::will_wake`) so that several tasks waiting on one socket, such as
//! two receivers of one UDP socket, are all woken; none can hang.

use std::os::fd::RawFd;
use std::task::Waker;

use crate::slab::Slab;

/// Which way a task waits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Direction {
    Read = 0,
    Write = 1,
}

impl Direction {
    pub(crate) fn bit(self) -> u8 {
        1 << self as u8
    }

    /// The bit that means "never blocks again" for this direction.
    pub(crate) fn closed_bit(self) -> u8 {
        4 << self as u8
    }
}

/// Readable.
pub(crate) const READ: u8 = 1;
/// Writable.
pub(crate) const WRITE: u8 = 2;
/// The peer closed its side, or the socket failed: reads never block
/// again. Kept apart from `READ` because it is never cleared: a read that
/// returned less than asked for clears `READ`, but a FIN that arrived with
/// the data will send no further event (tokio keeps the same distinction).
pub(crate) const READ_CLOSED: u8 = 4;
/// The connection is gone (hang-up or error): writes never block again.
pub(crate) const WRITE_CLOSED: u8 = 8;

/// A slot's address: its index and a generation, so that a late report for
/// a slot that was freed and reused is recognized and dropped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Token {
    pub(crate) index: u32,
    pub(crate) generation: u32,
}

impl Token {
    pub(crate) fn to_u64(self) -> u64 {
        (self.generation as u64) << 32 | self.index as u64
    }

    pub(crate) fn from_u64(raw: u64) -> Token {
        Token {
            index: raw as u32,
            generation: (raw >> 32) as u32,
        }
    }
}

pub(crate) struct Slot {
    pub(crate) fd: RawFd,
    generation: u32,
    ready: u8,
    waiters: [Vec<Waker>; 2],
}

/// Every registered descriptor of one loop.
pub(crate) struct Registry {
    slots: Slab<Slot>,
    next_generation: u32,
}

impl Registry {
    pub(crate) fn new() -> Registry {
        Registry {
            slots: Slab::new(),
            next_generation: 0,
        }
    }

    pub(crate) fn insert(&mut self, fd: RawFd) -> Token {
        self.next_generation = self.next_generation.wrapping_add(1) & 0x0FFF_FFFF;
        let generation = self.next_generation;
        let index = self.slots.insert(Slot {
            fd,
            generation,
            ready: 0,
            waiters: [Vec::new(), Vec::new()],
        });
        Token {
            index: index as u32,
            generation,
        }
    }

    pub(crate) fn get_mut(&mut self, token: Token) -> Option<&mut Slot> {
        self.slots
            .get_mut(token.index as usize)
            .filter(|s| s.generation == token.generation)
    }

    pub(crate) fn remove(&mut self, token: Token) -> Option<Slot> {
        match self.slots.get(token.index as usize) {
            Some(s) if s.generation == token.generation => self.slots.remove(token.index as usize),
            _ => None,
        }
    }

    /// Records a report of `ready` bits and collects the wakers to wake.
    pub(crate) fn set_ready(&mut self, token: Token, ready: u8, wake: &mut Vec<Waker>) {
        let Some(slot) = self.get_mut(token) else {
            return;
        };
        slot.ready |= ready;
        for dir in [Direction::Read, Direction::Write] {
            if ready & (dir.bit() | dir.closed_bit()) != 0 {
                wake.append(&mut slot.waiters[dir as usize]);
            }
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.slots.len()
    }
}

impl Slot {
    pub(crate) fn is_ready(&self, dir: Direction) -> bool {
        self.ready & (dir.bit() | dir.closed_bit()) != 0
    }

    pub(crate) fn clear(&mut self, dir: Direction) {
        self.ready &= !dir.bit();
    }

    /// Clears the closed bit of `dir` too: for a datagram socket, an
    /// error report is a one-time event (the next `recv` consumes it), not
    /// a state the socket stays in.
    pub(crate) fn clear_closed(&mut self, dir: Direction) {
        self.ready &= !(dir.bit() | dir.closed_bit());
    }

    pub(crate) fn add_waiter(&mut self, dir: Direction, waker: &Waker) {
        let waiters = &mut self.waiters[dir as usize];
        if !waiters.iter().any(|w| w.will_wake(waker)) {
            waiters.push(waker.clone());
        }
    }

    /// Wakers left when the descriptor goes away, so nobody waits forever.
    pub(crate) fn take_all_waiters(&mut self, wake: &mut Vec<Waker>) {
        for w in &mut self.waiters {
            wake.append(w);
        }
    }
}
