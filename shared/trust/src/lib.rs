//! The trust statement: each promise of the trust page in the page's words beside the evidence
//! the running system shows for it — computed from the areas' aggregates, dated, signed (EdDSA,
//! as deletion certificates are) and published at `/trust`. A promise whose evidence is missing
//! or failing says so; it is never shown as held.
//!
//! No I/O of its own: the figures come through the areas' services and the store port
//! ([`gather`]), the judging is pure ([`evidence`], [`sections`]).

pub mod evidence;
pub mod gather;
pub mod instructions;
pub mod published;
pub mod sections;
pub mod signed;
pub mod statement;
pub mod subprocessors;

pub use gather::{Deployment, Sources};
pub use signed::{StoredStatement, Unverified, issue, latest, verify};
pub use statement::{Evidence, Fact, Section, Status, Text, TrustStatement, UptimeMonth};
