//! All process spawning in turncoat lives in this crate.
//!
//! Today it holds [`host`]: running trusted tools of the host (git) with a scrubbed
//! environment, never package code. The recording, blocking sandbox for `turncoat watch` and
//! `turncoat diff --detonate` (namespaces, seccomp user notification, Landlock) will live here
//! too, so that every `unsafe` block and every `Command` can be audited in one place.

pub mod host;
