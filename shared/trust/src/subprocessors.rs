//! Sub-processors (Art. 28(2) and (4) GDPR): who processes customers' personal data on our
//! behalf, changes announced ahead of time to every customer admin by mail, and customers'
//! objections until a change takes effect, recorded and shown to operators.
//!
//! The list is the baseline below (the platform as built) with every change whose time has come
//! applied in order, so the list at any instant follows from the records alone.

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use auth::AuthService;
use incidents::IncidentService;
use incidents::outbox::Purpose;
use kernel::crypto::{FieldContext, KeyOwner, KeyPurpose, Keyring, Personal, SealedField};
use kernel::error::{Error, FieldError};
use kernel::ids::TenantId;
use kernel::inventory::GuardedStore;
use kernel::inventory::RecordKind;
use kernel::rbac::{Access, Permission, Scope};
use kernel::store::{Condition, Item, ItemKey, Query, Store, StoreError, query_all};
use kernel::tenants::{self, ServiceStatus};
use kernel::time::{Clock, Period, Timestamp};

use crate::statement::Text;

kernel::generated_id!(
    /// An announced change of sub-processors.
    ChangeId,
    "spc"
);

const CHANGES_PARTITION: &str = "SUBPROCESSOR_CHANGES";
const OBJECTION_PREFIX: &str = "OBJECTION#";

fn objections_index(change: &ChangeId) -> String {
    format!("OBJECTIONS#{change}")
}

/// One sub-processor as the page lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SubProcessor {
    /// Stable short name, e.g. `aws`.
    pub id: String,
    /// The company (legal entity) contracted.
    pub name: String,
    pub purpose: Text,
    /// Which personal data it processes.
    pub data: Text,
    /// Where it processes them.
    pub location: Text,
    /// How a transfer outside the EU/EEA is safeguarded (or that there is none).
    pub transfer: Text,
}

fn processor(
    id: &str,
    name: &str,
    purpose: (&str, &str),
    data: (&str, &str),
    location: (&str, &str),
    transfer: (&str, &str),
) -> SubProcessor {
    SubProcessor {
        id: id.into(),
        name: name.into(),
        purpose: Text::new(purpose.0, purpose.1),
        data: Text::new(data.0, data.1),
        location: Text::new(location.0, location.1),
        transfer: Text::new(transfer.0, transfer.1),
    }
}

/// The sub-processors the platform is built on (its infrastructure, edge and payments).
pub fn baseline() -> Vec<SubProcessor> {
    vec![
        processor(
            "aws",
            "Amazon Web Services EMEA SARL",
            (
                "Hosting: Rechenleistung, Datenbank, Schlüsselverwaltung, Sicherungen und E-Mail-Versand",
                "Hosting: compute, database, key management, backups and e-mail delivery",
            ),
            (
                "alle Kundendaten, personenbezogene Daten nur verschlüsselt",
                "all customer data, personal data only encrypted",
            ),
            (
                "Frankfurt am Main, Deutschland (eu-central-1)",
                "Frankfurt am Main, Germany (eu-central-1)",
            ),
            (
                "keine Übermittlung: Speicherung und Verarbeitung in der EU",
                "no transfer: stored and processed in the EU",
            ),
        ),
        processor(
            "cloudflare",
            "Cloudflare, Inc.",
            (
                "Edge: TLS, Web Application Firewall, Ratenbegrenzung, Meldeformular",
                "Edge: TLS, web application firewall, rate limiting, report form",
            ),
            (
                "Verbindungsdaten (IP-Adressen, nur gehasht protokolliert), Anfragen im Durchgang",
                "connection data (IP addresses, logged only hashed), requests in transit",
            ),
            (
                "weltweites Netz; Anfragen werden am nächstgelegenen Standort bearbeitet",
                "worldwide network; requests are handled at the nearest location",
            ),
            (
                "EU-Standardvertragsklauseln; EU-US Data Privacy Framework",
                "EU standard contractual clauses; EU-US Data Privacy Framework",
            ),
        ),
        processor(
            "stripe",
            "Stripe Payments Europe, Limited",
            ("Zahlungen und Rechnungen", "Payments and invoices"),
            (
                "Rechnungs- und Zahlungsdaten der Kunden (Kartendaten nur bei Stripe)",
                "customers' billing and payment data (card data only at Stripe)",
            ),
            ("Irland (EU)", "Ireland (EU)"),
            (
                "EU-Standardvertragsklauseln; EU-US Data Privacy Framework (Stripe, Inc.)",
                "EU standard contractual clauses; EU-US Data Privacy Framework (Stripe, Inc.)",
            ),
        ),
    ]
}

