//! Role-based access control: an enumerated permission set, built-in roles, tenant-defined custom
//! roles, deny by default, mandatory second factor for staff, and tenant isolation.
//!
//! Invariant: every service call asks [`Access::require`] before it touches data; nothing is
//! allowed unless a role the principal holds grants it, and a customer principal can only ever
//! act inside its own tenant.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use crate::ids::TenantId;

/// Whether a permission may be handed out by a customer to its own users.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Grantable {
    /// Acts within one tenant; customer admins may put it into custom roles.
    Tenant,
    /// Company staff only (reports, incident handling, billing decisions, operations).
    StaffOnly,
}

macro_rules! permissions {
    ($( $(#[$doc:meta])* $variant:ident = $name:literal, $grant:ident; )*) => {
        /// Everything a principal can be allowed to do. Names are stable: they appear in tokens,
        /// custom role definitions and audit entries.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        pub enum Permission {
            $( $(#[$doc])* #[serde(rename = $name)] $variant, )*
        }

        impl Permission {
            pub const ALL: &'static [Permission] = &[$(Permission::$variant),*];

            pub fn as_str(self) -> &'static str {
                match self { $(Permission::$variant => $name,)* }
            }

            pub fn grantable(self) -> Grantable {
                match self { $(Permission::$variant => Grantable::$grant,)* }
            }
        }

        impl std::str::FromStr for Permission {
            type Err = RbacError;
            fn from_str(s: &str) -> Result<Self, RbacError> {
                match s {
                    $($name => Ok(Permission::$variant),)*
                    other => Err(RbacError::UnknownPermission(other.to_string())),
                }
            }
        }
    };
}

permissions! {
    /// Read confidential security reports and reporter data.
    ReportsRead = "reports:read", StaffOnly;
    /// Triage reports: spam, duplicate, not a breach, or open an incident.
    ReportsTriage = "reports:triage", StaffOnly;
    /// Read the full internal record of incidents.
    IncidentsRead = "incidents:read", StaffOnly;
    /// Create and document incidents, measures and the timeline.
    IncidentsManage = "incidents:manage", StaffOnly;
    /// Run and override the Art. 33/34 risk assessment.
    IncidentsAssess = "incidents:assess", StaffOnly;
    /// Send customer, authority and data-subject notifications.
    NotificationsSend = "notifications:send", StaffOnly;
    /// Read and verify audit trails.
    AuditRead = "audit:read", StaffOnly;
    /// Set and lift legal holds (statutory retention duties).
    LegalHoldsManage = "legal-holds:manage", StaffOnly;
    /// Record the end of a tenant's service by hand.
    ServiceEndRecord = "service-end:record", StaffOnly;
    /// Run retention and see every tenant's plan.
    RetentionOperate = "retention:operate", StaffOnly;
    /// Record outages and SLA exclusions with evidence.
    OutagesRecord = "outages:record", StaffOnly;
    /// Verify SLA claims and approve or reject them.
    SlaClaimsDecide = "sla-claims:decide", StaffOnly;
    /// Grant voluntary credits.
    VoluntaryCreditsGrant = "credits:grant-voluntary", StaffOnly;
    /// Watch Stripe processing (event counts, unlinked customers) and apply pending credits.
    BillingOperate = "billing:operate", StaffOnly;
    /// On- and offboard staff accounts.
    StaffManage = "staff:manage", StaffOnly;
    /// Rotate signing and data keys.
    KeysRotate = "keys:rotate", StaffOnly;
    /// Create tenants and maintain their contract terms and contact.
    TenantsManage = "tenants:manage", StaffOnly;
    /// Announce changes of sub-processors and read customers' objections (Art. 28(2) GDPR).
    SubprocessorsManage = "subprocessors:manage", StaffOnly;

    /// See the customer-facing view of incidents that affect the tenant.
    TenantIncidentsRead = "tenant-incidents:read", Tenant;
    /// See the tenant's retention plan and deletion certificates.
    RetentionRead = "retention:read", Tenant;
    /// Ask for final deletion before the end of the retention period.
    FinalDeletionRequest = "retention:request-final-deletion", Tenant;
    /// Make and download exports of the tenant's data.
    DataExport = "data:export", Tenant;
    /// See monthly uptime reports.
    SlaReportRead = "sla-report:read", Tenant;
    /// File SLA claims.
    SlaClaimsFile = "sla-claims:file", Tenant;
    /// See SLA claims and their decisions.
    SlaClaimsRead = "sla-claims:read", Tenant;
    /// See invoices, fees and credits.
    BillingRead = "billing:read", Tenant;
    /// Manage the tenant's users.
    TenantUsersManage = "tenant-users:manage", Tenant;
    /// Define custom roles and assign them.
    TenantRolesManage = "tenant-roles:manage", Tenant;
    /// Object to a planned change of sub-processors before it takes effect.
    SubprocessorsObject = "subprocessors:object", Tenant;
    /// Read the documented instructions and the processor's record of processing (Art. 28(3)(a)
    /// and 30(2) GDPR).
    InstructionsRead = "instructions:read", Tenant;
    /// Acknowledge the documented instructions as the company's.
    InstructionsAcknowledge = "instructions:acknowledge", Tenant;
}

impl Permission {
    /// What the permission lets one do, in German and English (the pages show these; the
    /// doc comments above are for developers).
    pub fn words(self) -> (&'static str, &'static str) {
        use Permission::*;
        match self {
            ReportsRead => (
                "vertrauliche Sicherheitsmeldungen und Angaben der Meldenden lesen",
                "read confidential security reports and what reporters gave",
            ),
            ReportsTriage => (
                "Meldungen einordnen (Spam, Duplikat, kein Vorfall, Vorfall)",
                "triage reports (spam, duplicate, not a breach, incident)",
            ),
            IncidentsRead => (
                "die vollständige interne Vorfallakte lesen",
                "read the full internal incident file",
            ),
            IncidentsManage => (
                "Vorfälle anlegen und dokumentieren, Maßnahmen erfassen",
                "create and document incidents, record measures",
            ),
            IncidentsAssess => (
                "die Risikobewertung nach Art. 33/34 DSGVO vornehmen und übersteuern",
                "run and override the Art. 33/34 GDPR risk assessment",
            ),
            NotificationsSend => (
                "Kunden, Aufsichtsbehörde und Betroffene benachrichtigen",
                "notify customers, the supervisory authority and data subjects",
            ),
            AuditRead => (
                "Protokolle lesen und prüfen",
                "read and verify audit trails",
            ),
            LegalHoldsManage => (
                "gesetzliche Aufbewahrungspflichten setzen und aufheben",
                "set and lift legal holds",
            ),
            ServiceEndRecord => (
                "das Dienstende eines Kunden erfassen",
                "record the end of a customer's service",
            ),
            RetentionOperate => (
                "Löschläufe ausführen und alle Löschpläne sehen",
                "run retention and see every deletion plan",
            ),
            OutagesRecord => (
                "Ausfälle und SLA-Ausnahmen mit Belegen erfassen",
                "record outages and SLA exclusions with evidence",
            ),
            SlaClaimsDecide => (
                "Gutschriftsanträge prüfen und entscheiden",
                "verify and decide credit claims",
            ),
            VoluntaryCreditsGrant => (
                "freiwillige Gutschriften gewähren",
                "grant voluntary credits",
            ),
            BillingOperate => (
                "die Stripe-Verarbeitung überwachen und Gutschriften verbuchen",
                "watch Stripe processing and apply credits",
            ),
            StaffManage => (
                "Mitarbeiterkonten anlegen und sperren",
                "on- and offboard staff accounts",
            ),
            KeysRotate => (
                "Signatur- und Datenschlüssel wechseln",
                "rotate signing and data keys",
            ),
            TenantsManage => (
                "Kunden anlegen und ihre Vertragsdaten pflegen",
                "create customers and maintain their contract terms",
            ),
            TenantIncidentsRead => (
                "Sicherheitsvorfälle sehen, die das Unternehmen betreffen",
                "see the security incidents that affect the company",
            ),
            RetentionRead => (
                "Löschplan und Löschbescheinigungen sehen",
                "see the deletion plan and certificates",
            ),
            FinalDeletionRequest => (
                "die endgültige Löschung vor Fristende verlangen",
                "ask for final deletion before the period ends",
            ),
            DataExport => (
                "Datenexporte erstellen und herunterladen",
                "make and download data exports",
            ),
            SlaReportRead => (
                "monatliche Verfügbarkeitsberichte sehen",
                "see monthly uptime reports",
            ),
            SlaClaimsFile => ("Gutschriftsanträge stellen", "file credit claims"),
            SlaClaimsRead => (
                "Gutschriftsanträge und ihre Entscheidungen sehen",
                "see credit claims and their decisions",
            ),
            BillingRead => (
                "Rechnungen, Entgelte und Gutschriften sehen",
                "see invoices, fees and credits",
            ),
            TenantUsersManage => (
                "die Benutzer des Unternehmens verwalten",
                "manage the company's users",
            ),
            TenantRolesManage => (
                "eigene Rollen festlegen und vergeben",
                "define custom roles and assign them",
            ),
            SubprocessorsManage => (
                "Änderungen der Unterauftragsverarbeiter ankündigen und Einsprüche lesen",
                "announce changes of sub-processors and read objections",
            ),
            SubprocessorsObject => (
                "einer geplanten Änderung der Unterauftragsverarbeiter widersprechen",
                "object to a planned change of sub-processors",
            ),
            InstructionsRead => (
                "die dokumentierten Weisungen und das Verarbeitungsverzeichnis lesen",
                "read the documented instructions and the record of processing",
            ),
            InstructionsAcknowledge => (
                "die dokumentierten Weisungen für das Unternehmen bestätigen",
                "acknowledge the documented instructions for the company",
            ),
        }
    }
}

impl std::fmt::Display for Permission {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A set of permissions as a bit set: cheap to copy, compare and intersect.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub struct PermissionSet(u64);

const _: () = assert!(Permission::ALL.len() <= 64);

impl PermissionSet {
    pub const EMPTY: PermissionSet = PermissionSet(0);

    pub fn of(perms: &[Permission]) -> Self {
        perms.iter().fold(Self::EMPTY, |set, p| set.with(*p))
    }

    fn bit(p: Permission) -> u64 {
        1u64 << (p as u32)
    }

    pub fn with(self, p: Permission) -> Self {
        Self(self.0 | Self::bit(p))
    }

    pub fn contains(self, p: Permission) -> bool {
        self.0 & Self::bit(p) != 0
    }

    pub fn union(self, other: Self) -> Self {
        Self(self.0 | other.0)
    }

    pub fn iter(self) -> impl Iterator<Item = Permission> {
        Permission::ALL
            .iter()
            .copied()
            .filter(move |p| self.contains(*p))
    }

    pub fn is_empty(self) -> bool {
        self.0 == 0
    }
}

/// The roles the platform ships with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BuiltinRole {
    CustomerMember,
    CustomerAdmin,
    SecurityOfficer,
    DataProtectionOfficer,
    BillingAdmin,
    ReadOnlySupport,
    Operator,
}

impl BuiltinRole {
    pub const ALL: &'static [BuiltinRole] = &[
        BuiltinRole::CustomerMember,
        BuiltinRole::CustomerAdmin,
        BuiltinRole::SecurityOfficer,
        BuiltinRole::DataProtectionOfficer,
        BuiltinRole::BillingAdmin,
        BuiltinRole::ReadOnlySupport,
        BuiltinRole::Operator,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            BuiltinRole::CustomerMember => "customer_member",
            BuiltinRole::CustomerAdmin => "customer_admin",
            BuiltinRole::SecurityOfficer => "security_officer",
            BuiltinRole::DataProtectionOfficer => "data_protection_officer",
            BuiltinRole::BillingAdmin => "billing_admin",
            BuiltinRole::ReadOnlySupport => "read_only_support",
            BuiltinRole::Operator => "operator",
        }
    }

    /// Customer roles are held by a tenant's users; the others by company staff.
    pub fn is_staff(self) -> bool {
        !matches!(
            self,
            BuiltinRole::CustomerMember | BuiltinRole::CustomerAdmin
        )
    }

    /// Least privilege: each role holds what its job needs and nothing else.
    pub fn permissions(self) -> PermissionSet {
        use Permission::*;
        PermissionSet::of(match self {
            BuiltinRole::CustomerMember => &[
                TenantIncidentsRead,
                SlaReportRead,
                RetentionRead,
                InstructionsRead,
            ],
            BuiltinRole::CustomerAdmin => &[
                TenantIncidentsRead,
                RetentionRead,
                FinalDeletionRequest,
                DataExport,
                SlaReportRead,
                SlaClaimsFile,
                SlaClaimsRead,
                BillingRead,
                TenantUsersManage,
                TenantRolesManage,
                SubprocessorsObject,
                InstructionsRead,
                InstructionsAcknowledge,
            ],
            BuiltinRole::SecurityOfficer => &[
                ReportsRead,
                ReportsTriage,
                IncidentsRead,
                IncidentsManage,
                IncidentsAssess,
                NotificationsSend,
                AuditRead,
                TenantIncidentsRead,
            ],
            BuiltinRole::DataProtectionOfficer => &[
                ReportsRead,
                IncidentsRead,
                IncidentsAssess,
                NotificationsSend,
                AuditRead,
                LegalHoldsManage,
                RetentionRead,
                TenantIncidentsRead,
                SubprocessorsManage,
                InstructionsRead,
            ],
            BuiltinRole::BillingAdmin => &[
                BillingRead,
                SlaReportRead,
                SlaClaimsRead,
                SlaClaimsDecide,
                VoluntaryCreditsGrant,
                BillingOperate,
            ],
            BuiltinRole::ReadOnlySupport => &[
                TenantIncidentsRead,
                RetentionRead,
                SlaReportRead,
                SlaClaimsRead,
                BillingRead,
            ],
            BuiltinRole::Operator => &[
                ServiceEndRecord,
                RetentionOperate,
                RetentionRead,
                OutagesRecord,
                SlaReportRead,
                StaffManage,
                KeysRotate,
                TenantsManage,
                SubprocessorsManage,
            ],
        })
    }
}

