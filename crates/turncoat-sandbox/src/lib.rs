//! All process spawning in turncoat lives in this crate.
//!
//! - [`host`]: trusted host tools (git) with a scrubbed environment, never package code.
//! - The recording, blocking sandbox behind `turncoat watch` and `turncoat diff --detonate`:
//!   user, mount, network and pid namespaces with loopback only; a DNS resolver ([`dns`]) and
//!   an HTTP proxy ([`proxy`]) served from outside on the sandbox's loopback with a hostname
//!   allowlist ([`allow`]); a seccomp user-notification supervisor that records exec, connect,
//!   datagrams and sensitive opens; Landlock for writes; every observation an [`event::Event`].
//!
//! Every `unsafe` block and every spawned process in turncoat is in this crate.

pub mod allow;
pub mod baseline;
pub mod cgroup;
pub mod cleanup;
pub mod detonate;
pub mod detonate_python;
pub mod dns;
pub mod event;
pub mod fence;
pub mod host;
pub mod init;
pub mod npm_cache;
pub mod output;
pub mod paths;
pub mod persist;
pub mod proxy;
pub mod sockaddr;
mod supervisor;
#[allow(unsafe_code)]
pub(crate) mod sys;
pub mod tools;
pub mod watch;

pub use init::init_main_if_requested;
pub use watch::{Mode, Output, SandboxError, WatchOptions, WatchOutcome, watch};