/// What a change does to the list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum ChangeKind {
    /// A new sub-processor.
    Add { processor: SubProcessor },
    /// One that changes (its entity, purpose, data, location or safeguards).
    Replace { processor: SubProcessor },
    /// One that leaves.
    Remove { id: String },
}

impl ChangeKind {
    fn subject_id(&self) -> &str {
        match self {
            ChangeKind::Add { processor } | ChangeKind::Replace { processor } => &processor.id,
            ChangeKind::Remove { id } => id,
        }
    }
}

/// An announced change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Change {
    pub id: ChangeId,
    pub change: ChangeKind,
    /// Why, in both languages.
    pub reason: Text,
    pub announced_at: Timestamp,
    /// From then on the list includes the change; objections are possible until then.
    pub effective_at: Timestamp,
    pub announced_by: String,
    /// Notices queued so far (one per customer admin).
    pub notices_queued: u32,
}

impl Change {
    pub fn in_effect(&self, now: Timestamp) -> bool {
        self.effective_at <= now
    }

    /// What the change does, in words.
    pub fn summary(&self, processors: &[SubProcessor]) -> Text {
        let name_of = |id: &str| {
            processors
                .iter()
                .find(|p| p.id == id)
                .map_or_else(|| id.to_string(), |p| p.name.clone())
        };
        match &self.change {
            ChangeKind::Add { processor } => Text::new(
                format!("Neuer Unterauftragsverarbeiter: {}", processor.name),
                format!("New sub-processor: {}", processor.name),
            ),
            ChangeKind::Replace { processor } => Text::new(
                format!("Geänderter Unterauftragsverarbeiter: {}", processor.name),
                format!("Changed sub-processor: {}", processor.name),
            ),
            ChangeKind::Remove { id } => Text::new(
                format!("Unterauftragsverarbeiter entfällt: {}", name_of(id)),
                format!("Sub-processor leaves: {}", name_of(id)),
            ),
        }
    }
}

/// A customer's objection to a planned change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ObjectionRecord {
    pub change: ChangeId,
    pub tenant: TenantId,
    /// The customer's reasons (sealed: free text may name people).
    pub reason: SealedField,
    pub objected_by: String,
    pub objected_at: Timestamp,
}

/// An objection as operators and the customer read it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Objection {
    pub change: ChangeId,
    pub tenant: TenantId,
    pub reason: String,
    pub objected_by: String,
    pub objected_at: Timestamp,
}

/// What an operator announces.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangeInput {
    pub change: ChangeKind,
    pub reason: Text,
    #[schema(value_type = String, format = DateTime)]
    pub effective_at: Timestamp,
}

fn change_key(change: &Change) -> Result<ItemKey, Error> {
    Ok(ItemKey::new(
        CHANGES_PARTITION,
        format!("{}#{}", change.effective_at, change.id),
    )?)
}

fn objection_key(tenant: &TenantId, change: &ChangeId) -> Result<ItemKey, Error> {
    Ok(ItemKey::new(
        ItemKey::tenant_partition(tenant),
        format!("{OBJECTION_PREFIX}{change}"),
    )?)
}

/// Where an objection's reason is sealed: the tenant's key, bound to the record and field.
fn reason_owner_and_id(tenant: &TenantId, change: &ChangeId) -> (KeyOwner, String) {
    (
        KeyOwner::Tenant(tenant.clone()),
        format!("{OBJECTION_PREFIX}{change}"),
    )
}

fn reason_context<'a>(owner: &'a KeyOwner, record_id: &'a str) -> FieldContext<'a> {
    FieldContext {
        owner,
        kind: RecordKind::SubprocessorObjection,
        record_id,
        field: "reason",
    }
}

