//! The SLA: "monthly uptime of at least 95.0 %; below that a credit of 5 % of the monthly fee for
//! that billing period, applied only to future invoices; claims filed through the customer portal
//! with date and time of every outage, verified before granting; late or incomplete claims lapse;
//! exclusions: force majeure, customer or third-party acts, their infrastructure, planned
//! maintenance; voluntary credits at the company's discretion."

pub mod measure;
pub mod records;
pub mod report;
pub mod service;

pub use measure::{DownWhen, MinuteState, Vantage};
pub use records::{Claim, ClaimStatus, Exclusion, ExclusionCategory, RecordedOutage};
pub use report::MonthReport;
pub use service::{ProbeTarget, Prober, SlaService, TargetState};

/// One stored record of each of this area's kinds, as a real run wrote it, still reads and
/// writes the same (tests/fixtures/records; the kernel checks them against the inventory).
#[cfg(test)]
mod golden {
    use kernel::inventory::RecordKind;

    #[test]
    fn stored_records_read_and_write_as_stored() {
        kernel::testkit::golden_record::<crate::records::ProbeDay>(RecordKind::SlaProbeDay);
        kernel::testkit::golden_record::<crate::records::RecordedOutage>(RecordKind::SlaOutage);
        kernel::testkit::golden_record::<crate::records::Exclusion>(RecordKind::SlaExclusion);
        kernel::testkit::golden_record::<crate::records::Claim>(RecordKind::SlaClaim);
        kernel::testkit::golden_record::<crate::records::MonthSummary>(RecordKind::SlaMonthSummary);
        kernel::testkit::golden_record::<crate::records::TargetRecord>(RecordKind::SlaTarget);
        kernel::testkit::golden_record::<crate::records::MonthCredit>(RecordKind::SlaMonthCredit);
    }
}
