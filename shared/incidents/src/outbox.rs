//! The outbox: every message the platform sends (customer notices, reporter acknowledgements
//! and status changes) is first a record here, sealed, and moves through
//!
//! ```text
//! queued ──claim──► sending ──transport accepted──► accepted ──SES event──► delivered
//!   ▲                  │  │                             │                   complained
//!   └──4xx, backoff────┘  └──5xx, or attempts spent──► failed               bounced
//!                      └──lease ran out (a run died after the claim)──► in_doubt
//! ```
//!
//! A message is handed to a transport at most once per claim, and a claim that was not settled
//! is never retried by itself: the run may have died after the transport took the message, so
//! resending could deliver it twice. Such a message is `in_doubt` until a delivery event settles
//! it or staff resend. A customer notice counts as made only in `accepted`, `delivered` or
//! `complained`; the record of the notice on the incident is written in the same transaction as
//! the message's state, so the incident file never says more than the outbox knows.

use serde::{Deserialize, Serialize};

use super::mail::{Accepted, OutgoingMessage, SendFailure};
use super::model::{
    Alert, AlertKind, Duty, IncidentId, IncidentRecord, Language, ReportId, ReportStatus,
    SentNotice,
};
use super::records::{due_messages_query, message_item, message_key};
use super::service::{IncidentService, ctx};
use kernel::crypto::{KeyPurpose, Personal, SealedField};
use kernel::error::Error;
use kernel::ids::TenantId;
use kernel::inventory::RecordKind;
use kernel::policy::EffectivePolicy;
use kernel::rbac::Principal;
use kernel::store::{Condition, WriteOp, query_all, retry_lost_races};
use kernel::time::{SignedDuration, Timestamp};

/// How long a claim holds. A transport call that takes longer is cut by its own timeout first.
pub const CLAIM_LEASE: SignedDuration = SignedDuration::from_mins(2);
/// Attempts before a message that keeps failing transiently is given up (about four hours of
/// backoff: 1, 2, 4, … minutes, at most an hour apart).
pub const MAX_ATTEMPTS: u32 = 10;
/// Messages one run of the drain handles at most; the rest wait for the next minute.
pub const DRAIN_BATCH: u32 = 100;

/// Where a message stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryState {
    /// Sealed in the outbox, waiting for a transport (first try or a retry after a 4xx).
    Queued,
    /// Claimed by a run and being handed to the transport.
    Sending,
    /// A run claimed it and was not heard of again: it may or may not have left.
    InDoubt,
    /// The transport took it over (SES message id, SMTP 250).
    Accepted,
    /// The recipient's server took it (SES delivery event).
    Delivered,
    /// It came back (SES bounce event).
    Bounced,
    /// Delivered, and the recipient marked it as spam.
    Complained,
    /// Refused for good (a 5xx, a rejected recipient) or retries spent.
    Failed,
}

impl DeliveryState {
    /// Whether a customer notice in this state counts as made.
    pub fn counts_as_notice(self) -> bool {
        matches!(
            self,
            DeliveryState::Accepted | DeliveryState::Delivered | DeliveryState::Complained
        )
    }

    /// Whether the message is still on its way out of the platform.
    pub fn is_pending(self) -> bool {
        matches!(self, DeliveryState::Queued | DeliveryState::Sending)
    }

    /// Whether the message did not (or may not have) reached the recipient, so a new one may
    /// be sent in its place.
    pub fn may_resend(self) -> bool {
        matches!(
            self,
            DeliveryState::InDoubt | DeliveryState::Bounced | DeliveryState::Failed
        )
    }

    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryState::Queued => "queued",
            DeliveryState::Sending => "sending",
            DeliveryState::InDoubt => "in_doubt",
            DeliveryState::Accepted => "accepted",
            DeliveryState::Delivered => "delivered",
            DeliveryState::Bounced => "bounced",
            DeliveryState::Complained => "complained",
            DeliveryState::Failed => "failed",
        }
    }
}

