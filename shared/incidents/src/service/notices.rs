//! Notices: customers' previews and sends (first, follow-up, closing), the authority's
//! pre-filled text, and recorded notices to the authority, data subjects and NIS2.

use std::collections::BTreeMap;

use kernel::crypto::Personal;
use kernel::error::{Error, FieldError};
use kernel::ids::TenantId;
use kernel::inventory::RecordKind;
use kernel::policy::EffectivePolicy;
use kernel::rbac::{Access, Permission, Principal, Scope};
use kernel::store::StoreError;
use kernel::tenants;
use kernel::time::{Clock, Timestamp};
use serde::{Deserialize, Serialize};

use super::views::IncidentView;
use super::{IncidentService, clean};
use crate::assessment::BreachType;
use crate::deadlines;
use crate::model::*;
use crate::notice::{NoticeContent, NoticeKind, render_bilingual};
use crate::outbox::{DeliveryState, DrainReport, Purpose, customer_message_id};

/// Why a customer gets no notice of this kind now, from its notice messages so far (none: one
/// may go out). The first notice: not when one counted already or one is on its way. A
/// follow-up (update or final report): only after a first one counted, and not while another
/// is on its way.
pub(super) fn why_no_notice_now(
    messages: &[crate::outbox::OutboxRecord],
    follow_up: bool,
) -> Option<NotSent> {
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

/// What `notify_customers` did: the incident as staff now see it, each message it handed to
/// the transport with the state that left it in, and the alerts raised for those that did not
/// go out.
#[derive(Debug)]
pub struct Notified {
    pub view: IncidentView,
    pub messages: Vec<(String, DeliveryState)>,
    pub alerts: Vec<(IncidentId, Alert)>,
}

impl IncidentService {
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
    pub(super) async fn notice_content(
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

    pub(super) async fn append_notice(
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
}
