//! The data inventory: every kind of record the platform stores, where it lives, whether it
//! belongs to a tenant, and which of its fields hold personal data (and of which category).
//!
//! Retention walks this inventory to find what to delete; the [`InventoryGuard`] in front of every
//! store refuses a write that would put a declared personal field in clear, that puts a tenant's
//! record outside the tenant's partition, or that sets an expiry on a long-lived record.
//! Adding a record kind means adding it here first.

use std::sync::Arc;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::crypto::SealedField;
use crate::store::{
    BatchOutcome, Condition, Item, ItemKey, Page, Query, Store, StoreError, WriteOp,
};

/// Categories of personal data (the taxonomy incidents and legal holds use too). Art. 9 GDPR
/// special categories and data of children are separate so the risk assessment can weigh them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum DataCategory {
    Contact,
    Identification,
    NationalId,
    Financial,
    Health,
    SpecialCategory,
    Credentials,
    Employment,
    Children,
    Location,
    CommunicationContent,
    Other,
}

/// Where a record kind sits in the deletion stages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Holding {
    /// Live data: deleted in stage 1 (service end + 30 days).
    Primary,
    /// A copy kept after stage 1 (exports, archives): deleted in stage 2 (+ one year).
    Copy,
    /// Key material: destroyed (crypto-shredding) with the scope it protects.
    KeyMaterial,
    /// Holds no tenant data (platform bookkeeping).
    Platform,
    /// Business records of the billing relationship (Stripe ids, amounts, periods, statuses,
    /// credits): no personal data, kept under the statutory retention duties for accounting
    /// records (§ 147 AO, § 257 HGB) rather than the tenant's deletion stages.
    Bookkeeping,
}

/// A field holding personal data. `path` is a dot-separated path into the record; a segment
/// ending in `[]` is an array whose elements are visited.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct PersonalField {
    pub path: &'static str,
    pub category: DataCategory,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct RecordSpec {
    pub kind: RecordKind,
    pub description: &'static str,
    /// Records of a tenant live in the partition `T#<tenant>` and carry the tenant attribute.
    pub tenant_scoped: bool,
    pub holding: Holding,
    pub personal: &'static [PersonalField],
    /// For a kind with personal fields: every other string field it may hold in clear (ids,
    /// enum values, timestamps, digests), as paths like `personal`'s; `prefix.*` admits a
    /// subtree of values the code itself produces. A string at any other path is refused, so a
    /// new free-text field cannot reach the store in clear by being forgotten here.
    pub clear: &'static [&'static str],
    /// May carry an expiry (TTL). Only rate and idempotency records do.
    pub short_lived: bool,
    /// The shapes its keys take, (pk, sk): literal text with `<…>` for a variable part (one or
    /// more characters). The guard refuses a record whose key has none of these shapes;
    /// ARCHITECTURE.md's item table lists the same.
    pub keys: &'static [(&'static str, &'static str)],
}

/// Where a tenant's incident links lie in its partition: this prefix and the incident's id (the
/// incidents area writes them; retention's export and deletion read them; one spelling here).
pub const TENANT_INCIDENT_LINK_PREFIX: &str = "INCIDENT#";

macro_rules! record_kinds {
    ($( $variant:ident = $name:literal ),* $(,)?) => {
        /// Every kind of stored record.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        pub enum RecordKind {
            $( #[serde(rename = $name)] $variant, )*
        }

        impl RecordKind {
            pub const ALL: &'static [RecordKind] = &[$(RecordKind::$variant),*];

            pub fn as_str(self) -> &'static str {
                match self { $(RecordKind::$variant => $name,)* }
            }
        }

        impl std::str::FromStr for RecordKind {
            type Err = StoreError;
            fn from_str(s: &str) -> Result<Self, StoreError> {
                match s {
                    $($name => Ok(RecordKind::$variant),)*
                    other => Err(StoreError::Corrupt(format!("unknown record kind '{other}'"))),
                }
            }
        }
    };
}

record_kinds! {
    DataKey = "data_key",
    PlatformDataKey = "platform_data_key",
    Tenant = "tenant",
    SecurityReport = "security_report",
    Incident = "incident",
    TenantIncidentLink = "tenant_incident_link",
    OutboxMessage = "outbox_message",
    AuditEntry = "audit_entry",
    StripeEvent = "stripe_event",
    StripeEventCount = "stripe_event_count",
    StripeCustomer = "stripe_customer",
    StripeSubscription = "stripe_subscription",
    StripeInvoice = "stripe_invoice",
    Credit = "credit",
    Export = "export",
    RetentionState = "retention_state",
    DeletionCertificate = "deletion_certificate",
    LegalHold = "legal_hold",
    SlaTarget = "sla_target",
    SlaProbeDay = "sla_probe_day",
    SlaOutage = "sla_outage",
    SlaExclusion = "sla_exclusion",
    SlaClaim = "sla_claim",
    SlaMonthCredit = "sla_month_credit",
    SlaMonthSummary = "sla_month_summary",
    StaffUser = "staff_user",
    TenantUser = "tenant_user",
    TenantRole = "tenant_role",
    SignInChallenge = "sign_in_challenge",
    RefreshToken = "refresh_token",
    TokenFamily = "token_family",
    IdempotencyRecord = "idempotency_record",
    ServiceEndRequest = "service_end_request",
    TrustStatement = "trust_statement",
    SubprocessorChange = "subprocessor_change",
    SubprocessorObjection = "subprocessor_objection",
    InstructionsAcknowledgement = "instructions_acknowledgement",
}

impl std::fmt::Display for RecordKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl RecordKind {
    pub fn spec(self) -> &'static RecordSpec {
        INVENTORY
            .iter()
            .find(|s| s.kind == self)
            .unwrap_or_else(|| unreachable!("the inventory test checks every kind has a spec"))
    }
}

/// The personal fields of an account, staff or a tenant's user alike.
const ACCOUNT_FIELDS: &[PersonalField] = &[
    PersonalField {
        path: "email",
        category: DataCategory::Contact,
    },
    PersonalField {
        path: "name",
        category: DataCategory::Identification,
    },
    PersonalField {
        path: "otp_secret",
        category: DataCategory::Credentials,
    },
    // A passkey's public key with the name its owner gave it ("Laptop").
    PersonalField {
        path: "passkeys[].credential",
        category: DataCategory::Credentials,
    },
];