impl std::fmt::Display for DeliveryState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a message is for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Purpose {
    /// The notification of a customer (we are its processor) about an incident.
    CustomerNotice {
        incident: IncidentId,
        tenant: TenantId,
    },
    /// Tells a reporter who left a contact that the report arrived.
    ReporterAcknowledgement { report: ReportId },
    /// Tells a reporter that the report's status changed.
    ReporterStatus {
        report: ReportId,
        status: ReportStatus,
    },
    /// Tells a reporter who left a contact that the security team wrote to them (not what).
    ReporterMessage { report: ReportId },
    /// Tells the security team that a reporter wrote to them (not what).
    TeamMessage { report: ReportId },
    /// Tells the security team that the deadline watch raised alerts on an incident.
    StaffAlert { incident: IncidentId },
    /// Tells a customer admin of a planned change of sub-processors (Art. 28(2) GDPR). The
    /// outbox is the platform's one way out for mail; the change lives with the trust page.
    SubprocessorChange { change: String, tenant: TenantId },
    /// Invites a tenant's first customer admin (the activation link is in the sealed body).
    Invitation { tenant: TenantId },
    /// A password reset link (in the sealed body) for one account.
    PasswordReset { user: String },
    /// Invites a new staff member (the activation link is in the sealed body).
    StaffInvitation { user: String },
    /// Tells a person that their second factor was reset (four eyes) and their sessions ended.
    SecondFactorReset { user: String },
    /// Brings a deletion certificate (signed, in the sealed body) to the tenant's breach contact.
    DeletionCertificate {
        tenant: TenantId,
        certificate: String,
    },
}

/// A message as stored: recipient and body sealed (platform key, purpose `reports`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OutboxRecord {
    pub id: String,
    pub purpose: Purpose,
    pub to: SealedField,
    pub subject: String,
    pub body: SealedField,
    pub queued_at: Timestamp,
    pub state: DeliveryState,
    /// When the message entered its state.
    pub state_at: Timestamp,
    /// Claims so far (each at most one hand-over to the transport).
    pub attempts: u32,
    #[serde(default)]
    pub next_attempt_at: Option<Timestamp>,
    #[serde(default)]
    pub claimed_until: Option<Timestamp>,
    #[serde(default)]
    pub transport: Option<String>,
    #[serde(default)]
    pub transport_id: Option<String>,
    /// The transport's last refusal (a status code or error kind, never an address).
    #[serde(default)]
    pub last_failure: Option<String>,
}

/// A message as staff see it (no address, no body).
#[derive(Debug, Clone, Serialize)]
pub struct MessageView {
    pub id: String,
    pub purpose: Purpose,
    pub subject: String,
    pub state: DeliveryState,
    pub state_at: Timestamp,
    pub attempts: u32,
    pub next_attempt_at: Option<Timestamp>,
    pub transport: Option<String>,
    pub transport_id: Option<String>,
    pub last_failure: Option<String>,
}

impl From<&OutboxRecord> for MessageView {
    fn from(r: &OutboxRecord) -> Self {
        Self {
            id: r.id.clone(),
            purpose: r.purpose.clone(),
            subject: r.subject.clone(),
            state: r.state,
            state_at: r.state_at,
            attempts: r.attempts,
            next_attempt_at: r.next_attempt_at,
            transport: r.transport.clone(),
            transport_id: r.transport_id.clone(),
            last_failure: r.last_failure.clone(),
        }
    }
}

/// What a delivery event (SES through SNS) says about one message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryEvent {
    /// The platform's message id (the SES tag `message`).
    pub message_id: String,
    pub outcome: DeliveryOutcome,
    /// When the event happened.
    pub at: Timestamp,
    /// When the transport took the message (SES: the mail's timestamp).
    pub sent_at: Option<Timestamp>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeliveryOutcome {
    Delivered,
    Bounced,
    Complained,
}

