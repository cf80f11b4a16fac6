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

use std::sync::Arc;

use hmac::{Hmac, KeyInit, Mac};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use kernel::audit::{Stamp, update_ops};
use kernel::crypto::{FieldContext, KeyOwner, KeyPurpose, Keyring, Personal, SealedField};
use kernel::error::{Error, FieldError};
use kernel::ids::TenantId;
use kernel::inventory::{GuardedStore, RecordKind};
use kernel::rbac::{Access, Principal};
use kernel::store::{Condition, ItemKey, Store, StoreError, query_all};
use kernel::time::{Clock, SignedDuration, Timestamp};
use kernel::token::TokenIssuer;

use super::otp;
use super::passwords::{self, HashingPool, Passwords};
use crate::records::{
    Activation, Challenge, ChallengePurpose, LinkPointer, PendingReset, RoleRecord, UserRecord,
    UserWithLogin, all_logins_query, challenge_key, digest, logins_query, role_chain, roles_query,
    user_chain, user_item,
};

// One file per use case; each adds its operations to `AuthService`.
mod contacts;
mod figures;
mod invitations;
mod own_account;
pub(crate) mod passkeys;
mod reset;
mod roles;
mod sessions;
mod sign_in;
mod users;

pub use figures::StaffFactorFigures;
pub use invitations::{invitation_message, staff_invitation_message};
pub use own_account::{ConfirmOtpInput, OtpSetup, PasswordChangeInput};
pub use passkeys::{
    PASSKEY_NAME_MAX, PASSKEYS_MAX, PasskeyId, PasskeyInput, PasskeyRegistrationInput,
    PasskeyRegistrationStart, PasskeyView, RelyingParty, StoredPasskey,
};
pub use reset::{PasswordReset, ResetInput, reset_message, second_factor_reset_message};
pub use roles::RoleInput;
pub use sessions::{RefreshInput, SessionView, Tokens};
pub use sign_in::{ActivateInput, OtpInput, SignInInput, SignInStep};
pub use users::{CreatedUser, NewUserInput, RolesInput};

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

pub(super) const CHALLENGE_MINUTES: i64 = 5;

pub(super) const ACTIVATION_HOURS: i64 = 72;

/// How often a write to an account that lost a race is tried again on a fresh read.
pub(super) const WRITE_ATTEMPTS: usize = 25;

/// Administrators act on others' accounts only (nobody locks themselves out by mistake, and
/// four eyes stay two people): `refusal` when `user` is the caller's own account.
pub(super) fn not_on_own_account(
    access: &Access,
    user: &UserRecord,
    refusal: &str,
) -> Result<(), Error> {
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

pub(super) fn too_many_races() -> Error {
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
    for item in query_all(store, all_logins_query().limit(1_000)).await? {
        let user: UserRecord = item.record()?;
        heads.insert(user_chain(&user.id), user.audit);
    }
    for tenant in tenants {
        let roles = query_all(store, roles_query(tenant)).await?;
        for item in roles {
            let record: RoleRecord = item.record()?;
            heads.insert(role_chain(&record.role), record.audit);
        }
    }
    Ok(heads)
}

pub(super) fn random_token() -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(kernel::random::bytes::<32>())
}

pub(super) fn minutes(n: i64) -> SignedDuration {
    SignedDuration::from_secs(n * 60)
}

pub(super) fn later(at: Timestamp, by: SignedDuration) -> Result<Timestamp, Error> {
    at.checked_add(by)
        .map_err(|e| Error::Internal(format!("time: {e}")))
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

pub(super) fn valid_email(s: &str) -> bool {
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

    pub(super) fn field_context<'a>(
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

    /// The account a mailed link (activation or password reset) is for, while the link holds:
    /// its pointer item exists, the token matches the hash the account keeps for it (`kept`),
    /// it has not expired and the account is not disabled. None otherwise, so every refusal of
    /// a link reads the same.
    pub(super) async fn account_of_link(
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

    /// The account a mailed link holds for (see `account_of_link`; else `invalid`), with the new
    /// password checked — length, and guessability with the account's own address and name as
    /// known words — and hashed onto it. Activation and reset differ only in what follows.
    pub(super) async fn new_password_by_link(
        &self,
        pointer: &ItemKey,
        token: &str,
        password: &str,
        now: Timestamp,
        kept: fn(&UserRecord) -> Option<&Activation>,
        invalid: Error,
    ) -> Result<(UserRecord, u64, ItemKey), Error> {
        let Some((mut user, version, login)) =
            self.account_of_link(pointer, token, now, kept).await?
        else {
            return Err(invalid);
        };
        let view = self.view(&user).await?;
        passwords::check_policy(password, "/password", &[&view.email, &view.name])?;
        user.password = Some(self.passwords.hash(password).await?);
        Ok((user, version, login))
    }

    /// The stored item of a user; `login` is its blind-index entry (`LOGIN` / `<index>#<id>`),
    /// kept from the address at creation, so later writes never need the address in clear.
    pub(super) async fn load(
        &self,
        key: &ItemKey,
    ) -> Result<Option<(UserRecord, u64, ItemKey)>, Error> {
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
    pub(super) async fn keys_with_email(&self, email: &str) -> Result<Vec<ItemKey>, Error> {
        let index = self.email_index(email)?;
        Ok(
            query_all(self.store.as_ref(), logins_query(&index).limit(100))
                .await?
                .into_iter()
                .map(|item| item.key)
                .collect(),
        )
    }

    pub(super) async fn save(
        &self,
        user: &UserRecord,
        version: u64,
        login: &ItemKey,
        action: Option<(&Principal, &str)>,
    ) -> Result<UserRecord, Error> {
        let mut user = user.clone();
        match action {
            Some((by, action)) => {
                // What the audit entry's digest covers: the account's access, not its secrets.
                let change = (
                    user.roles.clone(),
                    user.disabled,
                    user.otp_confirmed,
                    user.revoked_before,
                );
                let at = user.updated_at;
                let mut stored = UserWithLogin {
                    user: &mut user,
                    login,
                };
                let ops = update_ops(&mut stored, version, Stamp { at, by, action }, &change)?;
                self.store.transact(ops).await?;
            }
            None => {
                self.store
                    .put(user_item(&user, login)?, Condition::Version(version))
                    .await?;
            }
        }
        Ok(user)
    }

    pub(super) async fn view(&self, user: &UserRecord) -> Result<UserView, Error> {
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
}
