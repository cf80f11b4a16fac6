//! Credits on a tenant's next invoice: SLA credits and voluntary ones.
//!
//! A credit is decided here and carried to Stripe as a customer balance transaction (a negative
//! amount on the customer's balance, which Stripe deducts from the next invoice — never a
//! refund). Exactly once: every call carries the idempotency key `regrooter-credit-<id>`, so a
//! retried call returns the first call's transaction; because Stripe forgets idempotency keys
//! after 24 hours, a credit whose first attempt is older than that is first looked up by the
//! `regrooter_credit` metadata it was created with before anything new is created.

use std::collections::BTreeMap;
use std::sync::Arc;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use super::records::{credit_item, credit_key, credits_query, pending_credits_query};
use super::service::BillingService;
use kernel::audit::{self, AuditHead, Audited, Stamp};
use kernel::error::{Error, FieldError};
use kernel::ids::TenantId;
use kernel::inventory::GuardedStore;
use kernel::money::{Currency, Money};
use kernel::rbac::{Access, Permission, Principal, Scope};
use kernel::scrub;
use kernel::store::{Condition, Item, Store, WriteOp, query_all};
use kernel::time::{Clock, Month, Timestamp};

kernel::generated_id!(
    /// A credit on a tenant's next invoice.
    CreditId,
    "cr"
);

/// Metadata key on the Stripe balance transaction naming our credit.
pub const CREDIT_METADATA_KEY: &str = "regrooter_credit";
/// Stripe keeps idempotency keys for 24 hours; past 23 we look before we create.
const IDEMPOTENCY_WINDOW_HOURS: i64 = 23;
/// The secondary-index partition of credits not yet carried to Stripe.

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum CreditKind {
    /// 5 % of the affected billing period's fee for a verified SLA claim.
    Sla { claim: String, month: Month },
    /// At the company's discretion (outside factors affected availability, goodwill).
    Voluntary,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CreditStatus {
    /// Decided, not yet on the Stripe balance.
    Pending,
    /// On the Stripe customer's balance: deducted from the next invoice.
    Applied,
    /// A voluntary credit above the four-eyes amount: waits for a second billing approver.
    AwaitingApproval,
    /// Withdrawn before it reached Stripe; never carried.
    Cancelled,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreditRecord {
    pub id: CreditId,
    pub tenant: TenantId,
    pub kind: CreditKind,
    /// Positive: what the customer is credited, in minor units.
    pub amount: i64,
    pub currency: Currency,
    pub reason: String,
    pub decided_by: String,
    pub decided_at: Timestamp,
    pub status: CreditStatus,
    /// The Stripe customer and balance transaction that carry the credit.
    pub customer: Option<String>,
    pub balance_transaction: Option<String>,
    pub applied_at: Option<Timestamp>,
    pub attempts: u32,
    pub first_attempt_at: Option<Timestamp>,
    pub last_error: Option<String>,
    pub audit: AuditHead,
    /// The second billing approver of a voluntary credit above the four-eyes amount.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approved_by: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approved_at: Option<Timestamp>,
    /// Who withdrew it, when and why.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cancelled: Option<Cancellation>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Cancellation {
    pub by: String,
    pub at: Timestamp,
    pub reason: String,
}

impl CreditRecord {
    pub fn money(&self) -> Money {
        Money::new(self.amount, self.currency)
    }

    pub fn idempotency_key(&self) -> String {
        format!("regrooter-credit-{}", self.id)
    }
}

/// What is sent to Stripe.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BalanceCredit {
    pub customer: String,
    /// Negative: a credit on the customer's balance, applied to the next invoice.
    pub amount: i64,
    pub currency: Currency,
    pub description: String,
    pub idempotency_key: String,
    pub metadata: BTreeMap<String, String>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GatewayError {
    #[error("Stripe is not configured (STRIPE_SECRET_KEY)")]
    NotConfigured,
    /// Stripe refused the request: retrying the same request will not help.
    #[error("Stripe refused the request: {0}")]
    Rejected(String),
    /// Network or Stripe-side trouble: retry later with the same idempotency key.
    #[error("Stripe is unavailable: {0}")]
    Unavailable(String),
}

/// The outgoing side of billing: Stripe's customer balance.
#[async_trait]
pub trait BalanceGateway: Send + Sync {
    /// Creates the balance transaction (idempotently); returns its id.
    async fn credit(&self, request: &BalanceCredit) -> Result<String, GatewayError>;

    /// The balance transaction created for `credit`, if there is one.
    async fn find(&self, customer: &str, credit: &CreditId)
    -> Result<Option<String>, GatewayError>;

    /// Whether this gateway reaches Stripe at all (a function without the Stripe client leaves
    /// credits to the scheduled credit application instead of trying).
    fn configured(&self) -> bool {
        true
    }
}

/// What a voluntary credit needs.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VoluntaryCreditInput {
    pub amount: Option<i64>,
    pub currency: Option<String>,
    pub reason: Option<String>,
}

/// What one application run did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ApplyReport {
    pub applied: Vec<CreditId>,
    pub failed: Vec<(CreditId, String)>,
}