/// What one run of the drain did.
#[derive(Debug, Default, Serialize)]
pub struct DrainReport {
    /// (message id, state it ended in) for every message the run touched.
    pub messages: Vec<(String, DeliveryState)>,
    /// Alerts raised on incidents because a customer notice did not go out.
    pub alerts: Vec<(IncidentId, Alert)>,
}

impl DrainReport {
    pub fn count(&self, state: DeliveryState) -> usize {
        self.messages.iter().filter(|(_, s)| *s == state).count()
    }
}

/// A change of a message's state, and what may cause it.
#[derive(Debug, Clone)]
enum Transition {
    Claim {
        now: Timestamp,
        transport: String,
    },
    Accepted {
        now: Timestamp,
        transport_id: String,
    },
    Retry {
        now: Timestamp,
        failure: String,
    },
    Failed {
        now: Timestamp,
        failure: String,
    },
    LeaseExpired {
        now: Timestamp,
    },
    Event(DeliveryEvent),
}

/// The backoff before attempt `attempts + 1`: 1, 2, 4, … minutes, at most an hour.
fn backoff(attempts: u32) -> SignedDuration {
    let minutes = 1i64 << attempts.saturating_sub(1).min(6);
    SignedDuration::from_mins(minutes.min(60))
}

fn later(at: Timestamp, by: SignedDuration) -> Timestamp {
    at.checked_add(by).unwrap_or(at)
}

/// Applies `t` to `r`; `false` when the transition does not apply to the message's state (a
/// late or repeated event, a claim that lost the race), leaving `r` as it was.
fn apply(r: &mut OutboxRecord, t: &Transition) -> bool {
    use DeliveryState::*;
    let enter = |r: &mut OutboxRecord, state: DeliveryState, at: Timestamp| {
        r.state = state;
        r.state_at = at;
    };
    match (r.state, t) {
        (Queued, Transition::Claim { now, transport }) => {
            if r.next_attempt_at.is_some_and(|due| due > *now) {
                return false;
            }
            enter(r, Sending, *now);
            r.attempts += 1;
            r.claimed_until = Some(later(*now, CLAIM_LEASE));
            r.next_attempt_at = None;
            r.transport = Some(transport.clone());
        }
        (Sending | InDoubt, Transition::Accepted { now, transport_id }) => {
            enter(r, Accepted, *now);
            r.claimed_until = None;
            r.transport_id = Some(transport_id.clone());
            r.last_failure = None;
        }
        // An event raced ahead of the record of the hand-over: keep the event's state.
        (Delivered | Bounced | Complained, Transition::Accepted { transport_id, .. }) => {
            if r.transport_id.is_some() {
                return false;
            }
            r.transport_id = Some(transport_id.clone());
        }
        (Sending, Transition::Retry { now, failure }) => {
            if r.attempts >= MAX_ATTEMPTS {
                enter(r, Failed, *now);
                r.last_failure = Some(format!("{failure} (after {} attempts)", r.attempts));
            } else {
                enter(r, Queued, *now);
                r.next_attempt_at = Some(later(*now, backoff(r.attempts)));
                r.last_failure = Some(failure.clone());
            }
            r.claimed_until = None;
        }
        (Sending, Transition::Failed { now, failure }) => {
            enter(r, Failed, *now);
            r.claimed_until = None;
            r.last_failure = Some(failure.clone());
        }
        (Sending, Transition::LeaseExpired { now }) => {
            if r.claimed_until.is_some_and(|until| until > *now) {
                return false;
            }
            enter(r, InDoubt, *now);
            r.claimed_until = None;
        }
        (state, Transition::Event(event)) => {
            let next = match (state, event.outcome) {
                (Sending | InDoubt | Accepted, DeliveryOutcome::Delivered) => Delivered,
                (Sending | InDoubt | Accepted | Delivered, DeliveryOutcome::Bounced) => Bounced,
                (Sending | InDoubt | Accepted | Delivered, DeliveryOutcome::Complained) => {
                    Complained
                }
                _ => return false,
            };
            enter(r, next, event.at);
            r.claimed_until = None;
        }
        _ => return false,
    }
    true
}