/// The clear fields of an account: ids, roles, hashes, times.
const ACCOUNT_CLEAR: &[&str] = &[
    "id",
    "account.kind",
    "account.tenant",
    "roles[]",
    "password",
    "activation.token_hash",
    "activation.expires_at",
    "reset.token_hash",
    "reset.expires_at",
    "recovery_codes[]",
    "passkeys[].id",
    "passkeys[].created_at",
    "passkeys[].last_used_at",
    "locked_until",
    "revoked_before",
    "second_factor_reset.requested_by",
    "second_factor_reset.requested_at",
    "created_at",
    "updated_at",
    "audit.hash",
];

/// The inventory itself.
pub static INVENTORY: &[RecordSpec] = &[
    RecordSpec {
        kind: RecordKind::DataKey,
        keys: &[("T#<tenant>", "KEY#<purpose>#<version, 10 digits>")],
        description: "A tenant's data key for one purpose and version, wrapped by the key-encryption \
                      key (KMS in production). Deleting it crypto-shreds every copy it protects.",
        tenant_scoped: true,
        holding: Holding::KeyMaterial,
        personal: &[],
        clear: &[],
        short_lived: false,
    },
    RecordSpec {
        kind: RecordKind::PlatformDataKey,
        keys: &[("PLATFORM", "KEY#<purpose>#<version>")],
        description: "A data key protecting the platform's own records (security reports, incident \
                      files), wrapped by the key-encryption key.",
        tenant_scoped: false,
        holding: Holding::KeyMaterial,
        personal: &[],
        clear: &[],
        short_lived: false,
    },
    RecordSpec {
        kind: RecordKind::Tenant,
        keys: &[("T#<tenant>", "PROFILE")],
        description: "A customer: display name, service status and end, contract terms, and the \
                      contact person's address.",
        tenant_scoped: true,
        holding: Holding::Primary,
        personal: &[PersonalField {
            path: "contact_email",
            category: DataCategory::Contact,
        }],
        clear: &[
            "id",
            "name",
            "contract.*",
            "status",
            "service_ended_at",
            "service_end_source.by",
            "service_end_source.subscription",
            "service_end_source.subject",
            "audit.hash",
            "created_at",
            "updated_at",
        ],
        short_lived: false,
    },
    RecordSpec {
        kind: RecordKind::SecurityReport,
        keys: &[("REPORT#<id>", "RECORD")],
        description: "A security report from the public intake: the page's five fields, the \
                      reporter's optional contact, a vulnerability's product and steps, and the \
                      messages with the security team, all sealed with the platform's reports \
                      key; an optional CVSS v4.0 vector in clear.",
        tenant_scoped: false,
        holding: Holding::Platform,
        personal: &[
            PersonalField {
                path: "description",
                category: DataCategory::CommunicationContent,
            },
            PersonalField {
                path: "affected_parties",
                category: DataCategory::Identification,
            },
            PersonalField {
                path: "personal_data_kind",
                category: DataCategory::CommunicationContent,
            },
            PersonalField {
                path: "scope",
                category: DataCategory::CommunicationContent,
            },
            PersonalField {
                path: "impact_assessment",
                category: DataCategory::CommunicationContent,
            },
            PersonalField {
                path: "reporter_contact",
                category: DataCategory::Contact,
            },
            PersonalField {
                path: "affected_product",
                category: DataCategory::CommunicationContent,
            },
            PersonalField {
                path: "steps_to_reproduce",
                category: DataCategory::CommunicationContent,
            },
            PersonalField {
                path: "messages[].body",
                category: DataCategory::CommunicationContent,
            },
        ],
        clear: &[
            "id",
            "received_at",
            "language",
            "secret_digest",
            "status",
            "triage.outcome",
            "triage.of",
            "triage.incident",
            "triaged_at",
            "cvss_vector",
            "messages[].at",
            "messages[].from",
            "messages[].by",
            "audit.hash",
        ],
        short_lived: false,
    },
    RecordSpec {
        kind: RecordKind::Incident,
        keys: &[("INCIDENT#<id>", "RECORD")],
        description: "A personal data breach: facts, data sets and roles, measures, assessment, \
                      notifications, alerts. Free text is sealed.",
        tenant_scoped: false,
        holding: Holding::Platform,
        personal: &[
            PersonalField {
                path: "title",
                category: DataCategory::CommunicationContent,
            },
            PersonalField {
                path: "customer_title",
                category: DataCategory::CommunicationContent,
            },
            PersonalField {
                path: "english.customer_title",
                category: DataCategory::CommunicationContent,
            },
            PersonalField {
                path: "english.nature_and_scope",
                category: DataCategory::CommunicationContent,
            },
            PersonalField {
                path: "english.likely_consequences",
                category: DataCategory::CommunicationContent,
            },
            PersonalField {
                path: "measures[].what_en",
                category: DataCategory::CommunicationContent,
            },
            PersonalField {
                path: "data_sets[].name",
                category: DataCategory::Identification,
            },
            PersonalField {
                path: "measures[].owner",
                category: DataCategory::Identification,
            },
            PersonalField {
                path: "nature_and_scope",
                category: DataCategory::CommunicationContent,
            },
            PersonalField {
                path: "likely_consequences",
                category: DataCategory::CommunicationContent,
            },
            PersonalField {
                path: "measures[].what",
                category: DataCategory::CommunicationContent,
            },
            PersonalField {
                path: "assessment.override_decision.justification",
                category: DataCategory::CommunicationContent,
            },
        ],
        clear: &[
            "id",
            "status",
            "discovered_at",
            "aware_at",
            "breach_types[]",
            "data_categories[]",
            "data_sets[].tenant",
            "data_sets[].role",
            "measures[].id",
            "measures[].kind",
            "measures[].at",
            "measures[].status",
            "assessment.facts.*",
            "assessment.engine.*",
            // The names of the facts read from the file, and the decision before it changed.
            "assessment.from_file[]",
            "assessment.previous_engine.*",
            "assessment.assessed_at",
            "assessment.assessed_by",
            "assessment.override_decision.risk",
            "assessment.override_decision.by",
            "assessment.override_decision.at",
            "notices[].duty.kind",
            "notices[].duty.tenant",
            "notices[].sent_at",
            "notices[].reference",
            "notices[].languages[]",
            "notices[].delivery",
            "notices[].transport_id",
            "alerts[].duty.kind",
            "alerts[].duty.tenant",
            "alerts[].kind",
            "alerts[].due",
            "alerts[].raised_at",
            "source_report",
            "created_at",
            "created_by",
            "closed_at",
            "audit.hash",
        ],
        short_lived: false,
    },
    RecordSpec {
        kind: RecordKind::TenantIncidentLink,
        keys: &[("T#<tenant>", "INCIDENT#<id>")],
        description: "Marks that an incident affects a tenant, so the tenant's admins can list it.",
        tenant_scoped: true,
        holding: Holding::Primary,
        personal: &[],
        clear: &[],
        short_lived: false,
    },
    RecordSpec {
        kind: RecordKind::OutboxMessage,
        keys: &[("OUTBOX#<message id>", "RECORD")],
        description: "A message on its way (customer notice, reporter acknowledgement or status): recipient and text sealed; its delivery state, attempts and the transport's id.",
        tenant_scoped: false,
        holding: Holding::Platform,
        personal: &[
            PersonalField {
                path: "to",
                category: DataCategory::Contact,
            },
            PersonalField {
                path: "body",
                category: DataCategory::CommunicationContent,
            },
        ],
        clear: &[
            "id",
            "purpose.*",
            "subject",
            "queued_at",
            "state",
            "state_at",
            "next_attempt_at",
            "claimed_until",
            "transport",
            "transport_id",
            "last_failure",
        ],
        short_lived: false,
    },
    RecordSpec {
        kind: RecordKind::AuditEntry,
        keys: &[("AUDIT#<record id>", "<seq, 12 digits>")],
        description: "One link of an audit hash chain: actor id, time, action, digest of the change.",
        tenant_scoped: false,
        holding: Holding::Platform,
        personal: &[],
        clear: &[],
        short_lived: false,
    },
    RecordSpec {
        kind: RecordKind::StripeEvent,
        keys: &[("STRIPE_EVENT#<evt id>", "EVENT")],
        description: "The idempotency record of a processed Stripe event: id, type, time, outcome. \
                      Expires after 90 days.",
        tenant_scoped: false,
        holding: Holding::Platform,
        personal: &[],
        clear: &[],
        short_lived: true,
    },
    RecordSpec {
        kind: RecordKind::StripeEventCount,
        keys: &[("STRIPE_EVENTS", "COUNT#<type>")],
        description: "How many Stripe events of one type arrived.",
        tenant_scoped: false,
        holding: Holding::Platform,
        personal: &[],
        clear: &[],
        short_lived: false,
    },
    RecordSpec {
        kind: RecordKind::StripeCustomer,
        keys: &[("STRIPE#<cus id>", "CUSTOMER")],
        description: "A Stripe customer id and the tenant its metadata links it to.",
        tenant_scoped: false,
        holding: Holding::Bookkeeping,
        personal: &[],
        clear: &[],
        short_lived: false,
    },
    RecordSpec {
        kind: RecordKind::StripeSubscription,
        keys: &[("STRIPE#<cus id>", "SUB#<sub id>")],
        description: "A Stripe subscription: status, current period, cancellation and end times.",
        tenant_scoped: false,
        holding: Holding::Bookkeeping,
        personal: &[],
        clear: &[],
        short_lived: false,
    },
    RecordSpec {
        kind: RecordKind::StripeInvoice,
        keys: &[("STRIPE#<cus id>", "INV#<in id>")],
        description: "A Stripe invoice: billing period, net fee, totals, currency, payment state.",
        tenant_scoped: false,
        holding: Holding::Bookkeeping,
        personal: &[],
        clear: &[],
        short_lived: false,
    },
    RecordSpec {
        kind: RecordKind::Credit,
        keys: &[("CREDITS#<tenant>", "<cr id>")],
        description: "A credit on a tenant's next invoice (SLA or voluntary): amount, reason, \
                      who decided, and the Stripe balance transaction that carries it.",
        tenant_scoped: false,
        holding: Holding::Bookkeeping,
        personal: &[],
        clear: &[],
        short_lived: false,
    },
    RecordSpec {
        kind: RecordKind::Export,
        keys: &[("T#<tenant>", "EXPORT#<exp id>")],
        description: "A copy of a tenant's data made for the customer (data portability), sealed \
                      with the tenant's copies key; kept after stage 1, deleted in stage 2.",
        tenant_scoped: true,
        holding: Holding::Copy,
        personal: &[PersonalField {
            path: "content",
            category: DataCategory::Contact,
        }],
        clear: &["id", "tenant", "created_at", "created_by"],
        short_lived: false,
    },
    RecordSpec {
        kind: RecordKind::RetentionState,
        keys: &[("RETENTION#<tenant>", "STATE")],
        description: "A tenant's retention progress: the stage dates fixed at the first stage, \
                      the running stage's counts and pending batch, completed stages, final \
                      deletion request; and where the certificates go: the tenant's breach \
                      contact, read before stage 1 and sealed under the platform's identity \
                      key, dropped with the last stage.",
        tenant_scoped: false,
        holding: Holding::Platform,
        personal: &[PersonalField {
            path: "certificate_recipient",
            category: DataCategory::Contact,
        }],
        clear: &[
            "tenant",
            "service_ended_at",
            "stage1_due",
            "stage2_due",
            "deletion_after_service_end.*",
            "remaining_copies_retention.*",
            "backup_retention.*",
            "final_deletion.*",
            "running.*",
            "completed.*",
            "audit.*",
        ],
        short_lived: false,
    },
    RecordSpec {
        kind: RecordKind::DeletionCertificate,
        keys: &[("RETENTION#<tenant>", "CERT#<cert id>")],
        description: "A signed deletion certificate: tenant, stage, scope, counts per record kind, \
                      keys destroyed, start, end, backup expiry. The proof outlives the data. \
                      Until its mail is queued, the recipient (sealed as in the retention state).",
        tenant_scoped: false,
        holding: Holding::Platform,
        personal: &[PersonalField {
            path: "deliver_to",
            category: DataCategory::Contact,
        }],
        clear: &["certificate.*", "jws", "kid"],
        short_lived: false,
    },
    RecordSpec {
        kind: RecordKind::ServiceEndRequest,
        keys: &[("RETENTION#<tenant>", "SERVICE_END_REQUEST")],
        description: "A backdated service end waiting for a second staff member's approval: \
                      tenant, date, who asked and when. Ids and times only.",
        tenant_scoped: false,
        holding: Holding::Platform,
        personal: &[],
        clear: &[],
        short_lived: false,
    },
    RecordSpec {
        kind: RecordKind::LegalHold,
        keys: &[("RETENTION#<tenant>", "HOLD#<hold id>")],
        description: "A statutory retention duty over some of a tenant's data categories: legal \
                      basis, categories, until when, who set it.",
        tenant_scoped: false,
        holding: Holding::Platform,
        personal: &[],
        clear: &[],
        short_lived: false,
    },
    RecordSpec {
        kind: RecordKind::SlaTarget,
        keys: &[("SLA_TARGETS", "<target>")],
        description: "An endpoint the SLA probe checks (its name): the registry reports read.",
        tenant_scoped: false,
        holding: Holding::Platform,
        personal: &[],
        clear: &[],
        short_lived: false,
    },
    RecordSpec {
        kind: RecordKind::SlaProbeDay,
        keys: &[
            ("SLA#<target>", "DAY#<YYYY-MM-DD>"),
            ("SLA#<target>@edge", "DAY#<YYYY-MM-DD>"),
        ],
        description: "One UTC day of one probe target: up, down or unknown per minute.",
        tenant_scoped: false,
        holding: Holding::Platform,
        personal: &[],
        clear: &[],
        short_lived: false,
    },
    RecordSpec {
        kind: RecordKind::SlaOutage,
        keys: &[("SLA_OUTAGES", "<start>#<out id>")],
        description: "An outage an operator recorded: interval, scope (all tenants or one), a \
                      short description and a reference to the evidence (ticket, status page, \
                      monitoring link) — no personal data by design, scrubbed of card data.",
        tenant_scoped: false,
        holding: Holding::Platform,
        personal: &[],
        clear: &[],
        short_lived: false,
    },
    RecordSpec {
        kind: RecordKind::SlaExclusion,
        keys: &[("SLA_EXCLUSIONS", "<start>#<exc id>")],
        description: "An interval excluded from the SLA: the page's category, scope, reason, a \
                      reference to the evidence, and for planned maintenance its announcement \
                      time. No personal data by design.",
        tenant_scoped: false,
        holding: Holding::Platform,
        personal: &[],
        clear: &[],
        short_lived: false,
    },
    RecordSpec {
        kind: RecordKind::SlaClaim,
        keys: &[("SLA_CLAIMS#<tenant>", "<clm id>")],
        description: "A customer's SLA claim: month, claimed intervals, who filed it (user id), \
                      the verification against the measurements, the decision and the credit. \
                      Kept with the billing records it justifies.",
        tenant_scoped: false,
        holding: Holding::Bookkeeping,
        personal: &[],
        clear: &[],
        short_lived: false,
    },
    RecordSpec {
        kind: RecordKind::SlaMonthCredit,
        keys: &[("SLA_CLAIMS#<tenant>", "CREDITED#<month>")],
        description: "Marks that a tenant's month has its SLA credit (one per tenant and month).",
        tenant_scoped: false,
        holding: Holding::Bookkeeping,
        personal: &[],
        clear: &[],
        short_lived: false,
    },
    RecordSpec {
        kind: RecordKind::StaffUser,
        keys: &[("STAFF", "USER#<usr id>")],
        description: "A staff account: address and name sealed (platform identity key), roles, \
                      Argon2id password hash, sealed TOTP secret and passkeys, hashed recovery \
                      codes, lockout and revocation state. Found at sign-in by a keyed hash of the address.",
        tenant_scoped: false,
        holding: Holding::Platform,
        personal: ACCOUNT_FIELDS,
        clear: ACCOUNT_CLEAR,
        short_lived: false,
    },
    RecordSpec {
        kind: RecordKind::TenantUser,
        keys: &[("T#<tenant>", "USER#<usr id>")],
        description: "A user of a tenant: as a staff account, sealed under the tenant's identity \
                      key (so stage 1 of retention shreds it).",
        tenant_scoped: true,
        holding: Holding::Primary,
        personal: ACCOUNT_FIELDS,
        clear: ACCOUNT_CLEAR,
        short_lived: false,
    },
    RecordSpec {
        kind: RecordKind::TenantRole,
        keys: &[("T#<tenant>", "ROLE#custom:<name>")],
        description: "A role a tenant admin defined: name and tenant permissions.",
        tenant_scoped: true,
        holding: Holding::Primary,
        personal: &[],
        clear: &[],
        short_lived: false,
    },
    RecordSpec {
        kind: RecordKind::SignInChallenge,
        keys: &[
            ("CHALLENGE#<sha256>", "C"),
            ("ACTIVATION#<sha256>", "A"),
            ("RESET#<sha256>", "R"),
        ],
        description: "A pending second-factor step, passkey registration or account \
                      activation, found by the hash of its random token (with a passkey \
                      ceremony's state: challenge and public keys, no names); expires within \
                      minutes (activation: 72 hours).",
        tenant_scoped: false,
        holding: Holding::Platform,
        personal: &[],
        clear: &[],
        short_lived: true,
    },
    RecordSpec {
        kind: RecordKind::RefreshToken,
        keys: &[("REFRESH#<sha256>", "R")],
        description: "A refresh token, by its hash: family, account, used or not; expires.",
        tenant_scoped: false,
        holding: Holding::Platform,
        personal: &[],
        clear: &[],
        short_lived: true,
    },
    RecordSpec {
        kind: RecordKind::TokenFamily,
        keys: &[("FAMILY#<sha256>", "F")],
        description: "The refresh tokens of one sign-in (a session: account, when, how signed \
                      in): revoked together on reuse or sign-out; listed under the account \
                      (gsi1 SESSIONS#) while live.",
        tenant_scoped: false,
        holding: Holding::Platform,
        personal: &[],
        clear: &[],
        short_lived: true,
    },
    RecordSpec {
        kind: RecordKind::IdempotencyRecord,
        keys: &[("IDEMPOTENCY#<sha256 of caller and key>", "REQUEST")],
        description: "A create request's Idempotency-Key (as a digest with its caller), a digest \
                      of the request, and the first response, sealed; expires after 24 hours.",
        tenant_scoped: false,
        holding: Holding::Platform,
        personal: &[PersonalField {
            path: "response",
            category: DataCategory::Other,
        }],
        clear: &["request_digest", "state", "started_at", "content_type"],
        short_lived: true,
    },
    RecordSpec {
        kind: RecordKind::SlaMonthSummary,
        keys: &[("SLA_MONTHS", "<month>")],
        description: "A closed month's platform uptime figures, as computed at the close.",
        tenant_scoped: false,
        holding: Holding::Platform,
        personal: &[],
        clear: &[],
        short_lived: false,
    },
    RecordSpec {
        kind: RecordKind::TrustStatement,
        keys: &[("TRUST", "STATEMENT#latest")],
        description: "The latest signed trust statement: aggregates only, published at /trust.",
        tenant_scoped: false,
        holding: Holding::Platform,
        personal: &[],
        clear: &[],
        short_lived: false,
    },
    RecordSpec {
        kind: RecordKind::SubprocessorChange,
        keys: &[("SUBPROCESSOR_CHANGES", "<effective at>#<spc id>")],
        description: "An announced change of sub-processors (Art. 28(2) GDPR): what changes, why, when it takes effect, who announced it, notices queued.",
        tenant_scoped: false,
        holding: Holding::Platform,
        personal: &[],
        clear: &[],
        short_lived: false,
    },
    RecordSpec {
        kind: RecordKind::SubprocessorObjection,
        keys: &[("T#<tenant>", "OBJECTION#<spc id>")],
        description: "A customer's objection to a planned change of sub-processors: the reasons sealed, who and when.",
        tenant_scoped: true,
        holding: Holding::Primary,
        personal: &[PersonalField {
            path: "reason",
            category: DataCategory::CommunicationContent,
        }],
        clear: &["change", "tenant", "objected_by", "objected_at"],
        short_lived: false,
    },
    RecordSpec {
        kind: RecordKind::InstructionsAcknowledgement,
        keys: &[("T#<tenant>", "INSTRUCTIONS#<version, 6 digits>")],
        description: "A version of a customer's documented instructions (its configured purposes, features and contract terms), as acknowledged: the document, its digest, who and when.",
        tenant_scoped: true,
        holding: Holding::Primary,
        personal: &[],
        clear: &[],
        short_lived: false,
    },
];