impl std::str::FromStr for BuiltinRole {
    type Err = RbacError;
    fn from_str(s: &str) -> Result<Self, RbacError> {
        BuiltinRole::ALL
            .iter()
            .copied()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| RbacError::UnknownRole(s.to_string()))
    }
}

impl std::fmt::Display for BuiltinRole {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A role a customer admin defined for their own tenant. Names of custom roles start with
/// `custom:` so they can never shadow a built-in role.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustomRole {
    pub tenant: TenantId,
    pub name: String,
    pub permissions: BTreeSet<Permission>,
}

impl CustomRole {
    pub const PREFIX: &'static str = "custom:";

    /// Validates the definition: a well-formed name, at least one permission, and only permissions
    /// a tenant may grant (a customer cannot hand out staff powers).
    pub fn new(
        tenant: TenantId,
        name: &str,
        permissions: BTreeSet<Permission>,
    ) -> Result<Self, RbacError> {
        let slug = Self::slug(name)?;
        Self::check_permissions(&permissions)?;
        Ok(Self {
            tenant,
            name: format!("{}{slug}", Self::PREFIX),
            permissions,
        })
    }

    /// The name without its `custom:` prefix, if it is a well-formed role name.
    pub fn slug(name: &str) -> Result<&str, RbacError> {
        let slug = name.strip_prefix(Self::PREFIX).unwrap_or(name);
        let well_formed = (1..=48).contains(&slug.len())
            && slug
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_');
        if well_formed {
            Ok(slug)
        } else {
            Err(RbacError::BadRoleName(name.to_string()))
        }
    }

