//! What callers read: the staff view, the customer's view, lists, the at-a-glance board and
//! the Art. 33(5) register.

use std::collections::{BTreeMap, BTreeSet};

use kernel::error::Error;
use kernel::ids::TenantId;
use kernel::inventory::{DataCategory, RecordKind, TENANT_INCIDENT_LINK_PREFIX};
use kernel::policy::EffectivePolicy;
use kernel::rbac::{Access, Actor, Permission, Scope};
use kernel::store::{ItemKey, Query, query_all};
use kernel::tenants;
use kernel::time::{Clock, Timestamp};
use serde::Serialize;

use super::IncidentService;
use super::assess::advice;
use super::english::EnglishText;
use crate::assessment::{BreachType, Decision, Facts, RiskLevel};
use crate::deadlines::{self, Deadline};
use crate::model::*;
use crate::outbox::{DeliveryState, MessageView};
use crate::records::{INCIDENT_INDEXES, OPEN_INCIDENTS_INDEX};

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

impl IncidentService {
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
                for partition in INCIDENT_INDEXES {
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
        for item in query_all(self.store.as_ref(), Query::gsi1(OPEN_INCIDENTS_INDEX)).await? {
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
    pub(super) async fn newest_records(
        &self,
        limit: usize,
    ) -> Result<(Vec<(IncidentRecord, u64)>, bool), Error> {
        let page = u32::try_from(limit.saturating_add(1)).unwrap_or(u32::MAX);
        let mut records = Vec::new();
        for partition in INCIDENT_INDEXES {
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
    pub(super) async fn all_incident_records(&self) -> Result<Vec<(IncidentRecord, u64)>, Error> {
        let mut records = Vec::new();
        for partition in INCIDENT_INDEXES {
            for item in query_all(self.store.as_ref(), Query::gsi1(partition)).await? {
                records.push((item.record::<IncidentRecord>()?, item.version));
            }
        }
        Ok(records)
    }

    pub(super) async fn staff_view(
        &self,
        r: IncidentRecord,
        version: u64,
    ) -> Result<IncidentView, Error> {
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

    pub(super) async fn customer_view(
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

    pub(super) async fn customer_title(&self, r: &IncidentRecord) -> Result<Option<String>, Error> {
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