/// Checks one item against the inventory.
/// Whether `key` has the shape `pattern`: its literal text in order, each `<…>` standing for
/// one or more characters. Linear in the key for each wildcard (keys are short and bounded).
pub fn key_matches(pattern: &str, key: &str) -> bool {
    // Literal pieces between the wildcards.
    let mut pieces: Vec<&str> = Vec::new();
    let mut rest = pattern;
    while let Some(open) = rest.find('<') {
        let Some(close) = rest[open..].find('>') else {
            break;
        };
        pieces.push(&rest[..open]);
        rest = &rest[open + close + 1..];
    }
    pieces.push(rest);
    let wildcards = pieces.len() - 1;
    if wildcards == 0 {
        return pattern == key;
    }
    // The first piece is a prefix, the last a suffix; the ones between are found left to right
    // (leftmost match is enough for `<…>` wildcards), each wildcard taking at least one char.
    let (first, last) = (pieces[0], pieces[wildcards]);
    let Some(mut middle) = key.strip_prefix(first) else {
        return false;
    };
    let Some(stripped) = middle.strip_suffix(last) else {
        return false;
    };
    middle = stripped;
    for piece in &pieces[1..wildcards] {
        // At least one character for the wildcard before it.
        let Some(first_char) = middle.chars().next() else {
            return false;
        };
        let after = &middle[first_char.len_utf8()..];
        let Some(at) = after.find(piece) else {
            return false;
        };
        middle = &after[at + piece.len()..];
    }
    !middle.is_empty()
}