fn chain(id: &CreditId) -> String {
    format!("credit:{id}")
}

impl Audited for CreditRecord {
    fn chain(&self) -> String {
        chain(&self.id)
    }

    fn audit_head(&mut self) -> &mut AuditHead {
        &mut self.audit
    }

    fn item(&self) -> Result<Item, Error> {
        credit_item(self)
    }
}

/// The audit heads the credits of `tenants` keep, by chain (see
/// `kernel::audit::verify_all_chains_to`).
pub async fn audit_heads(
    store: &dyn Store,
    tenants: &[TenantId],
) -> Result<kernel::audit::RecordHeads, Error> {
    let mut heads = kernel::audit::RecordHeads::new();
    for tenant in tenants {
        for item in query_all(store, credits_query(tenant)).await? {
            let credit: CreditRecord = item.record()?;
            heads.insert(chain(&credit.id), credit.audit);
        }
    }
    Ok(heads)
}

pub struct CreditService {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    billing: Arc<BillingService>,
    /// Voluntary credits above this need a second billing approver.
    second_approval_above: Money,
}

impl CreditService {
    pub fn new(store: GuardedStore, clock: Arc<dyn Clock>, billing: Arc<BillingService>) -> Self {
        Self {
            store: store.shared(),
            clock,
            billing,
            second_approval_above: kernel::policy::VOLUNTARY_CREDIT_SECOND_APPROVAL_ABOVE,
        }
    }

    /// Another four-eyes amount than the policy's (configuration).
    pub fn with_second_approval_above(mut self, amount: Money) -> Self {
        self.second_approval_above = amount;
        self
    }

    /// Whether a voluntary credit of `amount` needs a second billing approver.
    pub fn needs_second_approval(&self, amount: Money) -> bool {
        amount.currency != self.second_approval_above.currency
            || amount.minor > self.second_approval_above.minor
    }

    /// Records a decided credit (pending until carried to Stripe), audited.
    pub async fn create(
        &self,
        decided_by: &Principal,
        tenant: &TenantId,
        kind: CreditKind,
        amount: Money,
        reason: &str,
    ) -> Result<CreditRecord, Error> {
        let (record, ops) = self.prepare(decided_by, tenant, kind, amount, reason)?;
        self.store.transact(ops).await?;
        Ok(record)
    }

