//! Signing in: password, then the second factor (TOTP, a recovery code, or enrolling one),
//! lockout after failed attempts, and activating an invited account.

use kernel::error::Error;
use kernel::inventory::RecordKind;
use kernel::rbac::Principal;
use kernel::store::{Condition, Item, ItemKey, retry_lost_races};
use kernel::time::{Clock, Timestamp};
use serde::{Deserialize, Serialize};

use super::own_account::OtpSetup;
use super::passkeys::CeremonyState;
use super::sessions::Tokens;
use super::{
    Account, AuthService, CHALLENGE_MINUTES, LOCK_MINUTES, MAX_FAILURES, SIGN_IN_REFUSED, UserView,
    WRITE_ATTEMPTS, later, minutes, random_token, too_many_races,
};
use crate::otp;
use crate::passwords;
use crate::records::{
    Challenge, ChallengePurpose, UserRecord, activation_pointer, challenge_key,
    organisation_partition,
};

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
pub struct ActivateInput {
    pub token: Option<String>,
    pub password: Option<String>,
}

impl AuthService {
    pub(super) fn refused() -> Error {
        Error::Unauthenticated(SIGN_IN_REFUSED.into())
    }

    /// Records a failed attempt (password or second factor); locks at the limit. The write is
    /// conditional on the version read; when a concurrent attempt wrote first, the record is
    /// read again and this failure counted on top of that one, so none is lost.
    pub(super) async fn fail(
        &self,
        user: UserRecord,
        version: u64,
        login: ItemKey,
    ) -> Result<(), Error> {
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

    pub(super) fn usable(user: &UserRecord, now: Timestamp) -> bool {
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
    pub(super) async fn ceremony(
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
        let item = Item::new(challenge_key(&token)?, RecordKind::SignInChallenge)
            .with_expiry(expires_at)
            .with_record(&record)?;
        self.store.put(item, Condition::NotExists).await?;
        Ok(token)
    }

    /// Takes (uses up) a waiting step of `user` for `purpose`: its passkey state, or a
    /// validation error when the token is unknown, expired, or another's.
    pub(super) async fn take_ceremony(
        &self,
        token: &str,
        user: &UserRecord,
        purpose: ChallengePurpose,
    ) -> Result<Option<CeremonyState>, Error> {
        let expired = || Error::validation("/ceremony", "this step has expired; start again");
        let key = challenge_key(token)?;
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
        let key = challenge_key(challenge)?;
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
        let key = challenge_key(&challenge)?;
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

    /// The new user chooses a password with the activation token.
    pub async fn activate(&self, input: ActivateInput) -> Result<UserView, Error> {
        let token = input.token.unwrap_or_default();
        let password = input.password.unwrap_or_default();
        let pointer = activation_pointer(&token)?;
        let now = self.clock.now();
        let (mut user, version, login) = self
            .new_password_by_link(
                &pointer,
                &token,
                &password,
                now,
                |u| u.activation.as_ref(),
                Error::Unauthenticated("the activation token is not valid".into()),
            )
            .await?;
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
