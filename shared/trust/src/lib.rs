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

/// One stored record of each of this area's kinds, as a real run wrote it, still reads and
/// writes the same (tests/fixtures/records; the kernel checks them against the inventory).
#[cfg(test)]
mod golden {
    use kernel::inventory::RecordKind;

    #[test]
    fn stored_records_read_and_write_as_stored() {
        kernel::testkit::golden_record::<crate::signed::StoredStatement>(
            RecordKind::TrustStatement,
        );
        kernel::testkit::golden_record::<crate::subprocessors::Change>(
            RecordKind::SubprocessorChange,
        );
        kernel::testkit::golden_record::<crate::subprocessors::ObjectionRecord>(
            RecordKind::SubprocessorObjection,
        );
        kernel::testkit::golden_record::<crate::instructions::Acknowledgement>(
            RecordKind::InstructionsAcknowledgement,
        );
    }
}
