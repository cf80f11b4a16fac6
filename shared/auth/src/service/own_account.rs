//! What signed-in users change on their own account: the password and the authenticator app.

use kernel::crypto::{KeyPurpose, Personal};
use kernel::error::{Error, FieldError};
use kernel::rbac::{Access, Actor};
use kernel::store::ItemKey;
use kernel::time::Clock;
use serde::{Deserialize, Serialize};

use super::{Account, AuthService, UserId, UserView};
use crate::otp;
use crate::passwords;
use crate::records::{UserRecord, user_key};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PasswordChangeInput {
    pub current: Option<String>,
    pub new: Option<String>,
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

impl AuthService {
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

    /// A fresh TOTP secret, sealed into the user's record (not yet confirmed).
    pub(super) async fn new_otp_secret(&self, user: &mut UserRecord) -> Result<Vec<u8>, Error> {
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
    pub(super) async fn otp_secret_of(&self, user: &UserRecord) -> Result<Option<Vec<u8>>, Error> {
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

    pub(super) async fn own_account(
        &self,
        access: &Access,
    ) -> Result<(UserRecord, u64, ItemKey), Error> {
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
}
