//! The risk assessment of an incident: the engine run on the file's facts, re-run when they
//! change, overrides with their justification, and the advice for our role.

use std::collections::BTreeSet;

use kernel::crypto::Personal;
use kernel::error::Error;
use kernel::inventory::{DataCategory, RecordKind};
use kernel::rbac::{Access, Permission, Scope};
use kernel::time::Clock;
use serde::Deserialize;

use super::IncidentService;
use super::views::IncidentView;
use crate::assessment::{self, BreachType, Facts, RiskLevel};
use crate::model::*;

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
    /// Art. 34(3)(b): measures since ensure the high risk is no longer likely (claimed).
    #[serde(default)]
    pub high_risk_averted: Option<bool>,
    /// Art. 34(3)(c): telling each person would be disproportionate (claimed).
    #[serde(default)]
    pub disproportionate_effort: Option<bool>,
}

/// The decision as advice for our role in each affected data set (see `AssessmentView::advice`),
/// in English and, line for line, in German.
pub(super) fn advice(
    record: &IncidentRecord,
    decision: &EffectiveDecision,
) -> (Vec<String>, Vec<String>) {
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
        if decision.by_public_communication {
            en.push(
                "For our own data: inform the data subjects by a public communication or a similar \
                 measure that reaches them as effectively (Art. 34(3)(c))."
                    .to_string(),
            );
            de.push(
                "Für unsere eigenen Daten: die Betroffenen durch eine öffentliche Bekanntmachung oder \
                 eine ähnlich wirksame Maßnahme informieren (Art. 34 Abs. 3 lit. c)."
                    .to_string(),
            );
        } else if decision.communicate_to_data_subjects {
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
pub(super) fn file_facts(record: &IncidentRecord, facts: &mut Facts, from_file: &[String]) {
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

impl IncidentService {
    /// Runs the engine again when a fact it read from the file changed; returns the decision
    /// before and after (none when nothing it read changed).
    pub(super) fn reassess_from_file(
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
            high_risk_averted: input.high_risk_averted,
            disproportionate_effort: input.disproportionate_effort,
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
}