/// The id of the `n`-th notice (from 1) of `tenant` about `incident`.
pub(crate) fn customer_message_id(incident: &IncidentId, tenant: &TenantId, n: usize) -> String {
    format!("{incident}-{tenant}-{n}")
}

impl IncidentService {
    /// A message of another area (sub-processor notices): queued once under `id` (a second
    /// call with the same id changes nothing), handed on by the outbox drain like any other.
    pub async fn queue_platform_message(
        &self,
        id: String,
        purpose: Purpose,
        to: &Personal<String>,
        subject: String,
        body: &Personal<String>,
    ) -> Result<bool, Error> {
        let op = self.queue_message(id, purpose, to, subject, body).await?;
        match self.store.transact(vec![op]).await {
            Ok(_) => Ok(true),
            Err(kernel::store::StoreError::ConditionFailed(_)) => Ok(false),
            Err(e) => Err(e.into()),
        }
    }

    /// The write that puts a new message into the outbox (queued, due now). Joins the caller's
    /// transaction, so a message exists exactly when what caused it was stored.
    pub(crate) async fn queue_message(
        &self,
        id: String,
        purpose: Purpose,
        to: &Personal<String>,
        subject: String,
        body: &Personal<String>,
    ) -> Result<WriteOp, Error> {
        let now = self.clock.now();
        let to = self
            .keyring
            .seal(
                &ctx(RecordKind::OutboxMessage, &id, "to"),
                KeyPurpose::Reports,
                to,
            )
            .await?;
        let body = self
            .keyring
            .seal(
                &ctx(RecordKind::OutboxMessage, &id, "body"),
                KeyPurpose::Reports,
                body,
            )
            .await?;
        let record = OutboxRecord {
            id,
            purpose,
            to,
            subject,
            body,
            queued_at: now,
            state: DeliveryState::Queued,
            state_at: now,
            attempts: 0,
            next_attempt_at: None,
            claimed_until: None,
            transport: None,
            transport_id: None,
            last_failure: None,
        };
        Ok(WriteOp::Put {
            item: message_item(&record)?,
            condition: Condition::NotExists,
        })
    }

    pub(crate) async fn load_message(
        &self,
        id: &str,
    ) -> Result<Option<(OutboxRecord, u64)>, Error> {
        match self.store.get(&message_key(id)?).await? {
            Some(item) => Ok(Some((item.record()?, item.version))),
            None => Ok(None),
        }
    }

    /// Every notice message of `tenant` about `incident`, oldest first.
    pub(crate) async fn customer_messages(
        &self,
        incident: &IncidentId,
        tenant: &TenantId,
    ) -> Result<Vec<OutboxRecord>, Error> {
        let mut out = Vec::new();
        // Ids count up from 1 without gaps (each is created only when the one before it did
        // not reach the customer), so the first missing id ends the list.
        for n in 1.. {
            match self
                .load_message(&customer_message_id(incident, tenant, n))
                .await?
            {
                Some((record, _)) => out.push(record),
                None => break,
            }
        }
        Ok(out)
    }