    /// At least one permission, each one a tenant may grant.
    pub fn check_permissions(permissions: &BTreeSet<Permission>) -> Result<(), RbacError> {
        if permissions.is_empty() {
            return Err(RbacError::EmptyRole);
        }
        if let Some(p) = permissions
            .iter()
            .find(|p| p.grantable() != Grantable::Tenant)
        {
            return Err(RbacError::NotGrantable(*p));
        }
        Ok(())
    }
}

/// Who is acting.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Actor {
    /// A company employee (security team, DPO, billing, support, operations).
    Staff,
    /// A user of one customer tenant.
    Customer { tenant: TenantId },
    /// A platform job acting on its own (scheduler, webhook processing).
    System,
}

/// The authenticated caller, as carried in a verified access token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Principal {
    pub subject: String,
    pub actor: Actor,
    /// Built-in role names and `custom:` role names.
    pub roles: Vec<String>,
    /// Authentication methods references (RFC 8176): `pwd`, `otp`, `mfa`, …
    pub amr: Vec<String>,
}

impl Principal {
    /// A platform job or webhook acting on its own; `job` names it in the audit trail.
    pub fn system(job: &str) -> Self {
        Self {
            subject: job.to_string(),
            actor: Actor::System,
            roles: vec![],
            amr: vec![],
        }
    }