pub fn validate_item(item: &Item) -> Result<(), StoreError> {
    let spec = item.kind.spec();
    let refuse = |why: String| {
        Err(StoreError::Rejected(format!(
            "{} {}: {why}",
            item.kind, item.key
        )))
    };
    if !spec
        .keys
        .iter()
        .any(|(pk, sk)| key_matches(pk, &item.key.pk) && key_matches(sk, &item.key.sk))
    {
        return refuse(format!(
            "the key has none of the kind's shapes {:?}",
            spec.keys
        ));
    }
    match (&item.tenant, spec.tenant_scoped) {
        (Some(tenant), true) => {
            if item.key.pk != ItemKey::tenant_partition(tenant) {
                return refuse(format!(
                    "belongs to tenant {tenant} but is outside its partition"
                ));
            }
        }
        (None, true) => return refuse("a tenant's record must name its tenant".into()),
        (Some(_), false) => return refuse("this kind of record belongs to no tenant".into()),
        (None, false) => {}
    }
    if item.expires_at.is_some() && !spec.short_lived {
        return refuse("only short-lived records may expire".into());
    }
    if !spec.personal.is_empty() {
        let mut undeclared = Vec::new();
        let mut path = String::new();
        for (name, value) in &item.data {
            path.clear();
            path.push_str(name);
            collect_undeclared(value, &mut path, spec, &mut undeclared);
        }
        if !undeclared.is_empty() {
            return refuse(format!(
                "string fields declared neither sealed nor clear: {}",
                undeclared.join(", ")
            ));
        }
    }
    for field in spec.personal {
        let segments: Vec<&str> = field.path.split('.').collect();
        check_sealed(&Value::Object(item.data.clone()), &segments).map_err(|why| {
            StoreError::Rejected(format!(
                "{} {}: personal field '{}' ({:?}) {why}",
                item.kind, item.key, field.path, field.category
            ))
        })?;
    }
    Ok(())
}

