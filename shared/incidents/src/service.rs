//! The incident service: every operation on reports and incidents, with access checks, sealing,
//! validation before any write, and an audit entry written in the same transaction as each
//! change. This file holds the service and what every use case shares (sealing and opening
//! fields, the audit trail); each use case is a file below `service/`: `intake` (reports and
//! triage), `file` (the incident file), `assess`, `notices`, `watch` (the deadlines), `views`,
//! `conversation` (messages with the reporter), `english` (the English texts beside the German).

use std::sync::Arc;

use kernel::audit::{self, AuditEntry, BrokenLink};
use kernel::crypto::{FieldContext, KeyOwner, KeyPurpose, Keyring, Personal, SealedField};
use kernel::error::Error;
use kernel::inventory::{GuardedStore, RecordKind};
use kernel::rbac::{Access, Permission, Scope};
use kernel::scrub;
use kernel::store::{Query, Store, StoreError, query_all};
use kernel::time::Clock;

use crate::mail::NoticeSender;
use crate::model::*;
use crate::records::{INCIDENT_INDEXES, REPORTS_INDEX};

// One file per use case; each adds its operations to `IncidentService`.
mod assess;
mod conversation;
mod english;
mod file;
mod intake;
mod notices;
mod views;
mod watch;

pub use assess::{AssessmentInput, OverrideInput};
pub use conversation::{ReportMessageView, ReporterView};
pub use english::{EnglishInput, EnglishText};
pub use file::{IncidentDraft, IncidentPatch, MeasureInput};
pub use intake::{Receipt, ReportSubmission, ReportSummary, ReportView, TriageInput};
pub use kernel::audit::{ChainReport, chain_entries, verify_all_chains, verify_all_chains_to};
pub use notices::{
    AuthorityNoticeDraft, NotSent, NoticeChoice, NoticePreview, Notified, NotifyInput,
    RecordedNotice,
};
pub use views::{
    AssessmentView, CustomerIncidentView, CustomerMeasure, CustomerNotice, IncidentForCaller,
    IncidentSummary, IncidentView, MeasureView, OverrideView,
};
pub use watch::WatchReport;

/// The audit heads the reports and incidents keep, by chain (their ids), for checking that no
/// chain lost entries at its end (`verify_all_chains_to`).
pub async fn audit_heads(store: &dyn Store) -> Result<kernel::audit::RecordHeads, Error> {
    let mut heads = kernel::audit::RecordHeads::new();
    for item in query_all(store, Query::gsi1(REPORTS_INDEX)).await? {
        let report: ReportRecord = item.record()?;
        heads.insert(report.id.to_string(), report.audit);
    }
    for index in INCIDENT_INDEXES {
        for item in query_all(store, Query::gsi1(index)).await? {
            let incident: IncidentRecord = item.record()?;
            heads.insert(incident.id.to_string(), incident.audit);
        }
    }
    Ok(heads)
}

pub struct IncidentService {
    pub(crate) store: Arc<dyn Store>,
    pub(crate) keyring: Arc<Keyring>,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) sender: Arc<dyn NoticeSender>,
    dpo_contact: String,
    /// Where the platform is reached from outside (the reporter's status page lies below it).
    public_url: String,
    /// The security team's mailbox: the deadline watch's alerts are mailed there (through the
    /// outbox) as well as logged. None: logged only.
    alert_recipient: Option<Personal<String>>,
}

const PLATFORM: KeyOwner = KeyOwner::Platform;

/// Plain text as it is kept and shown: trimmed, card data removed. Every answer is built from
/// what is kept, so a card number typed into any field is never echoed either.
fn clean(text: &str) -> String {
    scrub::scrub(text.trim()).0
}

pub(crate) fn ctx<'a>(kind: RecordKind, record_id: &'a str, field: &'a str) -> FieldContext<'a> {
    FieldContext {
        owner: &PLATFORM,
        kind,
        record_id,
        field,
    }
}

impl IncidentService {
    pub fn new(
        store: GuardedStore,
        keyring: Arc<Keyring>,
        clock: Arc<dyn Clock>,
        sender: Arc<dyn NoticeSender>,
        dpo_contact: String,
        public_url: String,
    ) -> Self {
        Self {
            store: store.shared(),
            keyring,
            clock,
            sender,
            dpo_contact,
            public_url: public_url.trim_end_matches('/').to_string(),
            alert_recipient: None,
        }
    }

