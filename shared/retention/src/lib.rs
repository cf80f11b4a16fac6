//! Retention: when a tenant's data is deleted after its service ends.
//!
//! The trust page: "unless the contract says otherwise, all personal data is deleted 30 days
//! after the processing service ends; after an additional retention period of one year all
//! remaining copies are deleted, unless a statutory retention duty applies or the customer asks
//! for final deletion earlier."

pub mod exports;
pub mod figures;
pub mod plan;
pub mod records;
pub mod service;

#[cfg(any(test, feature = "testkit"))]
pub mod testkit;

pub use figures::DeletionFigures;
pub use plan::{RetentionPlan, plan_for};
pub use records::{DeletionCertificate, LegalHold, RetentionState, Stage, StoredCertificate};
pub use service::{RetentionService, RunReport, TenantRetention, verify_certificate};