/// Whether a string at `path` is declared: sealed (personal) or clear.
fn declared(spec: &RecordSpec, path: &str) -> bool {
    spec.personal.iter().any(|f| f.path == path)
        || spec.clear.iter().any(|c| match c.strip_suffix(".*") {
            Some(prefix) => path
                .strip_prefix(prefix)
                .is_some_and(|rest| rest.starts_with('.') || rest.starts_with('[')),
            None => *c == path,
        })
}

fn collect_undeclared(value: &Value, path: &mut String, spec: &RecordSpec, out: &mut Vec<String>) {
    match value {
        Value::String(_) if !declared(spec, path) && !out.contains(path) => {
            out.push(path.clone());
        }
        Value::Array(items) => {
            let len = path.len();
            path.push_str("[]");
            for item in items {
                collect_undeclared(item, path, spec, out);
            }
            path.truncate(len);
        }
        Value::Object(map) => {
            for (name, child) in map {
                let len = path.len();
                path.push('.');
                path.push_str(name);
                collect_undeclared(child, path, spec, out);
                path.truncate(len);
            }
        }
        _ => {}
    }
}

fn check_sealed(value: &Value, path: &[&str]) -> Result<(), &'static str> {
    let Some((head, rest)) = path.split_first() else {
        return match value {
            Value::Null => Ok(()),
            Value::String(s) if SealedField::looks_sealed(s) => Ok(()),
            _ => Err("is not sealed"),
        };
    };
    let (name, is_array) = match head.strip_suffix("[]") {
        Some(name) => (name, true),
        None => (*head, false),
    };
    let child = match value {
        Value::Object(map) => map.get(name).unwrap_or(&Value::Null),
        Value::Null => return Ok(()),
        _ => return Err("sits under a value that is not an object"),
    };
    if is_array {
        match child {
            Value::Array(elements) => elements.iter().try_for_each(|e| check_sealed(e, rest)),
            Value::Null => Ok(()),
            _ => Err("should be an array"),
        }
    } else {
        check_sealed(child, rest)
    }
}