    /// Mails the deadline watch's alerts to `mailbox` (the security team's), besides logging them.
    pub fn with_alert_recipient(mut self, mailbox: Option<String>) -> Self {
        self.alert_recipient = mailbox.map(Personal::new);
        self
    }

    async fn seal(
        &self,
        kind: RecordKind,
        id: &str,
        field: &str,
        value: &Personal<String>,
    ) -> Result<SealedField, Error> {
        // Card numbers never reach a store, whoever typed them into which field.
        let (clean, _) = scrub::scrub(value.expose());
        Ok(self
            .keyring
            .seal(
                &ctx(kind, id, field),
                KeyPurpose::Reports,
                &Personal::new(clean),
            )
            .await?)
    }

    /// Data sets as stored: names scrubbed and sealed.
    async fn seal_data_sets(
        &self,
        iid: &str,
        sets: Vec<AffectedDataSet>,
    ) -> Result<Vec<StoredDataSet>, Error> {
        let mut stored = Vec::with_capacity(sets.len());
        for set in sets {
            stored.push(StoredDataSet {
                name: self
                    .seal(
                        RecordKind::Incident,
                        iid,
                        "data_sets[].name",
                        &Personal::new(clean(&set.name)),
                    )
                    .await?,
                tenant: set.tenant,
                role: set.role,
            });
        }
        Ok(stored)
    }

    async fn open_data_sets(
        &self,
        iid: &str,
        sets: &[StoredDataSet],
    ) -> Result<Vec<AffectedDataSet>, Error> {
        let mut open = Vec::with_capacity(sets.len());
        for set in sets {
            open.push(AffectedDataSet {
                tenant: set.tenant.clone(),
                name: self
                    .open(RecordKind::Incident, iid, "data_sets[].name", &set.name)
                    .await?,
                role: set.role,
            });
        }
        Ok(open)
    }

    async fn open(
        &self,
        kind: RecordKind,
        id: &str,
        field: &str,
        value: &SealedField,
    ) -> Result<String, Error> {
        Ok(self
            .keyring
            .open(&ctx(kind, id, field), value)
            .await?
            .into_inner())
    }

    /// The contact a reporter left, opened (none for an anonymous report).
    async fn reporter_contact(
        &self,
        report: &ReportRecord,
    ) -> Result<Option<Personal<String>>, Error> {
        let Some(contact) = &report.reporter_contact else {
            return Ok(None);
        };
        let id = report.id.to_string();
        let context = ctx(RecordKind::SecurityReport, &id, "reporter_contact");
        Ok(Some(self.keyring.open(&context, contact).await?))
    }

    async fn open_optional(
        &self,
        kind: RecordKind,
        id: &str,
        field: &str,
        value: Option<&SealedField>,
    ) -> Result<Option<String>, Error> {
        match value {
            Some(value) => Ok(Some(self.open(kind, id, field, value).await?)),
            None => Ok(None),
        }
    }

    /// Where staff find an incident.
    fn incident_url(&self, id: &IncidentId) -> String {
        format!("{}/api/incidents/{id}", self.public_url)
    }

    pub async fn audit_trail(
        &self,
        access: &Access,
        chain: &str,
    ) -> Result<(Vec<AuditEntry>, Option<BrokenLink>), Error> {
        access.require(Permission::AuditRead, Scope::Platform)?;
        let entries = chain_entries(self.store.as_ref(), chain).await?;
        let head = if let Ok(id) = IncidentId::parse(chain) {
            self.load_incident(&id).await.ok().map(|(r, _)| r.audit)
        } else if let Ok(id) = ReportId::parse(chain) {
            self.load_report(&id).await.ok().map(|(r, _)| r.audit)
        } else {
            None
        };
        let broken = audit::verify_chain(chain, &entries)
            .err()
            .or_else(|| head.and_then(|head| audit::verify_head(chain, &entries, &head).err()));
        Ok((entries, broken))
    }
}

fn conflict(e: StoreError) -> Error {
    if e.is_lost_race() {
        Error::Conflict("the record was changed concurrently; read it again and retry".into())
    } else {
        Error::Store(e)
    }
}
