//! Security reports and breach incidents as stored records.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use super::assessment::{BreachType, Decision, Facts, RiskLevel};
pub use super::outbox::DeliveryState;
use kernel::audit::AuditHead;
use kernel::crypto::SealedField;
use kernel::ids::TenantId;
use kernel::inventory::DataCategory;
use kernel::time::Timestamp;

kernel::generated_id!(
    /// A security report from the public intake.
    ReportId,
    "rep"
);
kernel::generated_id!(
    /// A personal data breach incident.
    IncidentId,
    "inc"
);
kernel::generated_id!(
    /// One containment or remediation measure of an incident.
    MeasureId,
    "msr"
);
kernel::id_schema!(ReportId, IncidentId, MeasureId);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Language {
    De,
    En,
}

/// What a reporter may see: received, in review, closed — nothing confidential.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReportStatus {
    Received,
    InReview,
    Closed,
}

impl ReportStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ReportStatus::Received => "received",
            ReportStatus::InReview => "in_review",
            ReportStatus::Closed => "closed",
        }
    }
}

/// Why a report is closed, as its reporter is told: the triage's outcome, or the end of the
/// incident opened from it. Another report's id is never named (it is another reporter's).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClosedBecause {
    Spam,
    Duplicate,
    NotABreach,
    IncidentClosed,
}

impl ClosedBecause {
    /// The reason of a closed report (none while it is open).
    pub fn of(status: ReportStatus, triage: Option<&Triage>) -> Option<Self> {
        if status != ReportStatus::Closed {
            return None;
        }
        Some(match triage? {
            Triage::Spam => Self::Spam,
            Triage::Duplicate { .. } => Self::Duplicate,
            Triage::NotABreach => Self::NotABreach,
            Triage::Incident { .. } => Self::IncidentClosed,
        })
    }
}

/// The security team's triage of a report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case", deny_unknown_fields)]
pub enum Triage {
    Spam,
    Duplicate { of: ReportId },
    NotABreach,
    Incident { incident: IncidentId },
}

/// A stored report. The page's five fields and the contact are sealed (platform key, purpose
/// `reports`); the secret that lets the reporter read the status is kept only as a hash.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReportRecord {
    pub id: ReportId,
    pub received_at: Timestamp,
    pub language: Language,
    pub description: SealedField,
    pub affected_parties: SealedField,
    pub personal_data_kind: SealedField,
    pub scope: SealedField,
    pub impact_assessment: SealedField,
    #[serde(default)]
    pub reporter_contact: Option<SealedField>,
    /// For a vulnerability: the affected product or URL and the steps to reproduce (sealed), and
    /// a CVSS v4.0 vector (checked at intake; no personal data).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub affected_product: Option<SealedField>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub steps_to_reproduce: Option<SealedField>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cvss_vector: Option<String>,
    /// SHA-256 of the reporter's status secret, hex.
    pub secret_digest: String,
    pub status: ReportStatus,
    #[serde(default)]
    pub triage: Option<Triage>,
    #[serde(default)]
    pub triaged_at: Option<Timestamp>,
    /// How many card-like numbers the scrubber removed before sealing.
    #[serde(default)]
    pub scrubbed_card_numbers: usize,
    /// The conversation between the reporter and the security team, oldest first (at most
    /// `kernel::report_limits::MESSAGES_PER_REPORT`).
    #[serde(default)]
    pub messages: Vec<ReportMessage>,
    pub audit: AuditHead,
}

/// Who wrote a message on a report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MessageFrom {
    Reporter,
    SecurityTeam,
}

/// One message on a report, its text sealed like the report's (platform key, purpose
/// `reports`); a team message names the staff member who wrote it (never shown to the reporter).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReportMessage {
    pub at: Timestamp,
    pub from: MessageFrom,
    pub body: SealedField,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub by: Option<String>,
}

/// The incident lifecycle. Only these transitions exist:
/// open → contained → resolved → closed, and open → resolved (contained and resolved at once).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum IncidentStatus {
    Open,
    Contained,
    Resolved,
    Closed,
}

impl IncidentStatus {
    pub fn can_become(self, next: IncidentStatus) -> bool {
        use IncidentStatus::*;
        matches!(
            (self, next),
            (Open, Contained) | (Open, Resolved) | (Contained, Resolved) | (Resolved, Closed)
        )
    }