/// Every sub-processor ever named (the baseline and each change's), for naming a removed one.
pub fn everyone(changes: &[Change]) -> Vec<SubProcessor> {
    let mut all = baseline();
    for change in changes {
        if let ChangeKind::Add { processor } | ChangeKind::Replace { processor } = &change.change {
            all.push(processor.clone());
        }
    }
    all
}

/// Every change announced, in the order they take effect.
pub async fn changes(store: &dyn Store) -> Result<Vec<Change>, Error> {
    query_all(store, Query::partition(CHANGES_PARTITION))
        .await?
        .iter()
        .map(|i| i.record::<Change>().map_err(Error::from))
        .collect()
}

/// Applies the changes in effect at `now` to the baseline.
pub fn list_at(changes: &[Change], now: Timestamp) -> Vec<SubProcessor> {
    let mut list = baseline();
    for change in changes.iter().filter(|c| c.in_effect(now)) {
        match &change.change {
            ChangeKind::Add { processor } | ChangeKind::Replace { processor } => {
                list.retain(|p| p.id != processor.id);
                list.push(processor.clone());
            }
            ChangeKind::Remove { id } => list.retain(|p| &p.id != id),
        }
    }
    list
}

fn text_errors(errors: &mut Vec<FieldError>, pointer: &str, text: &Text, max: usize) {
    for (lang, value) in [("de", &text.de), ("en", &text.en)] {
        if value.trim().is_empty() || value.chars().count() > max {
            errors.push(FieldError::new(
                format!("{pointer}/{lang}"),
                format!("1 to {max} characters"),
            ));
        }
    }
}

/// Announces, notifies and records objections; reads for the pages.
pub struct SubprocessorService {
    store: Arc<dyn Store>,
    keyring: Arc<Keyring>,
    clock: Arc<dyn Clock>,
    notice: Period,
    public_url: String,
}

impl SubprocessorService {
    /// `notice`: how far ahead a change must be announced (`policy::SUBPROCESSOR_CHANGE_NOTICE`
    /// unless configured longer).
    pub fn new(
        store: GuardedStore,
        keyring: Arc<Keyring>,
        clock: Arc<dyn Clock>,
        notice: Period,
        public_url: String,
    ) -> Self {
        Self {
            store: store.shared(),
            keyring,
            clock,
            notice,
            public_url,
        }
    }

    pub fn notice(&self) -> Period {
        self.notice
    }

    /// The list today.
    pub async fn current(&self) -> Result<Vec<SubProcessor>, Error> {
        Ok(list_at(
            &changes(self.store.as_ref()).await?,
            self.clock.now(),
        ))
    }

    pub async fn changes(&self) -> Result<Vec<Change>, Error> {
        changes(self.store.as_ref()).await
    }