    /// Hands a queued, due message to the transport once, and records what happened. Returns
    /// the state this call left the message in, or `None` when it did not claim it (not due,
    /// not queued, or another run claimed it first).
    pub async fn deliver_message(
        &self,
        id: &str,
        report: &mut DrainReport,
    ) -> Result<Option<DeliveryState>, Error> {
        let now = self.clock.now();
        let claim = Transition::Claim {
            now,
            transport: self.sender.transport().to_string(),
        };
        let Some(claimed) = self.move_message(id, &claim, report).await? else {
            return Ok(None);
        };
        let message = OutgoingMessage {
            id: claimed.id.clone(),
            to: self
                .keyring
                .open(
                    &ctx(RecordKind::OutboxMessage, &claimed.id, "to"),
                    &claimed.to,
                )
                .await?,
            subject: claimed.subject.clone(),
            body: self
                .keyring
                .open(
                    &ctx(RecordKind::OutboxMessage, &claimed.id, "body"),
                    &claimed.body,
                )
                .await?,
        };
        let outcome = self.sender.send(&message).await;
        let now = self.clock.now();
        let settle = match outcome {
            Ok(Accepted { transport_id }) => Transition::Accepted { now, transport_id },
            Err(SendFailure::Transient(failure)) => Transition::Retry { now, failure },
            Err(SendFailure::Permanent(failure)) => Transition::Failed { now, failure },
        };
        // `None` here: an event about this very message came first and settled it.
        Ok(Some(match self.move_message(id, &settle, report).await? {
            Some(r) => r.state,
            None => self
                .load_message(id)
                .await?
                .map_or(DeliveryState::Failed, |(r, _)| r.state),
        }))
    }

    /// One run of the outbox drain at `at`: hands every due message to the transport, and
    /// marks claims whose lease ran out (a run that died) as in doubt, without resending them.
    pub async fn drain_outbox(&self, at: Timestamp) -> Result<DrainReport, Error> {
        let mut report = DrainReport::default();
        let due = query_all(
            self.store.as_ref(),
            due_messages_query(at).limit(DRAIN_BATCH),
        )
        .await?;
        for item in due.into_iter().take(DRAIN_BATCH as usize) {
            let record: OutboxRecord = item.record()?;
            let state = match record.state {
                DeliveryState::Queued => {
                    match self.deliver_message(&record.id, &mut report).await? {
                        Some(state) => state,
                        None => continue,
                    }
                }
                DeliveryState::Sending => {
                    let expired = Transition::LeaseExpired { now: at };
                    match self.move_message(&record.id, &expired, &mut report).await? {
                        Some(r) => r.state,
                        None => continue,
                    }
                }
                _ => continue,
            };
            report.messages.push((record.id, state));
        }
        Ok(report)
    }

    /// Records a delivery event (SES through SNS). Repeated and late events change nothing.
    /// Returns the message's state, or `None` for a message this platform does not know.
    pub async fn record_delivery_event(
        &self,
        event: DeliveryEvent,
    ) -> Result<Option<(DeliveryState, Vec<(IncidentId, Alert)>)>, Error> {
        let mut report = DrainReport::default();
        let id = event.message_id.clone();
        if self.load_message(&id).await?.is_none() {
            return Ok(None);
        }
        self.move_message(&id, &Transition::Event(event), &mut report)
            .await?;
        let state = self
            .load_message(&id)
            .await?
            .map_or(DeliveryState::Failed, |(r, _)| r.state);
        Ok(Some((state, report.alerts)))
    }

    /// Applies a transition to a message, and to the incident a customer notice belongs to, in
    /// one transaction; re-reads and tries again when either changed concurrently. `None` when
    /// the transition does not apply to the message as it now is.
    async fn move_message(
        &self,
        id: &str,
        t: &Transition,
        report: &mut DrainReport,
    ) -> Result<Option<OutboxRecord>, Error> {
        let gave_up =
            || Error::Conflict("the message keeps changing; the next run tries again".into());
        let changed = retry_lost_races(5, gave_up, || async {
            let Some((mut record, version)) = self.load_message(id).await? else {
                return Err(Error::NotFound("message".into()));
            };
            if !apply(&mut record, t) {
                return Ok(None);
            }
            let mut ops = vec![WriteOp::Put {
                item: message_item(&record)?,
                condition: Condition::Version(version),
            }];
            let mut raised = Vec::new();
            if let Purpose::CustomerNotice { incident, tenant } = &record.purpose
                && let Some((incident_ops, alert)) =
                    self.notice_change(incident, tenant, &record, t).await?
            {
                ops.extend(incident_ops);
                raised.extend(alert.map(|a| (*incident, a)));
            }
            self.store.transact(ops).await?;
            Ok(Some((record, raised)))
        })
        .await?;
        Ok(changed.map(|(record, raised)| {
            report.alerts.extend(raised);
            record
        }))
    }

