//! The accounts' storage layout, in one place: the key of every item this area writes (accounts,
//! custom roles, the pointers of mailed links, sign-in steps, refresh tokens and their families,
//! the login and sessions indexes) and the typed records stored under them. Other modules build
//! keys only through these functions; the inventory's record specs hold the same patterns.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use kernel::audit::{AuditHead, Audited};
use kernel::crypto::{KeyOwner, SealedField};
use kernel::error::Error;
use kernel::ids::TenantId;
use kernel::inventory::RecordKind;
use kernel::rbac::{Actor, CustomRole, Principal};
use kernel::store::{Item, ItemKey, Query};
use kernel::time::Timestamp;

use crate::service::passkeys::{CeremonyState, StoredPasskey};
use crate::service::{Account, UserId};

/// The index of every account by the blind index of its address.
const LOGIN_INDEX: &str = "LOGIN";
/// The partition of the staff's accounts (a tenant's are in the tenant's partition).
const STAFF_PARTITION: &str = "STAFF";
const USER_PREFIX: &str = "USER#";
const ROLE_PREFIX: &str = "ROLE#";

/// A mailed link's token, found by its hash: which account it belongs to. The account keeps the
/// hash and expiry itself (`Activation`), so a pointer alone opens nothing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LinkPointer {
    pub user: ItemKey,
}

impl LinkPointer {
    /// The pointer item for `user`, gone with the link.
    pub fn item(key: ItemKey, user: &UserRecord, expires_at: Timestamp) -> Result<Item, Error> {
        Ok(Item::new(key, RecordKind::SignInChallenge)
            .with_expiry(expires_at)
            .with_record(&LinkPointer { user: user.key()? })?)
    }
}

