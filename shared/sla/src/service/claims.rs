//! Claims: filed by customers through the portal with every outage, verified against the
//! measurements, lapsed when late or incomplete, decided by staff with the credit they grant.

use billing::credits::{CreditKind, CreditRecord};
use kernel::audit::{self, AuditHead, Stamp};
use kernel::error::{Error, FieldError};
use kernel::ids::TenantId;
use kernel::money::Rounding;
use kernel::policy::EffectivePolicy;
use kernel::rbac::{Access, Permission, Scope as AccessScope};
use kernel::store::{Condition, Query, StoreError, WriteOp, query_all};
use kernel::tenants;
use kernel::time::{Clock, Month, TimeRange, Timestamp};
use serde::{Deserialize, Serialize};

use super::{SlaService, range, text};
use crate::records::*;
use crate::report;

/// At most this many outages in one claim.
pub(super) const MAX_CLAIMED_OUTAGES: usize = 500;

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ClaimedOutage {
    #[schema(value_type = Option<String>, format = DateTime)]
    pub start: Option<Timestamp>,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub end: Option<Timestamp>,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ClaimInput {
    /// `YYYY-MM`.
    pub month: Option<String>,
    pub outages: Option<Vec<ClaimedOutage>>,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DecisionInput {
    pub approve: Option<bool>,
    pub reason: Option<String>,
}

/// A claim with the credit it led to (where the credit went).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ClaimView {
    #[serde(flatten)]
    pub claim: Claim,
    pub credit_record: Option<CreditRecord>,
}

impl SlaService {
    /// A customer admin files a claim: the month and every outage's start and end. Incomplete
    /// claims are refused whole (nothing stored); late ones are stored as lapsed, with the
    /// reason; the rest are checked against the measurements at once.
    pub async fn file_claim(
        &self,
        access: &Access,
        tenant: &TenantId,
        input: ClaimInput,
    ) -> Result<ClaimView, Error> {
        access.require(Permission::SlaClaimsFile, AccessScope::Tenant(tenant))?;
        let now = self.clock.now();
        let mut errors = Vec::new();
        let month = match input.month.as_deref().map(str::parse::<Month>) {
            Some(Ok(m)) => Some(m),
            Some(Err(e)) => {
                errors.push(FieldError::new("/month", e.to_string()));
                None
            }
            None => {
                errors.push(FieldError::new("/month", "is required (YYYY-MM)"));
                None
            }
        };
        let month_range = month.and_then(|m| m.range().ok());
        if let Some(r) = &month_range
            && r.end() > now
        {
            errors.push(FieldError::new(
                "/month",
                "claims are filed once the month is over",
            ));
        }
        let claimed = input.outages.unwrap_or_default();
        if claimed.is_empty() {
            errors.push(FieldError::new(
                "/outages",
                "name every outage claimed, each with its start and end",
            ));
        }
        if claimed.len() > MAX_CLAIMED_OUTAGES {
            errors.push(FieldError::new(
                "/outages",
                format!("at most {MAX_CLAIMED_OUTAGES} outages per claim"),
            ));
        }
        let mut outages = Vec::new();
        for (i, o) in claimed.iter().enumerate() {
            let prefix = format!("/outages/{i}");
            if let Some(r) = range(&mut errors, &prefix, o.start, o.end) {
                match &month_range {
                    Some(m) if !m.covers(&r) => errors.push(FieldError::new(
                        &prefix,
                        format!(
                            "must lie inside {} ({} to {})",
                            month.map(|m| m.to_string()).unwrap_or_default(),
                            m.start(),
                            m.end()
                        ),
                    )),
                    _ => outages.push(r),
                }
            }
        }
        let (Some(month), Some(month_range)) = (month, month_range) else {
            return Err(Error::Validation(errors));
        };
        if !errors.is_empty() {
            return Err(Error::Validation(errors));
        }
        if tenants::get(self.store.as_ref(), tenant).await?.is_none() {
            return Err(Error::NotFound(format!("tenant {tenant}")));
        }
        let policy = tenants::policy_for(self.store.as_ref(), tenant).await?;
        let deadline = policy
            .sla_claim_window
            .after(month_range.end())
            .map_err(|e| Error::Internal(e.to_string()))?;
        let id = ClaimId::generate(now);
        let (status, lapse_reason, verification) = if now > deadline {
            (
                ClaimStatus::Lapsed,
                Some(format!(
                    "filed {now}; the claim window for {month} ({} after the month's end) \
                     closed {deadline}",
                    policy.sla_claim_window
                )),
                None,
            )
        } else {
            let verification = self.verify(tenant, month, &outages, &policy).await?;
            (ClaimStatus::Verified, None, Some(verification))
        };
        let mut claim = Claim {
            id,
            tenant: tenant.clone(),
            month,
            outages: TimeRange::merge(outages),
            filed_at: now,
            filed_by: access.principal().subject.clone(),
            deadline,
            status,
            lapse_reason,
            verification,
            decision: None,
            credit: None,
            audit: AuditHead::default(),
        };
        let stamp = Stamp {
            at: now,
            by: access.principal(),
            action: match status {
                ClaimStatus::Lapsed => "sla.claim.lapsed",
                _ => "sla.claim.filed_and_verified",
            },
        };
        // The entry's digest covers the claim as filed (before its audit head is set).
        let filed = claim.clone();
        self.create_audited(&mut claim, stamp, &filed).await?;
        Ok(ClaimView {
            claim,
            credit_record: None,
        })
    }

    /// Sets a claim against the month's measurements and the billing period's fee.
    pub(super) async fn verify(
        &self,
        tenant: &TenantId,
        month: Month,
        claimed: &[TimeRange],
        policy: &EffectivePolicy,
    ) -> Result<Verification, Error> {
        let report = self.month_report(Some(tenant), month).await?;
        let claimed = TimeRange::merge(claimed.to_vec());
        let claimed_seconds = TimeRange::total(&claimed).as_secs();
        let confirmed = report::intersect(&claimed, &report.counted);
        let downtime: Vec<TimeRange> = report.outages.iter().map(|o| o.range).collect();
        let countable = match report.unknown_treatment {
            kernel::policy::UnknownTreatment::Downtime => {
                TimeRange::merge(downtime.iter().chain(&report.unknown).copied().collect())
            }
            kernel::policy::UnknownTreatment::NotDowntime => downtime.clone(),
        };
        let mut excluded = Vec::new();
        for line in &report.exclusions {
            for part in report::intersect(&report::intersect(&claimed, &countable), &[line.range]) {
                excluded.push(ExcludedPart {
                    range: part,
                    category: line.category,
                    exclusion: line.id,
                });
            }
        }
        let excluded_ranges: Vec<TimeRange> = excluded.iter().map(|e| e.range).collect();
        let unconfirmed = report::subtract(&claimed, &countable);
        let confirmed_seconds = TimeRange::total(&confirmed).as_secs();
        let fee_basis = self.fee_basis(tenant, month).await?;
        let credit = match &fee_basis {
            Some(b) => Some(
                b.fee
                    .share(policy.sla_credit, Rounding::HalfUp)
                    .map_err(|e| Error::Internal(e.to_string()))?,
            ),
            None => None,
        };
        let mut reasons = Vec::new();
        let mut reasons_de = Vec::new();
        let mut say = |en: String, de: String| {
            reasons.push(en);
            reasons_de.push(de);
        };
        if report.meets_target {
            say(
                format!(
                    "The month's uptime was {}, which meets the promised {}: no SLA credit is due.",
                    report.uptime, report.target
                ),
                format!(
                    "Die Verfügbarkeit im Monat lag bei {} und erreicht die zugesagten {}: keine \
                     SLA-Gutschrift fällig.",
                    report.uptime, report.target
                ),
            );
        } else {
            say(
                format!(
                    "The month's uptime was {}, below the promised {}.",
                    report.uptime, report.target
                ),
                format!(
                    "Die Verfügbarkeit im Monat lag bei {}, unter den zugesagten {}.",
                    report.uptime, report.target
                ),
            );
        }
        if confirmed_seconds == 0 {
            say(
                "None of the claimed time shows in the measurements as downtime that counts."
                    .to_string(),
                "Nichts von der beanspruchten Zeit zeigt sich in den Messungen als zählende \
                 Ausfallzeit."
                    .to_string(),
            );
        } else {
            say(
                format!(
                    "{confirmed_seconds} s of the {claimed_seconds} s claimed are confirmed as \
                     downtime."
                ),
                format!(
                    "{confirmed_seconds} s der beanspruchten {claimed_seconds} s sind als \
                     Ausfallzeit bestätigt."
                ),
            );
        }
        let excluded_seconds = TimeRange::total(&excluded_ranges).as_secs();
        if excluded_seconds > 0 {
            say(
                format!("{excluded_seconds} s of the claimed downtime fall under exclusions."),
                format!(
                    "{excluded_seconds} s der beanspruchten Ausfallzeit fallen unter Ausnahmen."
                ),
            );
        }
        let unconfirmed_seconds = TimeRange::total(&unconfirmed).as_secs();
        if unconfirmed_seconds > 0 {
            say(
                format!("{unconfirmed_seconds} s claimed are not downtime in the measurements."),
                format!(
                    "{unconfirmed_seconds} s der beanspruchten Zeit sind in den Messungen keine \
                     Ausfallzeit."
                ),
            );
        }
        let day = |t: Timestamp| {
            kernel::time::in_company_time(t)
                .strftime("%d.%m.%Y")
                .to_string()
        };
        match (&fee_basis, &credit) {
            (Some(b), Some(c)) => say(
                format!(
                    "The billing period {} to {} (invoice {}) had a fee of {}; {} of it is {} \
                     (half a cent and more rounded up).",
                    b.period_start, b.period_end, b.invoice, b.fee, policy.sla_credit, c
                ),
                format!(
                    "Der Abrechnungszeitraum {} bis {} (Rechnung {}) kostete {}; {} davon sind {} \
                     (ab einem halben Cent aufgerundet).",
                    day(b.period_start),
                    day(b.period_end),
                    b.invoice,
                    b.fee,
                    policy.sla_credit,
                    c
                ),
            ),
            _ => say(
                format!(
                    "No Stripe invoice bills a period overlapping {month}: the credit cannot be \
                     computed yet."
                ),
                format!(
                    "Keine Stripe-Rechnung deckt einen Zeitraum ab, der {month} überschneidet: die \
                     Gutschrift lässt sich noch nicht berechnen."
                ),
            ),
        }
        let eligible = !report.meets_target
            && report.complete
            && confirmed_seconds > 0
            && credit.is_some_and(|c| c.minor > 0);
        Ok(Verification {
            checked_at: self.clock.now(),
            uptime: report.uptime,
            meets_target: report.meets_target,
            counted_downtime_seconds: report.counted_downtime_seconds,
            claimed_seconds,
            confirmed,
            confirmed_seconds,
            excluded,
            excluded_seconds,
            unconfirmed,
            unconfirmed_seconds,
            fee_basis,
            credit,
            eligible,
            reasons,
            reasons_de,
        })
    }

    /// The billing period the month falls in: of the invoices billing a fee, the one whose
    /// period overlaps the month longest (the earlier on a tie).
    pub(super) async fn fee_basis(
        &self,
        tenant: &TenantId,
        month: Month,
    ) -> Result<Option<FeeBasis>, Error> {
        let month_range = month.range().map_err(|e| Error::Internal(e.to_string()))?;
        let mut best: Option<(i64, FeeBasis)> = None;
        for invoice in self.billing.fees(tenant).await? {
            let Ok(period) = TimeRange::new(invoice.period_start, invoice.period_end) else {
                continue;
            };
            let Some(overlap) = period.intersection(&month_range) else {
                continue;
            };
            let seconds = overlap.duration().as_secs();
            if best.as_ref().is_none_or(|(s, _)| seconds > *s) {
                best = Some((
                    seconds,
                    FeeBasis {
                        invoice: invoice.invoice.clone(),
                        period_start: invoice.period_start,
                        period_end: invoice.period_end,
                        fee: invoice.fee(),
                    },
                ));
            }
        }
        Ok(best.map(|(_, b)| b))
    }

    pub(super) async fn load_claim(
        &self,
        tenant: &TenantId,
        id: &ClaimId,
    ) -> Result<(Claim, u64), Error> {
        let item = self
            .store
            .get(&claim_key(tenant, id)?)
            .await?
            .ok_or_else(|| Error::NotFound(format!("claim {id}")))?;
        Ok((item.record()?, item.version))
    }

    pub(super) async fn view(&self, claim: Claim) -> Result<ClaimView, Error> {
        let credit_record = match &claim.credit {
            Some(id) => Some(self.credits.get(&claim.tenant, id).await?.0),
            None => None,
        };
        Ok(ClaimView {
            claim,
            credit_record,
        })
    }

    pub async fn claims(
        &self,
        access: &Access,
        tenant: &TenantId,
    ) -> Result<Vec<ClaimView>, Error> {
        access.require(Permission::SlaClaimsRead, AccessScope::Tenant(tenant))?;
        let items = query_all(
            self.store.as_ref(),
            Query::partition(claims_partition(tenant)).prefix(ClaimId::PREFIX),
        )
        .await?;
        let mut out = Vec::new();
        for item in items {
            out.push(self.view(item.record()?).await?);
        }
        Ok(out)
    }

    /// Every tenant's claims, oldest first: billing's queue across customers.
    pub async fn claims_queue(&self, access: &Access) -> Result<Vec<ClaimView>, Error> {
        access.require(Permission::SlaClaimsRead, AccessScope::Platform)?;
        let mut queue = Vec::new();
        for tenant in kernel::tenants::all(self.store.as_ref()).await? {
            queue.extend(self.claims(access, &tenant.id).await?);
        }
        queue.sort_by_key(|view| view.claim.filed_at);
        Ok(queue)
    }

    pub async fn claim(
        &self,
        access: &Access,
        tenant: &TenantId,
        id: &ClaimId,
    ) -> Result<ClaimView, Error> {
        access.require(Permission::SlaClaimsRead, AccessScope::Tenant(tenant))?;
        let (claim, _) = self.load_claim(tenant, id).await?;
        self.view(claim).await
    }

    /// The claim again for the one who decided it (after its credit went to Stripe): deciding
    /// includes seeing the decision, whatever else the role may read.
    pub async fn claim_as_decided(
        &self,
        access: &Access,
        tenant: &TenantId,
        id: &ClaimId,
    ) -> Result<ClaimView, Error> {
        access.require(Permission::SlaClaimsDecide, AccessScope::Tenant(tenant))?;
        let (claim, _) = self.load_claim(tenant, id).await?;
        self.view(claim).await
    }

    /// Billing staff approve or reject a verified claim, with a reason. Approval needs a
    /// verification that supports it and records the credit (one per tenant and month) in the
    /// same transaction; a credit the measurements do not support is a voluntary credit instead.
    pub async fn decide(
        &self,
        access: &Access,
        tenant: &TenantId,
        id: &ClaimId,
        input: DecisionInput,
    ) -> Result<ClaimView, Error> {
        access.require(Permission::SlaClaimsDecide, AccessScope::Tenant(tenant))?;
        let mut errors = Vec::new();
        if input.approve.is_none() {
            errors.push(FieldError::new("/approve", "is required (true or false)"));
        }
        let reason = text(&mut errors, "/reason", input.reason, 2_000);
        let Some(approve) = input.approve.filter(|_| errors.is_empty()) else {
            return Err(Error::Validation(errors));
        };
        let (mut claim, version) = self.load_claim(tenant, id).await?;
        if claim.status != ClaimStatus::Verified {
            return Err(Error::Conflict(format!(
                "the claim is {:?}; only verified claims are decided",
                claim.status
            )));
        }
        let now = self.clock.now();
        let mut ops = Vec::new();
        if approve {
            let verification = claim
                .verification
                .as_ref()
                .ok_or_else(|| Error::Internal("a verified claim without verification".into()))?;
            let credit = match (verification.eligible, verification.credit) {
                (true, Some(c)) => c,
                _ => {
                    return Err(Error::Conflict(format!(
                        "the verification does not support an SLA credit ({}); a credit at the \
                         company's discretion is a voluntary credit",
                        verification.reasons.join(" ")
                    )));
                }
            };
            let (record, credit_ops) = self.credits.prepare(
                access.principal(),
                tenant,
                CreditKind::Sla {
                    claim: claim.id.to_string(),
                    month: claim.month,
                },
                credit,
                &format!("SLA credit for {} (claim {})", claim.month, claim.id),
            )?;
            ops.extend(credit_ops);
            ops.push(WriteOp::Put {
                item: month_credit_item(
                    tenant,
                    &MonthCredit {
                        claim: claim.id,
                        credit: record.id,
                        month: claim.month,
                    },
                )?,
                condition: Condition::NotExists,
            });
            claim.credit = Some(record.id);
            claim.status = ClaimStatus::Approved;
        } else {
            claim.status = ClaimStatus::Rejected;
        }
        claim.decision = Some(Decision {
            approved: approve,
            reason,
            decided_by: access.principal().subject.clone(),
            decided_at: now,
        });
        let stamp = Stamp {
            at: now,
            by: access.principal(),
            action: if approve {
                "sla.claim.approved"
            } else {
                "sla.claim.rejected"
            },
        };
        let change = (claim.decision.clone(), claim.credit);
        ops.extend(audit::update_ops(&mut claim, version, stamp, &change)?);
        match self.store.transact(ops).await {
            Ok(()) => {}
            Err(StoreError::TransactionCanceled { .. }) if approve => {
                return Err(Error::Conflict(format!(
                    "an SLA credit for {} was granted already, or the claim changed meanwhile",
                    claim.month
                )));
            }
            Err(e) => return Err(e.into()),
        }
        self.view(claim).await
    }
}
