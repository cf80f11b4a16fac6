//! Every figure the trust page promises, in one place.
//!
//! The doc comment of each value quotes the promise it implements, in the words our requirements
//! give for the page (the German phrases are quoted where the issues carry them verbatim). Nothing
//! else in the code base may hard-code one of these numbers: read it from here, or from the
//! [`EffectivePolicy`] of a tenant's contract when the page allows the contract to differ.

use serde::{Deserialize, Serialize};

use crate::time::Period;

/// "Customers informed **within 48 h** of awareness" (Richtlinie zum Umgang mit
/// Datenschutzverletzungen: the company informs its customers within 48 hours of becoming aware,
/// with measures taken or planned, technical and organisational improvements, changes to incident
/// management and to processes). Counted in real hours from the time of awareness.
pub const CUSTOMER_NOTIFICATION: Period = Period::Hours(48);

/// "Whether the supervisory authority must be told (72 h from awareness)" — GDPR Art. 33(1):
/// "not later than 72 hours after having become aware of it". Law, not contract: no override.
pub const SUPERVISORY_AUTHORITY_NOTIFICATION: Period = Period::Hours(72);

/// NIS2 (Art. 23(4) Directive (EU) 2022/2555; in Germany § 32 BSIG): for an incident marked
/// significant, an early warning to the CSIRT / competent authority within 24 hours of becoming
/// aware of it, …
pub const NIS2_EARLY_WARNING: Period = Period::Hours(24);
/// … the incident notification within 72 hours, …
pub const NIS2_NOTIFICATION: Period = Period::Hours(72);
/// … and a final report not later than one month after the incident notification.
pub const NIS2_FINAL_REPORT_AFTER_NOTIFICATION: Period = Period::Months(1);

/// When the deadline watch raises its early warning: 12 hours before a notification is due.
pub const DEADLINE_WARNING_BEFORE: Period = Period::Hours(12);

/// "Personal data deleted 30 days after the service ends" (Aufbewahrung und Löschung von Daten:
/// "sofern keine anderslautende vertragliche Vereinbarung besteht" — unless the contract says
/// otherwise). Calendar days in Europe/Berlin.
pub const DELETION_AFTER_SERVICE_END: Period = Period::Days(30);

/// How far back an operator alone may date a service end. Both deletion stages count from the
/// service end, so a service end dated weeks back would start deletion at once without any
/// customer request: beyond this grace the date takes effect only when a second staff member
/// with the permission approves it (four eyes), and both steps are audited.
pub const SERVICE_END_BACKDATING_GRACE: Period = Period::Hours(24);

/// "All remaining copies deleted after a further year, unless a legal retention duty applies or
/// the customer asks for final deletion earlier." Counted from the first deletion stage.
pub const REMAINING_COPIES_RETENTION: Period = Period::Years(1);

/// "Backups kept 7 days." Counted as the backup system counts: 7 × 24 hours after the backup was
/// taken, so the last backup holding deleted data expires 168 hours after the deletion.
pub const BACKUP_RETENTION: Period = Period::Hours(7 * 24);

/// "SLA: monthly uptime of at least 95.0 %" (at most 36 h of downtime in a 30-day month).
/// Exactly 95.0 % keeps the promise.
pub const MONTHLY_UPTIME_TARGET: BasisPoints = BasisPoints(9_500);

/// "Below that a credit of 5 % of the monthly fee for that billing period, applied only to future
/// invoices."
pub const SLA_CREDIT: BasisPoints = BasisPoints(500);

/// "Late or incomplete claims lapse." The page asks for timely claims but names no period; until a
/// contract names one, a claim is timely when filed within 30 days after the month ends.
pub const SLA_CLAIM_WINDOW: Period = Period::Days(30);

/// The currency of our prices: credits to a Stripe customer not yet invoiced are in it.
pub const BILLING_CURRENCY: crate::money::Currency = crate::money::Currency::EUR;

/// Four eyes on goodwill: a voluntary credit above this amount is carried to the customer only
/// once a second billing approver agreed (`REGROOTER_CREDIT_SECOND_APPROVAL_ABOVE`, in cents, when
/// configuration names another). In another currency every voluntary credit needs the second
/// approver: the amounts are not comparable.
pub const VOLUNTARY_CREDIT_SECOND_APPROVAL_ABOVE: crate::money::Money =
    crate::money::Money::new(10_000, crate::money::Currency::EUR);

