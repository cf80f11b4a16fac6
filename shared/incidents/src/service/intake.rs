//! Intake and triage: the public report, its status for the reporter, and the security
//! team's decision on it (spam, duplicate, not a breach, or an incident).

use std::collections::BTreeMap;

use kernel::audit::{self, AuditHead, Stamp};
use kernel::crypto::{Personal, SealedField};
use kernel::error::{Error, FieldError};
use kernel::inventory::RecordKind;
use kernel::rbac::{Access, Permission, Principal, Scope};
use kernel::report_limits::limit_of;
use kernel::scrub;
use kernel::store::{Query, WriteOp, query_all};
use kernel::time::{Clock, Timestamp};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::conversation::ReportMessageView;
use super::file::IncidentDraft;
use super::{IncidentService, clean, conflict};
use crate::model::*;
use crate::notice::{reporter_acknowledgement, reporter_status};
use crate::outbox::Purpose;
use crate::records::{REPORTS_INDEX, report_key};

/// The public intake. Every field is optional in the type so that a missing one is reported by
/// name, like every other mistake.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReportSubmission {
    #[schema(value_type = Option<String>)]
    pub description: Option<Personal<String>>,
    #[schema(value_type = Option<String>)]
    pub affected_parties: Option<Personal<String>>,
    #[schema(value_type = Option<String>)]
    pub personal_data_kind: Option<Personal<String>>,
    #[schema(value_type = Option<String>)]
    pub scope: Option<Personal<String>>,
    #[schema(value_type = Option<String>)]
    pub impact_assessment: Option<Personal<String>>,
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub reporter_contact: Option<Personal<String>>,
    /// For a vulnerability (optional): the affected product or URL, the steps to reproduce, and
    /// a CVSS v4.0 vector.
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub affected_product: Option<Personal<String>>,
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub steps_to_reproduce: Option<Personal<String>>,
    #[serde(default)]
    pub cvss_vector: Option<String>,
    #[serde(default)]
    pub language: Option<Language>,
    /// Set by the edge (`kernel::report_limits::CARDS_REMOVED_AT_EDGE`): card numbers it took
    /// out of the text before forwarding it.
    #[serde(default)]
    pub card_numbers_removed_at_edge: Option<u32>,
}

pub(super) fn check_text(
    errors: &mut Vec<FieldError>,
    field: &str,
    value: Option<&Personal<String>>,
    required: bool,
) {
    match value {
        None if required => errors.push(FieldError::new(format!("/{field}"), "is required")),
        None => {}
        Some(v) if v.expose().trim().is_empty() => {
            errors.push(FieldError::new(format!("/{field}"), "must not be empty"))
        }
        Some(v) if v.expose().chars().count() > limit_of(field) => errors.push(FieldError::new(
            format!("/{field}"),
            format!("must be at most {} characters", limit_of(field)),
        )),
        Some(v)
            if v.expose()
                .chars()
                .any(|c| c.is_control() && c != '\n' && c != '\r' && c != '\t') =>
        {
            errors.push(FieldError::new(
                format!("/{field}"),
                "contains control characters",
            ))
        }
        Some(_) => {}
    }
}

impl ReportSubmission {
    pub fn validate(&self) -> Result<(), Error> {
        let mut errors = Vec::new();
        check_text(&mut errors, "description", self.description.as_ref(), true);
        check_text(
            &mut errors,
            "affected_parties",
            self.affected_parties.as_ref(),
            true,
        );
        check_text(
            &mut errors,
            "personal_data_kind",
            self.personal_data_kind.as_ref(),
            true,
        );
        check_text(&mut errors, "scope", self.scope.as_ref(), true);
        check_text(
            &mut errors,
            "impact_assessment",
            self.impact_assessment.as_ref(),
            true,
        );
        check_text(
            &mut errors,
            "reporter_contact",
            self.reporter_contact.as_ref(),
            false,
        );
        check_text(
            &mut errors,
            "affected_product",
            self.affected_product.as_ref(),
            false,
        );
        check_text(
            &mut errors,
            "steps_to_reproduce",
            self.steps_to_reproduce.as_ref(),
            false,
        );
        if let Some(vector) = &self.cvss_vector
            && let Err(problem) = kernel::report_limits::cvss_v4(vector)
        {
            errors.push(FieldError::new("/cvss_vector", problem));
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(Error::Validation(errors))
        }
    }
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(tag = "outcome", rename_all = "snake_case", deny_unknown_fields)]
pub enum TriageInput {
    Spam,
    Duplicate { of: ReportId },
    NotABreach,
    Incident { incident: Box<IncidentDraft> },
}

// ---------------------------------------------------------------------------------------------

#[derive(Debug, Serialize)]
pub struct Receipt {
    pub tracking_id: ReportId,
    /// Shown once; with it the reporter can read the status.
    pub secret: String,
    pub status: ReportStatus,
}

