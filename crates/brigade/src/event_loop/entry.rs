//! What `#[brigade::main]` and `#[brigade::test]` expand to.

use std::future::Future;

use super::builder::Builder;
use super::runtime::Runtime;

/// Options of the attribute macros.
#[derive(Debug, Clone, Default)]
pub struct Config {
    builder: Builder,
}

impl Config {
    /// The default: real clock, no seed.
    pub fn new() -> Config {
        Config::default()
    }

    /// `#[brigade::test(virtual)]`.
    pub fn virtual_clock(mut self, on: bool) -> Config {
        self.builder = self.builder.virtual_clock(on);
        self
    }

    /// `#[brigade::test(seed = N)]`.
    pub fn seed(mut self, seed: u64) -> Config {
        self.builder = self.builder.seed(seed);
        self
    }

    fn runtime(self) -> Runtime {
        self.builder
            .build()
            .unwrap_or_else(|e| panic!("cannot start the event loop: {e}"))
    }
}

/// The body of `#[brigade::main]`. Like the end of a Python program, it
/// waits for the non-daemon brigade threads once `main` has returned.
pub fn run_main<F: Future>(config: Config, future: F) -> F::Output {
    let output = config.runtime().block_on(future);
    crate::thread::wait_for_non_daemon();
    output
}

/// The body of `#[brigade::test]`.
pub fn run_test<F: Future>(config: Config, future: F) -> F::Output {
    config.runtime().block_on(future)
}
