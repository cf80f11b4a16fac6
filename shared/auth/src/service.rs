//! Accounts and sign-in: staff and tenant users, password + TOTP, short-lived access tokens and
//! rotating refresh tokens, lockout, on- and offboarding, tenant-defined roles.
//!
//! * Addresses and names are sealed (staff under the platform's identity key, tenant users under
//!   the tenant's — so retention's crypto-shredding covers them); sign-in finds an account by a
//!   keyed hash of its address (blind index, HMAC-SHA256), never by the address itself.
//! * An address is unique within its organisation (the staff, or one tenant), not across them:
//!   whether another tenant or the staff use it changes nothing for an administrator. Sign-in
//!   finds every account with the address and checks the password against each; the one whose
//!   password matches is signed in, and if several match the user names the organisation.
//! * Every refusal of a sign-in says the same thing and does the same Argon2id work per account
//!   with the address (one for an unknown address), whether the account exists, is locked,
//!   disabled, or the password is wrong. Argon2id runs on a [`HashingPool`], never on an async
//!   worker thread.
//! * Failed attempts are counted with the record's version as condition; a lost race reads the
//!   record again and counts on top, so concurrent attempts cannot undercount.
//! * Nobody gets a token without the second factor — staff and customers' users alike; an
//!   account without one (no confirmed TOTP, no passkey) enrols a TOTP to finish its first
//!   sign-in.
//! * Refresh tokens rotate on every use; presenting a used one revokes its whole family.
//! * Offboarding disables the account and sets its revocation time: refresh families die at once,
//!   and the functions refuse access tokens issued before it.

use std::collections::BTreeSet;
use std::sync::Arc;

use hmac::{Hmac, KeyInit, Mac};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use super::otp;
use super::passwords::{self, HashingPool, Passwords};

mod contacts;
mod figures;
mod invitations;
mod passkeys;
mod reset;
pub use figures::StaffFactorFigures;
pub use invitations::{invitation_message, staff_invitation_message};
use kernel::audit::{AuditEntry, AuditHead};
use kernel::crypto::{FieldContext, KeyOwner, KeyPurpose, Keyring, Personal, SealedField};
use kernel::error::{Error, FieldError};
use kernel::ids::TenantId;
use kernel::inventory::GuardedStore;
use kernel::inventory::RecordKind;
use kernel::rbac::{
    Access, Actor, BuiltinRole, CustomRole, Permission, Principal, Scope as AccessScope,
};
use kernel::store::{
    Condition, Item, ItemKey, Query, Store, StoreError, WriteOp, query_all, retry_lost_races,
};
use kernel::time::{Clock, SignedDuration, Timestamp};
use kernel::token::TokenIssuer;
use passkeys::CeremonyState;
pub use passkeys::{
    PASSKEY_NAME_MAX, PASSKEYS_MAX, PasskeyId, PasskeyInput, PasskeyRegistrationInput,
    PasskeyRegistrationStart, PasskeyView, RelyingParty, StoredPasskey,
};
pub use reset::{PasswordReset, ResetInput, reset_message, second_factor_reset_message};

kernel::generated_id!(
    /// A user account (staff or tenant user).
    UserId,
    "usr"
);

/// Failed attempts (password or second factor) before the account locks.
pub const MAX_FAILURES: u32 = 5;
/// How long a lock lasts.
pub const LOCK_MINUTES: i64 = 15;
pub const ACCESS_TOKEN_MINUTES: i64 = 10;
pub const REFRESH_TOKEN_DAYS: i64 = 30;
const CHALLENGE_MINUTES: i64 = 5;
const ACTIVATION_HOURS: i64 = 72;
const LOGIN_INDEX: &str = "LOGIN";
const STAFF_PARTITION: &str = "STAFF";
/// How often a write to an account that lost a race is tried again on a fresh read.
const WRITE_ATTEMPTS: usize = 25;

/// Administrators act on others' accounts only (nobody locks themselves out by mistake, and
/// four eyes stay two people): `refusal` when `user` is the caller's own account.
fn not_on_own_account(access: &Access, user: &UserRecord, refusal: &str) -> Result<(), Error> {
    if access.principal().subject == user.id.to_string() {
        Err(Error::Conflict(refusal.into()))
    } else {
        Ok(())
    }
}