    pub fn tenant(&self) -> Option<&TenantId> {
        match &self.actor {
            Actor::Customer { tenant } => Some(tenant),
            _ => None,
        }
    }

    /// Whether a second factor was used (RFC 8176 `otp` or `mfa`).
    pub fn has_second_factor(&self) -> bool {
        self.amr.iter().any(|m| m == "otp" || m == "mfa")
    }

    /// Whether a passkey was used (RFC 8176 `pop`: proof of possession of a key), the
    /// phishing-resistant factor.
    pub fn used_passkey(&self) -> bool {
        self.amr.iter().any(|m| m == "pop")
    }
}

/// What the data touched belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope<'a> {
    /// Data of one tenant.
    Tenant(&'a TenantId),
    /// Platform data that belongs to no tenant (reports, the internal incident record).
    Platform,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum RbacError {
    #[error("unknown permission '{0}'")]
    UnknownPermission(String),
    #[error("unknown role '{0}'")]
    UnknownRole(String),
    #[error("role names are 1-48 characters of a-z, 0-9, '-' and '_' ('{0}')")]
    BadRoleName(String),
    #[error("a role must grant at least one permission")]
    EmptyRole,
    #[error("'{0}' is reserved for company staff and cannot be granted by a customer")]
    NotGrantable(Permission),
}

/// Why access was refused. Deliberately coarse towards callers; the detail goes to the log.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum Denied {
    #[error("staff access requires a second factor")]
    SecondFactorRequired,
    #[error("missing permission '{0}'")]
    MissingPermission(Permission),
    #[error("this resource belongs to another tenant")]
    OtherTenant,
    #[error("customer principals cannot act on platform data")]
    PlatformData,
    #[error("the request did not come through the edge")]
    OriginLock,
}

