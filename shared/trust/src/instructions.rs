//! The customer's documented instructions (Art. 28(3)(a) GDPR) and the processor's record of
//! processing activities for it (Art. 30(2) GDPR), both generated from what is configured — the
//! tenant's contract terms, its settings, the inventory of stored records and the
//! sub-processors — so they say exactly what the platform does for that customer.
//!
//! The instructions are versioned by acknowledgement: a customer admin confirms the document as
//! it stands (kept with its SHA-256 digest, who and when); when the configuration changes, the
//! page shows that the current document differs from the last one acknowledged.

use std::sync::Arc;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use auth::AuthService;
use incidents::model::Language;
use incidents::notice::category;
use kernel::error::Error;
use kernel::ids::TenantId;
use kernel::inventory::GuardedStore;
use kernel::inventory::{Holding, INVENTORY, RecordKind};
use kernel::policy::{DownWhen, EffectivePolicy, UnknownTreatment};
use kernel::rbac::{Access, Permission, Scope};
use kernel::store::{Condition, Item, ItemKey, Query, Store, StoreError, query_all};
use kernel::tenants;
use kernel::time::{Clock, Timestamp};

use crate::evidence::{basis_points, hours, period};
use crate::statement::Text;
use crate::subprocessors::SubProcessor;

const VERSION_PREFIX: &str = "INSTRUCTIONS#";

/// One line of the document: what, and how it is set.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Line {
    pub label: Text,
    pub value: Text,
}

fn line(label: Text, value: Text) -> Line {
    Line { label, value }
}

/// The instructions as configured now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Instructions {
    pub tenant: TenantId,
    pub company: String,
    /// What the platform processes the company's personal data for.
    pub purposes: Vec<Text>,
    /// What the company configured.
    pub features: Vec<Line>,
    /// The contract's terms as they apply (the page's figures unless the contract differs).
    pub terms: Vec<Line>,
}

impl Instructions {
    /// SHA-256 over the document's JSON: the version's identity.
    pub fn digest(&self) -> Result<String, Error> {
        let json = serde_json::to_vec(self).map_err(|e| Error::Internal(e.to_string()))?;
        Ok(kernel::hex::encode(&Sha256::digest(&json)))
    }
}

/// A version acknowledged.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Acknowledgement {
    pub version: u32,
    pub digest: String,
    pub document: Instructions,
    pub acknowledged_by: String,
    pub acknowledged_at: Timestamp,
}

