//! The regrooter domain: everything the trust page promises, as values and rules.
//!
//! This crate performs no I/O: no async runtime, no sockets, no files, no AWS SDK. It builds for
//! `wasm32-unknown-unknown` so the edge Worker runs the very same code as the functions. Anything
//! that talks to the outside world is a *port* (a trait) here and an *adapter* in `infra`.

pub mod audit;
pub mod auth;
pub mod authorization;
pub mod billing;
pub mod crypto;
pub mod error;
pub mod hex;
pub mod idempotency;
pub mod ids;
pub mod incidents;
pub mod inventory;
pub mod money;
pub mod origin_lock;
pub mod policy;
pub mod random;
pub mod rbac;
pub mod retention;
pub mod scrub;
pub mod sla;
pub mod store;
pub mod tenants;
pub mod time;
pub mod token;

#[cfg(any(test, feature = "testkit"))]
pub mod testkit;

pub use error::{Error, FieldError, Problem};
pub use time::{Clock, Timestamp};
