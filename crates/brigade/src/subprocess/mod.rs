//! Running programs asynchronously (`asyncio.create_subprocess_exec`).
//!
//! [`Command`] configures a program (arguments, environment, working
//! directory, standard streams) and [`Command::spawn`] starts it as a
//! [`Child`]. Piped streams are non-blocking pipes registered with the
//! loop: [`ChildStdin`] implements `AsyncWrite`, [`ChildStdout`] and
//! [`ChildStderr`] implement `AsyncRead`. [`Child::wait`] waits for the
//! exit on a pidfd, which the driver watches like a socket, so waiting
//! costs no thread.
//!
//! ```
//! use brigade::io::AsyncReadExt;
//! use brigade::subprocess::{Command, Stdio};
//!
//! brigade::run(async {
//!     let mut child = Command::new("sh")
//!         .args(["-c", "echo $GREETING from $(pwd)"])
//!         .env("GREETING", "hello")
//!         .current_dir("/")
//!         .stdout(Stdio::piped())
//!         .spawn()
//!         .unwrap();
//!     let mut out = String::new();
//!     child.stdout.take().unwrap().read_to_string(&mut out).await.unwrap();
//!     assert_eq!(out, "hello from /\n");
//!     assert!(child.wait().await.unwrap().success());
//! });
//! ```
//!
//! The module is in three parts: the [`Command`] builder (`command.rs`),
//! the running [`Child`] and how it is waited for and reaped (`child.rs`),
//! and the pipes to its standard streams (`pipes.rs`).

mod child;
mod command;
mod pipes;

pub use child::Child;
pub use command::Command;
pub use pipes::{ChildStderr, ChildStdin, ChildStdout};
pub use std::process::Stdio;
