//! Adapters: the I/O behind the ports `shared` defines.
//!
//! * [`embedded`]: the embedded store (SQLite in WAL mode) — the local default.
//! * [`local_keys`]: the local master key and development signing key, kept in the data directory.
//!
//! * [`dynamodb`]: the DynamoDB implementation of the storage port.
//! * [`kms`]: AWS KMS as the key-encryption port.
//! * [`stripe`]: Stripe customer balance transactions (credits), through async-stripe.
//! * [`outbox`], [`smtp`], [`ses`]: the mail transports (file outbox, SMTP with lettre, Amazon
//!   SES v2) and the reading of SES delivery events.
//! * [`probe`]: the SLA probe's HTTP check.
//! * [`blocking`]: password hashing on tokio's blocking pool.
//! * `fake_stripe` (feature `fake-stripe`, tests only): a small fake of those Stripe endpoints.

pub mod aws;
pub mod blocking;
pub mod dynamodb;
#[cfg(feature = "embedded")]
pub mod embedded;
#[cfg(feature = "fake-stripe")]
pub mod fake_stripe;
pub mod kms;
pub mod local_keys;
pub mod outbox;
pub mod probe;
pub mod ses;
#[cfg(feature = "smtp")]
pub mod smtp;
pub mod stripe;

#[cfg(feature = "embedded")]
pub use embedded::{Durability, EmbeddedStore};
