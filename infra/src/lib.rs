//! Adapters: the I/O behind the ports `shared` defines.
//!
//! * [`embedded`]: the embedded store (SQLite in WAL mode) — the local default.
//! * [`local_keys`]: the local master key and development signing key, kept in the data directory.
//!
//! Later adapters (DynamoDB, KMS, Stripe) live here too, behind cargo features so a Lambda only
//! links what it uses.

pub mod embedded;
pub mod local_keys;

pub use embedded::EmbeddedStore;