/// Art. 28(2) GDPR: customers are informed of an intended change of sub-processors in advance,
/// so that they can object. The notice period when configuration names none
/// (`REGROOTER_SUBPROCESSOR_NOTICE_DAYS`); a change cannot take effect sooner.
pub const SUBPROCESSOR_CHANGE_NOTICE: Period = Period::Days(30);

/// The data protection officer's contact used when configuration names none
/// (`REGROOTER_DPO_CONTACT`). The trust page's own address was not available to us verbatim;
/// deployments set the published one.
pub const DEFAULT_DPO_CONTACT: &str = "datenschutz@regrooter.de";

/// Where security reports go (`security.txt` Contact) when configuration names no other
/// (`REGROOTER_SECURITY_CONTACT`); deployments set the address the trust page publishes.
pub const DEFAULT_SECURITY_CONTACT: &str = "mailto:security@regrooter.de";

/// A share expressed in hundredths of a percent: 9 500 bp = 95.00 %.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(transparent)]
pub struct BasisPoints(pub u32);

impl BasisPoints {
    pub const FULL: BasisPoints = BasisPoints(10_000);
}

impl std::fmt::Display for BasisPoints {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{:02} %", self.0 / 100, self.0 % 100)
    }
}

/// How minutes in which the probe itself did not run are counted in the SLA (a contract setting).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum UnknownTreatment {
    /// Shown in every report, but not counted as downtime (the default).
    #[default]
    NotDowntime,
    /// Counted as downtime in the customer's favour.
    Downtime,
}

/// When a minute the platform was probed from two vantage points (its AWS region and
/// Cloudflare's network) counts as down.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum DownWhen {
    /// Only when both saw it down (one failing vantage shows the way to the service failing,
    /// not the service); unknown when either has no result. The default.
    #[default]
    BothVantages,
    /// When either saw it down (a contract may agree this, in the customer's favour); unknown
    /// only when neither saw it down and one has no result.
    EitherVantage,
}

/// What a customer's contract says where it differs from the page. Every field is optional; an
/// absent field means the page's figure applies.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ContractTerms {
    /// The page allows a different deletion period by contract, in either direction.
    pub deletion_after_service_end: Option<Period>,
    /// The page allows a different period for remaining copies by contract.
    pub remaining_copies_retention: Option<Period>,
    /// A data processing agreement may promise faster notification; never slower than the page.
    pub customer_notification: Option<Period>,
    /// A contract may promise more uptime than the page, never less.
    pub monthly_uptime_target: Option<BasisPoints>,
    /// A contract may promise a larger credit than the page, never a smaller one.
    pub sla_credit: Option<BasisPoints>,
    /// The page names no claim period; a contract may name one.
    pub sla_claim_window: Option<Period>,
    #[serde(default)]
    pub sla_unknown_treatment: Option<UnknownTreatment>,
    #[serde(default)]
    pub sla_down_when: Option<DownWhen>,
}

