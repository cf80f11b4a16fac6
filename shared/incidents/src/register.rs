//! The breach register of Art. 33(5) GDPR: every personal data breach, notified or not, with the
//! facts relating to it, its effects and the remedial action taken — and the decision on
//! notifying with its reasons, which the supervisory authority may ask to see (EDPB Guidelines
//! 9/2022, para. 109: the reasoning for not notifying is documented too). Built from the staff
//! view of each incident, so the register never says more or less than the incident file.

use std::collections::BTreeSet;

use serde::Serialize;

use super::assessment::{BreachType, RiskLevel};
use super::model::{Approx, Duty, IncidentId, IncidentStatus, MeasureKind, MeasureStatus, Role};
use super::service::IncidentView;
use kernel::ids::TenantId;
use kernel::inventory::DataCategory;
use kernel::time::Timestamp;

/// One breach as the register lists it.
#[derive(Debug, Clone, Serialize)]
pub struct RegisterEntry {
    pub incident: IncidentId,
    pub title: String,
    pub status: IncidentStatus,
    pub discovered_at: Timestamp,
    pub aware_at: Timestamp,
    pub closed_at: Option<Timestamp>,
    // The facts.
    pub breach_types: BTreeSet<BreachType>,
    pub nature_and_scope: String,
    pub data_categories: BTreeSet<DataCategory>,
    pub approx_data_subjects: Approx,
    pub approx_records: Approx,
    /// Processor (a customer's data), controller (our own), or both.
    pub our_roles: BTreeSet<Role>,
    // Its effects.
    pub likely_consequences: String,
    // The remedial action taken.
    pub remedial_action: Vec<RemedialAction>,
    // The decision on notifying, with its reasons.
    /// None while the incident is not assessed.
    pub risk: Option<RiskLevel>,
    /// The decision waits for facts not known yet (its reasons say which).
    pub decision_provisional: bool,
    pub decision_reasons: Vec<String>,
    /// A human override of the engine's decision, with its written justification.
    pub override_justification: Option<String>,
    pub supervisory_authority_notified: Option<Notified>,
    pub data_subjects_told: Option<Notified>,
    pub customers_told: Vec<CustomerTold>,
    /// Whether anyone was notified at all (the register lists the breaches nobody was told of
    /// as well).
    pub notified: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct RemedialAction {
    pub kind: MeasureKind,
    pub what: String,
    pub status: MeasureStatus,
    pub at: Timestamp,
}

#[derive(Debug, Clone, Serialize)]
pub struct Notified {
    pub at: Timestamp,
    /// The authority's reference, or the outbox message.
    pub reference: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct CustomerTold {
    pub tenant: TenantId,
    pub at: Timestamp,
}

impl RegisterEntry {
    pub fn of(view: &IncidentView) -> Self {
        let notified = |wanted: &Duty| {
            view.notices
                .iter()
                .filter(|n| &n.duty == wanted)
                .min_by_key(|n| n.sent_at)
                .map(|n| Notified {
                    at: n.sent_at,
                    reference: n.reference.clone(),
                })
        };
        let customers_told: Vec<CustomerTold> = view
            .notices
            .iter()
            .filter_map(|n| match &n.duty {
                Duty::Customer { tenant } => Some(CustomerTold {
                    tenant: tenant.clone(),
                    at: n.sent_at,
                }),
                _ => None,
            })
            .collect();
        let supervisory_authority_notified = notified(&Duty::SupervisoryAuthority);
        let data_subjects_told = notified(&Duty::DataSubjects);
        Self {
            incident: view.id,
            title: view.title.clone(),
            status: view.status,
            discovered_at: view.discovered_at,
            aware_at: view.aware_at,
            closed_at: view.closed_at,
            breach_types: view.breach_types.clone(),
            nature_and_scope: view.nature_and_scope.clone(),
            data_categories: view.data_categories.clone(),
            approx_data_subjects: view.approx_data_subjects,
            approx_records: view.approx_records,
            our_roles: view.data_sets.iter().map(|d| d.role).collect(),
            likely_consequences: view.likely_consequences.clone(),
            remedial_action: view
                .measures
                .iter()
                .map(|m| RemedialAction {
                    kind: m.kind,
                    what: m.what.clone(),
                    status: m.status,
                    at: m.at,
                })
                .collect(),
            risk: view.assessment.as_ref().map(|a| a.effective.risk),
            decision_provisional: view
                .assessment
                .as_ref()
                .is_some_and(|a| a.effective.provisional),
            decision_reasons: view
                .assessment
                .as_ref()
                .map(|a| a.engine.reasons.clone())
                .unwrap_or_default(),
            override_justification: view
                .assessment
                .as_ref()
                .and_then(|a| a.override_decision.as_ref())
                .map(|o| o.justification.clone()),
            notified: supervisory_authority_notified.is_some()
                || data_subjects_told.is_some()
                || !customers_told.is_empty(),
            supervisory_authority_notified,
            data_subjects_told,
            customers_told,
        }
    }
}
