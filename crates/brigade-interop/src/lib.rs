//! Proof that tokio-based crates run on brigade, kept as tests.
//!
//! brigade writes its own event loop, so a crate built on tokio (reqwest,
//! hyper-util's client, tonic, ...) finds no tokio runtime when a brigade
//! task polls it, and panics with "there is no reactor running". The
//! `async-compat` crate closes the gap: `Compat::new(future)` enters the
//! context of a tokio runtime of its own around every poll of `future`. The
//! guide's chapter [`brigade::guide::tokio_crates`] explains how, and its one
//! catch; this crate holds the evidence:
//!
//! - `tests/reqwest_on_brigade.rs` runs a brigade HTTP server (hyper on
//!   brigade's sockets) on loopback and reqwest against it from a brigade
//!   task, fifty requests at once, and shows the catch failing loudly;
//! - the chapter's examples run here as doctests (they need tokio, reqwest
//!   and async-compat, which brigade itself does not depend on), so the
//!   chapter cannot drift.
//!
//! Nothing here is published: the crate has no API.
//!
//! ```
//! use async_compat::Compat;
//!
//! // A tokio timer, made and awaited inside the Compat future, on brigade's loop.
//! brigade::run(Compat::new(async {
//!     tokio::time::sleep(std::time::Duration::from_millis(1)).await;
//! }));
//! ```

// The chapter lives in brigade (it ships with brigade's docs), but its
// examples run here, where the tokio-based crates are dependencies.
#[doc = include_str!("../../brigade/src/guide/tokio_crates.md")]
#[cfg(doctest)]
pub struct TokioCratesChapterDoctests;