/// Where an activation link's token points (by its hash).
pub(crate) fn activation_pointer(token: &str) -> Result<ItemKey, Error> {
    Ok(ItemKey::new(
        format!("ACTIVATION#{}", digest(token.trim())),
        "A",
    )?)
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Activation {
    pub token_hash: String,
    pub expires_at: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UserRecord {
    pub id: UserId,
    pub account: Account,
    pub email: SealedField,
    pub name: SealedField,
    pub roles: Vec<String>,
    /// Argon2id PHC string; none until the account is activated.
    pub password: Option<String>,
    pub activation: Option<Activation>,
    /// A pending password reset (the mailed link's token, hashed): one at a time, used once.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reset: Option<Activation>,
    pub otp_secret: Option<SealedField>,
    pub otp_confirmed: bool,
    pub otp_last_step: Option<u64>,
    /// SHA-256 of each unused recovery code.
    pub recovery_codes: Vec<String>,
    #[serde(default)]
    pub passkeys: Vec<StoredPasskey>,
    pub failed_attempts: u32,
    pub locked_until: Option<Timestamp>,
    pub disabled: bool,
    /// Tokens issued before (or at) this instant are refused.
    pub revoked_before: Option<Timestamp>,
    /// A reset of the second factor one administrator asked for, waiting for a second one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub second_factor_reset: Option<PendingReset>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub audit: AuditHead,
}

/// Who asked for a second-factor reset, and when: it is carried out only when another
/// administrator approves (four eyes), since it hands the account to whoever knows its password.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PendingReset {
    pub requested_by: String,
    pub requested_at: Timestamp,
}

impl UserRecord {
    pub(crate) fn owner(&self) -> KeyOwner {
        match &self.account {
            Account::Staff => KeyOwner::Platform,
            Account::Customer { tenant } => KeyOwner::Tenant(tenant.clone()),
        }
    }

    pub(crate) fn kind(&self) -> RecordKind {
        match self.account {
            Account::Staff => RecordKind::StaffUser,
            Account::Customer { .. } => RecordKind::TenantUser,
        }
    }

    pub(crate) fn key(&self) -> Result<ItemKey, Error> {
        user_key(&self.account, &self.id)
    }

    pub(crate) fn has_second_factor(&self) -> bool {
        self.otp_confirmed || !self.passkeys.is_empty()
    }

    /// `restricted`: signed in without the passkey the tenant requires, so with no role until
    /// one is registered (their own account they may still change).
    pub(crate) fn principal(&self, amr: &[&str], restricted: bool) -> Principal {
        Principal {
            subject: self.id.to_string(),
            actor: match &self.account {
                Account::Staff => Actor::Staff,
                Account::Customer { tenant } => Actor::Customer {
                    tenant: tenant.clone(),
                },
            },
            roles: if restricted {
                vec![]
            } else {
                self.roles.clone()
            },
            amr: amr.iter().map(|s| s.to_string()).collect(),
        }
    }
}

/// The partition of an organisation's accounts: the staff's, or the tenant's.
pub(crate) fn organisation_partition(account: &Account) -> String {
    match account {
        Account::Staff => STAFF_PARTITION.to_string(),
        Account::Customer { tenant } => ItemKey::tenant_partition(tenant),
    }
}

pub fn user_key(account: &Account, id: &UserId) -> Result<ItemKey, Error> {
    Ok(ItemKey::new(
        organisation_partition(account),
        format!("{USER_PREFIX}{id}"),
    )?)
}

pub(crate) fn user_chain(id: &UserId) -> String {
    format!("user:{id}")
}

pub(crate) fn role_chain(role: &CustomRole) -> String {
    format!("role:{}/{}", role.tenant, role.name)
}

pub(crate) fn role_key(tenant: &TenantId, name: &str) -> Result<ItemKey, Error> {
    Ok(ItemKey::new(
        ItemKey::tenant_partition(tenant),
        format!("{ROLE_PREFIX}{name}"),
    )?)
}

pub(crate) fn digest(text: &str) -> String {
    kernel::hex::encode(&Sha256::digest(text.as_bytes()))
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum ChallengePurpose {
    /// Password checked; the TOTP (or a recovery code) is next.
    SecondFactor,
    /// Password checked; the staff member confirms a new TOTP.
    Enrolment,
    /// A signed-in user registers a passkey.
    PasskeyRegistration,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Challenge {
    pub(crate) user: ItemKey,
    pub(crate) purpose: ChallengePurpose,
    pub(crate) expires_at: Timestamp,
    /// A passkey ceremony's state (registration, or the passkey step of a sign-in).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) passkey: Option<CeremonyState>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RefreshRecord {
    pub(crate) family: String,
    pub(crate) user: ItemKey,
    pub(crate) used: bool,
    pub(crate) amr: Vec<String>,
    pub(crate) expires_at: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct FamilyRecord {
    pub(crate) user: ItemKey,
    pub(crate) revoked: bool,
    pub(crate) created_at: Timestamp,
    /// How the session was signed in (RFC 8176 `amr`).
    #[serde(default)]
    pub(crate) amr: Vec<String>,
}

/// The secondary-index partition of an account's live sessions (one per refresh family).
fn sessions_partition(user: &ItemKey) -> String {
    format!("SESSIONS#{}", user.sk)
}

/// A tenant's custom role as stored, with its audit head.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RoleRecord {
    pub(crate) role: CustomRole,
    pub(crate) audit: AuditHead,
}

pub(crate) fn refresh_key(token: &str) -> Result<ItemKey, Error> {
    Ok(ItemKey::new(format!("REFRESH#{}", digest(token)), "R")?)
}

/// A refresh token's item, found by the token's digest.
pub(crate) fn refresh_item(token: &str, record: &RefreshRecord) -> Result<Item, Error> {
    Ok(Item::new(refresh_key(token)?, RecordKind::RefreshToken)
        .with_expiry(record.expires_at)
        .with_record(record)?)
}

/// An account as it is stored: under its organisation, listed in the login index.
pub(crate) fn user_item(user: &UserRecord, login: &ItemKey) -> Result<Item, Error> {
    let mut item = Item::new(user.key()?, user.kind())
        .with_gsi1(login.clone())
        .with_record(user)?;
    if let Account::Customer { tenant } = &user.account {
        item = item.with_tenant(tenant.clone());
    }
    Ok(item)
}

/// An account with its login index entry: what an audited write of the account stores (the
/// entry comes from the address's blind index, which the record does not keep).
pub(crate) struct UserWithLogin<'a> {
    pub(crate) user: &'a mut UserRecord,
    pub(crate) login: &'a ItemKey,
}

impl Audited for UserWithLogin<'_> {
    fn chain(&self) -> String {
        user_chain(&self.user.id)
    }

    fn audit_head(&mut self) -> &mut AuditHead {
        &mut self.user.audit
    }

    fn item(&self) -> Result<Item, Error> {
        user_item(self.user, self.login)
    }
}

impl Audited for RoleRecord {
    fn chain(&self) -> String {
        role_chain(&self.role)
    }

    fn audit_head(&mut self) -> &mut AuditHead {
        &mut self.audit
    }

    fn item(&self) -> Result<Item, Error> {
        Ok(Item::new(
            role_key(&self.role.tenant, &self.role.name)?,
            RecordKind::TenantRole,
        )
        .with_tenant(self.role.tenant.clone())
        .with_record(self)?)
    }
}

/// Every account of an organisation (the staff, or one tenant).
pub(crate) fn users_query(account: &Account) -> Query {
    Query::partition(organisation_partition(account)).prefix(USER_PREFIX)
}

/// The login index entry of an account: `<blind index of the address>#<user id>`, the same for
/// staff and every tenant, so one query finds every account with an address.
pub(crate) fn login_key(email_index: &str, id: &UserId) -> Result<ItemKey, Error> {
    Ok(ItemKey::new(LOGIN_INDEX, format!("{email_index}#{id}"))?)
}

/// Every account with the address whose blind index is `email_index`.
pub(crate) fn logins_query(email_index: &str) -> Query {
    Query::gsi1(LOGIN_INDEX).prefix(format!("{email_index}#"))
}

/// Every account, in every organisation.
pub(crate) fn all_logins_query() -> Query {
    Query::gsi1(LOGIN_INDEX)
}

/// A tenant's custom roles.
pub(crate) fn roles_query(tenant: &TenantId) -> Query {
    Query::partition(ItemKey::tenant_partition(tenant)).prefix(ROLE_PREFIX)
}

/// Where a password-reset link's token points (by its hash).
pub(crate) fn reset_pointer(token: &str) -> Result<ItemKey, Error> {
    Ok(ItemKey::new(
        format!("RESET#{}", digest(token.trim())),
        "R",
    )?)
}

/// A waiting sign-in step (second factor, enrolment, passkey ceremony), by its token's hash.
pub(crate) fn challenge_key(token: &str) -> Result<ItemKey, Error> {
    Ok(ItemKey::new(
        format!("CHALLENGE#{}", digest(token.trim())),
        "C",
    )?)
}

/// A refresh family (one signed-in session), by the digest of its id.
pub(crate) fn family_key(family_digest: &str) -> Result<ItemKey, Error> {
    Ok(ItemKey::new(format!("FAMILY#{family_digest}"), "F")?)
}

/// An account's live sessions, by when they started.
pub(crate) fn sessions_query(user: &ItemKey) -> Query {
    Query::gsi1(sessions_partition(user))
}

/// A live session's entry in its account's sessions index, ordered by when it started.
pub(crate) fn session_index_key(
    user: &ItemKey,
    started_at: Timestamp,
    family_digest: &str,
) -> Result<ItemKey, Error> {
    Ok(ItemKey::new(
        sessions_partition(user),
        format!("{started_at}#{family_digest}"),
    )?)
}

/// One stored record of each of this area's kinds, as a real run wrote it, still reads and
/// writes the same (tests/fixtures/records; the kernel checks them against the inventory).
#[cfg(test)]
mod golden {
    use super::*;

    #[test]
    pub(crate) fn stored_records_read_and_write_as_stored() {
        kernel::testkit::golden_record::<UserRecord>(RecordKind::StaffUser);
        kernel::testkit::golden_record::<UserRecord>(RecordKind::TenantUser);
        kernel::testkit::golden_record::<RoleRecord>(RecordKind::TenantRole);
        kernel::testkit::golden_record::<Challenge>(RecordKind::SignInChallenge);
        kernel::testkit::golden_record::<RefreshRecord>(RecordKind::RefreshToken);
        kernel::testkit::golden_record::<FamilyRecord>(RecordKind::TokenFamily);
    }
}
