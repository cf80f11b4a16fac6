//! Password reset by mail: a link that works once, for an hour, and ends every session of the
//! account. Asking reveals nothing: the answer is the same whether or not an account has the
//! address; each account that has it (in any organisation) gets its own link.

use serde::Deserialize;

use super::{Account, AuthService, UserId, later, random_token};
use crate::records::{Activation, LinkPointer, digest, reset_pointer};
use kernel::error::Error;
use kernel::rbac::Principal;
use kernel::store::Condition;
use kernel::time::{SignedDuration, Timestamp, in_company_time};

/// How long a reset link works.
pub const RESET_VALID: SignedDuration = SignedDuration::from_hours(1);

/// At most one link per account in this time: asking again and again sends no more mail (the
/// answer stays the same, so it tells nothing either).
pub const RESET_REQUEST_INTERVAL: SignedDuration = SignedDuration::from_mins(5);

/// A link to mail: to whom, for which organisation's account.
#[derive(Debug, Clone)]
pub struct PasswordReset {
    pub user: UserId,
    pub account: Account,
    pub email: String,
    pub name: String,
    pub token: String,
    pub expires_at: Timestamp,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResetInput {
    pub token: Option<String>,
    pub password: Option<String>,
}

impl AuthService {
    /// One reset link per activated, enabled account with this address (a newer request
    /// replaces the older link). Nothing tells the caller whether there was any.
    pub async fn request_password_reset(&self, email: &str) -> Result<Vec<PasswordReset>, Error> {
        let email = email.trim().to_lowercase();
        if email.is_empty() || email.len() > 254 {
            return Ok(Vec::new());
        }
        let now = self.clock.now();
        let mut out = Vec::new();
        for key in self.keys_with_email(&email).await? {
            let Some((mut user, version, login)) = self.load(&key).await? else {
                continue;
            };
            if user.disabled || user.password.is_none() {
                continue;
            }
            let recently = user.reset.as_ref().is_some_and(|r| {
                r.expires_at
                    .checked_sub(RESET_VALID)
                    .and_then(|issued| issued.checked_add(RESET_REQUEST_INTERVAL))
                    .is_ok_and(|quiet_until| quiet_until > now)
            });
            if recently {
                continue;
            }
            let token = random_token();
            let expires_at = later(now, RESET_VALID)?;
            user.reset = Some(Activation {
                token_hash: digest(&token),
                expires_at,
            });
            user.updated_at = now;
            let user = self
                .save(
                    &user,
                    version,
                    &login,
                    Some((
                        &Principal::system("password-reset"),
                        "user.password_reset_requested",
                    )),
                )
                .await?;
            let item = LinkPointer::item(reset_pointer(&token)?, &user, expires_at)?;
            self.store.put(item, Condition::NotExists).await?;
            let view = self.view(&user).await?;
            out.push(PasswordReset {
                user: user.id,
                account: user.account.clone(),
                email: view.email,
                name: view.name,
                token,
                expires_at,
            });
        }
        Ok(out)
    }

    /// The new password from the mailed link: checked (length, guessability with the account's
    /// own name and address), set, the link spent, every session ended, a lockout lifted.
    pub async fn reset_password(&self, input: ResetInput) -> Result<(), Error> {
        let token = input.token.unwrap_or_default();
        let password = input.password.unwrap_or_default();
        let key = reset_pointer(&token)?;
        let now = self.clock.now();
        let (mut user, version, login) = self
            .new_password_by_link(
                &key,
                &token,
                &password,
                now,
                |u| u.reset.as_ref(),
                Error::Unauthenticated("the reset link is not valid".into()),
            )
            .await?;
        user.reset = None;
        user.revoked_before = Some(now);
        user.failed_attempts = 0;
        user.locked_until = None;
        user.updated_at = now;
        let principal = user.principal(&[], false);
        self.save(
            &user,
            version,
            &login,
            Some((&principal, "user.password_reset")),
        )
        .await?;
        self.store.delete(&key, Condition::Always).await?;
        Ok(())
    }
}

/// The reset mail: subject and bilingual body with the link and when it stops working.
pub fn reset_message(
    reset: &PasswordReset,
    organisation: &str,
    reset_url: &str,
) -> (String, String) {
    let link = format!("{reset_url}?token={}", reset.token);
    let until = in_company_time(reset.expires_at)
        .strftime("%d.%m.%Y %H:%M %Z")
        .to_string();
    let subject = "Passwort zurücksetzen / Reset your password".to_string();
    let body = format!(
        "Guten Tag {name},\n\nfür Ihr Konto bei {organisation} wurde ein neues Passwort angefordert. Wählen Sie es über diesen Link (gültig bis {until}, nur einmal); danach sind alle Anmeldungen des Kontos beendet:\n\n{link}\n\nHaben Sie das nicht angefordert? Dann ignorieren Sie diese Nachricht; Ihr Passwort bleibt, wie es ist.\n\n— regrooter GmbH\n\n----\n\nHello {name},\n\na new password was asked for your account at {organisation}. Choose it with this link (valid until {until}, once); afterwards every session of the account is ended:\n\n{link}\n\nDid not ask for it? Then ignore this message; your password stays as it is.\n\n— regrooter GmbH\n",
        name = reset.name,
    );
    (subject, body)
}

/// The mail to a person whose second factor two administrators reset: what happened, that
/// every session ended, and whom to tell if they did not ask for it (`contact`: the published
/// security contact, a `mailto:` or web address).
pub fn second_factor_reset_message(
    user: &super::UserView,
    sign_in_url: &str,
    contact: &str,
) -> (String, String) {
    let contact = contact.strip_prefix("mailto:").unwrap_or(contact);
    let subject =
        "Ihr zweiter Faktor wurde zurückgesetzt / Your second factor was reset".to_string();
    let body = format!(
        "Guten Tag {name},\n\nauf Ihre Bitte hin wurde der zweite Faktor Ihres Kontos zurückgesetzt (Authenticator-App, Wiederherstellungscodes und Passkeys); alle Anmeldungen sind beendet. Bei der nächsten Anmeldung richten Sie einen neuen ein:\n\n{sign_in_url}\n\nHaben Sie nicht darum gebeten? Dann melden Sie es bitte sofort an {contact}.\n\n— regrooter GmbH\n\n----\n\nHello {name},\n\nas asked, the second factor of your account has been reset (authenticator app, recovery codes and passkeys); every session has ended. At your next sign-in you set up a new one:\n\n{sign_in_url}\n\nDid not ask for it? Then please report it at once to {contact}.\n\n— regrooter GmbH\n",
        name = user.name,
    );
    (subject, body)
}
