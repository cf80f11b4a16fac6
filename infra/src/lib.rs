//! Adapters: the I/O behind the ports `shared` defines.
//!
//! * [`embedded`]: the embedded store (SQLite in WAL mode) — the local default.
//! * [`local_keys`]: the local master key and development signing key, kept in the data directory.
//!
//! * [`dynamodb`]: the DynamoDB implementation of the storage port.
//! * [`kms`]: AWS KMS as the key-encryption port.

pub mod aws;
pub mod dynamodb;
pub mod embedded;
pub mod kms;
pub mod local_keys;
pub mod outbox;

pub use embedded::EmbeddedStore;
