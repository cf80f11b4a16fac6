//! The incident service: every operation on reports and incidents, with access checks, sealing,
//! validation before any write, and an audit entry written in the same transaction as each
//! change.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::assessment::{self, BreachType, Decision, Facts, RiskLevel};
use super::deadlines::{self, Deadline};
use super::mail::NoticeSender;
use super::model::*;
use super::notice::{
    NoticeContent, NoticeKind, render_bilingual, reporter_acknowledgement, reporter_status,
};
use super::outbox::{DeliveryState, DrainReport, MessageView, Purpose, customer_message_id};

mod conversation;
mod english;
pub use conversation::{ReportMessageView, ReporterView};
pub use english::{EnglishInput, EnglishText};
use kernel::audit::{self, AuditEntry, BrokenLink};
pub use kernel::audit::{ChainReport, chain_entries, verify_all_chains, verify_all_chains_to};
use kernel::crypto::{FieldContext, KeyOwner, KeyPurpose, Keyring, Personal, SealedField};
use kernel::error::{Error, FieldError};
use kernel::ids::TenantId;
use kernel::inventory::GuardedStore;
use kernel::inventory::{DataCategory, RecordKind, TENANT_INCIDENT_LINK_PREFIX};

use crate::records::{link_item, link_key};
use kernel::policy::EffectivePolicy;
use kernel::rbac::{Access, Actor, Permission, Principal, Scope};
use kernel::report_limits::limit_of;
use kernel::scrub;
use kernel::store::{Condition, Item, ItemKey, Query, Store, StoreError, WriteOp, query_all};
use kernel::tenants;
use kernel::time::{Clock, SignedDuration, Timestamp};

const REPORTS_INDEX: &str = "REPORTS";
const SK: &str = "RECORD";

fn report_key(id: &ReportId) -> Result<ItemKey, Error> {
    Ok(ItemKey::new(format!("REPORT#{id}"), SK)?)
}

/// A report's record written under its version, with its audit entry: the two writes of any
/// change of a report, for one transaction.
fn report_write_ops(
    report: &mut ReportRecord,
    version: u64,
    now: Timestamp,
    principal: &Principal,
    action: &str,
    change: &impl Serialize,
) -> Result<Vec<WriteOp>, Error> {
    let id = report.id;
    let entry = AuditEntry::append(
        &id.to_string(),
        Some(&report.audit),
        now,
        principal,
        action,
        change,
    );
    report.audit = entry.head();
    let item = Item::new(report_key(&id)?, RecordKind::SecurityReport)
        .with_gsi1(ItemKey::new(
            REPORTS_INDEX,
            format!("{}#{id}", report.received_at.as_second()),
        )?)
        .with_record(&*report)?;
    Ok(vec![
        WriteOp::Put {
            item,
            condition: Condition::Version(version),
        },
        entry.insert_op()?,
    ])
}

fn incident_key(id: &IncidentId) -> Result<ItemKey, Error> {
    Ok(ItemKey::new(format!("INCIDENT#{id}"), SK)?)
}

fn incident_index(record: &IncidentRecord) -> Result<ItemKey, Error> {
    let partition = if record.status == IncidentStatus::Closed {
        "INCIDENTS#closed"
    } else {
        "INCIDENTS#open"
    };
    Ok(ItemKey::new(
        partition,
        format!("{}#{}", record.aware_at.as_second(), record.id),
    )?)
}

/// The audit heads the reports and incidents keep, by chain (their ids), for checking that no
/// chain lost entries at its end (`verify_all_chains_to`).
pub async fn audit_heads(store: &dyn Store) -> Result<kernel::audit::RecordHeads, Error> {
    let mut heads = kernel::audit::RecordHeads::new();
    for item in query_all(store, Query::gsi1(REPORTS_INDEX)).await? {
        let report: ReportRecord = item.record()?;
        heads.insert(report.id.to_string(), report.audit);
    }
    for index in ["INCIDENTS#open", "INCIDENTS#closed"] {
        for item in query_all(store, Query::gsi1(index)).await? {
            let incident: IncidentRecord = item.record()?;
            heads.insert(incident.id.to_string(), incident.audit);
        }
    }
    Ok(heads)
}

// ---------------------------------------------------------------------------------------------
// Inputs

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

fn check_text(
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

/// A new incident.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IncidentDraft {
    pub title: String,
    /// What the affected customers read as the title (none: the portal names the incident by
    /// its date).
    #[serde(default)]
    pub customer_title: Option<String>,
    #[schema(value_type = String, format = DateTime)]
    pub discovered_at: Timestamp,
    #[schema(value_type = String, format = DateTime)]
    pub aware_at: Timestamp,
    pub breach_types: BTreeSet<BreachType>,
    #[schema(value_type = String)]
    pub nature_and_scope: Personal<String>,
    #[serde(default)]
    pub data_categories: BTreeSet<DataCategory>,
    pub approx_data_subjects: Approx,
    pub approx_records: Approx,
    #[schema(value_type = String)]
    pub likely_consequences: Personal<String>,
    pub data_sets: Vec<AffectedDataSet>,
    /// A significant incident under NIS2: its early warning (24 h), notification (72 h) and
    /// final report (a month later) are owed as well.
    #[serde(default)]
    pub nis2_significant: bool,
    /// What customers read, in English (the file itself in German).
    #[serde(default)]
    pub english: EnglishInput,
}

/// Changes to an incident's documentation; absent fields stay as they are.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IncidentPatch {
    pub title: Option<String>,
    pub customer_title: Option<String>,
    pub breach_types: Option<BTreeSet<BreachType>>,
    #[schema(value_type = Option<String>)]
    pub nature_and_scope: Option<Personal<String>>,
    pub data_categories: Option<BTreeSet<DataCategory>>,
    pub approx_data_subjects: Option<Approx>,
    pub approx_records: Option<Approx>,
    #[schema(value_type = Option<String>)]
    pub likely_consequences: Option<Personal<String>>,
    pub data_sets: Option<Vec<AffectedDataSet>>,
    pub nis2_significant: Option<bool>,
    /// English texts to set (an empty one removes it).
    #[serde(default)]
    pub english: EnglishInput,
}

impl IncidentPatch {
    /// Whether the patch changes nothing (the service refuses such a change).
    pub fn is_empty(&self) -> bool {
        self.title.is_none()
            && self.customer_title.is_none()
            && self.breach_types.is_none()
            && self.nature_and_scope.is_none()
            && self.data_categories.is_none()
            && self.approx_data_subjects.is_none()
            && self.approx_records.is_none()
            && self.likely_consequences.is_none()
            && self.data_sets.is_none()
            && self.nis2_significant.is_none()
            && self.english.is_empty()
    }
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MeasureInput {
    pub kind: MeasureKind,
    #[schema(value_type = String)]
    pub what: Personal<String>,
    /// The same in English (optional).
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub what_en: Option<Personal<String>>,
    pub owner: String,
    pub status: MeasureStatus,
    #[serde(default)]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub at: Option<Timestamp>,
}

/// What staff give the engine: the facts the incident file holds (breach types, data
/// categories, the number of people) are read from the file when left out — typed once; the
/// others are the assessment's own.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AssessmentInput {
    #[serde(default)]
    pub breach_types: Option<BTreeSet<BreachType>>,
    #[serde(default)]
    pub data_categories: Option<BTreeSet<DataCategory>>,
    #[serde(default)]
    pub approx_data_subjects: Option<u64>,
    #[serde(default)]
    pub encrypted_state_of_the_art: Option<bool>,
    #[serde(default)]
    pub key_compromised: Option<bool>,
    #[serde(default)]
    pub backup_restorable: Option<bool>,
    #[serde(default)]
    pub unavailability_hours: Option<f64>,
    #[serde(default)]
    pub exfiltration: Option<crate::assessment::Exfiltration>,
    #[serde(default)]
    pub recipient_trusted: Option<bool>,
    #[serde(default)]
    pub vulnerable_data_subjects: Option<bool>,
}

/// Why a customer gets no notice of this kind now, from its notice messages so far (none: one
/// may go out). The first notice: not when one counted already or one is on its way. A
/// follow-up (update or final report): only after a first one counted, and not while another
/// is on its way.
fn why_no_notice_now(messages: &[crate::outbox::OutboxRecord], follow_up: bool) -> Option<NotSent> {
    let last = messages.last().map(|m| m.state);
    if last.is_some_and(|s| s.is_pending()) {
        return Some(NotSent::OnItsWay);
    }
    let told = messages.iter().any(|m| m.state.counts_as_notice());
    match (follow_up, told) {
        (false, true) => Some(NotSent::ToldAlready),
        (true, false) => Some(NotSent::NotToldYet),
        _ => None,
    }
}

/// Which notice a preview shows each customer: the first, a follow-up, or whichever comes next
/// for it (the follow-up once it was told, the first before).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoticeChoice {
    First,
    FollowUp,
    Next,
}

/// Why a customer notice would not go out now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum NotSent {
    NoSuchTenant,
    NoContact,
    ToldAlready,
    OnItsWay,
    NotToldYet,
}

impl NotSent {
    /// In English, as the API and the errors say it.
    pub fn as_str(self) -> &'static str {
        match self {
            NotSent::NoSuchTenant => "no such tenant",
            NotSent::NoContact => "the tenant has no contact address",
            NotSent::ToldAlready => "has been told already",
            NotSent::OnItsWay => "has a notice on its way",
            NotSent::NotToldYet => "has not been told yet: the first notice goes first",
        }
    }
}