    /// A decided credit and the writes that record it (the credit and its first audit entry), for
    /// a caller that must write them together with its own decision.
    pub fn prepare(
        &self,
        decided_by: &Principal,
        tenant: &TenantId,
        kind: CreditKind,
        amount: Money,
        reason: &str,
    ) -> Result<(CreditRecord, Vec<WriteOp>), Error> {
        if amount.minor <= 0 {
            return Err(Error::validation("/amount", "must be a positive amount"));
        }
        let now = self.clock.now();
        let id = CreditId::generate(now);
        let (reason, _) = scrub::scrub(reason.trim());
        let decided = Stamp {
            at: now,
            by: decided_by,
            action: "credit.decided",
        };
        let change = (kind.clone(), amount.minor, amount.currency, reason.clone());
        let mut record = CreditRecord {
            id,
            tenant: tenant.clone(),
            kind,
            amount: amount.minor,
            currency: amount.currency,
            reason,
            decided_by: decided_by.subject.clone(),
            decided_at: now,
            status: CreditStatus::Pending,
            customer: None,
            balance_transaction: None,
            applied_at: None,
            attempts: 0,
            first_attempt_at: None,
            last_error: None,
            audit: AuditHead::default(),
            approved_by: None,
            approved_at: None,
            cancelled: None,
        };
        let ops = audit::create_ops(&mut record, decided, &change)?;
        Ok((record, ops))
    }

    /// A voluntary credit by billing staff: amount, currency and reason.
    pub async fn grant_voluntary(
        &self,
        access: &Access,
        tenant: &TenantId,
        input: VoluntaryCreditInput,
    ) -> Result<CreditRecord, Error> {
        access.require(Permission::VoluntaryCreditsGrant, Scope::Tenant(tenant))?;
        let mut errors = Vec::new();
        match input.amount {
            Some(a) if a > 0 && a <= 100_000_000 => {}
            Some(_) => errors.push(FieldError::new(
                "/amount",
                "must be a positive amount in minor units (cents), at most 1 000 000.00",
            )),
            None => errors.push(FieldError::new("/amount", "is required (minor units)")),
        }
        let currency = match input.currency.as_deref().map(Currency::new) {
            Some(Ok(c)) => Some(c),
            Some(Err(e)) => {
                errors.push(FieldError::new("/currency", e.to_string()));
                None
            }
            None => {
                errors.push(FieldError::new("/currency", "is required, e.g. eur"));
                None
            }
        };
        let reason = input.reason.unwrap_or_default();
        if reason.trim().is_empty() || reason.chars().count() > 2_000 {
            errors.push(FieldError::new("/reason", "must be 1 to 2000 characters"));
        }
        if !errors.is_empty() {
            return Err(Error::Validation(errors));
        }
        let (Some(amount), Some(currency)) = (input.amount, currency) else {
            return Err(Error::Internal("validated input lost a field".into()));
        };
        if kernel::tenants::get(self.store.as_ref(), tenant)
            .await?
            .is_none()
        {
            return Err(Error::NotFound(format!("tenant {tenant}")));
        }
        // Only onto a Stripe customer, in the currency Stripe bills it in: a balance in another
        // currency would never meet an invoice.
        let customer = self.billing.credit_customer(tenant).await?;
        let billed_in = self.billing.customer_currency(&customer).await?;
        if currency != billed_in {
            return Err(Error::validation(
                "/currency",
                format!("must be the customer's Stripe currency, {billed_in}"),
            ));
        }
        let amount = Money::new(amount, currency);
        let (mut record, mut ops) = self.prepare(
            access.principal(),
            tenant,
            CreditKind::Voluntary,
            amount,
            &reason,
        )?;
        if self.needs_second_approval(amount) {
            // Held back from the pending index until a second approver agrees.
            record.status = CreditStatus::AwaitingApproval;
            ops[0] = WriteOp::Put {
                item: credit_item(&record)?,
                condition: Condition::NotExists,
            };
        }
        self.store.transact(ops).await?;
        Ok(record)
    }

    /// The second billing approver agrees to a voluntary credit above the four-eyes amount; it
    /// is then carried like any other. The one who asked for it cannot approve it.
    pub async fn approve(
        &self,
        access: &Access,
        tenant: &TenantId,
        id: &CreditId,
    ) -> Result<CreditRecord, Error> {
        access.require(Permission::VoluntaryCreditsGrant, Scope::Tenant(tenant))?;
        let (mut record, version) = self.get(tenant, id).await?;
        if record.status != CreditStatus::AwaitingApproval {
            return Err(Error::Conflict(format!(
                "the credit does not wait for approval (it is {:?})",
                record.status
            )));
        }
        if record.decided_by == access.principal().subject {
            return Err(Error::Conflict(
                "a second billing approver must agree; the one who asked cannot".into(),
            ));
        }
        let now = self.clock.now();
        record.status = CreditStatus::Pending;
        record.approved_by = Some(access.principal().subject.clone());
        record.approved_at = Some(now);
        self.change(record, version, access, "credit.approved", &())
            .await
    }

