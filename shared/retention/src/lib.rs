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

/// One stored record of each of this area's kinds, as a real run wrote it, still reads and
/// writes the same (tests/fixtures/records; the kernel checks them against the inventory).
#[cfg(test)]
mod golden {
    use kernel::inventory::RecordKind;

    #[test]
    fn stored_records_read_and_write_as_stored() {
        kernel::testkit::golden_record::<crate::records::RetentionState>(
            RecordKind::RetentionState,
        );
        kernel::testkit::golden_record::<crate::records::LegalHold>(RecordKind::LegalHold);
        kernel::testkit::golden_record::<crate::records::StoredCertificate>(
            RecordKind::DeletionCertificate,
        );
        kernel::testkit::golden_record::<crate::records::ServiceEndRequest>(
            RecordKind::ServiceEndRequest,
        );
        kernel::testkit::golden_record::<crate::exports::ExportRecord>(RecordKind::Export);
    }
}