/// The decision as advice for our role in each affected data set (see `AssessmentView::advice`),
/// in English and, line for line, in German.
fn advice(record: &IncidentRecord, decision: &EffectiveDecision) -> (Vec<String>, Vec<String>) {
    let mut en = Vec::new();
    let mut de = Vec::new();
    let customers: Vec<String> = record
        .customer_tenants()
        .iter()
        .map(ToString::to_string)
        .collect();
    if !customers.is_empty() {
        let named = customers.join(", ");
        en.push(format!(
            "We are processor for {named}: tell each within its notice period (48 hours unless its \
             contract says less), with this assessment as input. Whether the supervisory \
             authority and the data subjects must be told is the controller's decision \
             (Art. 33(2), Art. 28(3)(f) GDPR)."
        ));
        de.push(format!(
            "Wir sind Auftragsverarbeiter für {named}: jeden binnen seiner Frist benachrichtigen (48 \
             Stunden, wenn sein Vertrag nicht weniger sagt), mit dieser Bewertung als Grundlage. Ob \
             Aufsichtsbehörde und Betroffene zu informieren sind, entscheidet der Verantwortliche \
             (Art. 33 Abs. 2, Art. 28 Abs. 3 lit. f DSGVO)."
        ));
    }
    if record.controller_data_affected() {
        if decision.notify_supervisory_authority {
            en.push(
                "For our own data (we are controller): notify the supervisory authority without undue \
                 delay and within 72 hours of becoming aware (Art. 33(1))."
                    .to_string(),
            );
            de.push(
                "Für unsere eigenen Daten (wir sind Verantwortlicher): der Aufsichtsbehörde unverzüglich \
                 und binnen 72 Stunden nach Bekanntwerden melden (Art. 33 Abs. 1)."
                    .to_string(),
            );
        } else {
            en.push(
                "For our own data (we are controller): no notification to the supervisory authority is \
                 required; the breach is documented in the register (Art. 33(5))."
                    .to_string(),
            );
            de.push(
                "Für unsere eigenen Daten (wir sind Verantwortlicher): keine Meldung an die \
                 Aufsichtsbehörde nötig; die Verletzung steht im Verzeichnis (Art. 33 Abs. 5)."
                    .to_string(),
            );
        }
        if decision.communicate_to_data_subjects {
            en.push(
                "For our own data: communicate the breach to the data subjects without undue delay \
                 (Art. 34(1))."
                    .to_string(),
            );
            de.push(
                "Für unsere eigenen Daten: die Betroffenen unverzüglich benachrichtigen (Art. 34 Abs. 1)."
                    .to_string(),
            );
        } else {
            en.push(
                "For our own data: no communication to the data subjects is required (Art. 34(1))."
                    .to_string(),
            );
            de.push(
                "Für unsere eigenen Daten: keine Benachrichtigung der Betroffenen nötig (Art. 34 Abs. 1)."
                    .to_string(),
            );
        }
    }
    (en, de)
}

