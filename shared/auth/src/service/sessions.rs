//! Sessions: access and rotating refresh tokens, their families (one per signed-in session),
//! listing and ending sessions, signing out.

use kernel::error::Error;
use kernel::inventory::RecordKind;
use kernel::rbac::Access;
use kernel::store::{Condition, Item, ItemKey, WriteOp, query_all};
use kernel::time::{Clock, SignedDuration, Timestamp};
use kernel::token::TokenIssuer;
use serde::{Deserialize, Serialize};

use super::{ACCESS_TOKEN_MINUTES, AuthService, REFRESH_TOKEN_DAYS, later, minutes, random_token};
use crate::records::{
    FamilyRecord, RefreshRecord, UserRecord, digest, family_key, refresh_item, refresh_key,
    session_index_key, sessions_query,
};

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
pub struct RefreshInput {
    pub refresh_token: Option<String>,
}

impl AuthService {
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
            sessions_query(&user.key()?).descending().limit(100),
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
        let key = family_key(id)?;
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

    pub(super) fn issuer(&self) -> Result<&TokenIssuer, Error> {
        self.issuer
            .as_ref()
            .ok_or_else(|| Error::Conflict("this function does not issue tokens".into()))
    }

    pub(super) async fn tokens(
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
        let family_item = Item::new(family_key(&digest(&family))?, RecordKind::TokenFamily)
            .with_gsi1(session_index_key(&user.key()?, now, &digest(&family))?)
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
    pub(super) async fn issue(
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
    pub(super) async fn revoke_family(
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
        let family_key = family_key(&record.family)?;
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
        let family_key = family_key(&record.family)?;
        if let Some(family_item) = self.store.get(&family_key).await? {
            self.revoke_family(family_key, &family_item, record.expires_at)
                .await?;
        }
        Ok(())
    }
}