/// Scrubs card data from every string of a value. Returns how many card-like values were
/// removed.
pub fn scrub_plain_strings(value: &mut Value) -> usize {
    scrub_except(value, &mut String::new(), &[])
}

/// Scrubs every string except the record's declared personal fields: those were checked to be
/// sealed (ciphertext, scrubbed before sealing). Whether a string looks sealed earns it nothing
/// elsewhere, so text that merely starts with `enc:v1:` is scrubbed like any other.
fn scrub_except(value: &mut Value, path: &mut String, sealed: &[&str]) -> usize {
    match value {
        Value::String(s) => {
            if sealed.contains(&path.as_str()) {
                return 0;
            }
            let (clean, n) = crate::scrub::scrub(s);
            if n > 0 {
                *s = clean;
            }
            n
        }
        Value::Array(items) => {
            let len = path.len();
            path.push_str("[]");
            let n = items
                .iter_mut()
                .map(|item| scrub_except(item, path, sealed))
                .sum();
            path.truncate(len);
            n
        }
        Value::Object(map) => {
            let mut n = 0;
            for (name, child) in map.iter_mut() {
                let len = path.len();
                if !path.is_empty() {
                    path.push('.');
                }
                path.push_str(name);
                n += scrub_except(child, path, sealed);
                path.truncate(len);
            }
            n
        }
        _ => 0,
    }
}

fn scrub_item(item: &mut Item) -> usize {
    let sealed: Vec<&str> = item.kind.spec().personal.iter().map(|f| f.path).collect();
    let mut path = String::new();
    item.data
        .iter_mut()
        .map(|(name, value)| {
            path.clear();
            path.push_str(name);
            scrub_except(value, &mut path, &sealed)
        })
        .sum()
}

/// A store decorator that validates every write against the inventory and scrubs card data from
/// every plain string written. Services only ever get a store through [`GuardedStore`], which
/// puts it in front of the adapter.
pub struct InventoryGuard {
    inner: Arc<dyn Store>,
}

impl InventoryGuard {
    fn new(inner: Arc<dyn Store>) -> Self {
        Self { inner }
    }
}

/// The store as every service receives it: always behind the [`InventoryGuard`]. It can only be
/// made by putting the guard in front of an adapter (`GuardedStore::new`), so a service
/// constructor that takes one cannot be handed an unguarded store — the compiler holds the rule.
#[derive(Clone)]
pub struct GuardedStore(Arc<dyn Store>);

impl GuardedStore {
    /// `inner` (an adapter, or a test's decorator around one) behind the inventory's guard.
    pub fn new(inner: Arc<dyn Store>) -> Self {
        Self(Arc::new(InventoryGuard::new(inner)))
    }

    /// The guarded store, shared.
    pub fn shared(&self) -> Arc<dyn Store> {
        self.0.clone()
    }
}

impl AsRef<dyn Store> for GuardedStore {
    fn as_ref(&self) -> &(dyn Store + 'static) {
        self.0.as_ref()
    }
}

impl std::ops::Deref for GuardedStore {
    type Target = dyn Store;

    fn deref(&self) -> &Self::Target {
        self.0.as_ref()
    }
}

#[async_trait]
impl Store for InventoryGuard {
    async fn get(&self, key: &ItemKey) -> Result<Option<Item>, StoreError> {
        self.inner.get(key).await
    }

    async fn put(&self, mut item: Item, condition: Condition) -> Result<u64, StoreError> {
        validate_item(&item)?;
        scrub_item(&mut item);
        self.inner.put(item, condition).await
    }

    async fn delete(&self, key: &ItemKey, condition: Condition) -> Result<bool, StoreError> {
        self.inner.delete(key, condition).await
    }

    async fn transact(&self, mut ops: Vec<WriteOp>) -> Result<(), StoreError> {
        for op in &mut ops {
            if let WriteOp::Put { item, .. } = op {
                validate_item(item)?;
                scrub_item(item);
            }
        }
        self.inner.transact(ops).await
    }

    async fn query(&self, query: Query) -> Result<Page, StoreError> {
        self.inner.query(query).await
    }