    /// An operator announces a change at least the notice period ahead; every customer admin
    /// of every active tenant is sent a notice. Every failing field at once.
    pub async fn announce(
        &self,
        access: &Access,
        input: ChangeInput,
        auth: &AuthService,
        outbox: &IncidentService,
    ) -> Result<Change, Error> {
        access.require(Permission::SubprocessorsManage, Scope::Platform)?;
        let now = self.clock.now();
        let mut errors = Vec::new();
        let earliest = self
            .notice
            .after(now)
            .map_err(|e| Error::Internal(e.to_string()))?;
        if input.effective_at < earliest {
            errors.push(FieldError::new(
                "/effective_at",
                format!("must be at least the notice period ahead: {earliest} or later"),
            ));
        }
        text_errors(&mut errors, "/reason", &input.reason, 2_000);
        let all = changes(self.store.as_ref()).await?;
        let listed = list_at(&all, input.effective_at);
        let subject = input.change.subject_id().to_string();
        if subject.is_empty()
            || subject.len() > 64
            || !subject
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        {
            errors.push(FieldError::new(
                "/change/id",
                "1 to 64 lower-case letters, digits or '-'",
            ));
        }
        let known = listed.iter().any(|p| p.id == subject);
        match &input.change {
            ChangeKind::Add { processor } | ChangeKind::Replace { processor } => {
                let pointer = "/change/processor";
                if matches!(input.change, ChangeKind::Add { .. }) && known {
                    errors.push(FieldError::new(
                        "/change/processor/id",
                        "is listed already; announce a replace",
                    ));
                }
                if matches!(input.change, ChangeKind::Replace { .. }) && !known {
                    errors.push(FieldError::new(
                        "/change/processor/id",
                        "is not on the list; announce an add",
                    ));
                }
                if processor.name.trim().is_empty() || processor.name.chars().count() > 200 {
                    errors.push(FieldError::new(
                        format!("{pointer}/name"),
                        "1 to 200 characters",
                    ));
                }
                for (field, text) in [
                    ("purpose", &processor.purpose),
                    ("data", &processor.data),
                    ("location", &processor.location),
                    ("transfer", &processor.transfer),
                ] {
                    text_errors(&mut errors, &format!("{pointer}/{field}"), text, 500);
                }
            }
            ChangeKind::Remove { .. } => {
                if !known {
                    errors.push(FieldError::new("/change/id", "is not on the list"));
                }
            }
        }
        if !errors.is_empty() {
            return Err(Error::Validation(errors));
        }
        let mut change = Change {
            id: ChangeId::generate(now),
            change: input.change,
            reason: input.reason,
            announced_at: now,
            effective_at: input.effective_at,
            announced_by: access.principal().subject.clone(),
            notices_queued: 0,
        };
        let item =
            Item::new(change_key(&change)?, RecordKind::SubprocessorChange).with_record(&change)?;
        self.store.put(item, Condition::NotExists).await?;
        change.notices_queued = self.notify(&change, &everyone(&all), auth, outbox).await?;
        let item =
            Item::new(change_key(&change)?, RecordKind::SubprocessorChange).with_record(&change)?;
        self.store.put(item, Condition::Exists).await?;
        Ok(change)
    }

    /// Queues the notice of `change` to every customer admin of every active tenant, once each
    /// (message ids name change, tenant and user: a repeated run queues nothing twice).
    async fn notify(
        &self,
        change: &Change,
        listed: &[SubProcessor],
        auth: &AuthService,
        outbox: &IncidentService,
    ) -> Result<u32, Error> {
        let (subject, body) = self.notice_text(change, listed);
        let mut queued = 0;
        for tenant in tenants::all(self.store.as_ref()).await? {
            if tenant.status != ServiceStatus::Active {
                continue;
            }
            for (user, email) in auth.admin_contacts(&tenant.id).await? {
                let id = format!("{}-{}-{user}", change.id, tenant.id);
                outbox
                    .queue_platform_message(
                        id,
                        Purpose::SubprocessorChange {
                            change: change.id.to_string(),
                            tenant: tenant.id.clone(),
                        },
                        &Personal::new(email),
                        subject.clone(),
                        &Personal::new(body.clone()),
                    )
                    .await?;
                queued += 1;
            }
        }
        Ok(queued)
    }

    fn notice_text(&self, change: &Change, listed: &[SubProcessor]) -> (String, String) {
        let summary = change.summary(listed);
        let effective = kernel::time::in_company_time(change.effective_at)
            .strftime("%d.%m.%Y %H:%M %Z")
            .to_string();
        let details = |de: bool| match &change.change {
            ChangeKind::Add { processor } | ChangeKind::Replace { processor } => {
                let pick = |t: &Text| if de { t.de.clone() } else { t.en.clone() };
                if de {
                    format!(
                        "Zweck: {}\nDaten: {}\nOrt: {}\nÜbermittlung: {}\n",
                        pick(&processor.purpose),
                        pick(&processor.data),
                        pick(&processor.location),
                        pick(&processor.transfer)
                    )
                } else {
                    format!(
                        "Purpose: {}\nData: {}\nLocation: {}\nTransfer: {}\n",
                        pick(&processor.purpose),
                        pick(&processor.data),
                        pick(&processor.location),
                        pick(&processor.transfer)
                    )
                }
            }
            ChangeKind::Remove { .. } => String::new(),
        };
        let portal = format!("{}/portal/subprocessors", self.public_url);
        let list = format!("{}/trust/subprocessors", self.public_url);
        let subject =
            "Geplante Änderung der Unterauftragsverarbeiter / Planned change of sub-processors"
                .to_string();
        let body = format!(
            "Guten Tag,\n\nwir beabsichtigen eine Änderung unserer Unterauftragsverarbeiter (Art. 28 Abs. 2 DSGVO).\n\n{}\n{}Grund: {}\nWirksam ab: {effective}\n\nSie können bis dahin im Kundenportal widersprechen: {portal}\nDie aktuelle Liste: {list}\n\n— regrooter GmbH\n\n----\n\nHello,\n\nwe intend to change our sub-processors (Art. 28(2) GDPR).\n\n{}\n{}Reason: {}\nIn effect from: {effective}\n\nUntil then you can object in the customer portal: {portal}\nThe current list: {list}\n\n— regrooter GmbH\n",
            summary.de,
            details(true),
            change.reason.de,
            summary.en,
            details(false),
            change.reason.en,
        );
        (subject, body)
    }