/// The one answer to every failed sign-in.
pub const SIGN_IN_REFUSED: &str =
    "the email address or password is wrong, or the account is locked";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Account {
    Staff,
    Customer { tenant: TenantId },
}

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
fn activation_pointer(token: &str) -> Result<ItemKey, Error> {
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
    fn owner(&self) -> KeyOwner {
        match &self.account {
            Account::Staff => KeyOwner::Platform,
            Account::Customer { tenant } => KeyOwner::Tenant(tenant.clone()),
        }
    }

    fn kind(&self) -> RecordKind {
        match self.account {
            Account::Staff => RecordKind::StaffUser,
            Account::Customer { .. } => RecordKind::TenantUser,
        }
    }

    fn key(&self) -> Result<ItemKey, Error> {
        user_key(&self.account, &self.id)
    }

    fn has_second_factor(&self) -> bool {
        self.otp_confirmed || !self.passkeys.is_empty()
    }

    /// `restricted`: signed in without the passkey the tenant requires, so with no role until
    /// one is registered (their own account they may still change).
    fn principal(&self, amr: &[&str], restricted: bool) -> Principal {
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
fn organisation_partition(account: &Account) -> String {
    match account {
        Account::Staff => STAFF_PARTITION.to_string(),
        Account::Customer { tenant } => ItemKey::tenant_partition(tenant),
    }
}

pub fn user_key(account: &Account, id: &UserId) -> Result<ItemKey, Error> {
    Ok(ItemKey::new(
        organisation_partition(account),
        format!("USER#{id}"),
    )?)
}

fn too_many_races() -> Error {
    Error::Store(StoreError::Unavailable(
        "the account changed too often at once; try again".into(),
    ))
}

/// The audit heads the accounts (every one is in the login index) and the custom roles of
/// `tenants` keep, by chain (see `kernel::audit::verify_all_chains_to`).
pub async fn audit_heads(
    store: &dyn Store,
    tenants: &[TenantId],
) -> Result<kernel::audit::RecordHeads, Error> {
    let mut heads = kernel::audit::RecordHeads::new();
    for item in query_all(store, Query::gsi1(LOGIN_INDEX).limit(1_000)).await? {
        let user: UserRecord = item.record()?;
        heads.insert(user_chain(&user.id), user.audit);
    }
    for tenant in tenants {
        let roles = query_all(
            store,
            Query::partition(ItemKey::tenant_partition(tenant)).prefix("ROLE#"),
        )
        .await?;
        for item in roles {
            let record: RoleRecord = item.record()?;
            heads.insert(role_chain(&record.role), record.audit);
        }
    }
    Ok(heads)
}

fn user_chain(id: &UserId) -> String {
    format!("user:{id}")
}

fn role_chain(role: &CustomRole) -> String {
    format!("role:{}/{}", role.tenant, role.name)
}

fn role_key(tenant: &TenantId, name: &str) -> Result<ItemKey, Error> {
    Ok(ItemKey::new(
        ItemKey::tenant_partition(tenant),
        format!("ROLE#{name}"),
    )?)
}

fn digest(text: &str) -> String {
    kernel::hex::encode(&Sha256::digest(text.as_bytes()))
}

fn random_token() -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(kernel::random::bytes::<32>())
}

fn minutes(n: i64) -> SignedDuration {
    SignedDuration::from_secs(n * 60)
}

fn later(at: Timestamp, by: SignedDuration) -> Result<Timestamp, Error> {
    at.checked_add(by)
        .map_err(|e| Error::Internal(format!("time: {e}")))
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum ChallengePurpose {
    /// Password checked; the TOTP (or a recovery code) is next.
    SecondFactor,
    /// Password checked; the staff member confirms a new TOTP.
    Enrolment,
    /// A signed-in user registers a passkey.
    PasskeyRegistration,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Challenge {
    user: ItemKey,
    purpose: ChallengePurpose,
    expires_at: Timestamp,
    /// A passkey ceremony's state (registration, or the passkey step of a sign-in).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    passkey: Option<CeremonyState>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RefreshRecord {
    family: String,
    user: ItemKey,
    used: bool,
    amr: Vec<String>,
    expires_at: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct FamilyRecord {
    user: ItemKey,
    revoked: bool,
    created_at: Timestamp,
    /// How the session was signed in (RFC 8176 `amr`).
    #[serde(default)]
    amr: Vec<String>,
}

/// The secondary-index partition of an account's live sessions (one per refresh family).
fn sessions_partition(user: &ItemKey) -> String {
    format!("SESSIONS#{}", user.sk)
}

/// One signed-in session of an account, as its owner sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SessionView {
    /// The family's digest: names the session, unlocks nothing.
    pub id: String,
    pub started_at: Timestamp,
    pub expires_at: Timestamp,
    /// How it was signed in: `pwd`, `otp`, `pop` (a passkey), `mfa`.
    pub methods: Vec<String>,
}

/// A tenant's custom role as stored, with its audit head.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RoleRecord {
    role: CustomRole,
    audit: AuditHead,
}

/// What a sign-in step answers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum SignInStep {
    /// Send the TOTP code (or a recovery code) with this challenge to `/auth/otp`, or sign the
    /// passkey options (the portal's second-factor page does).
    OtpRequired {
        challenge: String,
        /// Whether the app's code is accepted (not when the tenant requires passkeys and the
        /// user has one; recovery codes always are).
        otp: bool,
        /// `CredentialRequestOptions` as JSON, when the user has passkeys.
        #[serde(skip_serializing_if = "Option::is_none")]
        passkey_options: Option<String>,
    },
    /// An account without a second factor: add this secret to an authenticator app and send its
    /// current code with the challenge to `/auth/otp`.
    OtpEnrolmentRequired {
        challenge: String,
        secret: String,
        otpauth_uri: String,
    },
    /// The password is right for accounts in several organisations: sign in again naming one
    /// of them as `organisation`. Only ever said to someone who knows the password.
    OrganisationRequired { organisations: Vec<Account> },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Tokens {
    pub access_token: String,
    pub token_type: &'static str,
    pub expires_in: i64,
    pub refresh_token: String,
    /// Only right after enrolling a second factor: shown once.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recovery_codes: Option<Vec<String>>,
    /// The session's name (its refresh family's digest, as [`SessionView::id`]): lets the
    /// portal mark "this browser" in the sessions list. Unlocks nothing.
    #[serde(skip_serializing)]
    pub session: String,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SignInInput {
    pub email: Option<String>,
    pub password: Option<String>,
    /// Which organisation's account (`{"kind":"staff"}` or
    /// `{"kind":"customer","tenant":"…"}`), when one address has accounts in several.
    #[serde(default)]
    pub organisation: Option<Account>,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OtpInput {
    pub challenge: Option<String>,
    pub code: Option<String>,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RefreshInput {
    pub refresh_token: Option<String>,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ActivateInput {
    pub token: Option<String>,
    pub password: Option<String>,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewUserInput {
    pub email: Option<String>,
    pub name: Option<String>,
    pub roles: Option<Vec<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RolesInput {
    pub roles: Option<Vec<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PasswordChangeInput {
    pub current: Option<String>,
    pub new: Option<String>,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RoleInput {
    pub permissions: Option<BTreeSet<Permission>>,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConfirmOtpInput {
    pub code: Option<String>,
}

/// A second factor being set up: add the secret to an authenticator app, then confirm a code.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OtpSetup {
    pub secret: String,
    pub otpauth_uri: String,
}

/// A user as administrators see it: address and name opened, no secrets.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UserView {
    pub id: UserId,
    pub account: Account,
    pub email: String,
    pub name: String,
    pub roles: Vec<String>,
    pub activated: bool,
    pub second_factor: bool,
    /// The authenticator app's code is set up.
    pub otp: bool,
    pub passkeys: usize,
    pub disabled: bool,
    pub locked_until: Option<Timestamp>,
    /// A second-factor reset waiting for a second administrator's approval.
    pub second_factor_reset: Option<PendingReset>,
    pub created_at: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CreatedUser {
    pub user: UserView,
    /// Sent to the new user (once): with it they choose their password at `/auth/activate`.
    pub activation_token: String,
    pub activation_expires_at: Timestamp,
}

pub struct AuthService {
    store: Arc<dyn Store>,
    keyring: Arc<Keyring>,
    clock: Arc<dyn Clock>,
    issuer: Option<TokenIssuer>,
    index_key: Option<Zeroizing<[u8; 32]>>,
    passwords: Passwords,
    relying_party: Option<Arc<RelyingParty>>,
}

impl AuthService {
    /// Without an issuer (functions other than `auth`), accounts can be read but nobody signs in.
    /// Password hashing runs on `hashing` (the functions: tokio's blocking pool).
    pub fn new(
        store: GuardedStore,
        keyring: Arc<Keyring>,
        clock: Arc<dyn Clock>,
        issuer: Option<TokenIssuer>,
        index_key: Option<Zeroizing<[u8; 32]>>,
        hashing: Arc<dyn HashingPool>,
    ) -> Self {
        Self {
            store: store.shared(),
            keyring,
            clock,
            issuer,
            index_key,
            passwords: Passwords::new(hashing),
            relying_party: None,
        }
    }

    /// The blind index of an address: HMAC-SHA256 under the index key, of the trimmed,
    /// lower-cased address.
    pub fn email_index(&self, email: &str) -> Result<String, Error> {
        let key = self.index_key.as_ref().ok_or_else(|| {
            Error::Conflict("no sign-in index key is configured in this function".into())
        })?;
        let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(key.as_ref())
            .map_err(|e| Error::Internal(format!("index key: {e}")))?;
        mac.update(email.trim().to_lowercase().as_bytes());
        Ok(kernel::hex::encode(&mac.finalize().into_bytes()))
    }

    fn field_context<'a>(
        owner: &'a KeyOwner,
        sk: &'a str,
        field: &'static str,
        kind: RecordKind,
    ) -> FieldContext<'a> {
        FieldContext {
            owner,
            kind,
            record_id: sk,
            field,
        }
    }

    /// The stored item of a user; `login` is its blind-index entry (`LOGIN` / `<index>#<id>`),
    /// kept from the address at creation, so later writes never need the address in clear.
    fn item(user: &UserRecord, login: &ItemKey) -> Result<Item, Error> {
        let mut item = Item::new(user.key()?, user.kind())
            .with_gsi1(login.clone())
            .with_record(user)?;
        if let Account::Customer { tenant } = &user.account {
            item = item.with_tenant(tenant.clone());
        }
        Ok(item)
    }

    /// The account a mailed link (activation or password reset) is for, while the link holds:
    /// its pointer item exists, the token matches the hash the account keeps for it (`kept`),
    /// it has not expired and the account is not disabled. None otherwise, so every refusal of
    /// a link reads the same.
    async fn account_of_link(
        &self,
        pointer: &ItemKey,
        token: &str,
        now: Timestamp,
        kept: fn(&UserRecord) -> Option<&Activation>,
    ) -> Result<Option<(UserRecord, u64, ItemKey)>, Error> {
        let Some(item) = self.store.get(pointer).await? else {
            return Ok(None);
        };
        let Ok(LinkPointer { user: user_ref }) = item.record() else {
            return Ok(None);
        };
        let Some((user, version, login)) = self.load(&user_ref).await? else {
            return Ok(None);
        };
        let holds = kept(&user)
            .is_some_and(|link| link.token_hash == digest(token.trim()) && link.expires_at > now)
            && !user.disabled;
        Ok(holds.then_some((user, version, login)))
    }

    async fn load(&self, key: &ItemKey) -> Result<Option<(UserRecord, u64, ItemKey)>, Error> {
        let Some(item) = self.store.get(key).await? else {
            return Ok(None);
        };
        let login = item
            .gsi1
            .clone()
            .ok_or_else(|| Error::Internal(format!("user {key} has no login index")))?;
        Ok(Some((item.record()?, item.version, login)))
    }

    /// The keys of every account with this address, in every organisation: the index entry is
    /// `<blind index>#<user id>`, the same for staff and every tenant, so one query finds all.
    async fn keys_with_email(&self, email: &str) -> Result<Vec<ItemKey>, Error> {
        let index = self.email_index(email)?;
        Ok(query_all(
            self.store.as_ref(),
            Query::gsi1(LOGIN_INDEX)
                .prefix(format!("{index}#"))
                .limit(100),
        )
        .await?
        .into_iter()
        .map(|item| item.key)
        .collect())
    }

    async fn save(
        &self,
        user: &UserRecord,
        version: u64,
        login: &ItemKey,
        action: Option<(&Principal, &str)>,
    ) -> Result<UserRecord, Error> {
        let mut user = user.clone();
        let mut ops = Vec::new();
        if let Some((who, what)) = action {
            let entry = AuditEntry::append(
                &user_chain(&user.id),
                Some(&user.audit),
                user.updated_at,
                who,
                what,
                &(
                    &user.roles,
                    user.disabled,
                    user.otp_confirmed,
                    &user.revoked_before,
                ),
            );
            user.audit = entry.head();
            ops.push(entry.insert_op()?);
        }
        ops.push(WriteOp::Put {
            item: Self::item(&user, login)?,
            condition: Condition::Version(version),
        });
        self.store.transact(ops).await?;
        Ok(user)
    }

    async fn view(&self, user: &UserRecord) -> Result<UserView, Error> {
        let owner = user.owner();
        let sk = user.key()?.sk;
        let email = self
            .keyring
            .open(
                &Self::field_context(&owner, &sk, "email", user.kind()),
                &user.email,
            )
            .await?;
        let name = self
            .keyring
            .open(
                &Self::field_context(&owner, &sk, "name", user.kind()),
                &user.name,
            )
            .await?;
        Ok(UserView {
            id: user.id,
            account: user.account.clone(),
            email: email.expose().clone(),
            name: name.expose().clone(),
            roles: user.roles.clone(),
            activated: user.password.is_some(),
            second_factor: user.has_second_factor(),
            otp: user.otp_confirmed,
            passkeys: user.passkeys.len(),
            disabled: user.disabled,
            locked_until: user.locked_until,
            second_factor_reset: user.second_factor_reset.clone(),
            created_at: user.created_at,
        })
    }

    // ----- on- and offboarding ----------------------------------------------------------------

    /// Staff with `staff:manage` onboard staff; tenant admins their own users. The new account
    /// is activated with the returned token (the user chooses the password).
    pub async fn create_user(
        &self,
        access: &Access,
        account: Account,
        input: NewUserInput,
    ) -> Result<CreatedUser, Error> {
        match &account {
            Account::Staff => access.require(Permission::StaffManage, AccessScope::Platform)?,
            Account::Customer { tenant } => {
                access.require(Permission::TenantUsersManage, AccessScope::Tenant(tenant))?
            }
        }
        self.create(access.principal(), account, input).await
    }

    /// The first staff account of an environment (production refuses development tokens, so
    /// nobody could make it otherwise). Refused as soon as any staff account exists.
    pub async fn bootstrap_staff(&self, input: NewUserInput) -> Result<CreatedUser, Error> {
        let existing = self
            .store
            .query(Query::partition(STAFF_PARTITION).prefix("USER#").limit(1))
            .await?;
        if !existing.items.is_empty() {
            return Err(Error::Conflict(
                "staff accounts exist: onboard through an operator instead".into(),
            ));
        }
        self.create(&Principal::system("bootstrap"), Account::Staff, input)
            .await
    }

    async fn create(
        &self,
        who: &Principal,
        account: Account,
        input: NewUserInput,
    ) -> Result<CreatedUser, Error> {
        let mut errors = Vec::new();
        let email = input.email.unwrap_or_default().trim().to_lowercase();
        if !valid_email(&email) {
            errors.push(FieldError::new("/email", "must be an email address"));
        }
        let name = input.name.unwrap_or_default().trim().to_string();
        if name.is_empty() || name.chars().count() > 200 {
            errors.push(FieldError::new("/name", "1 to 200 characters"));
        }
        let roles = input.roles.unwrap_or_default();
        if roles.is_empty() {
            errors.push(FieldError::new("/roles", "name at least one role"));
        }
        for (i, role) in roles.iter().enumerate() {
            if let Err(reason) = self.check_role(&account, role).await? {
                errors.push(FieldError::new(format!("/roles/{i}"), reason));
            }
        }
        if !errors.is_empty() {
            return Err(Error::Validation(errors));
        }
        if let Account::Customer { tenant } = &account
            && kernel::tenants::get(self.store.as_ref(), tenant)
                .await?
                .is_none()
        {
            return Err(Error::NotFound(format!("tenant {tenant}")));
        }
        // Unique within the organisation only: other tenants' and the staff's accounts must not
        // change the answer (nor be found out, nor block an address).
        let organisation = organisation_partition(&account);
        if self
            .keys_with_email(&email)
            .await?
            .iter()
            .any(|key| key.pk == organisation)
        {
            return Err(Error::Conflict(
                "an account with this address exists".into(),
            ));
        }
        let now = self.clock.now();
        let id = UserId::generate(now);
        let key = user_key(&account, &id)?;
        let owner = match &account {
            Account::Staff => KeyOwner::Platform,
            Account::Customer { tenant } => KeyOwner::Tenant(tenant.clone()),
        };
        let kind = match account {
            Account::Staff => RecordKind::StaffUser,
            Account::Customer { .. } => RecordKind::TenantUser,
        };
        let sealed_email = self
            .keyring
            .seal(
                &Self::field_context(&owner, &key.sk, "email", kind),
                KeyPurpose::Identity,
                &Personal::new(email.clone()),
            )
            .await?;
        let sealed_name = self
            .keyring
            .seal(
                &Self::field_context(&owner, &key.sk, "name", kind),
                KeyPurpose::Identity,
                &Personal::new(name),
            )
            .await?;
        let activation_token = random_token();
        let activation_expires_at = later(now, SignedDuration::from_hours(ACTIVATION_HOURS))?;
        let entry = AuditEntry::append(
            &user_chain(&id),
            None,
            now,
            who,
            "user.created",
            &(&account, &roles),
        );
        let user = UserRecord {
            id,
            account,
            email: sealed_email,
            name: sealed_name,
            roles,
            password: None,
            activation: Some(Activation {
                token_hash: digest(&activation_token),
                expires_at: activation_expires_at,
            }),
            otp_secret: None,
            otp_confirmed: false,
            reset: None,
            otp_last_step: None,
            recovery_codes: vec![],
            passkeys: vec![],
            failed_attempts: 0,
            locked_until: None,
            disabled: false,
            revoked_before: None,
            second_factor_reset: None,
            created_at: now,
            updated_at: now,
            audit: entry.head(),
        };
        let login = ItemKey::new(LOGIN_INDEX, format!("{}#{}", self.email_index(&email)?, id))?;
        self.store
            .transact(vec![
                WriteOp::Put {
                    item: Self::item(&user, &login)?,
                    condition: Condition::NotExists,
                },
                entry.insert_op()?,
            ])
            .await?;
        // The activation token is looked up by its hash.
        let pointer = LinkPointer::item(
            activation_pointer(&activation_token)?,
            &user,
            activation_expires_at,
        )?;
        self.store.put(pointer, Condition::NotExists).await?;
        Ok(CreatedUser {
            user: self.view(&user).await?,
            activation_token,
            activation_expires_at,
        })
    }

    /// Whether `role` may be given to an account of this kind (`Ok(Err(reason))` if not).
    async fn check_role(&self, account: &Account, role: &str) -> Result<Result<(), String>, Error> {
        if let Ok(builtin) = role.parse::<BuiltinRole>() {
            let staff = builtin.is_staff();
            return Ok(match (account, staff) {
                (Account::Staff, true) | (Account::Customer { .. }, false) => Ok(()),
                (Account::Staff, false) => Err(format!("'{role}' is a customer role")),
                (Account::Customer { .. }, true) => Err(format!("'{role}' is a staff role")),
            });
        }
        match account {
            Account::Customer { tenant } if role.starts_with(CustomRole::PREFIX) => {
                if self.store.get(&role_key(tenant, role)?).await?.is_some() {
                    Ok(Ok(()))
                } else {
                    Ok(Err(format!("the tenant has no role '{role}'")))
                }
            }
            _ => Ok(Err(format!("unknown role '{role}'"))),
        }
    }

    async fn user_for(
        &self,
        access: &Access,
        account: &Account,
        id: &UserId,
    ) -> Result<(UserRecord, u64, ItemKey), Error> {
        match account {
            Account::Staff => access.require(Permission::StaffManage, AccessScope::Platform)?,
            Account::Customer { tenant } => {
                access.require(Permission::TenantUsersManage, AccessScope::Tenant(tenant))?
            }
        }
        self.load(&user_key(account, id)?)
            .await?
            .ok_or_else(|| Error::NotFound(format!("user {id}")))
    }

    /// An administrator's change to an account, saved with its audit entry (`action`), and the
    /// account as the administrator now sees it.
    async fn save_and_view(
        &self,
        user: &UserRecord,
        version: u64,
        login: &ItemKey,
        access: &Access,
        action: &str,
    ) -> Result<UserView, Error> {
        let user = self
            .save(user, version, login, Some((access.principal(), action)))
            .await?;
        self.view(&user).await
    }

    /// Offboarding: the account is disabled and every token it holds stops working at once.
    pub async fn disable_user(
        &self,
        access: &Access,
        account: &Account,
        id: &UserId,
    ) -> Result<UserView, Error> {
        let (mut user, version, login) = self.user_for(access, account, id).await?;
        not_on_own_account(access, &user, "you cannot disable your own account")?;
        let now = self.clock.now();
        user.disabled = true;
        user.revoked_before = Some(now);
        user.updated_at = now;
        self.save_and_view(&user, version, &login, access, "user.disabled")
            .await
    }

    /// A disabled account works again; tokens from before it was disabled stay refused.
    pub async fn enable_user(
        &self,
        access: &Access,
        account: &Account,
        id: &UserId,
    ) -> Result<UserView, Error> {
        let (mut user, version, login) = self.user_for(access, account, id).await?;
        if !user.disabled {
            return self.view(&user).await;
        }
        user.disabled = false;
        user.failed_attempts = 0;
        user.locked_until = None;
        user.updated_at = self.clock.now();
        self.save_and_view(&user, version, &login, access, "user.enabled")
            .await
    }

    /// New roles for an account. They take effect at once: the account's sessions end (a token
    /// carries the roles it was issued with), and it signs in again with the new ones. Nobody
    /// changes their own roles (an administrator cannot lock the organisation out by mistake).
    pub async fn set_roles(
        &self,
        access: &Access,
        account: &Account,
        id: &UserId,
        input: RolesInput,
    ) -> Result<UserView, Error> {
        let (mut user, version, login) = self.user_for(access, account, id).await?;
        not_on_own_account(access, &user, "you cannot change your own roles")?;
        let roles = input.roles.unwrap_or_default();
        let mut errors = Vec::new();
        if roles.is_empty() {
            errors.push(FieldError::new("/roles", "give at least one role"));
        }
        for (i, role) in roles.iter().enumerate() {
            if let Err(why) = self.check_role(&user.account, role).await? {
                errors.push(FieldError::new(format!("/roles/{i}"), why));
            }
        }
        if !errors.is_empty() {
            return Err(Error::Validation(errors));
        }
        let mut roles = roles;
        roles.sort();
        roles.dedup();
        if roles == user.roles {
            return self.view(&user).await;
        }
        let now = self.clock.now();
        user.roles = roles;
        user.revoked_before = Some(now);
        user.updated_at = now;
        self.save_and_view(&user, version, &login, access, "user.roles_changed")
            .await
    }

    /// First half of a second-factor reset: one administrator asks, nothing changes yet.
    /// Nobody asks for their own account; asking twice keeps the first request.
    pub async fn request_second_factor_reset(
        &self,
        access: &Access,
        account: &Account,
        id: &UserId,
    ) -> Result<UserView, Error> {
        let (mut user, version, login) = self.user_for(access, account, id).await?;
        not_on_own_account(access, &user, "you cannot reset your own second factor")?;
        let me = access.principal().subject.clone();
        if user.second_factor_reset.is_some() {
            return self.view(&user).await;
        }
        let now = self.clock.now();
        user.second_factor_reset = Some(PendingReset {
            requested_by: me,
            requested_at: now,
        });
        user.updated_at = now;
        self.save_and_view(
            &user,
            version,
            &login,
            access,
            "user.second_factor_reset_requested",
        )
        .await
    }

    /// Second half, by another administrator: the app's secret, the recovery codes and every
    /// passkey are removed and every session ends; at the next sign-in the person sets up a
    /// second factor again (staff must, before any page opens).
    pub async fn approve_second_factor_reset(
        &self,
        access: &Access,
        account: &Account,
        id: &UserId,
    ) -> Result<UserView, Error> {
        let (mut user, version, login) = self.user_for(access, account, id).await?;
        let me = access.principal().subject.clone();
        let Some(pending) = &user.second_factor_reset else {
            return Err(Error::Conflict(
                "no second-factor reset was asked for".into(),
            ));
        };
        if pending.requested_by == me {
            return Err(Error::Conflict(
                "a second administrator must approve the reset you asked for".into(),
            ));
        }
        not_on_own_account(access, &user, "you cannot reset your own second factor")?;
        let now = self.clock.now();
        user.second_factor_reset = None;
        user.otp_secret = None;
        user.otp_confirmed = false;
        user.otp_last_step = None;
        user.recovery_codes.clear();
        user.passkeys.clear();
        user.failed_attempts = 0;
        user.locked_until = None;
        user.revoked_before = Some(now);
        user.updated_at = now;
        self.save_and_view(&user, version, &login, access, "user.second_factor_reset")
            .await
    }

    /// A waiting second-factor reset withdrawn (by any administrator who may manage the account).
    pub async fn withdraw_second_factor_reset(
        &self,
        access: &Access,
        account: &Account,
        id: &UserId,
    ) -> Result<UserView, Error> {
        let (mut user, version, login) = self.user_for(access, account, id).await?;
        if user.second_factor_reset.is_none() {
            return self.view(&user).await;
        }
        user.second_factor_reset = None;
        user.updated_at = self.clock.now();
        self.save_and_view(
            &user,
            version,
            &login,
            access,
            "user.second_factor_reset_withdrawn",
        )
        .await
    }

    /// Ends every session of the caller's own account, this one included.
    pub async fn sign_out_everywhere(&self, access: &Access) -> Result<(), Error> {
        let (mut user, version, login) = self.own_account(access).await?;
        let now = self.clock.now();
        user.revoked_before = Some(now);
        user.updated_at = now;
        self.save(
            &user,
            version,
            &login,
            Some((access.principal(), "user.signed_out_everywhere")),
        )
        .await?;
        Ok(())
    }

    /// The caller's live sessions, newest first: those neither signed out, revoked, expired nor
    /// ended by a revocation of the whole account.
    pub async fn sessions(&self, access: &Access) -> Result<Vec<SessionView>, Error> {
        let (user, _, _) = self.own_account(access).await?;
        let items = query_all(
            self.store.as_ref(),
            Query::gsi1(sessions_partition(&user.key()?))
                .descending()
                .limit(100),
        )
        .await?;
        let mut out = Vec::new();
        for item in items {
            let family: FamilyRecord = item.record()?;
            let ended = family.revoked
                || user
                    .revoked_before
                    .is_some_and(|before| family.created_at <= before);
            if ended {
                continue;
            }
            let Some(id) = item.key.pk.strip_prefix("FAMILY#") else {
                continue;
            };
            out.push(SessionView {
                id: id.to_string(),
                started_at: family.created_at,
                expires_at: item.expires_at.unwrap_or(family.created_at),
                methods: family.amr,
            });
        }
        Ok(out)
    }

    /// Ends one of the caller's sessions: its refresh token is refused from now on, its access
    /// token (minutes) at its expiry.
    pub async fn end_session(&self, access: &Access, id: &str) -> Result<(), Error> {
        let (user, _, _) = self.own_account(access).await?;
        let missing = || Error::NotFound("session".into());
        if id.is_empty() || !id.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(missing());
        }
        let key = ItemKey::new(format!("FAMILY#{id}"), "F")?;
        let Some(item) = self.store.get(&key).await? else {
            return Err(missing());
        };
        let family: FamilyRecord = item.record()?;
        if family.user != user.key()? {
            return Err(missing());
        }
        let expires_at = item.expires_at.unwrap_or(family.created_at);
        self.revoke_family(key, &item, expires_at).await
    }

    /// The caller changes their own password, proving the current one; every session ends (a
    /// thief's as well as this one) and the next sign-in uses the new password.
    pub async fn change_password(
        &self,
        access: &Access,
        input: PasswordChangeInput,
    ) -> Result<(), Error> {
        let current = input.current.unwrap_or_default();
        let new = input.new.unwrap_or_default();
        let mut errors = Vec::new();
        if current.is_empty() {
            errors.push(FieldError::new("/current", "enter the current password"));
        }
        if let Err(Error::Validation(fields)) = passwords::check_policy(&new, "/new", &[]) {
            errors.extend(fields);
        }
        if !new.is_empty() && new == current {
            errors.push(FieldError::new(
                "/new",
                "the new password must differ from the current one",
            ));
        }
        if !errors.is_empty() {
            return Err(Error::Validation(errors));
        }
        let (mut user, version, login) = self.own_account(access).await?;
        let matches = self
            .passwords
            .verify_each(vec![user.password.clone()], &current)
            .await?;
        if !matches.first().copied().unwrap_or(false) {
            // A wrong current password counts like a wrong sign-in.
            self.fail(user, version, login).await?;
            return Err(Error::validation(
                "/current",
                "the current password is wrong",
            ));
        }
        let now = self.clock.now();
        user.password = Some(self.passwords.hash(&new).await?);
        user.revoked_before = Some(now);
        user.updated_at = now;
        self.save(
            &user,
            version,
            &login,
            Some((access.principal(), "user.password_changed")),
        )
        .await?;
        Ok(())
    }

    pub async fn users(&self, access: &Access, account: &Account) -> Result<Vec<UserView>, Error> {
        let partition = match account {
            Account::Staff => {
                access.require(Permission::StaffManage, AccessScope::Platform)?;
                STAFF_PARTITION.to_string()
            }
            Account::Customer { tenant } => {
                access.require(Permission::TenantUsersManage, AccessScope::Tenant(tenant))?;
                ItemKey::tenant_partition(tenant)
            }
        };
        let mut out = Vec::new();
        for item in query_all(
            self.store.as_ref(),
            Query::partition(partition).prefix("USER#"),
        )
        .await?
        {
            out.push(self.view(&item.record()?).await?);
        }
        Ok(out)
    }

    // ----- custom roles ------------------------------------------------------------------------

    /// A tenant admin defines (or redefines) a role of their tenant from tenant permissions.
    pub async fn put_role(
        &self,
        access: &Access,
        tenant: &TenantId,
        name: &str,
        input: RoleInput,
    ) -> Result<CustomRole, Error> {
        access.require(Permission::TenantRolesManage, AccessScope::Tenant(tenant))?;
        let permissions = input.permissions.unwrap_or_default();
        // Every failing field at once: the name and the permissions are checked apart.
        let mut errors = Vec::new();
        if let Err(e) = CustomRole::slug(name) {
            errors.push(FieldError::new("/name", e.to_string()));
        }
        if let Err(e) = CustomRole::check_permissions(&permissions) {
            errors.push(FieldError::new("/permissions", e.to_string()));
        }
        if !errors.is_empty() {
            return Err(Error::Validation(errors));
        }
        let role = CustomRole::new(tenant.clone(), name, permissions)
            .map_err(|e| Error::validation("/permissions", e.to_string()))?;
        let key = role_key(tenant, &role.name)?;
        let existing = self.store.get(&key).await?;
        let previous: Option<RoleRecord> = existing.as_ref().map(Item::record).transpose()?;
        let entry = AuditEntry::append(
            &role_chain(&role),
            previous.as_ref().map(|r| &r.audit),
            self.clock.now(),
            access.principal(),
            "role.defined",
            &role,
        );
        let record = RoleRecord {
            role: role.clone(),
            audit: entry.head(),
        };
        let item = Item::new(key, RecordKind::TenantRole)
            .with_tenant(tenant.clone())
            .with_record(&record)?;
        self.store
            .transact(vec![
                WriteOp::Put {
                    item,
                    condition: existing
                        .map_or(Condition::NotExists, |i| Condition::Version(i.version)),
                },
                entry.insert_op()?,
            ])
            .await?;
        Ok(role)
    }

    /// A tenant's custom roles, for those who manage them.
    pub async fn custom_roles(
        &self,
        access: &Access,
        tenant: &TenantId,
    ) -> Result<Vec<CustomRole>, Error> {
        access.require(Permission::TenantRolesManage, AccessScope::Tenant(tenant))?;
        self.roles(tenant).await
    }

    /// A tenant's custom roles (for resolving them; no access check).
    pub async fn roles(&self, tenant: &TenantId) -> Result<Vec<CustomRole>, Error> {
        query_all(
            self.store.as_ref(),
            Query::partition(ItemKey::tenant_partition(tenant)).prefix("ROLE#"),
        )
        .await?
        .iter()
        .map(|i| {
            i.record::<RoleRecord>()
                .map(|r| r.role)
                .map_err(Error::from)
        })
        .collect()
    }

    /// Who the caller is, with the tenant's custom roles resolved; refuses tokens of disabled
    /// accounts and tokens issued before an account's revocation.
    pub async fn access_for(
        &self,
        principal: Principal,
        issued_at: Option<Timestamp>,
    ) -> Result<Access, Error> {
        if let Ok(id) = UserId::parse(&principal.subject) {
            let account = match &principal.actor {
                Actor::Staff => Some(Account::Staff),
                Actor::Customer { tenant } => Some(Account::Customer {
                    tenant: tenant.clone(),
                }),
                Actor::System => None,
            };
            if let Some(account) = account {
                let refused = || Error::Unauthenticated("the account's tokens were revoked".into());
                match self.load(&user_key(&account, &id)?).await? {
                    None => return Err(refused()),
                    Some((user, _, _)) => {
                        if user.disabled {
                            return Err(refused());
                        }
                        if let (Some(before), Some(issued)) = (user.revoked_before, issued_at)
                            // At or before: a token's `iat` is whole seconds, so one issued
                            // in the second of the revocation cannot be told apart.
                            && issued <= before
                        {
                            return Err(refused());
                        }
                    }
                }
            }
        }
        let custom = match &principal.actor {
            Actor::Customer { tenant }
                if principal
                    .roles
                    .iter()
                    .any(|r| r.starts_with(CustomRole::PREFIX)) =>
            {
                self.roles(tenant).await?
            }
            _ => vec![],
        };
        Ok(Access::resolve(principal, &custom))
    }

    /// A fresh TOTP secret, sealed into the user's record (not yet confirmed).
    async fn new_otp_secret(&self, user: &mut UserRecord) -> Result<Vec<u8>, Error> {
        let secret = otp::new_secret();
        let owner = user.owner();
        let sk = user.key()?.sk;
        user.otp_secret = Some(
            self.keyring
                .seal(
                    &Self::field_context(&owner, &sk, "otp_secret", user.kind()),
                    KeyPurpose::Identity,
                    &Personal::new(otp::encoded(&secret)),
                )
                .await?,
        );
        Ok(secret)
    }

    /// The app's secret of `user` (confirmed or being enrolled), opened.
    async fn otp_secret_of(&self, user: &UserRecord) -> Result<Option<Vec<u8>>, Error> {
        let Some(sealed) = &user.otp_secret else {
            return Ok(None);
        };
        let (owner, sk) = (user.owner(), user.key()?.sk);
        let context = Self::field_context(&owner, &sk, "otp_secret", user.kind());
        let text = self.keyring.open(&context, sealed).await?;
        otp::decode(text.expose())
            .map(Some)
            .ok_or_else(|| Error::Internal("a stored TOTP secret does not decode".into()))
    }

    // ----- a user's own second factor ----------------------------------------------------------

    async fn own_account(&self, access: &Access) -> Result<(UserRecord, u64, ItemKey), Error> {
        let principal = access.principal();
        let id = UserId::parse(&principal.subject)
            .map_err(|_| Error::Conflict("this token does not belong to a user account".into()))?;
        let account = match &principal.actor {
            Actor::Staff => Account::Staff,
            Actor::Customer { tenant } => Account::Customer {
                tenant: tenant.clone(),
            },
            Actor::System => {
                return Err(Error::Conflict("system principals have no account".into()));
            }
        };
        self.load(&user_key(&account, &id)?)
            .await?
            .ok_or_else(|| Error::NotFound(format!("user {id}")))
    }

    /// The caller's own account, as administrators see it.
    pub async fn own(&self, access: &Access) -> Result<UserView, Error> {
        let (user, _, _) = self.own_account(access).await?;
        self.view(&user).await
    }

    /// Whether the caller's tenant requires passkeys and this session was signed in without one
    /// (so it carries no role until a passkey is registered and used).
    pub async fn needs_passkey(&self, access: &Access) -> Result<bool, Error> {
        // Such a session was issued with no role (`issue`): one with roles, or signed in with a
        // passkey, needs no read of the account and the tenant to know.
        let principal = access.principal();
        if principal.used_passkey() || !principal.roles.is_empty() {
            return Ok(false);
        }
        let (user, _, _) = self.own_account(access).await?;
        self.passkeys_required(&user).await
    }

    /// A user (customers: optional) starts setting up TOTP; nothing changes at sign-in until a
    /// code confirms it.
    pub async fn start_otp(&self, access: &Access) -> Result<OtpSetup, Error> {
        let (mut user, version, login) = self.own_account(access).await?;
        if user.otp_confirmed {
            return Err(Error::Conflict("a second factor is set up already".into()));
        }
        let secret = self.new_otp_secret(&mut user).await?;
        user.updated_at = self.clock.now();
        let user = self.save(&user, version, &login, None).await?;
        let email = self.view(&user).await?.email;
        Ok(OtpSetup {
            secret: otp::encoded(&secret),
            otpauth_uri: otp::provisioning_uri(&secret, &email),
        })
    }

    /// A current code confirms the new second factor; returns the recovery codes (shown once).
    pub async fn confirm_otp(
        &self,
        access: &Access,
        input: ConfirmOtpInput,
    ) -> Result<Vec<String>, Error> {
        let (mut user, version, login) = self.own_account(access).await?;
        if user.otp_confirmed {
            return Err(Error::Conflict("a second factor is set up already".into()));
        }
        let secret = self
            .otp_secret_of(&user)
            .await?
            .ok_or_else(|| Error::Conflict("start the set-up first".into()))?;
        let now = self.clock.now();
        let Some(step) = otp::verify(
            &secret,
            input.code.as_deref().unwrap_or_default(),
            now,
            None,
        ) else {
            return Err(Error::validation(
                "/code",
                "the code does not match; check the app's clock",
            ));
        };
        let (codes, hashes) = otp::recovery_codes();
        user.otp_confirmed = true;
        user.otp_last_step = Some(step);
        user.recovery_codes = hashes;
        user.updated_at = now;
        self.save(
            &user,
            version,
            &login,
            Some((access.principal(), "user.second_factor_enrolled")),
        )
        .await?;
        Ok(codes)
    }

    // ----- sign-in -----------------------------------------------------------------------------

    fn refused() -> Error {
        Error::Unauthenticated(SIGN_IN_REFUSED.into())
    }

    fn issuer(&self) -> Result<&TokenIssuer, Error> {
        self.issuer
            .as_ref()
            .ok_or_else(|| Error::Conflict("this function does not issue tokens".into()))
    }

    /// Records a failed attempt (password or second factor); locks at the limit. The write is
    /// conditional on the version read; when a concurrent attempt wrote first, the record is
    /// read again and this failure counted on top of that one, so none is lost.
    async fn fail(&self, user: UserRecord, version: u64, login: ItemKey) -> Result<(), Error> {
        let key = user.key()?;
        let mut first_read = Some((user, version, login));
        retry_lost_races(WRITE_ATTEMPTS, too_many_races, || {
            let read = first_read.take();
            let key = &key;
            async move {
                let (mut user, version, login) = match read {
                    Some(read) => read,
                    None => match self.load(key).await? {
                        Some(read) => read,
                        None => return Ok(()),
                    },
                };
                let now = self.clock.now();
                // Locked (or disabled) meanwhile: attempts on a locked account are not counted.
                if !Self::usable(&user, now) {
                    return Ok(());
                }
                user.failed_attempts += 1;
                user.updated_at = now;
                let action = if user.failed_attempts >= MAX_FAILURES {
                    user.locked_until = Some(later(now, minutes(LOCK_MINUTES))?);
                    user.failed_attempts = 0;
                    Some((&Principal::system("sign-in"), "user.locked"))
                } else {
                    None
                };
                self.save(&user, version, &login, action).await.map(drop)
            }
        })
        .await
    }

    fn usable(user: &UserRecord, now: Timestamp) -> bool {
        !user.disabled && user.locked_until.is_none_or(|until| until <= now)
    }

    /// Step one: address and password (and, when the address has accounts in several
    /// organisations and the password matches more than one, the organisation).
    ///
    /// Every account with the address is a candidate (only the named organisation's, if one is
    /// named); the password is checked against each with the same Argon2id work, whatever the
    /// account's state, and once for an unknown address. A refusal counts a failure on every
    /// candidate it could have been meant for — unless the password matched one of them.
    pub async fn sign_in(&self, input: SignInInput) -> Result<SignInStep, Error> {
        self.issuer()?;
        let email = input.email.unwrap_or_default();
        let password = input.password.unwrap_or_default();
        if email.is_empty()
            || password.is_empty()
            || password.chars().count() > passwords::MAX_LENGTH
        {
            self.passwords.verify_each(vec![None], &password).await?;
            return Err(Self::refused());
        }
        let mut candidates = Vec::new();
        for key in self.keys_with_email(&email).await? {
            if let Some(found) = self.load(&key).await?
                && input
                    .organisation
                    .as_ref()
                    .is_none_or(|named| *named == found.0.account)
            {
                candidates.push(found);
            }
        }
        let hashes = if candidates.is_empty() {
            vec![None]
        } else {
            candidates
                .iter()
                .map(|(u, _, _)| u.password.clone())
                .collect()
        };
        // The hash is checked even for a locked account, so a lock cannot be told from the time.
        let matches = self.passwords.verify_each(hashes, &password).await?;
        let now = self.clock.now();
        let any_match = matches.iter().any(|m| *m);
        let mut signed_in = Vec::new();
        let mut wrong = Vec::new();
        for (candidate, matched) in candidates.into_iter().zip(matches) {
            let usable = Self::usable(&candidate.0, now);
            if matched && usable {
                signed_in.push(candidate);
            } else if !matched && usable && candidate.0.password.is_some() {
                wrong.push(candidate);
            }
        }
        let (user, version, login) = match signed_in.len() {
            0 => {
                if !any_match {
                    for (user, version, login) in wrong {
                        self.fail(user, version, login).await?;
                    }
                }
                return Err(Self::refused());
            }
            1 => signed_in.remove(0),
            _ => {
                let mut organisations: Vec<Account> =
                    signed_in.into_iter().map(|(u, _, _)| u.account).collect();
                organisations.sort_by_key(organisation_partition);
                return Ok(SignInStep::OrganisationRequired { organisations });
            }
        };
        if user.has_second_factor() {
            let passkey = self.start_passkey_sign_in(&user).await?;
            let otp =
                user.otp_confirmed && !(passkey.is_some() && self.passkeys_required(&user).await?);
            let (state, passkey_options) = match passkey {
                Some((state, options)) => (Some(state), Some(options)),
                None => (None, None),
            };
            let challenge = self
                .ceremony(&user, ChallengePurpose::SecondFactor, state)
                .await?;
            return Ok(SignInStep::OtpRequired {
                challenge,
                otp,
                passkey_options,
            });
        }
        // An account without a second factor enrols one now; no token before it is confirmed.
        let mut user = user;
        let secret = self.new_otp_secret(&mut user).await?;
        user.updated_at = now;
        let user = self.save(&user, version, &login, None).await?;
        let email_shown = self.view(&user).await?.email;
        let challenge = self
            .ceremony(&user, ChallengePurpose::Enrolment, None)
            .await?;
        Ok(SignInStep::OtpEnrolmentRequired {
            challenge,
            secret: otp::encoded(&secret),
            otpauth_uri: otp::provisioning_uri(&secret, &email_shown),
        })
    }

    /// A step that waits for the user (second factor, enrolment, passkey registration), found
    /// by the hash of the random token returned; a passkey ceremony keeps its state in it.
    async fn ceremony(
        &self,
        user: &UserRecord,
        purpose: ChallengePurpose,
        passkey: Option<CeremonyState>,
    ) -> Result<String, Error> {
        let token = random_token();
        let expires_at = later(self.clock.now(), minutes(CHALLENGE_MINUTES))?;
        let record = Challenge {
            user: user.key()?,
            purpose,
            expires_at,
            passkey,
        };
        let item = Item::new(
            ItemKey::new(format!("CHALLENGE#{}", digest(&token)), "C")?,
            RecordKind::SignInChallenge,
        )
        .with_expiry(expires_at)
        .with_record(&record)?;
        self.store.put(item, Condition::NotExists).await?;
        Ok(token)
    }

    /// Takes (uses up) a waiting step of `user` for `purpose`: its passkey state, or a
    /// validation error when the token is unknown, expired, or another's.
    async fn take_ceremony(
        &self,
        token: &str,
        user: &UserRecord,
        purpose: ChallengePurpose,
    ) -> Result<Option<CeremonyState>, Error> {
        let expired = || Error::validation("/ceremony", "this step has expired; start again");
        let key = ItemKey::new(format!("CHALLENGE#{}", digest(token.trim())), "C")?;
        let Some(item) = self.store.get(&key).await? else {
            return Err(expired());
        };
        let record: Challenge = item.record()?;
        if record.user != user.key()? || record.purpose != purpose {
            return Err(expired());
        }
        self.store
            .delete(&key, Condition::Version(item.version))
            .await?;
        Ok(record.passkey)
    }

    /// The key being enrolled in a sign-in's enrolment step, shown again while the step lasts
    /// (after a mistyped code the person may not have added it to the app yet); `None` for any
    /// other, used or expired step.
    pub async fn pending_enrolment(&self, challenge: &str) -> Result<Option<OtpSetup>, Error> {
        let key = ItemKey::new(format!("CHALLENGE#{}", digest(challenge.trim())), "C")?;
        let Some(item) = self.store.get(&key).await? else {
            return Ok(None);
        };
        let record: Challenge = item.record()?;
        let now = self.clock.now();
        if record.purpose != ChallengePurpose::Enrolment || record.expires_at <= now {
            return Ok(None);
        }
        let Some((user, _, _)) = self.load(&record.user).await? else {
            return Ok(None);
        };
        if user.otp_confirmed || !Self::usable(&user, now) {
            return Ok(None);
        }
        let Some(secret) = self.otp_secret_of(&user).await? else {
            return Ok(None);
        };
        let email = self.view(&user).await?.email;
        Ok(Some(OtpSetup {
            secret: otp::encoded(&secret),
            otpauth_uri: otp::provisioning_uri(&secret, &email),
        }))
    }

    /// Step two: the TOTP code (or a recovery code) for a challenge from step one.
    pub async fn verify_otp(&self, input: OtpInput) -> Result<Tokens, Error> {
        self.issuer()?;
        let (Some(challenge), Some(code)) = (input.challenge, input.code) else {
            return Err(Self::refused());
        };
        let key = ItemKey::new(format!("CHALLENGE#{}", digest(challenge.trim())), "C")?;
        let Some(item) = self.store.get(&key).await? else {
            return Err(Self::refused());
        };
        let record: Challenge = item.record()?;
        let now = self.clock.now();
        let Some((mut user, version, login)) = self.load(&record.user).await? else {
            return Err(Self::refused());
        };
        if !Self::usable(&user, now) {
            return Err(Self::refused());
        }
        if record.expires_at <= now || record.purpose == ChallengePurpose::PasskeyRegistration {
            return Err(Self::refused());
        }
        // The app's code: a confirmed secret (or the one being enrolled) — but a tenant that
        // requires passkeys takes none from a user who has one.
        let otp_allowed = match record.purpose {
            ChallengePurpose::Enrolment => true,
            _ => {
                user.otp_confirmed
                    && (user.passkeys.is_empty() || !self.passkeys_required(&user).await?)
            }
        };
        let step = match self.otp_secret_of(&user).await? {
            Some(secret) if otp_allowed => otp::verify(&secret, &code, now, user.otp_last_step),
            _ => None,
        };
        let recovery = step.is_none()
            && record.purpose == ChallengePurpose::SecondFactor
            && user.recovery_codes.contains(&otp::recovery_hash(&code));
        if step.is_none() && !recovery {
            self.fail(user, version, login).await?;
            return Err(Self::refused());
        }
        // One challenge, one use.
        self.store
            .delete(&key, Condition::Version(item.version))
            .await?;
        let mut new_codes = None;
        if let Some(step) = step {
            user.otp_last_step = Some(step);
        }
        if recovery {
            let used = otp::recovery_hash(&code);
            user.recovery_codes.retain(|c| *c != used);
        }
        let mut action = None;
        if record.purpose == ChallengePurpose::Enrolment {
            let (codes, hashes) = otp::recovery_codes();
            user.otp_confirmed = true;
            user.recovery_codes = hashes;
            new_codes = Some(codes);
            action = Some("user.second_factor_enrolled");
        }
        user.failed_attempts = 0;
        user.locked_until = None;
        user.updated_at = now;
        let principal = user.principal(&[], false);
        let user = self
            .save(&user, version, &login, action.map(|a| (&principal, a)))
            .await?;
        self.tokens(&user, &["pwd", "otp"], new_codes).await
    }

    async fn tokens(
        &self,
        user: &UserRecord,
        amr: &[&str],
        recovery_codes: Option<Vec<String>>,
    ) -> Result<Tokens, Error> {
        let now = self.clock.now();
        let family = random_token();
        let refresh = random_token();
        let expires_at = later(now, SignedDuration::from_hours(24 * REFRESH_TOKEN_DAYS))?;
        // Listed under the account while live (the index entry goes when it is revoked).
        let family_item = Item::new(
            ItemKey::new(format!("FAMILY#{}", digest(&family)), "F")?,
            RecordKind::TokenFamily,
        )
        .with_gsi1(ItemKey::new(
            sessions_partition(&user.key()?),
            format!("{now}#{}", digest(&family)),
        )?)
        .with_expiry(expires_at)
        .with_record(&FamilyRecord {
            user: user.key()?,
            revoked: false,
            created_at: now,
            amr: amr.iter().map(|s| s.to_string()).collect(),
        })?;
        let refresh_item = refresh_item(
            &refresh,
            &RefreshRecord {
                family: digest(&family),
                user: user.key()?,
                used: false,
                amr: amr.iter().map(|s| s.to_string()).collect(),
                expires_at,
            },
        )?;
        self.store
            .transact(vec![
                WriteOp::Put {
                    item: family_item,
                    condition: Condition::NotExists,
                },
                WriteOp::Put {
                    item: refresh_item,
                    condition: Condition::NotExists,
                },
            ])
            .await?;
        self.issue(user, amr, refresh, digest(&family), recovery_codes)
            .await
    }

    /// An access token for `user` alongside the refresh token that goes with it.
    async fn issue(
        &self,
        user: &UserRecord,
        amr: &[&str],
        refresh_token: String,
        session: String,
        recovery_codes: Option<Vec<String>>,
    ) -> Result<Tokens, Error> {
        let restricted = !amr.contains(&"pop") && self.passkeys_required(user).await?;
        let access_token = self
            .issuer()?
            .issue(
                &user.principal(amr, restricted),
                self.clock.now(),
                minutes(ACCESS_TOKEN_MINUTES),
            )
            .map_err(|e| Error::Internal(format!("token: {e}")))?;
        Ok(Tokens {
            access_token,
            token_type: "Bearer",
            expires_in: ACCESS_TOKEN_MINUTES * 60,
            refresh_token,
            recovery_codes,
            session,
        })
    }

    /// Ends a refresh-token family (reuse detected, or sign-out).
    async fn revoke_family(
        &self,
        key: ItemKey,
        item: &Item,
        expires_at: Timestamp,
    ) -> Result<(), Error> {
        let mut family: FamilyRecord = item.record()?;
        if family.revoked {
            return Ok(());
        }
        family.revoked = true;
        let updated = Item::new(key, RecordKind::TokenFamily)
            .with_expiry(expires_at)
            .with_record(&family)?;
        self.store
            .put(updated, Condition::Version(item.version))
            .await?;
        Ok(())
    }

    /// A new access token for a refresh token, which is used up and replaced; a used one
    /// presented again revokes its whole family (it was stolen, or the legitimate holder's
    /// copy was).
    pub async fn refresh(&self, input: RefreshInput) -> Result<Tokens, Error> {
        self.issuer()?;
        let invalid = || Error::Unauthenticated("the refresh token is not valid".into());
        let token = input.refresh_token.unwrap_or_default();
        let key = refresh_key(token.trim())?;
        let Some(item) = self.store.get(&key).await? else {
            return Err(invalid());
        };
        let mut record: RefreshRecord = item.record()?;
        let family_key = ItemKey::new(format!("FAMILY#{}", record.family), "F")?;
        let Some(family_item) = self.store.get(&family_key).await? else {
            return Err(invalid());
        };
        if record.used {
            self.revoke_family(family_key, &family_item, record.expires_at)
                .await?;
            return Err(invalid());
        }
        let family: FamilyRecord = family_item.record()?;
        let now = self.clock.now();
        let Some((user, _, _)) = self.load(&record.user).await? else {
            return Err(invalid());
        };
        if family.revoked
            || !Self::usable(&user, now)
            || user
                .revoked_before
                .is_some_and(|before| family.created_at <= before)
        {
            return Err(invalid());
        }
        // The family's raw id is not kept; the new token joins it by the family's digest.
        let next = random_token();
        let next_item = refresh_item(&next, &record)?;
        record.used = true;
        let used = refresh_item(token.trim(), &record)?;
        let amr: Vec<&str> = record.amr.iter().map(String::as_str).collect();
        let session = record.family.clone();
        self.store
            .transact(vec![
                WriteOp::Put {
                    item: used,
                    condition: Condition::Version(item.version),
                },
                WriteOp::Put {
                    item: next_item,
                    condition: Condition::NotExists,
                },
            ])
            .await
            .map_err(|_| invalid())?;
        self.issue(&user, &amr, next, session, None).await
    }

    /// Sign-out: the refresh token's family ends.
    pub async fn sign_out(&self, input: RefreshInput) -> Result<(), Error> {
        let token = input.refresh_token.unwrap_or_default();
        let Some(item) = self.store.get(&refresh_key(token.trim())?).await? else {
            return Ok(());
        };
        let record: RefreshRecord = item.record()?;
        let family_key = ItemKey::new(format!("FAMILY#{}", record.family), "F")?;
        if let Some(family_item) = self.store.get(&family_key).await? {
            self.revoke_family(family_key, &family_item, record.expires_at)
                .await?;
        }
        Ok(())
    }

    /// The new user chooses a password with the activation token.
    pub async fn activate(&self, input: ActivateInput) -> Result<UserView, Error> {
        let invalid = || Error::Unauthenticated("the activation token is not valid".into());
        let token = input.token.unwrap_or_default();
        let password = input.password.unwrap_or_default();
        let pointer = activation_pointer(&token)?;
        let now = self.clock.now();
        let Some((mut user, version, login)) = self
            .account_of_link(&pointer, &token, now, |u| u.activation.as_ref())
            .await?
        else {
            return Err(invalid());
        };
        // The account's own address and name count as known words, as at a reset.
        let view = self.view(&user).await?;
        passwords::check_policy(&password, "/password", &[&view.email, &view.name])?;
        user.password = Some(self.passwords.hash(&password).await?);
        user.activation = None;
        user.updated_at = now;
        let principal = user.principal(&[], false);
        let user = self
            .save(&user, version, &login, Some((&principal, "user.activated")))
            .await?;
        self.store.delete(&pointer, Condition::Always).await?;
        self.view(&user).await
    }
}

fn refresh_key(token: &str) -> Result<ItemKey, Error> {
    Ok(ItemKey::new(format!("REFRESH#{}", digest(token)), "R")?)
}

/// A refresh token's item, found by the token's digest.
fn refresh_item(token: &str, record: &RefreshRecord) -> Result<Item, Error> {
    Ok(Item::new(refresh_key(token)?, RecordKind::RefreshToken)
        .with_expiry(record.expires_at)
        .with_record(record)?)
}

fn valid_email(s: &str) -> bool {
    let Some((local, domain)) = s.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && s.len() <= 254
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !s.chars().any(|c| c.is_whitespace() || c.is_control())
}

/// One stored record of each of this area's kinds, as a real run wrote it, still reads and
/// writes the same (tests/fixtures/records; the kernel checks them against the inventory).
#[cfg(test)]
mod golden {
    use super::*;

    #[test]
    fn stored_records_read_and_write_as_stored() {
        kernel::testkit::golden_record::<UserRecord>(RecordKind::StaffUser);
        kernel::testkit::golden_record::<UserRecord>(RecordKind::TenantUser);
        kernel::testkit::golden_record::<RoleRecord>(RecordKind::TenantRole);
        kernel::testkit::golden_record::<Challenge>(RecordKind::SignInChallenge);
        kernel::testkit::golden_record::<RefreshRecord>(RecordKind::RefreshToken);
        kernel::testkit::golden_record::<FamilyRecord>(RecordKind::TokenFamily);
    }
}