    /// Withdraws a voluntary credit that has not reached Stripe yet (pending or awaiting its
    /// second approver), with a reason.
    pub async fn cancel(
        &self,
        access: &Access,
        tenant: &TenantId,
        id: &CreditId,
        reason: Option<String>,
    ) -> Result<CreditRecord, Error> {
        access.require(Permission::VoluntaryCreditsGrant, Scope::Tenant(tenant))?;
        let reason = reason.unwrap_or_default();
        if reason.trim().is_empty() || reason.chars().count() > 2_000 {
            return Err(Error::validation("/reason", "must be 1 to 2000 characters"));
        }
        let (mut record, version) = self.get(tenant, id).await?;
        if record.kind != CreditKind::Voluntary
            || !matches!(
                record.status,
                CreditStatus::Pending | CreditStatus::AwaitingApproval
            )
        {
            return Err(Error::Conflict(
                "only a voluntary credit not yet on the Stripe balance can be cancelled".into(),
            ));
        }
        let (reason, _) = scrub::scrub(reason.trim());
        record.status = CreditStatus::Cancelled;
        record.cancelled = Some(Cancellation {
            by: access.principal().subject.clone(),
            at: self.clock.now(),
            reason: reason.clone(),
        });
        self.change(record, version, access, "credit.cancelled", &reason)
            .await
    }

    /// Writes a changed credit with its audit entry, in one transaction, if nobody changed it
    /// meanwhile (the carrying job included).
    async fn change(
        &self,
        mut record: CreditRecord,
        version: u64,
        access: &Access,
        action: &str,
        detail: &impl Serialize,
    ) -> Result<CreditRecord, Error> {
        let stamp = Stamp {
            at: self.clock.now(),
            by: access.principal(),
            action,
        };
        let ops = audit::update_ops(&mut record, version, stamp, detail)?;
        self.store.transact(ops).await.map_err(|e| {
            if e.is_lost_race() {
                Error::Conflict("the credit changed meanwhile; read it again".into())
            } else {
                e.into()
            }
        })?;
        Ok(record)
    }

    /// Every tenant's credits, newest first (billing's view across customers).
    pub async fn all(&self, access: &Access) -> Result<Vec<CreditRecord>, Error> {
        access.require(Permission::BillingRead, Scope::Platform)?;
        let mut credits = Vec::new();
        for tenant in kernel::tenants::all(self.store.as_ref()).await? {
            credits.extend(self.list(access, &tenant.id).await?);
        }
        credits.sort_by_key(|c| std::cmp::Reverse(c.decided_at));
        Ok(credits)
    }

    pub async fn list(
        &self,
        access: &Access,
        tenant: &TenantId,
    ) -> Result<Vec<CreditRecord>, Error> {
        access.require(Permission::BillingRead, Scope::Tenant(tenant))?;
        let items = query_all(self.store.as_ref(), credits_query(tenant)).await?;
        // A customer sees credits once they are decided: not one still waiting for its second
        // approver, nor one withdrawn before it was.
        let customer = access.principal().tenant().is_some();
        items
            .iter()
            .map(|i| i.record::<CreditRecord>().map_err(Error::from))
            .filter(|c| {
                !customer
                    || c.as_ref().map_or(true, |c| {
                        matches!(c.status, CreditStatus::Pending | CreditStatus::Applied)
                    })
            })
            .collect()
    }