    /// A customer admin objects to a planned change before it takes effect; once per tenant.
    pub async fn object(
        &self,
        access: &Access,
        tenant: &TenantId,
        change: &ChangeId,
        reason: String,
    ) -> Result<Objection, Error> {
        access.require(Permission::SubprocessorsObject, Scope::Tenant(tenant))?;
        let now = self.clock.now();
        let all = changes(self.store.as_ref()).await?;
        let Some(planned) = all.iter().find(|c| &c.id == change) else {
            return Err(Error::NotFound(format!("sub-processor change {change}")));
        };
        let reason = reason.trim().to_string();
        let mut errors = Vec::new();
        if reason.is_empty() || reason.chars().count() > 4_000 {
            errors.push(FieldError::new("/reason", "1 to 4000 characters"));
        }
        if planned.in_effect(now) {
            errors.push(FieldError::new(
                "/change",
                "is in effect already; objections were possible until then",
            ));
        }
        if !errors.is_empty() {
            return Err(Error::Validation(errors));
        }
        let (owner, record_id) = reason_owner_and_id(tenant, change);
        let sealed = self
            .keyring
            .seal(
                &reason_context(&owner, &record_id),
                KeyPurpose::Primary,
                &Personal::new(reason.clone()),
            )
            .await?;
        let record = ObjectionRecord {
            change: *change,
            tenant: tenant.clone(),
            reason: sealed,
            objected_by: access.principal().subject.clone(),
            objected_at: now,
        };
        let item = Item::new(
            objection_key(tenant, change)?,
            RecordKind::SubprocessorObjection,
        )
        .with_tenant(tenant.clone())
        .with_gsi1(ItemKey::new(objections_index(change), tenant.as_str())?)
        .with_record(&record)?;
        match self.store.put(item, Condition::NotExists).await {
            Ok(_) => {}
            Err(StoreError::ConditionFailed(_)) => {
                return Err(Error::Conflict(
                    "your organisation has objected to this change already".into(),
                ));
            }
            Err(e) => return Err(e.into()),
        }
        Ok(Objection {
            change: *change,
            tenant: tenant.clone(),
            reason,
            objected_by: record.objected_by,
            objected_at: now,
        })
    }

    async fn open(&self, record: ObjectionRecord) -> Result<Objection, Error> {
        let (owner, record_id) = reason_owner_and_id(&record.tenant, &record.change);
        let reason = self
            .keyring
            .open(&reason_context(&owner, &record_id), &record.reason)
            .await?;
        Ok(Objection {
            change: record.change,
            tenant: record.tenant,
            reason: reason.expose().clone(),
            objected_by: record.objected_by,
            objected_at: record.objected_at,
        })
    }

    /// The objections to a change, for operators and the DPO.
    pub async fn objections(
        &self,
        access: &Access,
        change: &ChangeId,
    ) -> Result<Vec<Objection>, Error> {
        access.require(Permission::SubprocessorsManage, Scope::Platform)?;
        let mut out = Vec::new();
        for item in query_all(self.store.as_ref(), Query::gsi1(objections_index(change))).await? {
            out.push(self.open(item.record()?).await?);
        }
        Ok(out)
    }