/// The processor's record of processing activities for one controller (Art. 30(2) GDPR).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProcessingRecord {
    pub generated_at: Timestamp,
    /// (a) the processor and the controller, and the processor's DPO.
    pub processor: String,
    pub processor_contact: String,
    pub data_protection_officer: String,
    pub controller: String,
    pub controller_id: TenantId,
    /// (b) the categories of processing carried out on the controller's behalf.
    pub categories: Vec<RecordCategory>,
    /// (c) transfers to third countries, with their safeguards (the sub-processors).
    pub transfers: Vec<Transfer>,
    /// (d) the technical and organisational security measures (Art. 32).
    pub security_measures: Vec<Text>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RecordCategory {
    /// The kind of stored record (the inventory's).
    pub kind: RecordKind,
    pub processing: String,
    pub data_categories: Text,
    pub deleted: Text,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Transfer {
    pub recipient: String,
    pub location: Text,
    pub safeguard: Text,
}

fn yes_no(value: bool) -> Text {
    if value {
        Text::new("ja", "yes")
    } else {
        Text::new("nein", "no")
    }
}

/// The instructions a tenant's configuration amounts to.
pub fn instructions(
    tenant: &tenants::TenantRecord,
    policy: &EffectivePolicy,
    custom_roles: &[kernel::rbac::CustomRole],
) -> Instructions {
    let purposes = vec![
        Text::new(
            "Konten und Anmeldung der Nutzer des Kunden (Name, E-Mail-Adresse, zweiter Faktor) und ihre Berechtigungen",
            "Accounts and sign-in of the customer's users (name, e-mail address, second factor) and their permissions",
        ),
        Text::new(
            "Behandlung von Sicherheitsvorfällen, die Daten des Kunden betreffen, und die Information des Kunden",
            "Handling security incidents that affect the customer's data, and informing the customer",
        ),
        Text::new(
            "Messung der Verfügbarkeit, Gutschriftsanträge und Gutschriften",
            "Measuring availability, credit claims and credits",
        ),
        Text::new(
            "Aufbewahrung und Löschung nach den vereinbarten Fristen, mit Löschbescheinigungen",
            "Retention and deletion within the agreed periods, with deletion certificates",
        ),
    ];
    let roles = if custom_roles.is_empty() {
        Text::new("keine", "none")
    } else {
        let names: Vec<String> = custom_roles.iter().map(|r| r.name.clone()).collect();
        let joined = names.join(", ");
        Text::new(joined.clone(), joined)
    };
    let features = vec![
        line(
            Text::new(
                "Passkeys für alle Nutzer verpflichtend",
                "Passkeys required for every user",
            ),
            yes_no(tenant.passkeys_required),
        ),
        line(
            Text::new(
                "Kontakt für Datenschutzverletzungen hinterlegt",
                "Breach contact on file",
            ),
            yes_no(tenant.contact_email.is_some()),
        ),
        line(Text::new("Eigene Rollen", "Custom roles"), roles),
    ];
    let unknown = match policy.sla_unknown_treatment {
        UnknownTreatment::NotDowntime => Text::new("nicht als Ausfall", "not as downtime"),
        UnknownTreatment::Downtime => Text::new("als Ausfall", "as downtime"),
    };
    let down_when = match policy.sla_down_when {
        DownWhen::BothVantages => Text::new(
            "wenn beide Messpunkte ihn sehen",
            "when both vantage points see it",
        ),
        DownWhen::EitherVantage => Text::new(
            "wenn einer der Messpunkte ihn sieht",
            "when either vantage point sees it",
        ),
    };
    let terms = vec![
        line(
            Text::new(
                "Information bei Datenschutzverletzungen",
                "Notice of a personal data breach",
            ),
            hours(policy.customer_notification),
        ),
        line(
            Text::new(
                "Löschung nach Vertragsende",
                "Deletion after the service ends",
            ),
            period(policy.deletion_after_service_end),
        ),
        line(
            Text::new(
                "Löschung verbleibender Kopien danach",
                "Deletion of remaining copies after that",
            ),
            period(policy.remaining_copies_retention),
        ),
        line(
            Text::new("Aufbewahrung von Sicherungen", "Backup retention"),
            period(policy.backup_retention),
        ),
        line(
            Text::new(
                "Zugesagte monatliche Verfügbarkeit",
                "Promised monthly uptime",
            ),
            basis_points(policy.monthly_uptime_target),
        ),
        line(
            Text::new("Gutschrift darunter", "Credit below it"),
            basis_points(policy.sla_credit),
        ),
        line(
            Text::new(
                "Frist für Gutschriftsanträge nach Monatsende",
                "Claim window after the month",
            ),
            period(policy.sla_claim_window),
        ),
        line(
            Text::new(
                "Minuten ohne Messung zählen",
                "Minutes without a measurement count",
            ),
            unknown,
        ),
        line(
            Text::new("Eine Minute gilt als Ausfall", "A minute counts as down"),
            down_when,
        ),
    ];
    Instructions {
        tenant: tenant.id.clone(),
        company: tenant.name.clone(),
        purposes,
        features,
        terms,
    }
}

/// When records of a holding are deleted, from the tenant's effective periods.
fn holding_words(holding: Holding, policy: &EffectivePolicy) -> Text {
    match holding {
        Holding::Primary => {
            let p = period(policy.deletion_after_service_end);
            Text::new(
                format!("{} nach Vertragsende", p.de),
                format!("{} after the service ends", p.en),
            )
        }
        Holding::Copy => {
            let first = period(policy.deletion_after_service_end);
            let then = period(policy.remaining_copies_retention);
            Text::new(
                format!("{} nach Vertragsende und weitere {}", first.de, then.de),
                format!(
                    "{} after the service ends and a further {}",
                    first.en, then.en
                ),
            )
        }
        Holding::KeyMaterial => Text::new(
            "vernichtet mit den Daten, die sie schützen",
            "destroyed with the data they protect",
        ),
        Holding::Platform | Holding::Bookkeeping => Text::new(
            "nach den gesetzlichen Aufbewahrungspflichten",
            "under the statutory retention duties",
        ),
    }
}

/// The record of processing for one controller: the inventory's tenant records holding personal
/// data, the sub-processors' transfers, the security measures in force.
pub fn processing_record(
    tenant: &tenants::TenantRecord,
    policy: &EffectivePolicy,
    subprocessors: &[SubProcessor],
    dpo_contact: &str,
    security_contact: &str,
    now: Timestamp,
) -> ProcessingRecord {
    let categories = INVENTORY
        .iter()
        .filter(|spec| spec.tenant_scoped && !spec.personal.is_empty())
        .map(|spec| {
            let mut kinds: Vec<_> = spec.personal.iter().map(|f| f.category).collect();
            kinds.sort();
            kinds.dedup();
            let words = |lang| {
                kinds
                    .iter()
                    .map(|c| category(*c, lang))
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            let deleted = holding_words(spec.holding, policy);
            RecordCategory {
                kind: spec.kind,
                processing: spec.description.to_string(),
                data_categories: Text::new(words(Language::De), words(Language::En)),
                deleted,
            }
        })
        .collect();
    let transfers = subprocessors
        .iter()
        .map(|p| Transfer {
            recipient: p.name.clone(),
            location: p.location.clone(),
            safeguard: p.transfer.clone(),
        })
        .collect();
    let backups = period(policy.backup_retention);
    let security_measures = vec![
        Text::new(
            "Personenbezogene Daten werden je Feld mit AES-256-GCM verschlüsselt gespeichert; Schlüssel je Kunde, geschützt durch AWS KMS mit automatischer Rotation.",
            "Personal data is stored encrypted field by field with AES-256-GCM; keys per customer, protected by AWS KMS with automatic rotation.",
        ),
        Text::new(
            "Übertragung nur per TLS (mindestens 1.2), HSTS.",
            "Transport only over TLS (1.2 or later), HSTS.",
        ),
        Text::new(
            "Rollenbasierte Zugriffskontrolle mit feingranularen Berechtigungen; Mitarbeitende nur mit zweitem Faktor und nach dem Prinzip der geringsten Rechte.",
            "Role-based access control with fine-grained permissions; staff only with a second factor and least privilege.",
        ),
        Text::new(
            "Web Application Firewall, Ratenbegrenzung und Schutz gegen das Durchprobieren von Passwörtern vor der Anwendung.",
            "A web application firewall, rate limiting and password-guessing defence in front of the application.",
        ),
        Text::new(
            format!(
                "Verschlüsselte Sicherungen, {} aufbewahrt, in der EU.",
                backups.de
            ),
            format!("Encrypted backups, kept {}, in the EU.", backups.en),
        ),
        Text::new(
            "Jede Änderung an Vorfällen, Löschungen, Mandanten und Konten in einer manipulationssicheren Prüfkette.",
            "Every change to incidents, deletions, tenants and accounts in a tamper-evident audit chain.",
        ),
        Text::new(
            "Getrennte Umgebungen für Entwicklung, Test und Produktion; Geheimnisse nie im Code.",
            "Separate environments for development, test and production; secrets never in code.",
        ),
    ];
    ProcessingRecord {
        generated_at: now,
        processor: "regrooter GmbH".into(),
        processor_contact: security_contact.trim_start_matches("mailto:").to_string(),
        data_protection_officer: dpo_contact.to_string(),
        controller: tenant.name.clone(),
        controller_id: tenant.id.clone(),
        categories,
        transfers,
        security_measures,
    }
}

fn version_key(tenant: &TenantId, version: u32) -> Result<ItemKey, Error> {
    Ok(ItemKey::new(
        ItemKey::tenant_partition(tenant),
        format!("{VERSION_PREFIX}{version:06}"),
    )?)
}

/// The instructions as they stand, and every version acknowledged (newest last).
#[derive(Debug, Clone, Serialize)]
pub struct InstructionsView {
    pub current: Instructions,
    pub digest: String,
    pub acknowledged: Vec<Acknowledgement>,
}

impl InstructionsView {
    /// Whether the latest acknowledgement covers the document as it stands.
    pub fn up_to_date(&self) -> bool {
        self.acknowledged
            .last()
            .is_some_and(|a| a.digest == self.digest)
    }
}

pub struct InstructionsService {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
}

impl InstructionsService {
    pub fn new(store: GuardedStore, clock: Arc<dyn Clock>) -> Self {
        Self {
            store: store.shared(),
            clock,
        }
    }

    async fn tenant(&self, tenant: &TenantId) -> Result<tenants::TenantRecord, Error> {
        tenants::get(self.store.as_ref(), tenant)
            .await?
            .ok_or_else(|| Error::NotFound(format!("tenant {tenant}")))
    }

    async fn current(
        &self,
        tenant: &TenantId,
        auth: &AuthService,
    ) -> Result<(tenants::TenantRecord, EffectivePolicy, Instructions), Error> {
        let record = self.tenant(tenant).await?;
        let policy = tenants::policy_for(self.store.as_ref(), tenant).await?;
        let roles = auth.roles(tenant).await?;
        let document = instructions(&record, &policy, &roles);
        Ok((record, policy, document))
    }

    pub async fn view(
        &self,
        access: &Access,
        tenant: &TenantId,
        auth: &AuthService,
    ) -> Result<InstructionsView, Error> {
        access.require(Permission::InstructionsRead, Scope::Tenant(tenant))?;
        let (_, _, current) = self.current(tenant, auth).await?;
        let acknowledged = query_all(
            self.store.as_ref(),
            Query::partition(ItemKey::tenant_partition(tenant)).prefix(VERSION_PREFIX),
        )
        .await?
        .iter()
        .map(|i| i.record::<Acknowledgement>().map_err(Error::from))
        .collect::<Result<Vec<_>, _>>()?;
        Ok(InstructionsView {
            digest: current.digest()?,
            current,
            acknowledged,
        })
    }

    /// A customer admin acknowledges the document they were shown (named by its digest, so a
    /// change in between is not acknowledged unseen). Acknowledging the same version again
    /// changes nothing.
    pub async fn acknowledge(
        &self,
        access: &Access,
        tenant: &TenantId,
        digest: &str,
        auth: &AuthService,
    ) -> Result<Acknowledgement, Error> {
        access.require(Permission::InstructionsAcknowledge, Scope::Tenant(tenant))?;
        let view = self.view(access, tenant, auth).await?;
        if digest != view.digest {
            return Err(Error::Conflict(
                "the instructions changed since they were shown; please read them again".into(),
            ));
        }
        if let Some(last) = view.acknowledged.last()
            && last.digest == digest
        {
            return Ok(last.clone());
        }
        let acknowledgement = Acknowledgement {
            version: view.acknowledged.last().map_or(1, |a| a.version + 1),
            digest: view.digest,
            document: view.current,
            acknowledged_by: access.principal().subject.clone(),
            acknowledged_at: self.clock.now(),
        };
        let item = Item::new(
            version_key(tenant, acknowledgement.version)?,
            RecordKind::InstructionsAcknowledgement,
        )
        .with_tenant(tenant.clone())
        .with_record(&acknowledgement)?;
        match self.store.put(item, Condition::NotExists).await {
            Ok(_) => Ok(acknowledgement),
            Err(StoreError::ConditionFailed(_)) => Err(Error::Conflict(
                "another acknowledgement came first; please reload".into(),
            )),
            Err(e) => Err(e.into()),
        }
    }

    /// The record of processing for the tenant, as of now.
    pub async fn processing_record(
        &self,
        access: &Access,
        tenant: &TenantId,
        subprocessors: &[SubProcessor],
        dpo_contact: &str,
        security_contact: &str,
    ) -> Result<ProcessingRecord, Error> {
        access.require(Permission::InstructionsRead, Scope::Tenant(tenant))?;
        let record = self.tenant(tenant).await?;
        let policy = tenants::policy_for(self.store.as_ref(), tenant).await?;
        Ok(processing_record(
            &record,
            &policy,
            subprocessors,
            dpo_contact,
            security_contact,
            self.clock.now(),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kernel::policy::ContractTerms;

    fn tenant(passkeys: bool) -> tenants::TenantRecord {
        let at: Timestamp = "2026-12-01T00:00:00Z".parse().expect("time");
        tenants::TenantRecord {
            id: TenantId::new("acme").expect("tenant"),
            name: "ACME GmbH".into(),
            contact_email: None,
            contract: ContractTerms::default(),
            status: tenants::ServiceStatus::Active,
            service_ended_at: None,
            service_end_source: None,
            audit: None,
            passkeys_required: passkeys,
            created_at: at,
            updated_at: at,
        }
    }

    #[test]
    fn a_changed_setting_is_a_new_version_and_the_record_lists_every_personal_record_kind() {
        let policy = EffectivePolicy::page();
        let before = instructions(&tenant(false), &policy, &[]);
        let after = instructions(&tenant(true), &policy, &[]);
        assert_ne!(
            before.digest().expect("digest"),
            after.digest().expect("digest")
        );
        assert_eq!(
            before.digest().expect("digest"),
            before.clone().digest().expect("digest")
        );
        assert!(before.terms.iter().any(|l| l.value.en == "48 hours"));
        let shorter = EffectivePolicy::for_contract(&ContractTerms {
            customer_notification: Some(kernel::time::Period::Hours(24)),
            ..ContractTerms::default()
        })
        .expect("contract");
        let contract = instructions(&tenant(false), &shorter, &[]);
        assert!(
            contract.terms.iter().any(|l| l.value.en == "24 hours"),
            "{:?}",
            contract.terms
        );

        let record = processing_record(
            &tenant(false),
            &policy,
            &crate::subprocessors::baseline(),
            "dpo@example",
            "mailto:security@example",
            "2026-12-06T00:00:00Z".parse().expect("time"),
        );
        let personal_kinds = INVENTORY
            .iter()
            .filter(|s| s.tenant_scoped && !s.personal.is_empty())
            .count();
        assert_eq!(record.categories.len(), personal_kinds);
        assert_eq!(record.transfers.len(), 3);
        assert_eq!(record.processor_contact, "security@example");
    }
}