/// The facts the incident file holds, as the engine reads them (the upper end of an
/// approximate number: the cautious reading).
fn file_facts(record: &IncidentRecord, facts: &mut Facts, from_file: &[String]) {
    for field in from_file {
        match field.as_str() {
            "breach_types" => facts.breach_types = record.breach_types.clone(),
            "data_categories" => facts.data_categories = record.data_categories.clone(),
            "approx_data_subjects" => {
                facts.approx_data_subjects = Some(record.approx_data_subjects.max)
            }
            _ => {}
        }
    }
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OverrideInput {
    pub risk: RiskLevel,
    pub notify_supervisory_authority: bool,
    pub communicate_to_data_subjects: bool,
    #[schema(value_type = String)]
    pub justification: Personal<String>,
}

/// A customer notice as it would go out now.
#[derive(Debug, Serialize)]
pub struct NoticePreview {
    pub tenant: TenantId,
    /// The customer's breach contact (none: it has none, and the notice could not be sent).
    pub to: Option<String>,
    pub subject: String,
    pub body: String,
    /// Why sending now would not send this one (already told, one on its way, no tenant).
    pub not_sent_because: Option<String>,
    /// The same as a code (pages say it in their language).
    pub not_sent: Option<NotSent>,
    /// What this notice is: the first, an update, or the final report.
    pub kind: NoticeKind,
    /// When the customer was first told (none: not yet).
    pub first_sent_at: Option<Timestamp>,
}

/// The text for the supervisory authority (our own data), in both languages, and its clock.
#[derive(Debug, Serialize)]
pub struct AuthorityNoticeDraft {
    pub due: Timestamp,
    /// Past the 72 hours: the text asks for the reasons for the delay.
    pub late: bool,
    pub de: String,
    pub en: String,
}

/// Which customers to tell now (default: every affected customer not yet told).
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NotifyInput {
    #[serde(default)]
    pub tenants: Option<Vec<TenantId>>,
    /// An update to customers told already (the final report once the incident is closed)
    /// instead of the first notice.
    #[serde(default)]
    pub follow_up: bool,
}

/// A notification made outside the platform (the authority's portal, a letter to the people
/// affected), recorded with its time and reference.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RecordedNotice {
    pub duty: Duty,
    #[schema(value_type = String, format = DateTime)]
    pub sent_at: Timestamp,
    pub reference: String,
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
// Views

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
    fn of(report: &ReportRecord) -> Self {
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

#[derive(Debug, Serialize)]
pub struct MeasureView {
    pub id: MeasureId,
    pub kind: MeasureKind,
    pub what: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub what_en: Option<String>,
    pub owner: String,
    pub at: Timestamp,
    pub status: MeasureStatus,
}

#[derive(Debug, Serialize)]
pub struct AssessmentView {
    pub facts: Facts,
    /// The facts read from the incident file (they follow it).
    pub from_file: Vec<String>,
    pub engine: Decision,
    /// The engine's decision before the file last changed it.
    pub previous_engine: Option<Decision>,
    /// What the decision means for us, by our role: where we are processor the duty is to tell
    /// the controller (our customer), whose decision the authority and data-subject notices are;
    /// where we are controller, our own Art. 33/34 duties.
    pub advice: Vec<String>,
    /// The same advice in German, line for line.
    pub advice_de: Vec<String>,
    pub assessed_at: Timestamp,
    pub assessed_by: String,
    pub override_decision: Option<OverrideView>,
    pub effective: EffectiveDecision,
}

#[derive(Debug, Serialize)]
pub struct OverrideView {
    pub risk: RiskLevel,
    pub notify_supervisory_authority: bool,
    pub communicate_to_data_subjects: bool,
    pub justification: String,
    pub by: String,
    pub at: Timestamp,
}

/// The security team's full view.
#[derive(Debug, Serialize)]
pub struct IncidentView {
    pub id: IncidentId,
    pub title: String,
    pub customer_title: Option<String>,
    pub status: IncidentStatus,
    pub discovered_at: Timestamp,
    pub aware_at: Timestamp,
    pub breach_types: BTreeSet<BreachType>,
    pub nature_and_scope: String,
    pub data_categories: BTreeSet<DataCategory>,
    pub approx_data_subjects: Approx,
    pub approx_records: Approx,
    pub likely_consequences: String,
    /// What customers read, in English, where staff wrote it.
    pub english: EnglishText,
    pub data_sets: Vec<AffectedDataSet>,
    pub measures: Vec<MeasureView>,
    pub assessment: Option<AssessmentView>,
    pub deadlines: Vec<Deadline>,
    pub notices: Vec<SentNotice>,
    /// Every customer notice message with where it stands (queued, accepted, bounced, …).
    pub messages: Vec<MessageView>,
    pub alerts: Vec<Alert>,
    pub source_report: Option<ReportId>,
    pub created_at: Timestamp,
    pub created_by: String,
    pub closed_at: Option<Timestamp>,
    pub nis2_significant: bool,
    pub version: u64,
}

/// What a customer's admins see of an incident that affects them — never reports, reporter
/// data, other tenants or the internal assessment.
#[derive(Debug, Serialize)]
pub struct CustomerIncidentView {
    pub id: IncidentId,
    /// The title staff wrote for customers (none: name it by its date); never the internal one.
    pub customer_title: Option<String>,
    pub status: IncidentStatus,
    pub aware_at: Timestamp,
    pub nature_and_scope: String,
    pub data_categories: BTreeSet<DataCategory>,
    pub approx_data_subjects: Approx,
    pub approx_records: Approx,
    pub likely_consequences: String,
    /// What customers read, in English, where staff wrote it.
    pub english: EnglishText,
    pub measures: Vec<CustomerMeasure>,
    pub notification_due: Timestamp,
    /// When a notice that reached the transport went out (none while every one failed).
    pub notified_at: Option<Timestamp>,
    pub notified_within_deadline: Option<bool>,
    /// Where the latest notice to this customer stands: `delivered`, or `bounced` when it did
    /// not reach the customer's breach contact.
    pub notice_delivery: Option<DeliveryState>,
    /// Every notice sent to this customer about the incident, oldest first, as sent.
    pub notices_received: Vec<CustomerNotice>,
    pub data_protection_officer: String,
}

/// A notice as its customer received it: the text as sent (German and English), and where its
/// delivery stands.
#[derive(Debug, Serialize)]
pub struct CustomerNotice {
    pub subject: String,
    pub body: String,
    pub queued_at: Timestamp,
    pub state: DeliveryState,
    pub state_at: Timestamp,
}

#[derive(Debug, Serialize)]
pub struct CustomerMeasure {
    pub kind: MeasureKind,
    pub what: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub what_en: Option<String>,
    pub status: MeasureStatus,
    pub at: Timestamp,
}

#[derive(Debug, Serialize)]
#[serde(untagged)]
pub enum IncidentForCaller {
    Staff(Box<IncidentView>),
    Customer(Box<CustomerIncidentView>),
}

#[derive(Debug, Serialize)]
pub struct IncidentSummary {
    pub id: IncidentId,
    pub title: Option<String>,
    /// The customers' title in English, where staff gave one (customers' lists only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title_en: Option<String>,
    pub status: IncidentStatus,
    pub aware_at: Timestamp,
}

/// What `notify_customers` did: the incident as staff now see it, each message it handed to
/// the transport with the state that left it in, and the alerts raised for those that did not
/// go out.
#[derive(Debug)]
pub struct Notified {
    pub view: IncidentView,
    pub messages: Vec<(String, DeliveryState)>,
    pub alerts: Vec<(IncidentId, Alert)>,
}

#[derive(Debug, Default, Serialize)]
pub struct WatchReport {
    pub incidents_checked: usize,
    pub alerts: Vec<(IncidentId, Alert)>,
}

// ---------------------------------------------------------------------------------------------

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

    // ----- reports ------------------------------------------------------------------------------

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
        let entry = AuditEntry::append(
            &rid,
            None,
            now,
            &Principal::system("intake"),
            "report.received",
            &rid,
        );
        let record = ReportRecord {
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
            audit: entry.head(),
        };
        let item = Item::new(report_key(&id)?, RecordKind::SecurityReport)
            .with_gsi1(ItemKey::new(
                REPORTS_INDEX,
                format!("{}#{id}", now.as_second()),
            )?)
            .with_record(&record)?;
        let mut ops = vec![
            WriteOp::Put {
                item,
                condition: Condition::NotExists,
            },
            entry.insert_op()?,
        ];
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

    /// Where staff find an incident.
    fn incident_url(&self, id: &IncidentId) -> String {
        format!("{}/api/incidents/{id}", self.public_url)
    }

    /// The address of a report's status page (the reporter reads it with the secret shown at
    /// submission).
    fn status_page(&self, id: &ReportId) -> String {
        format!(
            "{}{}?id={id}",
            self.public_url,
            kernel::report_limits::STATUS_PAGE
        )
    }

    async fn load_report(&self, id: &ReportId) -> Result<(ReportRecord, u64), Error> {
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
    async fn report_change_ops(
        &self,
        report: &mut ReportRecord,
        version: u64,
        now: Timestamp,
        principal: &Principal,
        action: &str,
        change: &impl Serialize,
    ) -> Result<Vec<WriteOp>, Error> {
        let id = report.id;
        let mut ops = report_write_ops(report, version, now, principal, action, change)?;
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

    // ----- incidents ----------------------------------------------------------------------------

    /// Checks a draft as creating the incident would, writing nothing: every failing field at
    /// once (a form that could not even read some fields adds this for the others).
    pub async fn validate_draft(&self, draft: &IncidentDraft, now: Timestamp) -> Result<(), Error> {
        let mut errors = Vec::new();
        if draft.title.trim().is_empty() || draft.title.chars().count() > 200 {
            errors.push(FieldError::new("/title", "must be 1 to 200 characters"));
        }
        if let Some(title) = &draft.customer_title
            && (title.trim().is_empty() || title.chars().count() > 200)
        {
            errors.push(FieldError::new(
                "/customer_title",
                "must be 1 to 200 characters",
            ));
        }
        errors.extend(draft.english.errors());
        let skew = now.checked_add(SignedDuration::from_mins(5)).unwrap_or(now);
        if draft.discovered_at > skew {
            errors.push(FieldError::new("/discovered_at", "lies in the future"));
        }
        if draft.aware_at > skew {
            errors.push(FieldError::new("/aware_at", "lies in the future"));
        }
        if draft.aware_at < draft.discovered_at {
            errors.push(FieldError::new(
                "/aware_at",
                "cannot lie before the discovery",
            ));
        }
        if draft.breach_types.is_empty() {
            errors.push(FieldError::new(
                "/breach_types",
                "name at least one breach type",
            ));
        }
        let text = |errors: &mut Vec<FieldError>, field: &str, v: &Personal<String>| {
            if v.expose().trim().is_empty() || v.expose().chars().count() > 20_000 {
                errors.push(FieldError::new(
                    format!("/{field}"),
                    "must be 1 to 20000 characters",
                ));
            }
        };
        text(&mut errors, "nature_and_scope", &draft.nature_and_scope);
        text(
            &mut errors,
            "likely_consequences",
            &draft.likely_consequences,
        );
        for (field, approx) in [
            ("approx_data_subjects", draft.approx_data_subjects),
            ("approx_records", draft.approx_records),
        ] {
            if approx.min > approx.max {
                errors.push(FieldError::new(
                    format!("/{field}/min"),
                    "must not exceed max",
                ));
            }
        }
        errors.extend(self.check_data_sets(&draft.data_sets).await?);
        if errors.is_empty() {
            Ok(())
        } else {
            Err(Error::Validation(errors))
        }
    }

    async fn check_data_sets(
        &self,
        data_sets: &[AffectedDataSet],
    ) -> Result<Vec<FieldError>, Error> {
        let mut errors = Vec::new();
        if data_sets.is_empty() {
            errors.push(FieldError::new(
                "/data_sets",
                "name at least one affected data set",
            ));
        }
        for (i, set) in data_sets.iter().enumerate() {
            if set.name.trim().is_empty() || set.name.chars().count() > 200 {
                errors.push(FieldError::new(
                    format!("/data_sets/{i}/name"),
                    "must be 1 to 200 characters",
                ));
            }
            match (&set.tenant, set.role) {
                (None, Role::Processor) => errors.push(FieldError::new(
                    format!("/data_sets/{i}/tenant"),
                    "data we process for a customer must name the customer",
                )),
                (Some(_), Role::Controller) => errors.push(FieldError::new(
                    format!("/data_sets/{i}/tenant"),
                    "our own data (controller) belongs to no customer",
                )),
                (Some(tenant), Role::Processor) => {
                    if tenants::get(self.store.as_ref(), tenant).await?.is_none() {
                        errors.push(FieldError::new(
                            format!("/data_sets/{i}/tenant"),
                            "no such tenant",
                        ));
                    }
                }
                (None, Role::Controller) => {}
            }
        }
        Ok(errors)
    }

    /// Builds a new incident and the writes that store it (record, tenant links, audit entry).
    async fn new_incident(
        &self,
        access: &Access,
        draft: IncidentDraft,
        source_report: Option<ReportId>,
        now: Timestamp,
    ) -> Result<(IncidentRecord, Vec<WriteOp>), Error> {
        self.validate_draft(&draft, now).await?;
        let id = IncidentId::generate(now);
        let iid = id.to_string();
        let entry = AuditEntry::append(
            &iid,
            None,
            now,
            access.principal(),
            "incident.created",
            &iid,
        );
        let mut english = StoredEnglish::default();
        self.apply_english(&iid, &mut english, draft.english)
            .await?;
        let record = IncidentRecord {
            id,
            title: self
                .seal(
                    RecordKind::Incident,
                    &iid,
                    "title",
                    &Personal::new(clean(&draft.title)),
                )
                .await?,
            customer_title: match &draft.customer_title {
                Some(title) => Some(
                    self.seal(
                        RecordKind::Incident,
                        &iid,
                        "customer_title",
                        &Personal::new(clean(title)),
                    )
                    .await?,
                ),
                None => None,
            },
            status: IncidentStatus::Open,
            discovered_at: draft.discovered_at,
            aware_at: draft.aware_at,
            breach_types: draft.breach_types,
            nature_and_scope: self
                .seal(
                    RecordKind::Incident,
                    &iid,
                    "nature_and_scope",
                    &draft.nature_and_scope,
                )
                .await?,
            data_categories: draft.data_categories,
            approx_data_subjects: draft.approx_data_subjects,
            approx_records: draft.approx_records,
            likely_consequences: self
                .seal(
                    RecordKind::Incident,
                    &iid,
                    "likely_consequences",
                    &draft.likely_consequences,
                )
                .await?,
            english,
            data_sets: self.seal_data_sets(&iid, draft.data_sets).await?,
            measures: vec![],
            assessment: None,
            notices: vec![],
            alerts: vec![],
            source_report,
            created_at: now,
            created_by: access.principal().subject.clone(),
            closed_at: None,
            nis2_significant: draft.nis2_significant,
            audit: entry.head(),
        };
        let mut ops = vec![
            WriteOp::Put {
                item: self.incident_item(&record)?,
                condition: Condition::NotExists,
            },
            entry.insert_op()?,
        ];
        for tenant in record.customer_tenants() {
            ops.push(WriteOp::Put {
                item: link_item(&tenant, &record.id)?,
                condition: Condition::Always,
            });
        }
        Ok((record, ops))
    }

    fn incident_item(&self, record: &IncidentRecord) -> Result<Item, Error> {
        Ok(Item::new(incident_key(&record.id)?, RecordKind::Incident)
            .with_gsi1(incident_index(record)?)
            .with_record(record)?)
    }

    pub async fn create_incident(
        &self,
        access: &Access,
        draft: IncidentDraft,
    ) -> Result<IncidentView, Error> {
        access.require(Permission::IncidentsManage, Scope::Platform)?;
        let now = self.clock.now();
        let (record, ops) = self.new_incident(access, draft, None, now).await?;
        self.store.transact(ops).await?;
        self.staff_view(record, 1).await
    }

    pub(crate) async fn load_incident(
        &self,
        id: &IncidentId,
    ) -> Result<(IncidentRecord, u64), Error> {
        let item = self
            .store
            .get(&incident_key(id)?)
            .await?
            .ok_or_else(|| Error::NotFound("incident".into()))?;
        Ok((item.record()?, item.version))
    }

    /// `save` for a change staff make, answering with the incident as staff see it.
    async fn save_for_staff(
        &self,
        access: &Access,
        record: IncidentRecord,
        version: u64,
        action: &str,
        change: &impl Serialize,
        previous_tenants: &BTreeSet<TenantId>,
    ) -> Result<IncidentView, Error> {
        let (record, version) = self
            .save(
                access.principal(),
                record,
                version,
                action,
                change,
                previous_tenants,
            )
            .await?;
        self.staff_view(record, version).await
    }

    /// Stores a changed incident with its audit entry (and tenant links), failing on a
    /// concurrent change.
    async fn save(
        &self,
        principal: &Principal,
        record: IncidentRecord,
        version: u64,
        action: &str,
        change: &impl Serialize,
        previous_tenants: &BTreeSet<TenantId>,
    ) -> Result<(IncidentRecord, u64), Error> {
        let mut record = record;
        let ops = self.save_ops(
            principal,
            &mut record,
            version,
            action,
            change,
            previous_tenants,
        )?;
        self.store.transact(ops).await.map_err(conflict)?;
        Ok((record, version + 1))
    }

    /// The writes of [`Self::save`] (the record gets its new audit head), for a caller that
    /// adds its own to the same transaction.
    pub(crate) fn save_ops(
        &self,
        principal: &Principal,
        record: &mut IncidentRecord,
        version: u64,
        action: &str,
        change: &impl Serialize,
        previous_tenants: &BTreeSet<TenantId>,
    ) -> Result<Vec<WriteOp>, Error> {
        let now = self.clock.now();
        let entry = AuditEntry::append(
            &record.id.to_string(),
            Some(&record.audit),
            now,
            principal,
            action,
            change,
        );
        record.audit = entry.head();
        let mut ops = vec![
            WriteOp::Put {
                item: self.incident_item(record)?,
                condition: Condition::Version(version),
            },
            entry.insert_op()?,
        ];
        let tenants_now = record.customer_tenants();
        for tenant in tenants_now.difference(previous_tenants) {
            ops.push(WriteOp::Put {
                item: link_item(tenant, &record.id)?,
                condition: Condition::Always,
            });
        }
        for tenant in previous_tenants.difference(&tenants_now) {
            ops.push(WriteOp::Delete {
                key: link_key(tenant, &record.id)?,
                condition: Condition::Always,
            });
        }
        Ok(ops)
    }

    /// The staff view of an incident for someone who may change its file (the console's form).
    pub async fn file_to_change(
        &self,
        access: &Access,
        id: &IncidentId,
    ) -> Result<IncidentView, Error> {
        access.require(Permission::IncidentsManage, Scope::Platform)?;
        let (record, version) = self.load_incident(id).await?;
        self.staff_view(record, version).await
    }

    pub async fn get_incident(
        &self,
        access: &Access,
        id: &IncidentId,
    ) -> Result<IncidentForCaller, Error> {
        // The permission first: without it, whether an incident exists is not told either.
        match &access.principal().actor {
            Actor::Customer { tenant } => {
                access.require(Permission::TenantIncidentsRead, Scope::Tenant(tenant))?
            }
            _ => access.require(Permission::IncidentsRead, Scope::Platform)?,
        }
        let (record, version) = self.load_incident(id).await?;
        match &access.principal().actor {
            Actor::Customer { tenant } => {
                if !record.affects_tenant(tenant) {
                    // Not affected: the incident does not exist for this customer.
                    return Err(Error::NotFound("incident".into()));
                }
                let tenant = tenant.clone();
                Ok(IncidentForCaller::Customer(Box::new(
                    self.customer_view(record, &tenant).await?,
                )))
            }
            _ => Ok(IncidentForCaller::Staff(Box::new(
                self.staff_view(record, version).await?,
            ))),
        }
    }

    pub async fn list_incidents(&self, access: &Access) -> Result<Vec<IncidentSummary>, Error> {
        match &access.principal().actor {
            Actor::Customer { tenant } => {
                access.require(Permission::TenantIncidentsRead, Scope::Tenant(tenant))?;
                let links = query_all(
                    self.store.as_ref(),
                    Query::partition(ItemKey::tenant_partition(tenant))
                        .prefix(TENANT_INCIDENT_LINK_PREFIX),
                )
                .await?;
                let mut out = Vec::new();
                for link in links {
                    let Some(raw) = link.key.sk.strip_prefix(TENANT_INCIDENT_LINK_PREFIX) else {
                        continue;
                    };
                    let id = IncidentId::parse(raw).map_err(|e| Error::Internal(e.to_string()))?;
                    let (record, _) = self.load_incident(&id).await?;
                    if record.affects_tenant(tenant) {
                        let title = self.customer_title(&record).await?;
                        let title_en = self.english_title(&record).await?;
                        out.push(IncidentSummary {
                            id: record.id,
                            title,
                            title_en,
                            status: record.status,
                            aware_at: record.aware_at,
                        });
                    }
                }
                Ok(out)
            }
            _ => {
                access.require(Permission::IncidentsRead, Scope::Platform)?;
                let mut out = Vec::new();
                for partition in ["INCIDENTS#open", "INCIDENTS#closed"] {
                    for item in
                        query_all(self.store.as_ref(), Query::gsi1(partition).descending()).await?
                    {
                        let r: IncidentRecord = item.record()?;
                        let title = self
                            .open(RecordKind::Incident, &r.id.to_string(), "title", &r.title)
                            .await?;
                        out.push(IncidentSummary {
                            id: r.id,
                            title: Some(title),
                            title_en: None,
                            status: r.status,
                            aware_at: r.aware_at,
                        });
                    }
                }
                Ok(out)
            }
        }
    }

    /// The open incidents at a glance, for the console's first page: how many, and of all their
    /// open deadlines the one due first with its incident's title. Reads the open incidents'
    /// records once and opens only that one title (listing every incident in full took a
    /// second with 10 000 open ones; `functions/benches/pages.rs`).
    pub async fn open_at_a_glance(
        &self,
        access: &Access,
    ) -> Result<(usize, Option<(IncidentId, String, Deadline)>), Error> {
        access.require(Permission::IncidentsRead, Scope::Platform)?;
        let now = self.clock.now();
        let mut policies: BTreeMap<TenantId, EffectivePolicy> = BTreeMap::new();
        let mut open = 0;
        let mut first: Option<(IncidentRecord, Deadline)> = None;
        for item in query_all(self.store.as_ref(), Query::gsi1("INCIDENTS#open")).await? {
            let record: IncidentRecord = item.record()?;
            if record.status == IncidentStatus::Closed {
                continue;
            }
            open += 1;
            for tenant in record.customer_tenants() {
                if let std::collections::btree_map::Entry::Vacant(slot) = policies.entry(tenant) {
                    let policy = tenants::policy_for(self.store.as_ref(), slot.key()).await?;
                    slot.insert(policy);
                }
            }
            let due_first = deadlines::deadlines(&record, now, |t| {
                policies
                    .get(t)
                    .cloned()
                    .unwrap_or_else(EffectivePolicy::page)
            })
            .map_err(|e| Error::Internal(e.to_string()))?
            .into_iter()
            .filter(|d| d.state == deadlines::DeadlineState::Pending)
            .min_by_key(|d| d.due);
            if let Some(d) = due_first
                && first.as_ref().is_none_or(|(_, f)| d.due < f.due)
            {
                first = Some((record, d));
            }
        }
        let first = match first {
            Some((record, deadline)) => {
                let title = self
                    .open(
                        RecordKind::Incident,
                        &record.id.to_string(),
                        "title",
                        &record.title,
                    )
                    .await?;
                Some((record.id, title, deadline))
            }
            None => None,
        };
        Ok((open, first))
    }

    /// Runs the engine again when a fact it read from the file changed; returns the decision
    /// before and after (none when nothing it read changed).
    fn reassess_from_file(
        &self,
        record: &mut IncidentRecord,
        changed: &[&str],
    ) -> Result<Option<serde_json::Value>, Error> {
        let Some(assessment) = record.assessment.as_ref() else {
            return Ok(None);
        };
        if !assessment
            .from_file
            .iter()
            .any(|f| changed.contains(&f.as_str()))
        {
            return Ok(None);
        }
        let mut facts = assessment.facts.clone();
        file_facts(record, &mut facts, &assessment.from_file);
        let decision = assessment::assess(&facts)
            .map_err(|e| Error::validation("/breach_types", e.to_string()))?;
        let now = self.clock.now();
        let Some(assessment) = record.assessment.as_mut() else {
            return Ok(None);
        };
        let before = std::mem::replace(&mut assessment.engine, decision.clone());
        assessment.facts = facts;
        assessment.assessed_at = now;
        assessment.previous_engine = Some(before.clone());
        Ok(Some(
            serde_json::json!({ "before": before, "after": decision }),
        ))
    }

    /// The breach register of Art. 33(5): every incident, notified or not, oldest awareness
    /// first (staff who may read incidents).
    pub async fn register(
        &self,
        access: &Access,
    ) -> Result<Vec<crate::register::RegisterEntry>, Error> {
        self.register_newest(access, usize::MAX)
            .await
            .map(|(entries, _)| entries)
    }

    /// The register's `limit` newest entries (by awareness), oldest of them first, and whether
    /// there are more: read from the indexes newest first, so a page of the register reads and
    /// opens only what it shows (`usize::MAX`: the whole register, for the export).
    pub async fn register_newest(
        &self,
        access: &Access,
        limit: usize,
    ) -> Result<(Vec<crate::register::RegisterEntry>, bool), Error> {
        access.require(Permission::IncidentsRead, Scope::Platform)?;
        let (mut records, more) = if limit == usize::MAX {
            let mut all = self.all_incident_records().await?;
            all.sort_by_key(|(r, _)| std::cmp::Reverse((r.aware_at, r.id.to_string())));
            (all, false)
        } else {
            self.newest_records(limit).await?
        };
        records.reverse();
        let mut entries = Vec::with_capacity(records.len());
        for (record, version) in records {
            let view = self.staff_view(record, version).await?;
            entries.push(crate::register::RegisterEntry::of(&view));
        }
        Ok((entries, more))
    }

    /// The `limit` newest incident records (by awareness, newest first), read from the indexes
    /// in that order so that no more than `limit` + 1 per index are read, and whether there are
    /// more.
    async fn newest_records(
        &self,
        limit: usize,
    ) -> Result<(Vec<(IncidentRecord, u64)>, bool), Error> {
        let page = u32::try_from(limit.saturating_add(1)).unwrap_or(u32::MAX);
        let mut records = Vec::new();
        for partition in ["INCIDENTS#open", "INCIDENTS#closed"] {
            let found = self
                .store
                .query(Query::gsi1(partition).descending().limit(page))
                .await?;
            for item in found.items {
                records.push((item.record::<IncidentRecord>()?, item.version));
            }
        }
        records.sort_by_key(|(r, _)| std::cmp::Reverse((r.aware_at, r.id.to_string())));
        let more = records.len() > limit;
        records.truncate(limit);
        Ok((records, more))
    }

    /// The `limit` newest incidents (by awareness) as staff list them, and whether there are
    /// more.
    pub async fn newest_incidents(
        &self,
        access: &Access,
        limit: usize,
    ) -> Result<(Vec<IncidentView>, bool), Error> {
        access.require(Permission::IncidentsRead, Scope::Platform)?;
        let (records, more) = self.newest_records(limit).await?;
        let mut views = Vec::with_capacity(records.len());
        for (record, version) in records {
            views.push(self.staff_view(record, version).await?);
        }
        Ok((views, more))
    }

    /// Every incident's record with its version, open and closed, unopened.
    async fn all_incident_records(&self) -> Result<Vec<(IncidentRecord, u64)>, Error> {
        let mut records = Vec::new();
        for partition in ["INCIDENTS#open", "INCIDENTS#closed"] {
            for item in query_all(self.store.as_ref(), Query::gsi1(partition)).await? {
                records.push((item.record::<IncidentRecord>()?, item.version));
            }
        }
        Ok(records)
    }

    pub async fn update_incident(
        &self,
        access: &Access,
        id: &IncidentId,
        patch: IncidentPatch,
    ) -> Result<IncidentView, Error> {
        access.require(Permission::IncidentsManage, Scope::Platform)?;
        let (mut record, version) = self.load_incident(id).await?;
        if record.status == IncidentStatus::Closed {
            return Err(Error::Conflict(
                "a closed incident can no longer be changed".into(),
            ));
        }
        let mut errors = Vec::new();
        if let Some(title) = &patch.title
            && (title.trim().is_empty() || title.chars().count() > 200)
        {
            errors.push(FieldError::new("/title", "must be 1 to 200 characters"));
        }
        if let Some(title) = &patch.customer_title
            && (title.trim().is_empty() || title.chars().count() > 200)
        {
            errors.push(FieldError::new(
                "/customer_title",
                "must be 1 to 200 characters",
            ));
        }
        if patch.breach_types.as_ref().is_some_and(BTreeSet::is_empty) {
            errors.push(FieldError::new(
                "/breach_types",
                "name at least one breach type",
            ));
        }
        for (field, value) in [
            ("nature_and_scope", &patch.nature_and_scope),
            ("likely_consequences", &patch.likely_consequences),
        ] {
            if value.as_ref().is_some_and(|v| {
                v.expose().trim().is_empty() || v.expose().chars().count() > 20_000
            }) {
                errors.push(FieldError::new(
                    format!("/{field}"),
                    "must be 1 to 20000 characters",
                ));
            }
        }
        for (field, value) in [
            ("approx_data_subjects", patch.approx_data_subjects),
            ("approx_records", patch.approx_records),
        ] {
            if value.is_some_and(|a| a.min > a.max) {
                errors.push(FieldError::new(
                    format!("/{field}/min"),
                    "must not exceed max",
                ));
            }
        }
        if let Some(sets) = &patch.data_sets {
            errors.extend(self.check_data_sets(sets).await?);
        }
        errors.extend(patch.english.errors());
        if !errors.is_empty() {
            return Err(Error::Validation(errors));
        }
        let before = record.customer_tenants();
        let iid = id.to_string();
        let mut changed = Vec::new();
        if let Some(title) = patch.title {
            record.title = self
                .seal(
                    RecordKind::Incident,
                    &iid,
                    "title",
                    &Personal::new(clean(&title)),
                )
                .await?;
            changed.push("title");
        }
        if let Some(title) = patch.customer_title {
            record.customer_title = Some(
                self.seal(
                    RecordKind::Incident,
                    &iid,
                    "customer_title",
                    &Personal::new(clean(&title)),
                )
                .await?,
            );
            changed.push("customer_title");
        }
        if let Some(v) = patch.breach_types {
            record.breach_types = v;
            changed.push("breach_types");
        }
        if let Some(v) = &patch.nature_and_scope {
            record.nature_and_scope = self
                .seal(RecordKind::Incident, &iid, "nature_and_scope", v)
                .await?;
            changed.push("nature_and_scope");
        }
        if let Some(v) = patch.data_categories {
            record.data_categories = v;
            changed.push("data_categories");
        }
        if let Some(v) = patch.approx_data_subjects {
            record.approx_data_subjects = v;
            changed.push("approx_data_subjects");
        }
        if let Some(v) = patch.approx_records {
            record.approx_records = v;
            changed.push("approx_records");
        }
        if let Some(v) = &patch.likely_consequences {
            record.likely_consequences = self
                .seal(RecordKind::Incident, &iid, "likely_consequences", v)
                .await?;
            changed.push("likely_consequences");
        }
        let english_changed = self
            .apply_english(&iid, &mut record.english, patch.english)
            .await?;
        changed.extend(english_changed);
        if let Some(v) = patch.data_sets {
            record.data_sets = self.seal_data_sets(&iid, v).await?;
            changed.push("data_sets");
        }
        if let Some(v) = patch.nis2_significant {
            record.nis2_significant = v;
            changed.push("nis2_significant");
        }
        if changed.is_empty() {
            return Err(Error::validation("", "the change names no field"));
        }
        // Facts the assessment read from the file follow it: the engine decides again, and the
        // change says what it decided before and now (an override stays, with its reasons).
        let reassessed = self.reassess_from_file(&mut record, &changed)?;
        let change = serde_json::json!({
            "fields": changed,
            "record": &record,
            "reassessed": reassessed,
        });
        self.save_for_staff(
            access,
            record,
            version,
            "incident.updated",
            &change,
            &before,
        )
        .await
    }

    pub async fn add_measure(
        &self,
        access: &Access,
        id: &IncidentId,
        input: MeasureInput,
    ) -> Result<IncidentView, Error> {
        access.require(Permission::IncidentsManage, Scope::Platform)?;
        let mut errors = Vec::new();
        if input.what.expose().trim().is_empty() || input.what.expose().chars().count() > 5_000 {
            errors.push(FieldError::new("/what", "must be 1 to 5000 characters"));
        }
        if input
            .what_en
            .as_ref()
            .is_some_and(|w| w.expose().chars().count() > 5_000)
        {
            errors.push(FieldError::new(
                "/what_en",
                "must be at most 5000 characters",
            ));
        }
        if input.owner.trim().is_empty() || input.owner.chars().count() > 100 {
            errors.push(FieldError::new(
                "/owner",
                "must be 1 to 100 characters (a role or team)",
            ));
        }
        if !errors.is_empty() {
            return Err(Error::Validation(errors));
        }
        let (mut record, version) = self.load_incident(id).await?;
        if record.status == IncidentStatus::Closed {
            return Err(Error::Conflict(
                "a closed incident can no longer be changed".into(),
            ));
        }
        let now = self.clock.now();
        let measure = Measure {
            id: MeasureId::generate(now),
            kind: input.kind,
            what: self
                .seal(
                    RecordKind::Incident,
                    &id.to_string(),
                    "measures[].what",
                    &input.what,
                )
                .await?,
            what_en: match &input.what_en {
                Some(text) => {
                    self.seal_optional(&id.to_string(), english::MEASURE, text)
                        .await?
                }
                None => None,
            },
            owner: self
                .seal(
                    RecordKind::Incident,
                    &id.to_string(),
                    "measures[].owner",
                    &Personal::new(clean(&input.owner)),
                )
                .await?,
            at: input.at.unwrap_or(now),
            status: input.status,
        };
        record.measures.push(measure.clone());
        let before = record.customer_tenants();
        self.save_for_staff(access, record, version, "measure.added", &measure, &before)
            .await
    }

    pub async fn set_measure_status(
        &self,
        access: &Access,
        id: &IncidentId,
        measure: &MeasureId,
        status: MeasureStatus,
    ) -> Result<IncidentView, Error> {
        access.require(Permission::IncidentsManage, Scope::Platform)?;
        let (mut record, version) = self.load_incident(id).await?;
        let m = record
            .measures
            .iter_mut()
            .find(|m| m.id == *measure)
            .ok_or_else(|| Error::NotFound("measure".into()))?;
        m.status = status;
        m.at = self.clock.now();
        let change = serde_json::json!({ "measure": measure, "status": status });
        let before = record.customer_tenants();
        self.save_for_staff(access, record, version, "measure.status", &change, &before)
            .await
    }

    pub async fn transition(
        &self,
        access: &Access,
        id: &IncidentId,
        to: IncidentStatus,
    ) -> Result<IncidentView, Error> {
        access.require(Permission::IncidentsManage, Scope::Platform)?;
        let (mut record, version) = self.load_incident(id).await?;
        if !record.status.can_become(to) {
            return Err(Error::Conflict(format!(
                "an incident cannot go from {} to {}",
                record.status.as_str(),
                to.as_str()
            )));
        }
        if to == IncidentStatus::Closed {
            let now = self.clock.now();
            let policies = self.policies(&record).await?;
            let open: Vec<String> = deadlines::deadlines(&record, now, |t| {
                policies
                    .get(t)
                    .cloned()
                    .unwrap_or_else(EffectivePolicy::page)
            })
            .map_err(|e| Error::Internal(e.to_string()))?
            .into_iter()
            .filter(|d| d.met_at.is_none())
            .map(|d| d.duty.to_string())
            .collect();
            if record.assessment.is_none() {
                return Err(Error::Conflict(
                    "assess the incident before closing it".into(),
                ));
            }
            if !open.is_empty() {
                return Err(Error::Conflict(format!(
                    "notifications still owed: {}",
                    open.join(", ")
                )));
            }
            record.closed_at = Some(now);
        }
        let from = record.status;
        record.status = to;
        let change = serde_json::json!({ "from": from, "to": to });
        let before = record.customer_tenants();
        let mut ops = self.save_ops(
            access.principal(),
            &mut record,
            version,
            "incident.status",
            &change,
            &before,
        )?;
        // The report the incident was opened from follows it to the end, in the same
        // transaction: closed, on its own chain, and its reporter told why.
        if to == IncidentStatus::Closed
            && let Some(report_id) = record.source_report
        {
            let (mut report, report_version) = self.load_report(&report_id).await?;
            if report.status != ReportStatus::Closed {
                report.status = ReportStatus::Closed;
                let because = serde_json::json!({
                    "because": ClosedBecause::IncidentClosed,
                    "incident": record.id,
                });
                ops.extend(
                    self.report_change_ops(
                        &mut report,
                        report_version,
                        self.clock.now(),
                        access.principal(),
                        "report.closed",
                        &because,
                    )
                    .await?,
                );
            }
        }
        self.store.transact(ops).await.map_err(conflict)?;
        self.staff_view(record, version + 1).await
    }

    /// Runs the rule engine on `facts` and keeps its decision on the incident.
    pub async fn assess(
        &self,
        access: &Access,
        id: &IncidentId,
        input: AssessmentInput,
    ) -> Result<IncidentView, Error> {
        access.require(Permission::IncidentsAssess, Scope::Platform)?;
        let (mut record, version) = self.load_incident(id).await?;
        let mut from_file = Vec::new();
        for (field, given) in [
            ("breach_types", input.breach_types.is_some()),
            ("data_categories", input.data_categories.is_some()),
            ("approx_data_subjects", input.approx_data_subjects.is_some()),
        ] {
            if !given {
                from_file.push(field.to_string());
            }
        }
        let mut facts = Facts {
            breach_types: input.breach_types.unwrap_or_default(),
            data_categories: input.data_categories.unwrap_or_default(),
            approx_data_subjects: input.approx_data_subjects,
            encrypted_state_of_the_art: input.encrypted_state_of_the_art,
            key_compromised: input.key_compromised,
            backup_restorable: input.backup_restorable,
            unavailability_hours: input.unavailability_hours,
            exfiltration: input.exfiltration,
            recipient_trusted: input.recipient_trusted,
            vulnerable_data_subjects: input.vulnerable_data_subjects,
        };
        file_facts(&record, &mut facts, &from_file);
        let decision = assessment::assess(&facts)
            .map_err(|e| Error::validation("/breach_types", e.to_string()))?;
        let record_assessment = AssessmentRecord {
            facts,
            engine: decision,
            assessed_at: self.clock.now(),
            assessed_by: access.principal().subject.clone(),
            override_decision: None,
            from_file,
            previous_engine: None,
        };
        let change =
            serde_json::to_value(&record_assessment).map_err(|e| Error::Internal(e.to_string()))?;
        record.assessment = Some(record_assessment);
        let before = record.customer_tenants();
        self.save_for_staff(
            access,
            record,
            version,
            "assessment.engine",
            &change,
            &before,
        )
        .await
    }

    /// A human decides differently from the engine; both decisions stay on the record.
    pub async fn override_assessment(
        &self,
        access: &Access,
        id: &IncidentId,
        input: OverrideInput,
    ) -> Result<IncidentView, Error> {
        access.require(Permission::IncidentsAssess, Scope::Platform)?;
        let justification = input.justification.expose().trim();
        if justification.chars().count() < 20 || justification.chars().count() > 5_000 {
            return Err(Error::validation(
                "/justification",
                "write the reasons: 20 to 5000 characters",
            ));
        }
        let (mut record, version) = self.load_incident(id).await?;
        let Some(mut current) = record.assessment.clone() else {
            return Err(Error::Conflict(
                "run the assessment before overriding it".into(),
            ));
        };
        let now = self.clock.now();
        current.override_decision = Some(Override {
            risk: input.risk,
            notify_supervisory_authority: input.notify_supervisory_authority,
            communicate_to_data_subjects: input.communicate_to_data_subjects,
            justification: self
                .seal(
                    RecordKind::Incident,
                    &id.to_string(),
                    "assessment.override_decision.justification",
                    &input.justification,
                )
                .await?,
            by: access.principal().subject.clone(),
            at: now,
        });
        let change = serde_json::to_value(&current.override_decision)
            .map_err(|e| Error::Internal(e.to_string()))?;
        record.assessment = Some(current);
        let before = record.customer_tenants();
        self.save_for_staff(
            access,
            record,
            version,
            "assessment.override",
            &change,
            &before,
        )
        .await
    }

    pub(crate) async fn policies(
        &self,
        record: &IncidentRecord,
    ) -> Result<BTreeMap<TenantId, EffectivePolicy>, Error> {
        let mut map = BTreeMap::new();
        for tenant in record.customer_tenants() {
            let policy = tenants::policy_for(self.store.as_ref(), &tenant).await?;
            map.insert(tenant, policy);
        }
        Ok(map)
    }

    /// What a notice to one customer says now; `first_sent_at`: when it was first told (a
    /// follow-up refers to it; the kind follows from it and the incident's status).
    async fn notice_content(
        &self,
        record: &IncidentRecord,
        customer_name: &str,
        first_sent_at: Option<Timestamp>,
    ) -> Result<NoticeContent, Error> {
        let iid = record.id.to_string();
        let mut measures = Vec::new();
        for m in &record.measures {
            measures.push(crate::notice::NoticeMeasure {
                kind: m.kind,
                what: self
                    .open(RecordKind::Incident, &iid, "measures[].what", &m.what)
                    .await?,
                what_en: self.measure_english(&iid, m).await?,
                status: m.status,
            });
        }
        let kind = match (first_sent_at, record.status) {
            (None, _) => NoticeKind::Initial,
            (Some(_), IncidentStatus::Closed) => NoticeKind::Final,
            (Some(_), _) => NoticeKind::Update,
        };
        Ok(NoticeContent {
            kind,
            first_sent_at,
            closed_at: record.closed_at,
            incident: iid.clone(),
            title: self.customer_title(record).await?,
            customer_name: customer_name.to_string(),
            aware_at: record.aware_at,
            nature_and_scope: self
                .open(
                    RecordKind::Incident,
                    &iid,
                    "nature_and_scope",
                    &record.nature_and_scope,
                )
                .await?,
            data_categories: record.data_categories.iter().copied().collect(),
            approx_data_subjects: record.approx_data_subjects,
            approx_records: record.approx_records,
            likely_consequences: self
                .open(
                    RecordKind::Incident,
                    &iid,
                    "likely_consequences",
                    &record.likely_consequences,
                )
                .await?,
            measures,
            english: self.english_of(record).await?,
            dpo_contact: self.dpo_contact.clone(),
        })
    }

    /// The customer notices as they would go out now, per affected customer, without sending
    /// anything: the recipient, subject and body (both languages), or why none would be sent.
    pub async fn preview_customer_notices(
        &self,
        access: &Access,
        id: &IncidentId,
        which: NoticeChoice,
    ) -> Result<Vec<NoticePreview>, Error> {
        access.require(Permission::NotificationsSend, Scope::Platform)?;
        let (record, _) = self.load_incident(id).await?;
        let mut previews = Vec::new();
        for tenant in record.customer_tenants() {
            let told_at = deadlines::first_notice(
                &record,
                &Duty::Customer {
                    tenant: tenant.clone(),
                },
            );
            let follow_up = match which {
                NoticeChoice::First => false,
                NoticeChoice::FollowUp => true,
                NoticeChoice::Next => told_at.is_some(),
            };
            let messages = self.customer_messages(id, &tenant).await?;
            let blocked = why_no_notice_now(&messages, follow_up);
            let stored = tenants::get(self.store.as_ref(), &tenant).await?;
            let to = match &stored {
                Some(t) => tenants::contact(&self.keyring, t).await?,
                None => None,
            };
            // The same refusals as sending would give.
            let not_sent = if stored.is_none() {
                Some(NotSent::NoSuchTenant)
            } else if to.is_none() {
                Some(NotSent::NoContact)
            } else {
                blocked
            };
            let name = stored
                .as_ref()
                .map_or(tenant.to_string(), |t| t.name.clone());
            let first = if follow_up { told_at } else { None };
            let content = self.notice_content(&record, &name, first).await?;
            let (subject, body) = render_bilingual(&content);
            previews.push(NoticePreview {
                kind: content.kind,
                first_sent_at: told_at,
                tenant,
                to: to.map(|p| p.expose().clone()),
                subject,
                body,
                not_sent_because: not_sent.map(|n| n.as_str().to_string()),
                not_sent,
            });
        }
        Ok(previews)
    }

    /// Generates, queues and hands to the mail transport the notification to the affected
    /// customers not yet told (all of them, or those named in `only`). A customer counts as
    /// told once the transport accepted its message; one whose message failed, bounced or is in
    /// doubt may be told again (say, after its breach contact was corrected).
    pub async fn notify_customers(
        &self,
        access: &Access,
        id: &IncidentId,
        only: Option<Vec<TenantId>>,
        follow_up: bool,
    ) -> Result<Notified, Error> {
        access.require(Permission::NotificationsSend, Scope::Platform)?;
        let (record, _) = self.load_incident(id).await?;
        let affected = record.customer_tenants();
        // Per tenant: its next message number, or why it needs none now.
        let mut next = BTreeMap::new();
        for tenant in &affected {
            let messages = self.customer_messages(id, tenant).await?;
            let blocked = why_no_notice_now(&messages, follow_up);
            next.insert(tenant.clone(), (messages.len() + 1, blocked));
        }
        let pending: Vec<TenantId> = match only {
            Some(named) => {
                let mut errors = Vec::new();
                for (i, tenant) in named.iter().enumerate() {
                    match next.get(tenant) {
                        None => errors.push(FieldError::new(
                            format!("/tenants/{i}"),
                            "is not an affected customer",
                        )),
                        Some((_, Some(why))) => {
                            errors.push(FieldError::new(format!("/tenants/{i}"), why.as_str()))
                        }
                        Some((_, None)) => {}
                    }
                }
                if !errors.is_empty() {
                    return Err(Error::Validation(errors));
                }
                named
            }
            None => next
                .iter()
                .filter(|(_, (_, blocked))| blocked.is_none())
                .map(|(t, _)| t.clone())
                .collect(),
        };
        if pending.is_empty() {
            return Err(Error::Conflict(if follow_up {
                "no affected customer has been told yet, or each has a notice on its way".into()
            } else {
                "every affected customer has been told already or has a notice on its way".into()
            }));
        }
        // Check every recipient before anything is queued.
        let mut recipients = Vec::new();
        let mut errors = Vec::new();
        for tenant in &pending {
            match tenants::get(self.store.as_ref(), tenant).await? {
                Some(t) => match tenants::contact(&self.keyring, &t).await? {
                    Some(to) => recipients.push((t, to)),
                    None => errors.push(FieldError::new(
                        format!("/tenants/{tenant}"),
                        NotSent::NoContact.as_str(),
                    )),
                },
                None => errors.push(FieldError::new(
                    format!("/tenants/{tenant}"),
                    NotSent::NoSuchTenant.as_str(),
                )),
            }
        }
        if !errors.is_empty() {
            return Err(Error::Validation(errors));
        }
        let mut report = DrainReport::default();
        for (tenant, to) in recipients {
            let first = follow_up
                .then(|| {
                    deadlines::first_notice(
                        &record,
                        &Duty::Customer {
                            tenant: tenant.id.clone(),
                        },
                    )
                })
                .flatten();
            let content = self.notice_content(&record, &tenant.name, first).await?;
            let (subject, body) = render_bilingual(&content);
            let n = next.get(&tenant.id).map_or(1, |(n, _)| *n);
            let message_id = customer_message_id(id, &tenant.id, n);
            let queue = self
                .queue_message(
                    message_id.clone(),
                    Purpose::CustomerNotice {
                        incident: *id,
                        tenant: tenant.id.clone(),
                    },
                    &to,
                    subject,
                    &Personal::new(body),
                )
                .await?;
            // Two staff pressing the button at once queue one message: the second put fails.
            self.store
                .transact(vec![queue])
                .await
                .map_err(|e| match e {
                    StoreError::ConditionFailed(_) | StoreError::TransactionCanceled { .. } => {
                        Error::Conflict(format!(
                            "a notice to {} was queued concurrently; read the incident again",
                            tenant.id
                        ))
                    }
                    other => Error::Store(other),
                })?;
            // Handed over now; a transient failure leaves it queued for the drain.
            if let Some(state) = self.deliver_message(&message_id, &mut report).await? {
                report.messages.push((message_id, state));
            }
        }
        let (record, version) = self.load_incident(id).await?;
        Ok(Notified {
            view: self.staff_view(record, version).await?,
            messages: report.messages,
            alerts: report.alerts,
        })
    }

    /// The notification to the supervisory authority as a text (Art. 33(3) contents from the
    /// file), for incidents with our own data; the DPO sends it through the authority's channel
    /// and records it with [`Self::record_notice`]. Where we are only processor there is none:
    /// the authority is our customers' to notify.
    pub async fn authority_notice_draft(
        &self,
        access: &Access,
        id: &IncidentId,
    ) -> Result<AuthorityNoticeDraft, Error> {
        access.require(Permission::NotificationsSend, Scope::Platform)?;
        let (record, _) = self.load_incident(id).await?;
        if !record.controller_data_affected() {
            return Err(Error::Conflict(
                "the incident holds none of our own data: as processor we tell our customers, \
                 who decide on the authority"
                    .into(),
            ));
        }
        let content = self.notice_content(&record, "", None).await?;
        let due = kernel::policy::SUPERVISORY_AUTHORITY_NOTIFICATION
            .after(record.aware_at)
            .map_err(|e| Error::Internal(e.to_string()))?;
        let late = self.clock.now() > due;
        let types: Vec<BreachType> = record.breach_types.iter().copied().collect();
        let text = |lang| {
            crate::notice::authority_notice(&content, &types, record.discovered_at, late, lang)
        };
        Ok(AuthorityNoticeDraft {
            due,
            late,
            de: text(Language::De),
            en: text(Language::En),
        })
    }

    /// Records a notification made outside the platform (authority portal, letters).
    pub async fn record_notice(
        &self,
        access: &Access,
        id: &IncidentId,
        input: RecordedNotice,
    ) -> Result<IncidentView, Error> {
        access.require(Permission::NotificationsSend, Scope::Platform)?;
        let (record, _) = self.load_incident(id).await?;
        // Every failing field at once.
        let mut errors = Vec::new();
        if matches!(input.duty, Duty::Customer { .. }) {
            errors.push(FieldError::new(
                "/duty",
                "customers are notified through the platform",
            ));
        }
        if input.sent_at > self.clock.now() {
            errors.push(FieldError::new("/sent_at", "lies in the future"));
        } else if input.sent_at < record.aware_at {
            errors.push(FieldError::new("/sent_at", "lies before the awareness"));
        }
        if input.reference.trim().is_empty() || input.reference.chars().count() > 200 {
            errors.push(FieldError::new("/reference", "must be 1 to 200 characters"));
        }
        if !errors.is_empty() {
            return Err(Error::Validation(errors));
        }
        let notice = SentNotice {
            duty: input.duty,
            sent_at: input.sent_at,
            reference: clean(&input.reference),
            languages: vec![],
            delivery: None,
            transport_id: None,
        };
        self.append_notice(access.principal(), id, notice).await?;
        let (record, version) = self.load_incident(id).await?;
        self.staff_view(record, version).await
    }

    async fn append_notice(
        &self,
        principal: &Principal,
        id: &IncidentId,
        notice: SentNotice,
    ) -> Result<(), Error> {
        // A concurrent change (say, the deadline watch) may win the race: re-read and retry.
        for _ in 0..5 {
            let (mut record, version) = self.load_incident(id).await?;
            record.notices.push(notice.clone());
            let before = record.customer_tenants();
            match self
                .save(principal, record, version, "notice.sent", &notice, &before)
                .await
            {
                Err(Error::Conflict(_)) => continue,
                other => return other.map(|_| ()),
            }
        }
        Err(Error::Conflict(
            "the incident keeps changing; try again".into(),
        ))
    }

    /// The deadline watch: one firing at `at` (its scheduled time). Raises each alert once.
    pub async fn watch_deadlines(&self, at: Timestamp) -> Result<WatchReport, Error> {
        let mut report = WatchReport::default();
        let open = query_all(self.store.as_ref(), Query::gsi1("INCIDENTS#open")).await?;
        let principal = Principal::system("deadline-watch");
        for item in open {
            report.incidents_checked += 1;
            let id = item.record::<IncidentRecord>()?.id;
            for _ in 0..5 {
                let (mut record, version) = self.load_incident(&id).await?;
                let policies = self.policies(&record).await?;
                let alerts = deadlines::due_alerts(&record, at, |t| {
                    policies
                        .get(t)
                        .cloned()
                        .unwrap_or_else(EffectivePolicy::page)
                })
                .map_err(|e| Error::Internal(e.to_string()))?;
                if alerts.is_empty() {
                    break;
                }
                record.alerts.extend(alerts.clone());
                let before = record.customer_tenants();
                let raised = record.alerts.len();
                let mut ops = self.save_ops(
                    &principal,
                    &mut record,
                    version,
                    "deadline.alert",
                    &alerts,
                    &before,
                )?;
                // The security team is told by mail in the same transaction: the alerts exist
                // exactly when their message does (one per firing, named by the alert count).
                if let Some(mailbox) = &self.alert_recipient {
                    let (subject, body) =
                        crate::notice::staff_alert(&id, &alerts, &self.incident_url(&id));
                    ops.push(
                        self.queue_message(
                            format!("{id}-alert-{raised}"),
                            Purpose::StaffAlert { incident: id },
                            mailbox,
                            subject,
                            &Personal::new(body),
                        )
                        .await?,
                    );
                }
                match self.store.transact(ops).await.map_err(conflict) {
                    Ok(_) => {
                        report.alerts.extend(alerts.into_iter().map(|a| (id, a)));
                        break;
                    }
                    Err(Error::Conflict(_)) => continue,
                    Err(e) => return Err(e),
                }
            }
        }
        Ok(report)
    }

    // ----- audit --------------------------------------------------------------------------------

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

    // ----- views --------------------------------------------------------------------------------

    async fn staff_view(&self, r: IncidentRecord, version: u64) -> Result<IncidentView, Error> {
        let iid = r.id.to_string();
        let policies = self.policies(&r).await?;
        let deadlines = deadlines::deadlines(&r, self.clock.now(), |t| {
            policies
                .get(t)
                .cloned()
                .unwrap_or_else(EffectivePolicy::page)
        })
        .map_err(|e| Error::Internal(e.to_string()))?;
        let mut measures = Vec::new();
        for m in &r.measures {
            measures.push(MeasureView {
                id: m.id,
                kind: m.kind,
                what: self
                    .open(RecordKind::Incident, &iid, "measures[].what", &m.what)
                    .await?,
                what_en: self.measure_english(&iid, m).await?,
                owner: self
                    .open(RecordKind::Incident, &iid, "measures[].owner", &m.owner)
                    .await?,
                at: m.at,
                status: m.status,
            });
        }
        let assessment = match &r.assessment {
            Some(a) => Some({
                let (advice, advice_de) = advice(&r, &a.effective());
                AssessmentView {
                    facts: a.facts.clone(),
                    from_file: a.from_file.clone(),
                    engine: a.engine.clone(),
                    previous_engine: a.previous_engine.clone(),
                    advice,
                    advice_de,
                    assessed_at: a.assessed_at,
                    assessed_by: a.assessed_by.clone(),
                    override_decision: match &a.override_decision {
                        Some(o) => Some(OverrideView {
                            risk: o.risk,
                            notify_supervisory_authority: o.notify_supervisory_authority,
                            communicate_to_data_subjects: o.communicate_to_data_subjects,
                            justification: self
                                .open(
                                    RecordKind::Incident,
                                    &iid,
                                    "assessment.override_decision.justification",
                                    &o.justification,
                                )
                                .await?,
                            by: o.by.clone(),
                            at: o.at,
                        }),
                        None => None,
                    },
                    effective: a.effective(),
                }
            }),
            None => None,
        };
        let mut messages = Vec::new();
        for tenant in r.customer_tenants() {
            messages.extend(
                self.customer_messages(&r.id, &tenant)
                    .await?
                    .iter()
                    .map(MessageView::from),
            );
        }
        Ok(IncidentView {
            id: r.id,
            title: self
                .open(RecordKind::Incident, &iid, "title", &r.title)
                .await?,
            customer_title: self.customer_title(&r).await?,
            status: r.status,
            discovered_at: r.discovered_at,
            aware_at: r.aware_at,
            breach_types: r.breach_types.clone(),
            nature_and_scope: self
                .open(
                    RecordKind::Incident,
                    &iid,
                    "nature_and_scope",
                    &r.nature_and_scope,
                )
                .await?,
            data_categories: r.data_categories.clone(),
            approx_data_subjects: r.approx_data_subjects,
            approx_records: r.approx_records,
            likely_consequences: self
                .open(
                    RecordKind::Incident,
                    &iid,
                    "likely_consequences",
                    &r.likely_consequences,
                )
                .await?,
            english: self.english_of(&r).await?,
            data_sets: self.open_data_sets(&iid, &r.data_sets).await?,
            measures,
            assessment,
            deadlines,
            notices: r.notices.clone(),
            messages,
            alerts: r.alerts.clone(),
            source_report: r.source_report,
            created_at: r.created_at,
            created_by: r.created_by.clone(),
            closed_at: r.closed_at,
            nis2_significant: r.nis2_significant,
            version,
        })
    }

    async fn customer_view(
        &self,
        r: IncidentRecord,
        tenant: &TenantId,
    ) -> Result<CustomerIncidentView, Error> {
        let iid = r.id.to_string();
        let policy = tenants::policy_for(self.store.as_ref(), tenant).await?;
        let due = policy
            .customer_notification
            .after(r.aware_at)
            .map_err(|e| Error::Internal(e.to_string()))?;
        let notified_at = r
            .notices
            .iter()
            .filter(|n| {
                n.counts()
                    && n.duty
                        == Duty::Customer {
                            tenant: tenant.clone(),
                        }
            })
            .map(|n| n.sent_at)
            .min();
        let messages = self.customer_messages(&r.id, tenant).await?;
        let notice_delivery = messages.last().map(|m| m.state);
        let mut notices = Vec::with_capacity(messages.len());
        for m in &messages {
            notices.push(CustomerNotice {
                subject: m.subject.clone(),
                body: self
                    .open(RecordKind::OutboxMessage, &m.id, "body", &m.body)
                    .await?,
                queued_at: m.queued_at,
                state: m.state,
                state_at: m.state_at,
            });
        }
        let mut measures = Vec::new();
        for m in &r.measures {
            measures.push(CustomerMeasure {
                kind: m.kind,
                what: self
                    .open(RecordKind::Incident, &iid, "measures[].what", &m.what)
                    .await?,
                what_en: self.measure_english(&iid, m).await?,
                status: m.status,
                at: m.at,
            });
        }
        Ok(CustomerIncidentView {
            id: r.id,
            customer_title: self.customer_title(&r).await?,
            status: r.status,
            aware_at: r.aware_at,
            nature_and_scope: self
                .open(
                    RecordKind::Incident,
                    &iid,
                    "nature_and_scope",
                    &r.nature_and_scope,
                )
                .await?,
            data_categories: r.data_categories.clone(),
            approx_data_subjects: r.approx_data_subjects,
            approx_records: r.approx_records,
            likely_consequences: self
                .open(
                    RecordKind::Incident,
                    &iid,
                    "likely_consequences",
                    &r.likely_consequences,
                )
                .await?,
            english: self.english_of(&r).await?,
            measures,
            notification_due: due,
            notified_at,
            notified_within_deadline: notified_at.map(|at| at <= due),
            notice_delivery,
            notices_received: notices,
            data_protection_officer: self.dpo_contact.clone(),
        })
    }

    async fn customer_title(&self, r: &IncidentRecord) -> Result<Option<String>, Error> {
        let iid = r.id.to_string();
        self.open_optional(
            RecordKind::Incident,
            &iid,
            "customer_title",
            r.customer_title.as_ref(),
        )
        .await
    }
}

fn conflict(e: StoreError) -> Error {
    match e {
        StoreError::ConditionFailed(_) | StoreError::TransactionCanceled { .. } => {
            Error::Conflict("the record was changed concurrently; read it again and retry".into())
        }
        other => Error::Store(other),
    }
}