    /// The change of the incident file a customer notice's new state means: the notice recorded
    /// (accepted), its delivery state updated (delivered, bounced, complained), and an alert
    /// when it did not reach the customer (failed, bounced, in doubt). `None`: no change.
    async fn notice_change(
        &self,
        incident: &IncidentId,
        tenant: &TenantId,
        message: &OutboxRecord,
        t: &Transition,
    ) -> Result<Option<(Vec<WriteOp>, Option<Alert>)>, Error> {
        let state = message.state;
        let (mut record, version) = self.load_incident(incident).await?;
        let duty = Duty::Customer {
            tenant: tenant.clone(),
        };
        let now = self.clock.now();
        let existing = record
            .notices
            .iter_mut()
            .find(|n| n.reference == message.id);
        let action;
        match existing {
            Some(notice) if notice.delivery == Some(state) => return Ok(None),
            Some(notice) => {
                notice.delivery = Some(state);
                action = "notice.delivery";
            }
            None if state.counts_as_notice() => {
                let sent_at = match t {
                    Transition::Event(e) => e.sent_at.unwrap_or(e.at),
                    _ => message.state_at,
                };
                record.notices.push(SentNotice {
                    duty: duty.clone(),
                    sent_at,
                    reference: message.id.clone(),
                    languages: vec![Language::De, Language::En],
                    delivery: Some(state),
                    transport_id: message.transport_id.clone(),
                });
                action = "notice.sent";
            }
            None if matches!(
                state,
                DeliveryState::Failed | DeliveryState::InDoubt | DeliveryState::Bounced
            ) =>
            {
                action = "notice.undelivered";
            }
            None => return Ok(None),
        }
        let alert = if matches!(
            state,
            DeliveryState::Failed | DeliveryState::InDoubt | DeliveryState::Bounced
        ) {
            let due = self.due_for(&record, &duty).await?;
            let alert = Alert {
                duty: duty.clone(),
                kind: AlertKind::Undelivered,
                due,
                raised_at: now,
            };
            record.alerts.push(alert.clone());
            Some(alert)
        } else {
            None
        };
        let change = serde_json::json!({
            "message": message.id, "tenant": tenant, "delivery": state,
        });
        let before = record.customer_tenants();
        let ops = self.save_ops(
            &Principal::system("outbox"),
            &mut record,
            version,
            action,
            &change,
            &before,
        )?;
        Ok(Some((ops, alert)))
    }