    /// The tenant's own objection to a change, if it made one.
    pub async fn own_objection(
        &self,
        access: &Access,
        tenant: &TenantId,
        change: &ChangeId,
    ) -> Result<Option<Objection>, Error> {
        access.require(Permission::SubprocessorsObject, Scope::Tenant(tenant))?;
        match self.store.get(&objection_key(tenant, change)?).await? {
            Some(item) => Ok(Some(self.open(item.record()?).await?)),
            None => Ok(None),
        }
    }
}

/// The changes as an Atom feed (RFC 4287), newest announcement first.
pub fn atom_feed(changes: &[Change], public_url: &str, now: Timestamp) -> String {
    fn escape(s: &str) -> String {
        s.replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
            .replace('"', "&quot;")
    }
    let mut sorted: Vec<&Change> = changes.iter().collect();
    sorted.sort_by_key(|c| std::cmp::Reverse(c.announced_at));
    let updated = sorted.first().map_or(now, |c| c.announced_at);
    let listed = everyone(changes);
    let page = format!("{public_url}/trust/subprocessors");
    let mut xml = format!(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<feed xmlns=\"http://www.w3.org/2005/Atom\" xml:lang=\"en\">\n<title>regrooter: changes of sub-processors</title>\n<id>{}</id>\n<link rel=\"alternate\" type=\"text/html\" href=\"{}\"/>\n<link rel=\"self\" type=\"application/atom+xml\" href=\"{}.atom\"/>\n<updated>{updated}</updated>\n<author><name>regrooter GmbH</name></author>\n",
        escape(&page),
        escape(&page),
        escape(&page)
    );
    for change in sorted {
        let summary = change.summary(&listed);
        xml.push_str(&format!(
            "<entry>\n<title>{}</title>\n<id>urn:regrooter:subprocessor-change:{}</id>\n<link rel=\"alternate\" type=\"text/html\" href=\"{}#{}\"/>\n<updated>{}</updated>\n<published>{}</published>\n<summary>{} In effect from {}. Reason: {}</summary>\n</entry>\n",
            escape(&summary.en),
            change.id,
            escape(&page),
            change.id,
            change.announced_at,
            change.announced_at,
            escape(&summary.en),
            change.effective_at,
            escape(&change.reason.en),
        ));
    }
    xml.push_str("</feed>\n");
    xml
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> Timestamp {
        s.parse().expect("time")
    }

    fn change(kind: ChangeKind, effective: &str) -> Change {
        Change {
            id: ChangeId::generate(at("2026-11-01T00:00:00Z")),
            change: kind,
            reason: Text::new("Grund", "Reason"),
            announced_at: at("2026-11-01T00:00:00Z"),
            effective_at: at(effective),
            announced_by: "op".into(),
            notices_queued: 0,
        }
    }

    #[test]
    fn the_list_follows_the_changes_in_effect_and_the_feed_names_each() {
        let mut mailer = baseline()[0].clone();
        mailer.id = "mailer".into();
        mailer.name = "Mailer & Co <GmbH>".into();
        let changes = vec![
            change(
                ChangeKind::Add { processor: mailer },
                "2026-12-01T00:00:00Z",
            ),
            change(
                ChangeKind::Remove {
                    id: "stripe".into(),
                },
                "2027-01-01T00:00:00Z",
            ),
        ];
        let ids = |now: &str| -> Vec<String> {
            list_at(&changes, at(now))
                .into_iter()
                .map(|p| p.id)
                .collect()
        };
        assert_eq!(ids("2026-11-15T00:00:00Z"), ["aws", "cloudflare", "stripe"]);
        assert_eq!(
            ids("2026-12-15T00:00:00Z"),
            ["aws", "cloudflare", "stripe", "mailer"]
        );
        assert_eq!(ids("2027-01-15T00:00:00Z"), ["aws", "cloudflare", "mailer"]);
        let feed = atom_feed(
            &changes,
            "https://trust.example",
            at("2026-11-15T00:00:00Z"),
        );
        assert!(
            feed.contains("New sub-processor: Mailer &amp; Co &lt;GmbH&gt;"),
            "{feed}"
        );
        assert!(feed.contains("Sub-processor leaves: Stripe Payments Europe, Limited"));
        assert_eq!(feed.matches("<entry>").count(), 2);
    }
}