    pub fn as_str(self) -> &'static str {
        match self {
            IncidentStatus::Open => "open",
            IncidentStatus::Contained => "contained",
            IncidentStatus::Resolved => "resolved",
            IncidentStatus::Closed => "closed",
        }
    }
}

/// Who is responsible for a data set under the GDPR.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// We process the data for a customer (its employees' data): the customer must be told.
    Processor,
    /// Our own data (contracts, website): we notify the authority and, at high risk, the people.
    Controller,
}

/// One affected data set: whose it is and in which role we hold it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AffectedDataSet {
    /// The customer whose data set it is (required for `processor`, absent for our own data).
    #[serde(default)]
    pub tenant: Option<TenantId>,
    pub name: String,
    pub role: Role,
}

/// An affected data set as stored: its name sealed (it may name people or customers).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StoredDataSet {
    #[serde(default)]
    pub tenant: Option<TenantId>,
    pub name: SealedField,
    pub role: Role,
}

/// An approximate count: exact, or a range. Given as a number (`140`, exact) or as
/// `{"min": 100, "max": 200}`; always stored as the range.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Approx {
    pub min: u64,
    pub max: u64,
}

/// The range form, with its own field errors (`/…/max`, an unknown field).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ApproxRange {
    min: u64,
    max: u64,
}

impl<'de> Deserialize<'de> for Approx {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Form;
        impl<'de> serde::de::Visitor<'de> for Form {
            type Value = Approx;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a count (a whole number) or a range {\"min\": …, \"max\": …}")
            }
            fn visit_u64<E: serde::de::Error>(self, exact: u64) -> Result<Approx, E> {
                Ok(Approx {
                    min: exact,
                    max: exact,
                })
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, map: A) -> Result<Approx, A::Error> {
                let ApproxRange { min, max } =
                    Deserialize::deserialize(serde::de::value::MapAccessDeserializer::new(map))?;
                Ok(Approx { min, max })
            }
        }
        deserializer.deserialize_any(Form)
    }
}

impl utoipa::PartialSchema for Approx {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{ObjectBuilder, OneOfBuilder, Type};
        let count = || {
            ObjectBuilder::new()
                .schema_type(Type::Integer)
                .minimum(Some(0))
        };
        OneOfBuilder::new()
            .description(Some("A count: exact (a number) or a range"))
            .item(count().description(Some("Exactly this many")))
            .item(
                ObjectBuilder::new()
                    .property("min", count())
                    .property("max", count())
                    .required("min")
                    .required("max")
                    .additional_properties(Some(
                        utoipa::openapi::schema::AdditionalProperties::FreeForm(false),
                    )),
            )
            .into()
    }
}

impl utoipa::ToSchema for Approx {}

/// What a measure is for; the customer notification groups measures by the page's four headings.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum MeasureKind {
    /// Taken or planned to contain the breach and reduce the risk.
    Containment,
    /// Technical and organisational improvements.
    Improvement,
    /// Changes to incident management.
    IncidentManagement,
    /// Updates to processes.
    Process,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum MeasureStatus {
    Planned,
    InProgress,
    Done,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Measure {
    pub id: MeasureId,
    pub kind: MeasureKind,
    /// What is done (sealed: free text).
    pub what: SealedField,
    /// The same in English, for the English part of notices (sealed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub what_en: Option<SealedField>,
    /// Who is responsible: asked for a role or team, but free text, so sealed.
    pub owner: SealedField,
    pub at: Timestamp,
    pub status: MeasureStatus,
}

/// The engine's decision, and a human's where staff overrode it. Both are kept.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AssessmentRecord {
    pub facts: Facts,
    pub engine: Decision,
    pub assessed_at: Timestamp,
    pub assessed_by: String,
    #[serde(default)]
    pub override_decision: Option<Override>,
    /// The facts read from the incident file rather than given with the assessment
    /// (`breach_types`, `data_categories`, `approx_data_subjects`): they follow the file, and a
    /// change to them there assesses again.
    #[serde(default)]
    pub from_file: Vec<String>,
    /// The engine's decision before the file last changed it, when it did.
    #[serde(default)]
    pub previous_engine: Option<Decision>,
}

