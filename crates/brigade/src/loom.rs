//! The loom shim: one import path for the synchronization types that the
//! model checker must see.
//!
//! Under `RUSTFLAGS="--cfg loom"` these names resolve to [loom]'s
//! instrumented types, which let a test explore every interleaving of the
//! threads it starts; in every other build they are the standard library's.
//! Code whose correctness depends on atomics or locks imports them from here,
//! never from `std` directly.
//!
//! ```
//! // Ordinary builds see the standard types.
//! # #[cfg(not(loom))] {
//! use std::sync::atomic::Ordering;
//! let n = std::sync::atomic::AtomicUsize::new(1);
//! assert_eq!(n.load(Ordering::Relaxed), 1);
//! # }
//! ```
//!
//! [loom]: https://docs.rs/loom

#![allow(unused_imports)]

#[cfg(loom)]
pub(crate) use loom::{cell, thread};
#[cfg(loom)]
pub(crate) mod sync {
    pub(crate) use loom::sync::*;
}

#[cfg(not(loom))]
pub(crate) mod sync {
    pub(crate) use std::sync::*;
}
#[cfg(not(loom))]
pub(crate) use std::thread;