    async fn batch_delete(&self, keys: Vec<ItemKey>) -> Result<BatchOutcome, StoreError> {
        self.inner.batch_delete(keys).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::TenantId;

    #[test]
    fn a_key_has_its_kinds_shape_or_is_refused() {
        assert!(key_matches("T#<tenant>", "T#acme"));
        assert!(key_matches(
            "KEY#<purpose>#<version, 10 digits>",
            "KEY#primary#0000000001"
        ));
        assert!(key_matches(
            "<start>#<out id>",
            "2026-03-01T00:00:00Z#out_1"
        ));
        assert!(key_matches("SLA#<target>", "SLA#platform@edge"));
        assert!(key_matches("PROFILE", "PROFILE"));
        for (pattern, key) in [
            ("T#<tenant>", "T#"),
            ("T#<tenant>", "X#acme"),
            ("PROFILE", "PROFILES"),
            ("KEY#<purpose>#<version>", "KEY#primary"),
            ("KEY#<purpose>#<version>", "KEY##1"),
            ("<start>#<out id>", "#out_1"),
        ] {
            assert!(!key_matches(pattern, key), "{pattern} ~ {key}");
        }
        // The guard refuses a tenant profile written under another kind's key shape.
        let item = Item::new(
            ItemKey::new("T#acme", "USER#usr_1").expect("key"),
            RecordKind::Tenant,
        )
        .with_tenant(crate::ids::TenantId::new("acme").expect("tenant"));
        let refused = validate_item(&item);
        assert!(
            matches!(&refused, Err(StoreError::Rejected(why)) if why.contains("none of the kind's shapes")),
            "{refused:?}"
        );
    }

    /// One item of every kind as a real run stored it (tests/fixtures/records) still passes the
    /// guard: its key shape, tenant partition, expiry, sealed and clear fields — the stored
    /// format and the inventory move together.
    #[test]
    fn every_kinds_golden_item_still_passes_the_guard() {
        for kind in RecordKind::ALL {
            let item = crate::testkit::golden_item(*kind);
            assert_eq!(item.kind, *kind);
            if let Err(e) = validate_item(&item) {
                panic!("{kind}: {e}");
            }
        }
    }

    #[test]
    fn the_tenant_record_reads_and_writes_as_stored() {
        crate::testkit::golden_record::<crate::tenants::TenantRecord>(RecordKind::Tenant);
        crate::testkit::golden_record::<crate::audit::AuditEntry>(RecordKind::AuditEntry);
    }

    /// ARCHITECTURE.md's item table names every record kind once and no other: the map a
    /// newcomer reads stays the inventory the guard enforces.
    #[test]
    fn the_architecture_item_table_lists_exactly_the_inventory() {
        let architecture = include_str!("../../../ARCHITECTURE.md");
        let table = architecture
            .split("| kind | pk | sk | data |")
            .nth(1)
            .expect("ARCHITECTURE.md has the item table");
        let mut listed: Vec<&str> = table
            .lines()
            .skip(1)
            .take_while(|line| line.starts_with('|'))
            .filter_map(|row| row.split('|').nth(1))
            .map(|cell| cell.trim().trim_matches('`'))
            .filter(|cell| !cell.starts_with("---"))
            .collect();
        listed.sort_unstable();
        let mut inventory: Vec<&str> = RecordKind::ALL.iter().map(|k| k.as_str()).collect();
        inventory.sort_unstable();
        assert_eq!(listed, inventory);
        // And each row's keys are the shapes the guard holds the kind to.
        for row in table
            .lines()
            .skip(2)
            .take_while(|line| line.starts_with('|'))
        {
            let cells: Vec<&str> = row.split('|').collect();
            let ticked = |cell: &str| -> Vec<String> {
                cell.split('`')
                    .skip(1)
                    .step_by(2)
                    .map(str::to_string)
                    .collect()
            };
            let kind = cells[1].trim().trim_matches('`');
            let spec = INVENTORY
                .iter()
                .find(|s| s.kind.as_str() == kind)
                .expect("listed kinds are in the inventory");
            let mut pks: Vec<String> = spec.keys.iter().map(|(pk, _)| pk.to_string()).collect();
            let mut sks: Vec<String> = spec.keys.iter().map(|(_, sk)| sk.to_string()).collect();
            pks.dedup();
            sks.dedup();
            assert_eq!((ticked(cells[2]), ticked(cells[3])), (pks, sks), "{kind}");
        }
    }

    #[test]
    fn every_kind_has_exactly_one_spec() {
        for kind in RecordKind::ALL {
            assert_eq!(
                INVENTORY.iter().filter(|s| s.kind == *kind).count(),
                1,
                "{kind}"
            );
            assert_eq!(kind.as_str().parse::<RecordKind>(), Ok(*kind));
        }
    }

    fn tenant_item(data: serde_json::Value) -> Item {
        let acme = TenantId::new("acme").expect("tenant");
        let mut item = Item::new(
            ItemKey::new(ItemKey::tenant_partition(&acme), "PROFILE").expect("key"),
            RecordKind::Tenant,
        )
        .with_tenant(acme);
        if let Value::Object(map) = data {
            item.data = map;
        }
        item
    }

    #[test]
    fn personal_fields_must_be_sealed() {
        let clear = tenant_item(serde_json::json!({"contact_email": "jane@acme.example"}));
        assert!(matches!(
            validate_item(&clear),
            Err(StoreError::Rejected(_))
        ));
        let sealed = tenant_item(serde_json::json!({"contact_email": real_sealed()}));
        assert!(validate_item(&sealed).is_ok());
        for fake in [
            "enc:v1:AAAA",
            "enc:v1:jane@acme.example",
            "enc:v1:4111111111111111",
        ] {
            let fake = tenant_item(serde_json::json!({"contact_email": fake}));
            let refused = validate_item(&fake);
            assert!(
                matches!(&refused, Err(StoreError::Rejected(why)) if why.ends_with("is not sealed")),
                "{fake:?}: {refused:?}"
            );
        }
        let absent = tenant_item(serde_json::json!({"name": "ACME GmbH"}));
        assert!(validate_item(&absent).is_ok());
        let smuggled =
            tenant_item(serde_json::json!({"contact_email": {"nested": "jane@acme.example"}}));
        let refused = validate_item(&smuggled);
        assert!(
            matches!(&refused, Err(StoreError::Rejected(why)) if why.contains("contact_email")),
            "{refused:?}"
        );
    }

    #[test]
    fn every_string_of_a_personal_kind_is_declared_sealed_or_clear() {
        let ok = tenant_item(serde_json::json!({"name": "ACME GmbH", "status": "active"}));
        assert!(validate_item(&ok).is_ok());
        // A free-text field nobody declared is refused, however harmless it looks.
        let forgotten = tenant_item(serde_json::json!({"name": "ACME", "note": "call Jane Doe"}));
        let refused = validate_item(&forgotten);
        assert!(
            matches!(&refused, Err(StoreError::Rejected(why)) if why.contains("note")),
            "{refused:?}"
        );
        let nested =
            tenant_item(serde_json::json!({"service_end_source": {"by": "operator", "why": "x"}}));
        let refused = validate_item(&nested);
        assert!(
            matches!(&refused, Err(StoreError::Rejected(why)) if why.contains("service_end_source")),
            "{refused:?}"
        );
        // Subtrees declared clear take their typed values.
        let contract =
            tenant_item(serde_json::json!({"contract": {"deletion_after_service_end": "P30D"}}));
        assert!(validate_item(&contract).is_ok());
        // Every personal kind declares its clear fields, and none is also declared sealed.
        for spec in INVENTORY.iter().filter(|s| !s.personal.is_empty()) {
            assert!(!spec.clear.is_empty(), "{}", spec.kind);
            for field in spec.personal {
                assert!(
                    !spec.clear.contains(&field.path),
                    "{} {}",
                    spec.kind,
                    field.path
                );
            }
        }
    }

    #[test]
    fn array_paths_check_every_element() {
        let value = serde_json::json!({"people": [{"email": real_sealed()}, {"email": "bob@x"}]});
        assert_eq!(
            check_sealed(&value, &["people[]", "email"]),
            Err("is not sealed")
        );
        let value = serde_json::json!({"people": [{"email": real_sealed()}]});
        assert!(check_sealed(&value, &["people[]", "email"]).is_ok());
    }

    #[test]
    fn tenant_records_stay_in_their_partition() {
        let mut item = tenant_item(serde_json::json!({}));
        item.key.pk = "T#globex".into();
        let refused = validate_item(&item);
        assert!(
            matches!(&refused, Err(StoreError::Rejected(why)) if why.contains("outside its partition")),
            "{refused:?}"
        );
        let mut orphan = tenant_item(serde_json::json!({}));
        orphan.tenant = None;
        let refused = validate_item(&orphan);
        assert!(
            matches!(&refused, Err(StoreError::Rejected(why)) if why.contains("must name its tenant")),
            "{refused:?}"
        );
    }

    /// A value with the sealed structure (format, purpose, version, nonce, tag).
    fn real_sealed() -> String {
        let owner = crate::crypto::KeyOwner::Platform;
        let key = crate::crypto::DataKey::new(
            crate::crypto::DataKeyId {
                owner: owner.clone(),
                purpose: crate::crypto::KeyPurpose::Primary,
                version: 1,
            },
            &zeroize::Zeroizing::new([9u8; 32]),
        );
        let ctx = crate::crypto::FieldContext {
            owner: &owner,
            kind: RecordKind::Tenant,
            record_id: "acme",
            field: "contact_email",
        };
        key.seal(&ctx, b"jane@acme.example")
            .expect("seal")
            .as_str()
            .to_string()
    }

    #[test]
    fn plain_strings_lose_card_data_and_sealed_values_stay_untouched() {
        let mut value = serde_json::json!({
            "name": "ACME, card 4111 1111 1111 1111",
            "notes": ["cvc: 123", {"deep": "5555555555554444"}],
            "amount": 4111111111111111u64,
            "hash": "4111111111111111ab",
        });
        assert_eq!(scrub_plain_strings(&mut value), 3);
        let text = value.to_string();
        assert!(!text.contains("4111 1111"), "{text}");
        assert!(!text.contains("5555555555554444"), "{text}");
        assert!(!text.contains(": 123"), "{text}");
        assert_eq!(value["hash"], "4111111111111111ab");
    }

    #[test]
    fn only_declared_sealed_fields_escape_the_scrub() {
        let sealed = real_sealed();
        let mut item = tenant_item(serde_json::json!({
            "contact_email": sealed,
            "name": "enc:v1:4111111111111111",
            "contract": {"note": "enc:v1:AQEAAAAB 4111 1111 1111 1111"},
        }));
        assert!(validate_item(&item).is_ok());
        assert_eq!(scrub_item(&mut item), 2);
        assert_eq!(item.data["contact_email"], serde_json::json!(sealed));
        let text = serde_json::to_string(&item.data).expect("json");
        assert!(!text.contains("4111"), "{text}");
    }

    /// A store that keeps what reaches it, to see what the guard lets through.
    #[derive(Default)]
    struct Recording {
        written: std::sync::Mutex<Vec<Item>>,
    }

    #[async_trait]
    impl Store for Recording {
        async fn get(&self, _: &ItemKey) -> Result<Option<Item>, StoreError> {
            Ok(None)
        }
        async fn put(&self, item: Item, _: Condition) -> Result<u64, StoreError> {
            self.written.lock().expect("lock").push(item);
            Ok(1)
        }
        async fn delete(&self, _: &ItemKey, _: Condition) -> Result<bool, StoreError> {
            Ok(false)
        }
        async fn transact(&self, ops: Vec<WriteOp>) -> Result<(), StoreError> {
            let mut written = self.written.lock().expect("lock");
            for op in ops {
                if let WriteOp::Put { item, .. } = op {
                    written.push(item);
                }
            }
            Ok(())
        }
        async fn query(&self, _: Query) -> Result<Page, StoreError> {
            Ok(Page {
                items: Vec::new(),
                next: None,
            })
        }
        async fn batch_delete(&self, _: Vec<ItemKey>) -> Result<BatchOutcome, StoreError> {
            Ok(BatchOutcome::default())
        }
    }

    #[tokio::test]
    async fn the_guard_itself_refuses_clear_personal_data_and_scrubs_cards_on_both_write_paths() {
        // No service scrubbed these first: the guard is the last line, on `put` and `transact`.
        let inner = Arc::new(Recording::default());
        let guard = InventoryGuard::new(inner.clone());
        let with_card =
            || tenant_item(serde_json::json!({"name": "ACME (card 4111 1111 1111 1111)"}));
        let clear = tenant_item(serde_json::json!({"contact_email": "jane@acme.example"}));
        let put = |item: Item| WriteOp::Put {
            item,
            condition: Condition::Always,
        };

        // A transaction with one clear personal value is refused whole: nothing reaches the store.
        let refused = guard
            .transact(vec![put(with_card()), put(clear.clone())])
            .await;
        assert!(
            matches!(&refused, Err(StoreError::Rejected(why)) if why.contains("contact_email")),
            "{refused:?}"
        );
        let refused = guard.put(clear, Condition::Always).await;
        assert!(
            matches!(refused, Err(StoreError::Rejected(_))),
            "{refused:?}"
        );
        assert!(inner.written.lock().expect("lock").is_empty());

        // Card numbers are removed on both paths.
        guard
            .transact(vec![put(with_card())])
            .await
            .expect("transact");
        guard
            .put(with_card(), Condition::Always)
            .await
            .expect("put");
        let written = inner.written.lock().expect("lock");
        assert_eq!(written.len(), 2);
        for item in written.iter() {
            let text = serde_json::to_string(&item.data).expect("json");
            assert!(!text.contains("4111"), "{text}");
            assert!(text.contains("ACME"), "{text}");
        }
    }

    #[test]
    fn long_lived_records_never_expire() {
        let item =
            tenant_item(serde_json::json!({})).with_expiry(crate::time::Timestamp::UNIX_EPOCH);
        let refused = validate_item(&item);
        assert!(
            matches!(&refused, Err(StoreError::Rejected(why)) if why.contains("only short-lived records may expire")),
            "{refused:?}"
        );
    }
}