#[derive(Debug, Serialize)]
pub struct ReportView {
    pub id: ReportId,
    pub received_at: Timestamp,
    pub language: Language,
    pub status: ReportStatus,
    pub description: String,
    pub affected_parties: String,
    pub personal_data_kind: String,
    pub scope: String,
    pub impact_assessment: String,
    pub reporter_contact: Option<String>,
    pub affected_product: Option<String>,
    pub steps_to_reproduce: Option<String>,
    pub cvss_vector: Option<String>,
    pub triage: Option<Triage>,
    pub scrubbed_card_numbers: usize,
    /// The conversation with the reporter, oldest first.
    pub messages: Vec<ReportMessageView>,
}

#[derive(Debug, Serialize)]
pub struct ReportSummary {
    pub id: ReportId,
    pub received_at: Timestamp,
    pub status: ReportStatus,
    pub triage: Option<Triage>,
    /// The reporter wrote last: an answer waits for the team.
    pub reporter_wrote_last: bool,
}

impl ReportSummary {
    pub(super) fn of(report: &ReportRecord) -> Self {
        Self {
            id: report.id,
            received_at: report.received_at,
            status: report.status,
            triage: report.triage.clone(),
            reporter_wrote_last: report
                .messages
                .last()
                .is_some_and(|m| m.from == MessageFrom::Reporter),
        }
    }
}

impl IncidentService {
    /// The public intake: validates, scrubs card numbers, seals, stores; returns the tracking id
    /// and the secret with which the reporter can read the status.
    pub async fn submit_report(&self, submission: ReportSubmission) -> Result<Receipt, Error> {
        submission.validate()?;
        let now = self.clock.now();
        let id = ReportId::generate(now);
        let rid = id.to_string();
        let mut scrubbed = submission.card_numbers_removed_at_edge.unwrap_or(0) as usize;
        let mut sealed = BTreeMap::new();
        let fields = [
            ("description", &submission.description),
            ("affected_parties", &submission.affected_parties),
            ("personal_data_kind", &submission.personal_data_kind),
            ("scope", &submission.scope),
            ("impact_assessment", &submission.impact_assessment),
            ("reporter_contact", &submission.reporter_contact),
            ("affected_product", &submission.affected_product),
            ("steps_to_reproduce", &submission.steps_to_reproduce),
        ];
        for (name, value) in fields {
            if let Some(value) = value {
                scrubbed += scrub::scrub(value.expose()).1;
                sealed.insert(
                    name,
                    self.seal(RecordKind::SecurityReport, &rid, name, value)
                        .await?,
                );
            }
        }
        let take = |name: &str, sealed: &mut BTreeMap<&str, SealedField>| {
            sealed
                .remove(name)
                .ok_or_else(|| Error::Internal(format!("{name} was validated but not sealed")))
        };
        let secret_bytes: [u8; 32] = kernel::random::bytes();
        let secret = kernel::hex::encode(&secret_bytes);
        let mut record = ReportRecord {
            id,
            received_at: now,
            language: submission.language.unwrap_or(Language::De),
            description: take("description", &mut sealed)?,
            affected_parties: take("affected_parties", &mut sealed)?,
            personal_data_kind: take("personal_data_kind", &mut sealed)?,
            scope: take("scope", &mut sealed)?,
            impact_assessment: take("impact_assessment", &mut sealed)?,
            reporter_contact: sealed.remove("reporter_contact"),
            affected_product: sealed.remove("affected_product"),
            steps_to_reproduce: sealed.remove("steps_to_reproduce"),
            cvss_vector: submission
                .cvss_vector
                .as_deref()
                .map(|v| v.trim().to_string()),
            secret_digest: kernel::hex::encode(&Sha256::digest(secret.as_bytes())),
            status: ReportStatus::Received,
            triage: None,
            triaged_at: None,
            scrubbed_card_numbers: scrubbed,
            messages: Vec::new(),
            audit: AuditHead::default(),
        };
        let received = Stamp {
            at: now,
            by: &Principal::system("intake"),
            action: "report.received",
        };
        let mut ops = audit::create_ops(&mut record, received, &rid)?;
        // The acknowledgement leaves with the next run of the drain, within a minute: the
        // public intake does not wait for a mail server.
        if let Some(contact) = &submission.reporter_contact {
            let (subject, body) = reporter_acknowledgement(&id, &self.status_page(&id));
            ops.push(
                self.queue_message(
                    format!("{id}-ack"),
                    Purpose::ReporterAcknowledgement { report: id },
                    &Personal::new(clean(contact.expose())),
                    subject,
                    &Personal::new(body),
                )
                .await?,
            );
        }
        self.store.transact(ops).await?;
        Ok(Receipt {
            tracking_id: id,
            secret,
            status: ReportStatus::Received,
        })
    }

    /// The address of a report's status page (the reporter reads it with the secret shown at
    /// submission).
    pub(super) fn status_page(&self, id: &ReportId) -> String {
        format!(
            "{}{}?id={id}",
            self.public_url,
            kernel::report_limits::STATUS_PAGE
        )
    }

    pub(super) async fn load_report(&self, id: &ReportId) -> Result<(ReportRecord, u64), Error> {
        let item = self
            .store
            .get(&report_key(id)?)
            .await?
            .ok_or_else(|| Error::NotFound("report".into()))?;
        Ok((item.record()?, item.version))
    }

