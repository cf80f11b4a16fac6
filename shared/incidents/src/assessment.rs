//! The Art. 33/34 risk assessment: a documented rule engine over an incident's facts.
//!
//! It follows the EDPB's Guidelines 9/2022 on personal data breach notification (risk is judged
//! from the type of breach, the nature, sensitivity and volume of the data, ease of
//! identification, severity of consequences, special characteristics of the people affected and
//! the number of people) and the structure of ENISA's severity method (a data-processing-context
//! score, raised or lowered by the circumstances of the breach). The cases of the EDPB's
//! Guidelines 01/2021 are its table tests, in our own reading.
//!
//! The rules, in order:
//! 1. **Neutralised dimensions.** A confidentiality breach is neutralised when the data was
//!    encrypted with a state-of-the-art method and the key is not compromised (unintelligible;
//!    Art. 34(3)(a)), or when it went only to a trusted recipient and was not further disclosed.
//!    An availability breach is neutralised when a backup restores the data within 24 hours and
//!    the data is not of the most sensitive kind. An integrity breach is neutralised when a
//!    backup restores the correct state. If every breach type present is neutralised, the breach
//!    is unlikely to result in a risk: document it, notify no one (Art. 33(1), last part).
//! 2. **Sensitivity** (ENISA's data processing context): simple data 1 (contact, identification,
//!    other); behavioural 2 (employment, location, communication content); financial 3
//!    (financial, national id, credentials); sensitive 4 (health, Art. 9 special categories,
//!    children). One step more for vulnerable people or children (capped at 4).
//! 3. **Circumstances** of the dimensions not neutralised: confirmed or likely exfiltration +1;
//!    unavailability beyond 72 hours or without a restorable backup +1; an integrity breach
//!    without a restorable backup +1; 10 000 or more people affected +1.
//! 4. **Level**: sensitivity + circumstances ≤ 2 → risk (notify the supervisory authority within
//!    72 hours); ≥ 3 → high risk (also tell the data subjects without undue delay, Art. 34(1)).

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use kernel::inventory::DataCategory;

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
pub enum BreachType {
    Confidentiality,
    Integrity,
    Availability,
}

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Exfiltration {
    Confirmed,
    Likely,
    Unlikely,
    None,
}