/// A principal with its roles resolved to permissions.
#[derive(Debug, Clone)]
pub struct Access {
    principal: Principal,
    permissions: PermissionSet,
}

impl Access {
    /// Resolves roles. Built-in roles must match the kind of actor (a customer token naming a
    /// staff role gets nothing from it); custom roles count only for customers of the tenant that
    /// defined them. Unknown roles grant nothing.
    pub fn resolve(principal: Principal, custom_roles: &[CustomRole]) -> Self {
        let mut permissions = PermissionSet::EMPTY;
        for role in &principal.roles {
            if let Ok(builtin) = role.parse::<BuiltinRole>() {
                let fits = match principal.actor {
                    Actor::Staff => builtin.is_staff(),
                    Actor::Customer { .. } => !builtin.is_staff(),
                    Actor::System => false,
                };
                if fits {
                    permissions = permissions.union(builtin.permissions());
                }
            } else if let Some(tenant) = principal.tenant() {
                for custom in custom_roles
                    .iter()
                    .filter(|c| &c.tenant == tenant && &c.name == role)
                {
                    let tenant_only = custom
                        .permissions
                        .iter()
                        .filter(|p| p.grantable() == Grantable::Tenant);
                    for p in tenant_only {
                        permissions = permissions.with(*p);
                    }
                }
            }
        }
        Self {
            principal,
            permissions,
        }
    }

