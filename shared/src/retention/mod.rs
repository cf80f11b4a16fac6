//! Retention: when a tenant's data is deleted after its service ends.
//!
//! The trust page: "unless the contract says otherwise, all personal data is deleted 30 days
//! after the processing service ends; after an additional retention period of one year all
//! remaining copies are deleted, unless a statutory retention duty applies or the customer asks
//! for final deletion earlier."

pub mod plan;

pub use plan::{RetentionPlan, plan_for};