    pub async fn list_reports(&self, access: &Access) -> Result<Vec<ReportSummary>, Error> {
        access.require(Permission::ReportsRead, Scope::Platform)?;
        let items = query_all(
            self.store.as_ref(),
            Query::gsi1(REPORTS_INDEX).descending().limit(200),
        )
        .await?;
        items
            .iter()
            .map(|item| {
                let r: ReportRecord = item.record()?;
                Ok(ReportSummary::of(&r))
            })
            .collect()
    }

    pub async fn get_report(&self, access: &Access, id: &ReportId) -> Result<ReportView, Error> {
        access.require(Permission::ReportsRead, Scope::Platform)?;
        let (r, _) = self.load_report(id).await?;
        let rid = id.to_string();
        let k = RecordKind::SecurityReport;
        Ok(ReportView {
            id: r.id,
            received_at: r.received_at,
            language: r.language,
            status: r.status,
            description: self.open(k, &rid, "description", &r.description).await?,
            affected_parties: self
                .open(k, &rid, "affected_parties", &r.affected_parties)
                .await?,
            personal_data_kind: self
                .open(k, &rid, "personal_data_kind", &r.personal_data_kind)
                .await?,
            scope: self.open(k, &rid, "scope", &r.scope).await?,
            impact_assessment: self
                .open(k, &rid, "impact_assessment", &r.impact_assessment)
                .await?,
            reporter_contact: self
                .open_optional(k, &rid, "reporter_contact", r.reporter_contact.as_ref())
                .await?,
            affected_product: self
                .open_optional(k, &rid, "affected_product", r.affected_product.as_ref())
                .await?,
            steps_to_reproduce: self
                .open_optional(k, &rid, "steps_to_reproduce", r.steps_to_reproduce.as_ref())
                .await?,
            cvss_vector: r.cvss_vector.clone(),
            messages: self.open_messages(&r, true).await?,
            triage: r.triage,
            scrubbed_card_numbers: r.scrubbed_card_numbers,
        })
    }

    /// Triage: spam, duplicate, not a breach — or open an incident from the report.
    pub async fn triage(
        &self,
        access: &Access,
        id: &ReportId,
        input: TriageInput,
    ) -> Result<ReportSummary, Error> {
        access.require(Permission::ReportsTriage, Scope::Platform)?;
        let (mut report, version) = self.load_report(id).await?;
        if report.triage.is_some() {
            return Err(Error::Conflict("the report was already triaged".into()));
        }
        let now = self.clock.now();
        let mut ops = Vec::new();
        let (triage, status) = match input {
            TriageInput::Spam => (Triage::Spam, ReportStatus::Closed),
            TriageInput::NotABreach => (Triage::NotABreach, ReportStatus::Closed),
            TriageInput::Duplicate { of } => {
                if of == *id {
                    return Err(Error::validation("/of", "a report cannot duplicate itself"));
                }
                self.load_report(&of)
                    .await
                    .map_err(|_| Error::validation("/of", "no such report"))?;
                (Triage::Duplicate { of }, ReportStatus::Closed)
            }
            TriageInput::Incident { incident } => {
                access.require(Permission::IncidentsManage, Scope::Platform)?;
                // The draft sits at `/incident` of the triage body: its errors point there.
                let (record, incident_ops) = self
                    .new_incident(access, *incident, Some(*id), now)
                    .await
                    .map_err(|e| e.under("/incident"))?;
                ops.extend(incident_ops);
                (
                    Triage::Incident {
                        incident: record.id,
                    },
                    ReportStatus::InReview,
                )
            }
        };
        report.triage = Some(triage.clone());
        report.triaged_at = Some(now);
        report.status = status;
        ops.extend(
            self.report_change_ops(
                &mut report,
                version,
                now,
                access.principal(),
                "report.triaged",
                &triage,
            )
            .await?,
        );
        self.store.transact(ops).await.map_err(conflict)?;
        Ok(ReportSummary::of(&report))
    }

    /// The writes of a report's change (its status set by the caller): the record with its new
    /// audit head, the audit entry, and — when the reporter left a contact — the status message
    /// (with the reason when the report is closed), for one transaction.
    pub(super) async fn report_change_ops(
        &self,
        report: &mut ReportRecord,
        version: u64,
        now: Timestamp,
        principal: &Principal,
        action: &str,
        change: &impl Serialize,
    ) -> Result<Vec<WriteOp>, Error> {
        let id = report.id;
        let stamp = Stamp {
            at: now,
            by: principal,
            action,
        };
        let mut ops = audit::update_ops(report, version, stamp, change)?;
        if let Some(contact) = self.reporter_contact(report).await? {
            let reason = ClosedBecause::of(report.status, report.triage.as_ref());
            let (subject, body) =
                reporter_status(&id, report.status, reason, &self.status_page(&id));
            ops.push(
                self.queue_message(
                    format!("{id}-{}", report.status.as_str()),
                    Purpose::ReporterStatus {
                        report: id,
                        status: report.status,
                    },
                    &contact,
                    subject,
                    &Personal::new(body),
                )
                .await?,
            );
        }
        Ok(ops)
    }
}