    pub fn principal(&self) -> &Principal {
        &self.principal
    }

    pub fn permissions(&self) -> PermissionSet {
        self.permissions
    }

    /// Allows `permission` on data in `scope`, or says why not.
    pub fn require(&self, permission: Permission, scope: Scope<'_>) -> Result<(), Denied> {
        if matches!(self.principal.actor, Actor::Staff) && !self.principal.has_second_factor() {
            return Err(Denied::SecondFactorRequired);
        }
        if !self.permissions.contains(permission) {
            return Err(Denied::MissingPermission(permission));
        }
        match (&self.principal.actor, scope) {
            (Actor::Customer { tenant }, Scope::Tenant(resource)) if tenant != resource => {
                Err(Denied::OtherTenant)
            }
            (Actor::Customer { .. }, Scope::Platform) => Err(Denied::PlatformData),
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tenant(s: &str) -> TenantId {
        TenantId::new(s).expect("tenant")
    }

    fn customer(t: &str, roles: &[&str]) -> Principal {
        Principal {
            subject: "user-1".into(),
            actor: Actor::Customer { tenant: tenant(t) },
            roles: roles.iter().map(|r| r.to_string()).collect(),
            amr: vec!["pwd".into()],
        }
    }

    fn staff(roles: &[&str], amr: &[&str]) -> Principal {
        Principal {
            subject: "staff-1".into(),
            actor: Actor::Staff,
            roles: roles.iter().map(|r| r.to_string()).collect(),
            amr: amr.iter().map(|r| r.to_string()).collect(),
        }
    }

    #[test]
    fn deny_by_default() {
        let nobody = Access::resolve(customer("acme", &[]), &[]);
        for p in Permission::ALL {
            assert_eq!(
                nobody.require(*p, Scope::Tenant(&tenant("acme"))),
                Err(Denied::MissingPermission(*p)),
                "{p}"
            );
        }
        let unknown = Access::resolve(customer("acme", &["root", "admin"]), &[]);
        assert!(unknown.permissions().is_empty());
    }

    #[test]
    fn customers_never_reach_another_tenant() {
        let admin = Access::resolve(customer("acme", &["customer_admin"]), &[]);
        assert!(
            admin
                .require(Permission::SlaClaimsFile, Scope::Tenant(&tenant("acme")))
                .is_ok()
        );
        assert_eq!(
            admin.require(Permission::SlaClaimsFile, Scope::Tenant(&tenant("globex"))),
            Err(Denied::OtherTenant)
        );
        assert_eq!(
            admin.require(Permission::TenantIncidentsRead, Scope::Platform),
            Err(Denied::PlatformData)
        );
    }

    #[test]
    fn customers_cannot_borrow_staff_roles() {
        let sneaky = Access::resolve(customer("acme", &["security_officer"]), &[]);
        assert_eq!(
            sneaky.require(Permission::ReportsRead, Scope::Platform),
            Err(Denied::MissingPermission(Permission::ReportsRead))
        );
    }

    #[test]
    fn staff_need_a_second_factor() {
        let without = Access::resolve(staff(&["security_officer"], &["pwd"]), &[]);
        assert_eq!(
            without.require(Permission::ReportsRead, Scope::Platform),
            Err(Denied::SecondFactorRequired)
        );
        let with = Access::resolve(staff(&["security_officer"], &["pwd", "otp"]), &[]);
        assert!(
            with.require(Permission::ReportsRead, Scope::Platform)
                .is_ok()
        );
        assert_eq!(
            with.require(Permission::VoluntaryCreditsGrant, Scope::Platform),
            Err(Denied::MissingPermission(Permission::VoluntaryCreditsGrant))
        );
    }

    #[test]
    fn staff_need_a_second_factor_for_every_permission_of_every_role() {
        // "Staff need a second factor for anything": every staff role, alone and all at once,
        // every permission, every scope — refused with the password alone, granted with a code
        // (`otp`) or a passkey (`mfa`) where the role holds the permission.
        let staff_roles: Vec<&str> = BuiltinRole::ALL
            .iter()
            .filter(|r| r.is_staff())
            .map(|r| r.as_str())
            .collect();
        let acme = tenant("acme");
        let mut granted = 0;
        for roles in staff_roles
            .iter()
            .map(std::slice::from_ref)
            .chain([staff_roles.as_slice()])
        {
            let password_only = Access::resolve(staff(roles, &["pwd"]), &[]);
            assert!(!password_only.permissions().is_empty(), "{roles:?}");
            for second in ["otp", "mfa"] {
                let with = Access::resolve(staff(roles, &["pwd", second]), &[]);
                assert_eq!(with.permissions(), password_only.permissions());
                for p in Permission::ALL {
                    for scope in [Scope::Platform, Scope::Tenant(&acme)] {
                        assert_eq!(
                            password_only.require(*p, scope),
                            Err(Denied::SecondFactorRequired),
                            "{roles:?} {p:?} without a second factor"
                        );
                        let expected = if with.permissions().contains(*p) {
                            granted += 1;
                            Ok(())
                        } else {
                            Err(Denied::MissingPermission(*p))
                        };
                        assert_eq!(with.require(*p, scope), expected, "{roles:?} {p:?}");
                    }
                }
            }
        }
        assert!(granted > 0);
    }

    #[test]
    fn a_custom_role_grants_exactly_its_permissions() {
        let perms: BTreeSet<_> = [Permission::SlaReportRead, Permission::SlaClaimsFile].into();
        let role = CustomRole::new(tenant("acme"), "sla-clerk", perms.clone()).expect("valid");
        assert_eq!(role.name, "custom:sla-clerk");
        let clerk = Access::resolve(
            customer("acme", &["custom:sla-clerk"]),
            std::slice::from_ref(&role),
        );
        let granted: BTreeSet<_> = clerk.permissions().iter().collect();
        assert_eq!(granted, perms);
        // The same role name in another tenant's token grants nothing.
        let other = Access::resolve(customer("globex", &["custom:sla-clerk"]), &[role]);
        assert!(other.permissions().is_empty());
    }

    #[test]
    fn custom_roles_cannot_hold_staff_permissions() {
        let perms: BTreeSet<_> = [Permission::ReportsRead].into();
        assert_eq!(
            CustomRole::new(tenant("acme"), "spy", perms),
            Err(RbacError::NotGrantable(Permission::ReportsRead))
        );
        assert_eq!(
            CustomRole::new(tenant("acme"), "x", BTreeSet::new()),
            Err(RbacError::EmptyRole)
        );
        assert_eq!(
            CustomRole::new(tenant("acme"), "Bad Name", [Permission::BillingRead].into()),
            Err(RbacError::BadRoleName("Bad Name".into()))
        );
    }

    #[test]
    fn permission_names_round_trip() {
        for p in Permission::ALL {
            assert_eq!(p.as_str().parse::<Permission>(), Ok(*p));
            let json = serde_json::to_string(p).expect("json");
            assert_eq!(json, format!("\"{}\"", p.as_str()));
        }
    }
}
