//! Security reports and personal data breaches (GDPR Art. 33/34): intake, triage, the incident
//! file, the risk assessment, the 48 h / 72 h deadlines and their watch, customer notifications
//! through the outbox and a mail transport, reporter acknowledgements, and the audit trail of
//! every change.

pub mod assessment;
pub mod deadlines;
pub mod figures;
pub mod mail;
pub mod model;
pub mod notice;
pub mod outbox;
pub mod records;
pub mod register;
pub mod service;

pub use assessment::{BreachType, Decision, Exfiltration, Facts, RiskLevel, assess};
pub use figures::BreachFigures;
pub use mail::{Accepted, NoTransport, NoticeSender, OutgoingMessage, SendFailure};
pub use model::{
    IncidentId, IncidentRecord, IncidentStatus, ReportId, ReportRecord, ReportStatus, Triage,
};
pub use outbox::{DeliveryEvent, DeliveryOutcome, DeliveryState, DrainReport, MessageView};
pub use service::IncidentService;

/// One stored record of each of this area's kinds, as a real run wrote it, still reads and
/// writes the same (tests/fixtures/records; the kernel checks them against the inventory).
#[cfg(test)]
mod golden {
    use kernel::inventory::RecordKind;

    #[test]
    fn stored_records_read_and_write_as_stored() {
        kernel::testkit::golden_record::<crate::model::ReportRecord>(RecordKind::SecurityReport);
        kernel::testkit::golden_record::<crate::model::IncidentRecord>(RecordKind::Incident);
        kernel::testkit::golden_record::<crate::outbox::OutboxRecord>(RecordKind::OutboxMessage);
        kernel::testkit::golden_record::<crate::records::TenantIncidentLink>(
            RecordKind::TenantIncidentLink,
        );
    }
}
