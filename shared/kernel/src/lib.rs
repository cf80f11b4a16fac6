//! The kernel of the regrooter domain: the building blocks every area uses (time, ids, money,
//! RBAC, tokens, envelope encryption and the keyring, the store port, the data inventory, audit,
//! policy figures, the origin lock, the scrubber, tenants). The areas (`incidents`, `retention`,
//! `sla`, `billing`, `auth`) are crates of their own on top of it.
//!
//! This crate performs no I/O: no async runtime, no sockets, no files, no AWS SDK. It builds for
//! `wasm32-unknown-unknown` so the edge Worker runs the very same code as the functions. Anything
//! that talks to the outside world is a *port* (a trait) here and an *adapter* in `infra`.

pub mod audit;
pub mod authorization;
pub mod crypto;
pub mod error;
pub mod hex;
pub mod idempotency;
pub mod ids;
pub mod inventory;
pub mod money;
pub mod origin_lock;
pub mod policy;
pub mod random;
pub mod rbac;
pub mod registry;
pub mod report_limits;
pub mod scrub;
pub mod store;
pub mod tenants;
pub mod time;
pub mod token;
pub mod vantage;

#[cfg(any(test, feature = "testkit"))]
pub mod testkit;

#[cfg(feature = "openapi")]
mod openapi;
pub use error::{Error, FieldError, Problem};
pub use time::{Clock, Timestamp};