/// The facts the engine decides on. Only `breach_types` is required; unknown fields are refused.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Facts {
    pub breach_types: BTreeSet<BreachType>,
    #[serde(default)]
    pub data_categories: BTreeSet<DataCategory>,
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
    pub exfiltration: Option<Exfiltration>,
    #[serde(default)]
    pub recipient_trusted: Option<bool>,
    #[serde(default)]
    pub vulnerable_data_subjects: Option<bool>,
}

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum RiskLevel {
    /// Unlikely to result in a risk to the rights and freedoms of natural persons.
    None,
    Risk,
    High,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Decision {
    pub risk: RiskLevel,
    pub notify_supervisory_authority: bool,
    pub communicate_to_data_subjects: bool,
    /// Why, in English (the register and the API's one language).
    pub reasons: Vec<String>,
    /// The same reasons in German, line for line (absent in decisions made before they
    /// were kept; pages then show the English ones).
    #[serde(default)]
    pub reasons_de: Vec<String>,
}

/// The engine's reasons in both languages, pushed together so they stay line for line.
#[derive(Default)]
struct Reasons {
    en: Vec<String>,
    de: Vec<String>,
}

impl Reasons {
    fn say(&mut self, en: impl Into<String>, de: impl Into<String>) {
        self.en.push(en.into());
        self.de.push(de.into());
    }
}

/// A data category's name as the engine's reasons quote it, in German.
fn category_de(category: DataCategory) -> &'static str {
    crate::notice::category(category, crate::model::Language::De)
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FactsError {
    #[error("breach_types must name at least one of confidentiality, integrity, availability")]
    NoBreachType,
    #[error("unavailability_hours must be a non-negative number")]
    BadHours,
}

/// The engine's sensitivity score of a data category (ENISA data processing context).
pub fn sensitivity(category: DataCategory) -> u8 {
    use DataCategory::*;
    match category {
        Contact | Identification | Other => 1,
        Employment | Location | CommunicationContent => 2,
        Financial | NationalId | Credentials => 3,
        Health | SpecialCategory | Children => 4,
    }
}

const LARGE_SCALE: u64 = 10_000;

impl Facts {
    pub fn validate(&self) -> Result<(), FactsError> {
        if self.breach_types.is_empty() {
            return Err(FactsError::NoBreachType);
        }
        if self
            .unavailability_hours
            .is_some_and(|h| !h.is_finite() || h < 0.0)
        {
            return Err(FactsError::BadHours);
        }
        Ok(())
    }
}

/// Assesses `facts`. Pure: the same facts always give the same decision and reasons.
pub fn assess(facts: &Facts) -> Result<Decision, FactsError> {
    facts.validate()?;
    let mut reasons = Reasons::default();
    let flag = |v: Option<bool>| v.unwrap_or(false);
    let max_sensitivity = facts
        .data_categories
        .iter()
        .map(|c| sensitivity(*c))
        .max()
        .unwrap_or(1);
    let most_sensitive = max_sensitivity >= 4;
    let restorable = flag(facts.backup_restorable);

    // 1. Which breach dimensions still carry a risk.
    let mut open = Vec::new();
    for breach in &facts.breach_types {
        let neutralised = match breach {
            BreachType::Confidentiality => {
                if flag(facts.encrypted_state_of_the_art) && !flag(facts.key_compromised) {
                    reasons.say(
                        "Confidentiality: the data was encrypted with a state-of-the-art method and the key is not \
                         compromised, so it is unintelligible to anyone who obtained it (Art. 34(3)(a) GDPR).",
                        "Vertraulichkeit: Die Daten waren nach dem Stand der Technik verschlüsselt und der Schlüssel \
                         ist nicht kompromittiert; für Unbefugte sind sie unverständlich (Art. 34 Abs. 3 lit. a DSGVO).",
                    );
                    true
                } else if flag(facts.recipient_trusted)
                    && matches!(
                        facts.exfiltration,
                        None | Some(Exfiltration::None | Exfiltration::Unlikely)
                    )
                {
                    reasons.say(
                        "Confidentiality: the data reached only a trusted recipient and was not disclosed further.",
                        "Vertraulichkeit: Die Daten erreichten nur einen vertrauenswürdigen Empfänger und wurden \
                         nicht weitergegeben.",
                    );
                    true
                } else {
                    false
                }
            }
            BreachType::Availability => {
                let short = facts.unavailability_hours.is_some_and(|h| h <= 24.0);
                if restorable && short && !most_sensitive {
                    reasons.say(
                        "Availability: a backup restored the data within 24 hours and the data is not of the most \
                         sensitive kind, so the temporary unavailability has no lasting consequence.",
                        "Verfügbarkeit: Eine Sicherung stellte die Daten binnen 24 Stunden wieder her, und sie sind \
                         nicht von der empfindlichsten Art; die vorübergehende Nichtverfügbarkeit hat keine \
                         bleibenden Folgen.",
                    );
                    true
                } else {
                    false
                }
            }
            BreachType::Integrity => {
                if restorable {
                    reasons.say(
                        "Integrity: a backup restores the correct state of the data.",
                        "Integrität: Eine Sicherung stellt den richtigen Stand der Daten wieder her.",
                    );
                    true
                } else {
                    false
                }
            }
        };
        if !neutralised {
            open.push(*breach);
        }
    }
    if open.is_empty() {
        reasons.say(
            "The breach is unlikely to result in a risk to the rights and freedoms of natural persons: document it \
             internally (Art. 33(5)); no notification to the supervisory authority and no communication to data \
             subjects.",
            "Die Verletzung führt voraussichtlich nicht zu einem Risiko für die Rechte und Freiheiten natürlicher \
             Personen: intern dokumentieren (Art. 33 Abs. 5); keine Meldung an die Aufsichtsbehörde und keine \
             Benachrichtigung der Betroffenen.",
        );
        return Ok(Decision {
            risk: RiskLevel::None,
            notify_supervisory_authority: false,
            communicate_to_data_subjects: false,
            reasons: reasons.en,
            reasons_de: reasons.de,
        });
    }

    // 2. Sensitivity of the data.
    let vulnerable = flag(facts.vulnerable_data_subjects)
        || facts.data_categories.contains(&DataCategory::Children);
    let mut score = max_sensitivity;
    let kinds: Vec<String> = facts
        .data_categories
        .iter()
        .map(|c| {
            serde_json::to_value(c)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default()
        })
        .collect();
    let kinds_de: Vec<&str> = facts
        .data_categories
        .iter()
        .map(|c| category_de(*c))
        .collect();
    reasons.say(
        format!(
            "Sensitivity {max_sensitivity} of 4 from the data categories ({}).",
            if kinds.is_empty() {
                "none named: assumed simple".to_string()
            } else {
                kinds.join(", ")
            }
        ),
        format!(
            "Empfindlichkeit {max_sensitivity} von 4 aus den Datenkategorien ({}).",
            if kinds_de.is_empty() {
                "keine genannt: als einfach angenommen".to_string()
            } else {
                kinds_de.join(", ")
            }
        ),
    );
    if vulnerable && score < 4 {
        score += 1;
        reasons.say(
            "Vulnerable people or children are affected: one step more.",
            "Schutzbedürftige Personen oder Kinder sind betroffen: eine Stufe mehr.",
        );
    }

    // 3. Circumstances of the breach.
    if open.contains(&BreachType::Confidentiality) {
        match facts.exfiltration {
            Some(Exfiltration::Confirmed) => {
                score += 1;
                reasons.say(
                    "Confidentiality: the data is confirmed to have reached unauthorised parties: +1.",
                    "Vertraulichkeit: Die Daten haben nachweislich Unbefugte erreicht: +1.",
                );
            }
            Some(Exfiltration::Likely) => {
                score += 1;
                reasons.say(
                    "Confidentiality: the data has likely reached unauthorised parties: +1.",
                    "Vertraulichkeit: Die Daten haben wahrscheinlich Unbefugte erreicht: +1.",
                );
            }
            _ => reasons.say(
                "Confidentiality: unauthorised access without likely further disclosure; the loss of confidentiality \
                 is a risk in itself.",
                "Vertraulichkeit: unbefugter Zugriff ohne wahrscheinliche Weitergabe; der Verlust der \
                 Vertraulichkeit ist für sich ein Risiko.",
            ),
        }
    }
    if open.contains(&BreachType::Availability) {
        let long = facts.unavailability_hours.is_none_or(|h| h > 72.0);
        if !restorable || long {
            score += 1;
            reasons.say(
                "Availability: the data cannot be restored from a backup or stays unavailable beyond 72 hours: +1.",
                "Verfügbarkeit: Die Daten lassen sich nicht aus einer Sicherung wiederherstellen oder bleiben \
                 länger als 72 Stunden nicht verfügbar: +1.",
            );
        } else {
            reasons.say(
                "Availability: temporary unavailability of data people depend on.",
                "Verfügbarkeit: vorübergehend nicht verfügbare Daten, auf die Menschen angewiesen sind.",
            );
        }
    }
    if open.contains(&BreachType::Integrity) {
        score += 1;
        reasons.say(
            "Integrity: altered data cannot be restored to its correct state: +1.",
            "Integrität: Veränderte Daten lassen sich nicht in ihren richtigen Stand zurückversetzen: +1.",
        );
    }
    if facts.approx_data_subjects.is_some_and(|n| n >= LARGE_SCALE) {
        score += 1;
        reasons.say(
            format!("Large scale: {LARGE_SCALE} or more people affected: +1."),
            format!("Großer Umfang: {LARGE_SCALE} oder mehr Personen betroffen: +1."),
        );
    }

    // 4. Level and duties.
    let risk = if score >= 3 {
        RiskLevel::High
    } else {
        RiskLevel::Risk
    };
    reasons.say(
        format!(
            "Score {score}: {}.",
            match risk {
                RiskLevel::High => "high risk (3 or more)",
                _ => "a risk, but not a high one (2 or less)",
            }
        ),
        format!(
            "Wert {score}: {}.",
            match risk {
                RiskLevel::High => "hohes Risiko (3 oder mehr)",
                _ => "ein Risiko, aber kein hohes (2 oder weniger)",
            }
        ),
    );
    reasons.say(
        "Notify the supervisory authority without undue delay and within 72 hours of becoming aware (Art. 33(1)).",
        "Der Aufsichtsbehörde unverzüglich und binnen 72 Stunden nach Bekanntwerden melden (Art. 33 Abs. 1).",
    );
    if risk == RiskLevel::High {
        reasons.say(
            "Communicate the breach to the data subjects without undue delay (Art. 34(1)).",
            "Die Betroffenen unverzüglich benachrichtigen (Art. 34 Abs. 1).",
        );
    } else {
        reasons.say(
            "No communication to the data subjects is required (Art. 34(1): only for a high risk).",
            "Eine Benachrichtigung der Betroffenen ist nicht nötig (Art. 34 Abs. 1: nur bei hohem Risiko).",
        );
    }
    Ok(Decision {
        risk,
        notify_supervisory_authority: true,
        communicate_to_data_subjects: risk == RiskLevel::High,
        reasons: reasons.en,
        reasons_de: reasons.de,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use BreachType::*;
    use DataCategory::*;

    fn facts(breach: &[BreachType], categories: &[DataCategory]) -> Facts {
        Facts {
            breach_types: breach.iter().copied().collect(),
            data_categories: categories.iter().copied().collect(),
            ..Facts::default()
        }
    }

    fn check(name: &str, f: Facts, risk: RiskLevel, authority: bool, subjects: bool) {
        let d = assess(&f).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(
            (
                d.risk,
                d.notify_supervisory_authority,
                d.communicate_to_data_subjects
            ),
            (risk, authority, subjects),
            "{name}: {:#?}",
            d.reasons
        );
        assert!(!d.reasons.is_empty());
        assert_eq!(
            d.reasons.len(),
            d.reasons_de.len(),
            "{name}: German line for line"
        );
    }

    // The cases of EDPB Guidelines 01/2021 on examples regarding personal data breach
    // notification, as we read them: our facts, and the outcome the guidelines reach.

    #[test]
    fn edpb_case_01_ransomware_with_proper_backup_and_without_exfiltration() {
        let mut f = facts(&[Availability], &[Contact, Employment]);
        f.backup_restorable = Some(true);
        f.unavailability_hours = Some(6.0);
        f.exfiltration = Some(Exfiltration::None);
        check("case 01", f, RiskLevel::None, false, false);
    }

    #[test]
    fn edpb_case_02_ransomware_without_proper_backup() {
        let mut f = facts(&[Availability], &[Contact, Identification]);
        f.backup_restorable = Some(false);
        f.unavailability_hours = Some(120.0);
        f.exfiltration = Some(Exfiltration::None);
        check("case 02", f, RiskLevel::Risk, true, false);
    }

    #[test]
    fn edpb_case_03_ransomware_with_backup_in_a_hospital() {
        let mut f = facts(&[Availability], &[Health, Identification]);
        f.backup_restorable = Some(true);
        f.unavailability_hours = Some(48.0);
        f.exfiltration = Some(Exfiltration::None);
        check("case 03", f, RiskLevel::High, true, true);
    }

    #[test]
    fn edpb_case_04_ransomware_without_backup_and_with_exfiltration() {
        let mut f = facts(&[Availability, Confidentiality], &[Contact, Financial]);
        f.backup_restorable = Some(false);
        f.exfiltration = Some(Exfiltration::Confirmed);
        check("case 04", f, RiskLevel::High, true, true);
    }

    #[test]
    fn edpb_case_05_exfiltration_of_job_application_data() {
        let mut f = facts(&[Confidentiality], &[Identification, Contact, Employment]);
        f.exfiltration = Some(Exfiltration::Confirmed);
        check("case 05", f, RiskLevel::High, true, true);
    }

    #[test]
    fn edpb_case_06_exfiltration_of_hashed_passwords() {
        let mut f = facts(&[Confidentiality], &[Credentials]);
        f.encrypted_state_of_the_art = Some(true); // salted state-of-the-art hashes
        f.key_compromised = Some(false);
        f.exfiltration = Some(Exfiltration::Confirmed);
        check("case 06", f, RiskLevel::None, false, false);
    }

    #[test]
    fn edpb_case_07_credential_stuffing_on_a_banking_website() {
        let mut f = facts(
            &[Confidentiality],
            &[Financial, Credentials, Identification],
        );
        f.exfiltration = Some(Exfiltration::Confirmed);
        check("case 07", f, RiskLevel::High, true, true);
    }

    #[test]
    fn edpb_case_08_exfiltration_of_business_data_by_a_former_employee() {
        let mut f = facts(&[Confidentiality], &[Contact]);
        f.exfiltration = Some(Exfiltration::Confirmed);
        check("case 08", f, RiskLevel::Risk, true, false);
    }

    #[test]
    fn edpb_case_09_accidental_transmission_to_a_trusted_third_party() {
        let mut f = facts(&[Confidentiality], &[Contact, Financial]);
        f.recipient_trusted = Some(true);
        f.exfiltration = Some(Exfiltration::None);
        check("case 09", f, RiskLevel::None, false, false);
    }

    #[test]
    fn edpb_case_10_stolen_device_with_encrypted_data() {
        let mut f = facts(&[Confidentiality, Availability], &[Contact, Identification]);
        f.encrypted_state_of_the_art = Some(true);
        f.key_compromised = Some(false);
        f.backup_restorable = Some(true);
        f.unavailability_hours = Some(0.0);
        check("case 10", f, RiskLevel::None, false, false);
    }

    #[test]
    fn edpb_case_11_stolen_device_with_unencrypted_data() {
        let mut f = facts(&[Confidentiality, Availability], &[Contact, Identification]);
        f.encrypted_state_of_the_art = Some(false);
        f.backup_restorable = Some(false);
        f.exfiltration = Some(Exfiltration::Likely);
        f.approx_data_subjects = Some(100_000);
        check("case 11", f, RiskLevel::High, true, true);
    }

    #[test]
    fn edpb_case_12_stolen_paper_files_with_health_data() {
        let mut f = facts(&[Confidentiality, Availability], &[Health, Identification]);
        f.exfiltration = Some(Exfiltration::Likely);
        f.backup_restorable = Some(false);
        check("case 12", f, RiskLevel::High, true, true);
    }

    #[test]
    fn edpb_case_14_highly_confidential_data_mailed_by_mistake() {
        let mut f = facts(&[Confidentiality], &[NationalId, Identification]);
        f.exfiltration = Some(Exfiltration::Confirmed);
        check("case 14", f, RiskLevel::High, true, true);
    }

    #[test]
    fn a_compromised_key_does_not_protect() {
        let mut f = facts(&[Confidentiality], &[Contact]);
        f.encrypted_state_of_the_art = Some(true);
        f.key_compromised = Some(true);
        f.exfiltration = Some(Exfiltration::Confirmed);
        check("key compromised", f, RiskLevel::Risk, true, false);
    }

    #[test]
    fn vulnerable_people_raise_the_level() {
        let mut f = facts(&[Confidentiality], &[Contact]);
        f.exfiltration = Some(Exfiltration::Confirmed);
        f.vulnerable_data_subjects = Some(true);
        check("vulnerable", f, RiskLevel::High, true, true);
    }

    #[test]
    fn facts_must_name_a_breach_type_and_sane_hours() {
        assert_eq!(assess(&Facts::default()), Err(FactsError::NoBreachType));
        let mut f = facts(&[Availability], &[]);
        f.unavailability_hours = Some(-1.0);
        assert_eq!(assess(&f), Err(FactsError::BadHours));
    }

    /// Deserialises `json` as [`Facts`], expecting a data error whose message contains `why`.
    fn refused(json: &str, why: &str) {
        let result = serde_json::from_str::<Facts>(json);
        assert!(
            matches!(&result, Err(e) if e.classify() == serde_json::error::Category::Data
                && e.to_string().contains(why)),
            "{json}: {result:?}"
        );
    }

    #[test]
    fn unknown_fields_and_values_are_refused() {
        refused(
            r#"{"breach_types":["confidentiality"],"colour":"red"}"#,
            "unknown field `colour`",
        );
        refused(
            r#"{"breach_types":["espionage"]}"#,
            "unknown variant `espionage`",
        );
        refused(
            r#"{"breach_types":["integrity"],"data_categories":["dna"]}"#,
            "unknown variant `dna`",
        );
        refused(
            r#"{"breach_types":["integrity"],"exfiltration":"maybe"}"#,
            "unknown variant `maybe`",
        );
        refused(
            r#"{"data_categories":["health"]}"#,
            "missing field `breach_types`",
        );
    }
}