/// The figures that apply to one tenant: the page's, with the contract's permitted overrides.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EffectivePolicy {
    pub customer_notification: Period,
    pub supervisory_authority_notification: Period,
    pub deadline_warning_before: Period,
    pub deletion_after_service_end: Period,
    pub remaining_copies_retention: Period,
    pub backup_retention: Period,
    pub monthly_uptime_target: BasisPoints,
    pub sla_credit: BasisPoints,
    pub sla_claim_window: Period,
    pub sla_unknown_treatment: UnknownTreatment,
    pub sla_down_when: DownWhen,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PolicyError {
    #[error("{field}: {reason}")]
    Override { field: &'static str, reason: String },
}

fn longest_hours(p: Period) -> u64 {
    // An upper bound in hours, enough to compare a contract's period with the page's.
    match p {
        Period::Hours(h) => u64::from(h),
        Period::Days(d) => u64::from(d) * 24 + 1,
        Period::Months(m) => u64::from(m) * 31 * 24 + 1,
        Period::Years(y) => u64::from(y) * 366 * 24 + 1,
    }
}

impl EffectivePolicy {
    /// The page's own figures, for a customer without a contract that differs.
    pub fn page() -> Self {
        Self {
            customer_notification: CUSTOMER_NOTIFICATION,
            supervisory_authority_notification: SUPERVISORY_AUTHORITY_NOTIFICATION,
            deadline_warning_before: DEADLINE_WARNING_BEFORE,
            deletion_after_service_end: DELETION_AFTER_SERVICE_END,
            remaining_copies_retention: REMAINING_COPIES_RETENTION,
            backup_retention: BACKUP_RETENTION,
            monthly_uptime_target: MONTHLY_UPTIME_TARGET,
            sla_credit: SLA_CREDIT,
            sla_claim_window: SLA_CLAIM_WINDOW,
            sla_unknown_treatment: UnknownTreatment::NotDowntime,
            sla_down_when: DownWhen::BothVantages,
        }
    }

    /// Applies a contract. Overrides that would break a public promise are refused, not clamped:
    /// a contract that says "notify within 96 h" is an error for a human to fix.
    pub fn for_contract(terms: &ContractTerms) -> Result<Self, PolicyError> {
        Self::for_contract_checked(terms).map_err(|mut refused| refused.swap_remove(0))
    }

    /// As [`Self::for_contract`], naming every refused field at once (for forms and the API).
    pub fn for_contract_checked(terms: &ContractTerms) -> Result<Self, Vec<PolicyError>> {
        let mut policy = Self::page();
        let mut refused = Vec::new();
        let mut refuse = |field: &'static str, reason: String| {
            refused.push(PolicyError::Override { field, reason })
        };
        let positive = |p: Period| {
            let zero = matches!(
                p,
                Period::Hours(0) | Period::Days(0) | Period::Months(0) | Period::Years(0)
            );
            if zero {
                Err("must be longer than zero".to_string())
            } else if longest_hours(p) > 10 * 366 * 24 {
                Err("must not exceed ten years".to_string())
            } else {
                Ok(p)
            }
        };
        if let Some(p) = terms.deletion_after_service_end {
            match positive(p) {
                Ok(p) => policy.deletion_after_service_end = p,
                Err(why) => refuse("deletion_after_service_end", why),
            }
        }
        if let Some(p) = terms.remaining_copies_retention {
            match positive(p) {
                Ok(p) => policy.remaining_copies_retention = p,
                Err(why) => refuse("remaining_copies_retention", why),
            }
        }
        if let Some(p) = terms.customer_notification {
            match positive(p) {
                Err(why) => refuse("customer_notification", why),
                Ok(p) if longest_hours(p) > longest_hours(CUSTOMER_NOTIFICATION) => refuse(
                    "customer_notification",
                    format!("{p} is slower than the page's promise of {CUSTOMER_NOTIFICATION}"),
                ),
                Ok(p) => policy.customer_notification = p,
            }
        }
        if let Some(target) = terms.monthly_uptime_target {
            if target < MONTHLY_UPTIME_TARGET || target > BasisPoints::FULL {
                refuse(
                    "monthly_uptime_target",
                    format!(
                        "{target} must lie between the page's {MONTHLY_UPTIME_TARGET} and 100 %"
                    ),
                );
            } else {
                policy.monthly_uptime_target = target;
            }
        }
        if let Some(credit) = terms.sla_credit {
            if credit < SLA_CREDIT || credit > BasisPoints::FULL {
                refuse(
                    "sla_credit",
                    format!("{credit} must lie between the page's {SLA_CREDIT} and 100 %"),
                );
            } else {
                policy.sla_credit = credit;
            }
        }
        if let Some(p) = terms.sla_claim_window {
            match positive(p) {
                Ok(p) => policy.sla_claim_window = p,
                Err(why) => refuse("sla_claim_window", why),
            }
        }
        if let Some(t) = terms.sla_unknown_treatment {
            policy.sla_unknown_treatment = t;
        }
        if let Some(rule) = terms.sla_down_when {
            policy.sla_down_when = rule;
        }
        if refused.is_empty() {
            Ok(policy)
        } else {
            Err(refused)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_page_figures() {
        let p = EffectivePolicy::page();
        assert_eq!(p.customer_notification, Period::Hours(48));
        assert_eq!(p.supervisory_authority_notification, Period::Hours(72));
        assert_eq!(p.deletion_after_service_end, Period::Days(30));
        assert_eq!(p.remaining_copies_retention, Period::Years(1));
        assert_eq!(p.backup_retention, Period::Hours(168));
        assert_eq!(p.monthly_uptime_target.to_string(), "95.00 %");
        assert_eq!(p.sla_credit.to_string(), "5.00 %");
        assert_eq!(p.sla_claim_window, Period::Days(30));
    }

    #[test]
    fn a_contract_hears_every_refused_figure_at_once() {
        let terms = ContractTerms {
            customer_notification: Some(Period::Hours(96)),
            deletion_after_service_end: Some(Period::Months(0)),
            monthly_uptime_target: Some(BasisPoints(9_000)),
            sla_credit: Some(BasisPoints(10_001)),
            sla_claim_window: Some(Period::Years(11)),
            remaining_copies_retention: Some(Period::Days(60)),
            ..ContractTerms::default()
        };
        let refused: Vec<&str> = EffectivePolicy::for_contract_checked(&terms)
            .expect_err("refused")
            .into_iter()
            .map(|PolicyError::Override { field, .. }| field)
            .collect();
        assert_eq!(
            refused,
            [
                "deletion_after_service_end",
                "customer_notification",
                "monthly_uptime_target",
                "sla_credit",
                "sla_claim_window"
            ]
        );
        // The first of them is what the one-error form reports.
        assert!(matches!(
            EffectivePolicy::for_contract(&terms),
            Err(PolicyError::Override {
                field: "deletion_after_service_end",
                ..
            })
        ));
    }

    #[test]
    fn contracts_may_change_retention_but_not_weaken_promises() {
        let terms: ContractTerms = serde_json::from_str(
            r#"{"deletion_after_service_end": {"days": 90}, "customer_notification": {"hours": 24}}"#,
        )
        .expect("valid terms");
        let p = EffectivePolicy::for_contract(&terms).expect("allowed");
        assert_eq!(p.deletion_after_service_end, Period::Days(90));
        assert_eq!(p.customer_notification, Period::Hours(24));

        let slower = ContractTerms {
            customer_notification: Some(Period::Days(3)),
            ..Default::default()
        };
        let refused = EffectivePolicy::for_contract(&slower);
        assert!(
            matches!(
                &refused,
                Err(PolicyError::Override {
                    field: "customer_notification",
                    ..
                })
            ),
            "{refused:?}"
        );
        let less_uptime = ContractTerms {
            monthly_uptime_target: Some(BasisPoints(9_000)),
            ..Default::default()
        };
        let refused = EffectivePolicy::for_contract(&less_uptime);
        assert!(
            matches!(
                &refused,
                Err(PolicyError::Override {
                    field: "monthly_uptime_target",
                    ..
                })
            ),
            "{refused:?}"
        );
        let smaller_credit = ContractTerms {
            sla_credit: Some(BasisPoints(100)),
            ..Default::default()
        };
        let refused = EffectivePolicy::for_contract(&smaller_credit);
        assert!(
            matches!(
                &refused,
                Err(PolicyError::Override {
                    field: "sla_credit",
                    ..
                })
            ),
            "{refused:?}"
        );
        let zero = ContractTerms {
            deletion_after_service_end: Some(Period::Days(0)),
            ..Default::default()
        };
        let refused = EffectivePolicy::for_contract(&zero);
        assert!(
            matches!(&refused, Err(PolicyError::Override { field: "deletion_after_service_end", reason })
                if reason == "must be longer than zero"),
            "{refused:?}"
        );
    }

    #[test]
    fn unknown_contract_fields_are_refused() {
        let err = serde_json::from_str::<ContractTerms>(r#"{"deletion_days": 10}"#);
        assert!(
            matches!(&err, Err(e) if e.classify() == serde_json::error::Category::Data
                && e.to_string().contains("unknown field `deletion_days`")),
            "{err:?}"
        );
    }
}