    pub async fn get(
        &self,
        tenant: &TenantId,
        id: &CreditId,
    ) -> Result<(CreditRecord, u64), Error> {
        match self.store.get(&credit_key(tenant, id)?).await? {
            Some(item) => Ok((item.record()?, item.version)),
            None => Err(Error::NotFound(format!("credit {id}"))),
        }
    }

    /// Carries every pending credit to Stripe (the scheduled job, and right after a decision).
    pub async fn apply_pending(&self, gateway: &dyn BalanceGateway) -> Result<ApplyReport, Error> {
        let pending = query_all(self.store.as_ref(), pending_credits_query().limit(100)).await?;
        let mut report = ApplyReport::default();
        for item in pending {
            let record: CreditRecord = item.record()?;
            match self.apply(gateway, &record.tenant, &record.id).await {
                Ok(r) if r.status == CreditStatus::Applied => report.applied.push(r.id),
                Ok(r) => report
                    .failed
                    .push((r.id, r.last_error.unwrap_or_else(|| "still pending".into()))),
                Err(e) => report.failed.push((record.id, e.to_string())),
            }
        }
        Ok(report)
    }

    /// Carries one credit to Stripe, exactly once however often it is called.
    /// `apply` for a caller who operates billing for the tenant.
    pub async fn apply_as(
        &self,
        access: &Access,
        gateway: &dyn BalanceGateway,
        tenant: &TenantId,
        id: &CreditId,
    ) -> Result<CreditRecord, Error> {
        access.require(Permission::BillingOperate, Scope::Tenant(tenant))?;
        self.apply(gateway, tenant, id).await
    }

    pub async fn apply(
        &self,
        gateway: &dyn BalanceGateway,
        tenant: &TenantId,
        id: &CreditId,
    ) -> Result<CreditRecord, Error> {
        let (mut record, version) = self.get(tenant, id).await?;
        // Only a pending credit is carried: applied once, and one awaiting its second approver
        // or cancelled never.
        if record.status != CreditStatus::Pending {
            return Ok(record);
        }
        let now = self.clock.now();
        let customer = match &record.customer {
            Some(c) => c.clone(),
            None => self.billing.credit_customer(tenant).await?,
        };
        let first_attempt = *record.first_attempt_at.get_or_insert(now);
        record.customer = Some(customer.clone());
        record.attempts += 1;
        let stale_key = now.duration_since(first_attempt)
            > jiff::SignedDuration::from_hours(IDEMPOTENCY_WINDOW_HOURS);
        let found = if stale_key {
            gateway.find(&customer, id).await
        } else {
            Ok(None)
        };
        let outcome = match found {
            Ok(Some(existing)) => Ok(existing),
            Ok(None) => {
                let request = BalanceCredit {
                    customer: customer.clone(),
                    amount: -record.amount,
                    currency: record.currency,
                    description: match &record.kind {
                        CreditKind::Sla { month, .. } => format!("SLA credit for {month}"),
                        CreditKind::Voluntary => "Voluntary credit".to_string(),
                    },
                    idempotency_key: record.idempotency_key(),
                    metadata: BTreeMap::from([
                        (CREDIT_METADATA_KEY.to_string(), id.to_string()),
                        ("tenant_id".to_string(), tenant.to_string()),
                    ]),
                };
                gateway.credit(&request).await
            }
            Err(e) => Err(e),
        };
        // Applied: a change the audit trail records. Failed: only the error is kept for the
        // next run.
        let ops = match outcome {
            Ok(transaction) => {
                record.status = CreditStatus::Applied;
                record.balance_transaction = Some(transaction.clone());
                record.applied_at = Some(now);
                record.last_error = None;
                let applied = Stamp {
                    at: now,
                    by: &Principal::system("credit-application"),
                    action: "credit.applied",
                };
                audit::update_ops(&mut record, version, applied, &(&customer, &transaction))?
            }
            Err(e) => {
                record.last_error = Some(e.to_string());
                vec![WriteOp::Put {
                    item: credit_item(&record)?,
                    condition: Condition::Version(version),
                }]
            }
        };
        self.store.transact(ops).await?;
        Ok(record)
    }
}