    /// When the notification owed under `duty` is due.
    async fn due_for(&self, record: &IncidentRecord, duty: &Duty) -> Result<Timestamp, Error> {
        let policies = self.policies(record).await?;
        let period = match duty {
            Duty::Customer { tenant } => {
                policies
                    .get(tenant)
                    .cloned()
                    .unwrap_or_else(EffectivePolicy::page)
                    .customer_notification
            }
            _ => kernel::policy::SUPERVISORY_AUTHORITY_NOTIFICATION,
        };
        period
            .after(record.aware_at)
            .map_err(|e| Error::Internal(e.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(s: &str) -> Timestamp {
        s.parse().expect("ts")
    }

    fn queued(at: Timestamp) -> OutboxRecord {
        // The state machine never opens the fields: any sealed value does.
        let key = kernel::crypto::DataKey::new(
            kernel::crypto::DataKeyId {
                owner: kernel::crypto::KeyOwner::Platform,
                purpose: KeyPurpose::Reports,
                version: 1,
            },
            &zeroize::Zeroizing::new([7u8; 32]),
        );
        let sealed = key
            .seal(
                &ctx(RecordKind::OutboxMessage, "m-1", "to"),
                b"someone@example.org",
            )
            .expect("sealed");
        OutboxRecord {
            id: "m-1".into(),
            purpose: Purpose::ReporterAcknowledgement {
                report: ReportId::generate(at),
            },
            to: sealed.clone(),
            subject: "s".into(),
            body: sealed,
            queued_at: at,
            state: DeliveryState::Queued,
            state_at: at,
            attempts: 0,
            next_attempt_at: None,
            claimed_until: None,
            transport: None,
            transport_id: None,
            last_failure: None,
        }
    }

    fn claim(at: Timestamp) -> Transition {
        Transition::Claim {
            now: at,
            transport: "smtp".into(),
        }
    }

    #[test]
    fn a_claim_is_taken_once_and_an_unsettled_claim_becomes_in_doubt_not_queued() {
        let at = ts("2026-05-01T10:00:00Z");
        let mut r = queued(at);
        assert!(apply(&mut r, &claim(at)));
        assert_eq!((r.state, r.attempts), (DeliveryState::Sending, 1));
        // A second run cannot claim it again.
        assert!(!apply(&mut r, &claim(at)));
        // Before the lease ends the claim stands; after it, the message is in doubt.
        assert!(!apply(
            &mut r,
            &Transition::LeaseExpired {
                now: later(at, SignedDuration::from_secs(60))
            }
        ));
        assert!(apply(
            &mut r,
            &Transition::LeaseExpired {
                now: later(at, CLAIM_LEASE)
            }
        ));
        assert_eq!(r.state, DeliveryState::InDoubt);
        // Nothing hands an in-doubt message to a transport again.
        assert!(!apply(
            &mut r,
            &claim(later(at, SignedDuration::from_hours(1)))
        ));
    }

    #[test]
    fn transient_failures_back_off_and_end_failed_after_the_last_attempt() {
        let mut at = ts("2026-05-01T10:00:00Z");
        let mut r = queued(at);
        let mut waits = Vec::new();
        for _ in 0..MAX_ATTEMPTS {
            assert!(apply(&mut r, &claim(at)), "claim at {at}");
            assert!(apply(
                &mut r,
                &Transition::Retry {
                    now: at,
                    failure: "451".into()
                }
            ));
            if r.state == DeliveryState::Failed {
                break;
            }
            let due = r.next_attempt_at.expect("next attempt");
            // Not claimed before its time.
            assert!(due > at && !apply(&mut r.clone(), &claim(at)));
            waits.push(due.duration_since(at).as_mins());
            at = due;
        }
        assert_eq!(r.state, DeliveryState::Failed);
        assert_eq!(r.attempts, MAX_ATTEMPTS);
        assert_eq!(waits, vec![1, 2, 4, 8, 16, 32, 60, 60, 60]);
    }

    #[test]
    fn events_settle_messages_once_and_late_events_change_nothing() {
        let at = ts("2026-05-01T10:00:00Z");
        let event = |outcome| {
            Transition::Event(DeliveryEvent {
                message_id: "m-1".into(),
                outcome,
                at,
                sent_at: None,
            })
        };
        let mut r = queued(at);
        // An event for a message never handed over is not believed.
        assert!(!apply(&mut r, &event(DeliveryOutcome::Delivered)));
        apply(&mut r, &claim(at));
        apply(
            &mut r,
            &Transition::Accepted {
                now: at,
                transport_id: "ses-1".into(),
            },
        );
        assert!(apply(&mut r, &event(DeliveryOutcome::Delivered)));
        assert!(!apply(&mut r, &event(DeliveryOutcome::Delivered)));
        assert!(apply(&mut r, &event(DeliveryOutcome::Bounced)));
        assert_eq!(r.state, DeliveryState::Bounced);
        assert!(!apply(&mut r, &event(DeliveryOutcome::Delivered)));
        assert!(r.state.may_resend() && !r.state.counts_as_notice());
    }
}