impl AssessmentRecord {
    /// The decision in force: the override if there is one.
    pub fn effective(&self) -> EffectiveDecision {
        match &self.override_decision {
            // A human decided on what they knew: not provisional.
            Some(o) => EffectiveDecision {
                risk: o.risk,
                notify_supervisory_authority: o.notify_supervisory_authority,
                communicate_to_data_subjects: o.communicate_to_data_subjects,
                provisional: false,
                by_public_communication: false,
            },
            None => EffectiveDecision {
                risk: self.engine.risk,
                notify_supervisory_authority: self.engine.notify_supervisory_authority,
                communicate_to_data_subjects: self.engine.communicate_to_data_subjects,
                provisional: self.engine.provisional,
                by_public_communication: self.engine.by_public_communication,
            },
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct EffectiveDecision {
    pub risk: RiskLevel,
    pub notify_supervisory_authority: bool,
    pub communicate_to_data_subjects: bool,
    /// The engine's decision while facts that decide it are unknown (see `Decision`).
    #[serde(default)]
    pub provisional: bool,
    /// The data subjects are told by a public communication (Art. 34(3)(c)).
    #[serde(default)]
    pub by_public_communication: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Override {
    pub risk: RiskLevel,
    pub notify_supervisory_authority: bool,
    pub communicate_to_data_subjects: bool,
    /// Why the human decided differently (sealed: free text).
    pub justification: SealedField,
    pub by: String,
    pub at: Timestamp,
}

/// Whom a deadline is owed to.
#[derive(
    Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, utoipa::ToSchema,
)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Duty {
    /// Tell a customer (we are its processor): the page's 48 hours.
    Customer { tenant: TenantId },
    /// Notify the supervisory authority (we are controller, there is a risk): 72 hours.
    SupervisoryAuthority,
    /// Tell the data subjects (we are controller, high risk): without undue delay.
    DataSubjects,
    /// NIS2, an incident marked significant: the early warning to the CSIRT, 24 hours.
    Nis2EarlyWarning,
    /// NIS2: the incident notification, 72 hours.
    Nis2Notification,
    /// NIS2: the final report, one month after the incident notification.
    Nis2FinalReport,
}

impl std::fmt::Display for Duty {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Duty::Customer { tenant } => write!(f, "customer {tenant}"),
            Duty::SupervisoryAuthority => f.write_str("supervisory authority"),
            Duty::DataSubjects => f.write_str("data subjects"),
            Duty::Nis2EarlyWarning => f.write_str("NIS2 early warning"),
            Duty::Nis2Notification => f.write_str("NIS2 incident notification"),
            Duty::Nis2FinalReport => f.write_str("NIS2 final report"),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AlertKind {
    /// The deadline is 12 hours away.
    DueSoon,
    /// The deadline passed without the notification.
    Missed,
    /// A customer notice did not reach the customer (refused, bounced, or its sending was
    /// interrupted): the duty is open again. Raised for each such message.
    Undelivered,
}

/// An alert the deadline watch raised. Raised once per duty and kind, never repeated.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Alert {
    pub duty: Duty,
    pub kind: AlertKind,
    pub due: Timestamp,
    /// The firing of the watch that raised it.
    pub raised_at: Timestamp,
}

/// A notification that went out (or was recorded as sent, for the authority).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SentNotice {
    pub duty: Duty,
    pub sent_at: Timestamp,
    /// Where it went: the outbox message id, or the authority's reference.
    pub reference: String,
    pub languages: Vec<Language>,
    /// For a notice the platform sent: where its message stands. A notice counts only while
    /// this says accepted, delivered or complained. `None`: recorded, made outside the platform.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delivery: Option<DeliveryState>,
    /// The transport's id of the message (SES message id, SMTP reply).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transport_id: Option<String>,
}

impl SentNotice {
    /// Whether this notice meets its duty: recorded, or accepted by the transport and not
    /// bounced.
    pub fn counts(&self) -> bool {
        self.delivery.is_none_or(DeliveryState::counts_as_notice)
    }
}

/// The English wording of an incident's customer-facing free text, each sealed.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StoredEnglish {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer_title: Option<SealedField>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nature_and_scope: Option<SealedField>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub likely_consequences: Option<SealedField>,
}

impl StoredEnglish {
    pub fn is_empty(&self) -> bool {
        self.customer_title.is_none()
            && self.nature_and_scope.is_none()
            && self.likely_consequences.is_none()
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IncidentRecord {
    pub id: IncidentId,
    /// Free text (sealed): a title may name people.
    pub title: SealedField,
    /// The title the affected customers read (sealed); the internal one may say more.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer_title: Option<SealedField>,
    pub status: IncidentStatus,
    pub discovered_at: Timestamp,
    /// The 72-hour (and 48-hour) clocks run from here.
    pub aware_at: Timestamp,
    pub breach_types: BTreeSet<BreachType>,
    /// Nature and scope of the breach (sealed).
    pub nature_and_scope: SealedField,
    pub data_categories: BTreeSet<DataCategory>,
    pub approx_data_subjects: Approx,
    pub approx_records: Approx,
    /// Likely consequences for the people affected (sealed).
    pub likely_consequences: SealedField,
    /// The English wording of what customers read (the file itself is kept in German): the
    /// English part of each notice uses it where given.
    #[serde(default, skip_serializing_if = "StoredEnglish::is_empty")]
    pub english: StoredEnglish,
    pub data_sets: Vec<StoredDataSet>,
    pub measures: Vec<Measure>,
    #[serde(default)]
    pub assessment: Option<AssessmentRecord>,
    #[serde(default)]
    pub notices: Vec<SentNotice>,
    #[serde(default)]
    pub alerts: Vec<Alert>,
    #[serde(default)]
    pub source_report: Option<ReportId>,
    pub created_at: Timestamp,
    pub created_by: String,
    #[serde(default)]
    pub closed_at: Option<Timestamp>,
    /// Marked a significant incident under NIS2: its three reporting clocks run as well.
    #[serde(default)]
    pub nis2_significant: bool,
    pub audit: AuditHead,
}

impl IncidentRecord {
    /// The customers affected as controllers of data we process for them.
    pub fn customer_tenants(&self) -> BTreeSet<TenantId> {
        self.data_sets
            .iter()
            .filter(|d| d.role == Role::Processor)
            .filter_map(|d| d.tenant.clone())
            .collect()
    }

    /// Whether any of our own data (we are controller) is affected.
    pub fn controller_data_affected(&self) -> bool {
        self.data_sets.iter().any(|d| d.role == Role::Controller)
    }

    /// Every tenant named in any data set (for the customer view's isolation check).
    pub fn affects_tenant(&self, tenant: &TenantId) -> bool {
        self.customer_tenants().contains(tenant)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_documented_transitions() {
        use IncidentStatus::*;
        let all = [Open, Contained, Resolved, Closed];
        let allowed: Vec<(IncidentStatus, IncidentStatus)> = all
            .iter()
            .flat_map(|a| all.iter().map(move |b| (*a, *b)))
            .filter(|(a, b)| a.can_become(*b))
            .collect();
        assert_eq!(
            allowed,
            vec![
                (Open, Contained),
                (Open, Resolved),
                (Contained, Resolved),
                (Resolved, Closed)
            ]
        );
    }

    #[test]
    fn a_count_is_a_number_or_a_range_and_is_stored_as_the_range() {
        let exact: Approx = serde_json::from_str("140").expect("a number");
        assert_eq!(exact, Approx { min: 140, max: 140 });
        let range: Approx = serde_json::from_str(r#"{"min": 100, "max": 200}"#).expect("a range");
        assert_eq!(range, Approx { min: 100, max: 200 });
        assert_eq!(
            serde_json::to_value(exact).expect("json"),
            serde_json::json!({ "min": 140, "max": 140 })
        );
        for (bad, says) in [
            (r#""140""#, "a count (a whole number) or a range"),
            ("-3", "a count (a whole number) or a range"),
            (r#"{"min": 1}"#, "missing field `max`"),
            (
                r#"{"min": 1, "max": 2, "about": 3}"#,
                "unknown field `about`",
            ),
        ] {
            let error = serde_json::from_str::<Approx>(bad)
                .expect_err(bad)
                .to_string();
            assert!(error.contains(says), "{bad}: {error}");
        }
    }
}
