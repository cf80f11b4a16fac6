//! The end-to-end tests: one test binary (one link) whose modules each start the real
//! `regrooter` binary (`common` starts it on a free port with a temporary data directory), run
//! the built Worker in workerd (`worker`), or check the Terraform (`terraform`).

// A test: a failed step fails it.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

mod architecture;
mod auth;
mod incidents;
mod mail;
mod platform;
mod retention;
mod sla;
mod stripe;
mod terraform;
mod worker;
