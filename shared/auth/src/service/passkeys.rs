//! Passkeys (WebAuthn, through `webauthn-rs`) as a user's second factor: registered from the
//! user's own account, used after the password at sign-in, phishing-resistant because the
//! browser binds each signature to this platform's origin.
//!
//! * The relying party is the platform's public address: its host is the RP ID, its origin the
//!   only one accepted. An address without a domain name (an IP address) has no passkeys.
//! * A ceremony's state (challenge, expected public keys) waits in the store as a sign-in
//!   challenge for a few minutes, found by the hash of a random token; one use.
//! * Each passkey is sealed with its name under the account's identity key (so crypto-shredding
//!   covers it); only our own random id of it is clear.
//! * A tenant may require passkeys: its users who have one cannot use the app's code instead,
//!   and a sign-in without a passkey gets no role (`principal_for`) until they register one.

use serde::{Deserialize, Serialize};
use webauthn_rs::prelude::{
    Passkey, PasskeyAuthentication, PasskeyRegistration, PublicKeyCredential,
    RegisterPublicKeyCredential, Url, Uuid, Webauthn, WebauthnBuilder,
};

use super::*;

kernel::generated_id!(
    /// Our id of one registered passkey (not the authenticator's credential id).
    PasskeyId,
    "pk"
);

/// Longest name a user may give a passkey.
pub const PASSKEY_NAME_MAX: usize = 60;
/// Most passkeys one account may hold.
pub const PASSKEYS_MAX: usize = 10;
/// Largest credential response read from a browser (a registration with attestation is a few
/// KB; more is not a browser).
const CREDENTIAL_MAX_BYTES: usize = 64 * 1024;

/// The WebAuthn relying party: this platform at its public address.
pub struct RelyingParty {
    webauthn: Webauthn,
}

impl RelyingParty {
    /// The relying party at `public_url`; refused for an address without a domain name (browsers
    /// accept no IP address as RP ID).
    pub fn for_public_url(public_url: &str) -> Result<Self, String> {
        let origin = Url::parse(public_url).map_err(|e| format!("{public_url}: {e}"))?;
        let host = origin
            .domain()
            .ok_or_else(|| format!("{public_url} has no domain name, so no passkeys"))?
            .to_string();
        let webauthn = WebauthnBuilder::new(&host, &origin)
            .and_then(|b| {
                b.rp_name("regrooter")
                    .timeout(std::time::Duration::from_secs(
                        CHALLENGE_MINUTES.unsigned_abs() * 60,
                    ))
                    .build()
            })
            .map_err(|e| format!("{public_url}: {e}"))?;
        Ok(Self { webauthn })
    }
}

/// A registered passkey as stored in the account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StoredPasskey {
    pub id: PasskeyId,
    /// [`SealedPasskey`], sealed.
    pub credential: SealedField,
    pub created_at: Timestamp,
    #[serde(default)]
    pub last_used_at: Option<Timestamp>,
}

/// What is sealed of a passkey: its name and the credential (public key, counter, flags).
#[derive(Serialize, Deserialize)]
struct SealedPasskey {
    name: String,
    passkey: Passkey,
}

/// A passkey as its owner sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PasskeyView {
    pub id: PasskeyId,
    pub name: String,
    pub created_at: Timestamp,
    pub last_used_at: Option<Timestamp>,
}

/// A passkey registration under way: the browser creates the credential from `options` (the
/// `CredentialCreationOptions` as JSON) and sends it back with `ceremony`.
#[derive(Debug, Clone)]
pub struct PasskeyRegistrationStart {
    pub ceremony: String,
    pub options: String,
}

/// What the browser sends back from a passkey registration.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PasskeyRegistrationInput {
    pub ceremony: Option<String>,
    pub name: Option<String>,
    /// The `PublicKeyCredential` as its `toJSON()` gives it.
    pub credential: Option<String>,
}

/// The second step of a sign-in with a passkey.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PasskeyInput {
    pub challenge: Option<String>,
    pub credential: Option<String>,
}

/// A passkey ceremony's state in its challenge record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "ceremony", rename_all = "snake_case")]
pub(crate) enum CeremonyState {
    Registration { state: serde_json::Value },
    Authentication { state: serde_json::Value },
}

fn state_json<T: Serialize>(state: &T) -> Result<serde_json::Value, Error> {
    serde_json::to_value(state).map_err(|e| Error::Internal(format!("passkey state: {e}")))
}

fn from_state<T: serde::de::DeserializeOwned>(state: &serde_json::Value) -> Result<T, Error> {
    serde_json::from_value(state.clone())
        .map_err(|e| Error::Internal(format!("a stored passkey state does not read: {e}")))
}

/// The WebAuthn user handle of an account: derived from its key, so nothing more is stored and
/// nothing personal is in it.
fn user_handle(user: &UserRecord) -> Result<Uuid, Error> {
    let sk = user.key()?.sk;
    let hash = Sha256::digest(format!("regrooter passkey user handle\n{sk}").as_bytes());
    Uuid::from_slice(&hash[..16]).map_err(|e| Error::Internal(format!("user handle: {e}")))
}

fn credential_error(detail: &str) -> Error {
    Error::validation("/credential", detail)
}

impl AuthService {
    /// Passkeys at the platform's public address (see [`RelyingParty::for_public_url`]).
    pub fn with_relying_party(mut self, relying_party: RelyingParty) -> Self {
        self.relying_party = Some(Arc::new(relying_party));
        self
    }

    pub fn passkeys_available(&self) -> bool {
        self.relying_party.is_some()
    }

    fn relying_party(&self) -> Result<&Webauthn, Error> {
        self.relying_party
            .as_ref()
            .map(|rp| &rp.webauthn)
            .ok_or_else(|| {
                Error::Conflict(
                    "passkeys need the platform's public address to be a domain name".into(),
                )
            })
    }

    fn passkey_context<'a>(
        owner: &'a KeyOwner,
        record_id: &'a str,
        kind: RecordKind,
    ) -> FieldContext<'a> {
        FieldContext {
            owner,
            kind,
            record_id,
            field: "passkeys[].credential",
        }
    }

    async fn open_passkey(
        &self,
        user: &UserRecord,
        stored: &StoredPasskey,
    ) -> Result<SealedPasskey, Error> {
        let owner = user.owner();
        let record_id = format!("{}/{}", user.key()?.sk, stored.id);
        let text = self
            .keyring
            .open(
                &Self::passkey_context(&owner, &record_id, user.kind()),
                &stored.credential,
            )
            .await?;
        serde_json::from_str(text.expose())
            .map_err(|e| Error::Internal(format!("a stored passkey does not read: {e}")))
    }

    async fn seal_passkey(
        &self,
        user: &UserRecord,
        id: PasskeyId,
        passkey: &SealedPasskey,
    ) -> Result<SealedField, Error> {
        let owner = user.owner();
        let record_id = format!("{}/{id}", user.key()?.sk);
        let json =
            serde_json::to_string(passkey).map_err(|e| Error::Internal(format!("passkey: {e}")))?;
        Ok(self
            .keyring
            .seal(
                &Self::passkey_context(&owner, &record_id, user.kind()),
                KeyPurpose::Identity,
                &Personal::new(json),
            )
            .await?)
    }

    async fn open_passkeys(&self, user: &UserRecord) -> Result<Vec<SealedPasskey>, Error> {
        let mut opened = Vec::with_capacity(user.passkeys.len());
        for stored in &user.passkeys {
            opened.push(self.open_passkey(user, stored).await?);
        }
        Ok(opened)
    }

    /// The caller's own passkeys.
    pub async fn passkeys(&self, access: &Access) -> Result<Vec<PasskeyView>, Error> {
        let (user, _, _) = self.own_account(access).await?;
        let mut views = Vec::with_capacity(user.passkeys.len());
        for stored in &user.passkeys {
            views.push(PasskeyView {
                id: stored.id,
                name: self.open_passkey(&user, stored).await?.name,
                created_at: stored.created_at,
                last_used_at: stored.last_used_at,
            });
        }
        Ok(views)
    }

    /// Starts registering a passkey for the caller's own account; the authenticator is told the
    /// passkeys it holds already, so none is registered twice.
    pub async fn start_passkey_registration(
        &self,
        access: &Access,
    ) -> Result<PasskeyRegistrationStart, Error> {
        let webauthn = self.relying_party()?;
        let (user, _, _) = self.own_account(access).await?;
        if user.passkeys.len() >= PASSKEYS_MAX {
            return Err(Error::Conflict(format!(
                "an account holds at most {PASSKEYS_MAX} passkeys; remove one first"
            )));
        }
        let view = self.view(&user).await?;
        let existing = self
            .open_passkeys(&user)
            .await?
            .into_iter()
            .map(|p| p.passkey.cred_id().clone())
            .collect::<Vec<_>>();
        let (options, state) = webauthn
            .start_passkey_registration(
                user_handle(&user)?,
                &view.email,
                &view.name,
                Some(existing),
            )
            .map_err(|e| Error::Internal(format!("passkey registration: {e}")))?;
        let ceremony = self
            .ceremony(
                &user,
                ChallengePurpose::PasskeyRegistration,
                Some(CeremonyState::Registration {
                    state: state_json(&state)?,
                }),
            )
            .await?;
        let options = serde_json::to_string(&options)
            .map_err(|e| Error::Internal(format!("passkey options: {e}")))?;
        Ok(PasskeyRegistrationStart { ceremony, options })
    }

    /// Finishes a registration: the browser's credential checked against the ceremony, stored
    /// with its name. The first second factor of an account also brings its recovery codes,
    /// returned once.
    pub async fn finish_passkey_registration(
        &self,
        access: &Access,
        input: PasskeyRegistrationInput,
    ) -> Result<Option<Vec<String>>, Error> {
        let webauthn = self.relying_party()?;
        let name = input.name.unwrap_or_default().trim().to_string();
        let mut errors = Vec::new();
        if name.is_empty() || name.chars().count() > PASSKEY_NAME_MAX {
            errors.push(FieldError::new(
                "/name",
                format!("a name of 1 to {PASSKEY_NAME_MAX} characters, so you can tell it apart"),
            ));
        }
        let credential = input.credential.unwrap_or_default();
        let parsed = if credential.is_empty() {
            errors.push(FieldError::new(
                "/credential",
                "no passkey came back from the browser",
            ));
            None
        } else if credential.len() > CREDENTIAL_MAX_BYTES {
            errors.push(FieldError::new("/credential", "is too large"));
            None
        } else {
            match serde_json::from_str::<RegisterPublicKeyCredential>(&credential) {
                Ok(parsed) => Some(parsed),
                Err(_) => {
                    errors.push(FieldError::new(
                        "/credential",
                        "is not a passkey registration",
                    ));
                    None
                }
            }
        };
        if !errors.is_empty() {
            return Err(Error::Validation(errors));
        }
        let Some(parsed) = parsed else {
            return Err(credential_error("is not a passkey registration"));
        };
        let (mut user, version, login) = self.own_account(access).await?;
        let state = self
            .take_ceremony(
                input.ceremony.as_deref().unwrap_or_default(),
                &user,
                ChallengePurpose::PasskeyRegistration,
            )
            .await?;
        let Some(CeremonyState::Registration { state }) = state else {
            return Err(credential_error(
                "this registration has expired; start again",
            ));
        };
        let state: PasskeyRegistration = from_state(&state)?;
        let passkey = webauthn
            .finish_passkey_registration(&parsed, &state)
            .map_err(|e| {
                tracing::info!(target: "regrooter::auth", error = %e, "passkey registration refused");
                credential_error("the passkey could not be verified; try again")
            })?;
        if user.passkeys.len() >= PASSKEYS_MAX {
            return Err(Error::Conflict(format!(
                "an account holds at most {PASSKEYS_MAX} passkeys; remove one first"
            )));
        }
        let now = self.clock.now();
        let id = PasskeyId::generate(now);
        let credential = self
            .seal_passkey(&user, id, &SealedPasskey { name, passkey })
            .await?;
        user.passkeys.push(StoredPasskey {
            id,
            credential,
            created_at: now,
            last_used_at: None,
        });
        // The first second factor: recovery codes for the day the device is lost.
        let codes = if user.recovery_codes.is_empty() && !user.otp_confirmed {
            let (codes, hashes) = otp::recovery_codes();
            user.recovery_codes = hashes;
            Some(codes)
        } else {
            None
        };
        user.updated_at = now;
        self.save(
            &user,
            version,
            &login,
            Some((access.principal(), "user.passkey_added")),
        )
        .await?;
        Ok(codes)
    }

    /// Removes one of the caller's passkeys. Staff keep at least one second factor.
    pub async fn remove_passkey(&self, access: &Access, id: &str) -> Result<(), Error> {
        let (mut user, version, login) = self.own_account(access).await?;
        let before = user.passkeys.len();
        user.passkeys.retain(|p| p.id.to_string() != id);
        if user.passkeys.len() == before {
            return Err(Error::NotFound(format!("passkey {id}")));
        }
        // Every account keeps a second factor: one without would let the password alone enrol
        // a new one.
        if !user.has_second_factor() {
            return Err(Error::Conflict(
                "every account keeps a second factor: set up the app's code before removing the last passkey"
                    .into(),
            ));
        }
        user.updated_at = self.clock.now();
        self.save(
            &user,
            version,
            &login,
            Some((access.principal(), "user.passkey_removed")),
        )
        .await?;
        Ok(())
    }

    /// The request options for a sign-in's passkey step: its state goes into the challenge.
    pub(super) async fn start_passkey_sign_in(
        &self,
        user: &UserRecord,
    ) -> Result<Option<(CeremonyState, String)>, Error> {
        let Ok(webauthn) = self.relying_party() else {
            return Ok(None);
        };
        if user.passkeys.is_empty() {
            return Ok(None);
        }
        let passkeys: Vec<Passkey> = self
            .open_passkeys(user)
            .await?
            .into_iter()
            .map(|p| p.passkey)
            .collect();
        let (options, state) = webauthn
            .start_passkey_authentication(&passkeys)
            .map_err(|e| Error::Internal(format!("passkey sign-in: {e}")))?;
        let options = serde_json::to_string(&options)
            .map_err(|e| Error::Internal(format!("passkey options: {e}")))?;
        Ok(Some((
            CeremonyState::Authentication {
                state: state_json(&state)?,
            },
            options,
        )))
    }

    /// Step two with a passkey: the browser's signature over the challenge of step one.
    pub async fn verify_passkey(&self, input: PasskeyInput) -> Result<Tokens, Error> {
        self.issuer()?;
        let webauthn = self.relying_party().map_err(|_| Self::refused())?;
        let (Some(challenge), Some(credential)) = (input.challenge, input.credential) else {
            return Err(Self::refused());
        };
        if credential.len() > CREDENTIAL_MAX_BYTES {
            return Err(Self::refused());
        }
        let Ok(response) = serde_json::from_str::<PublicKeyCredential>(&credential) else {
            return Err(Self::refused());
        };
        let key = challenge_key(&challenge)?;
        let Some(item) = self.store.get(&key).await? else {
            return Err(Self::refused());
        };
        let record: Challenge = item.record()?;
        let now = self.clock.now();
        if record.expires_at <= now || record.purpose != ChallengePurpose::SecondFactor {
            return Err(Self::refused());
        }
        let Some(CeremonyState::Authentication { state }) = &record.passkey else {
            return Err(Self::refused());
        };
        let state: PasskeyAuthentication = from_state(state)?;
        let Some((mut user, version, login)) = self.load(&record.user).await? else {
            return Err(Self::refused());
        };
        if !Self::usable(&user, now) {
            return Err(Self::refused());
        }
        let result = match webauthn.finish_passkey_authentication(&response, &state) {
            Ok(result) => result,
            Err(e) => {
                tracing::info!(target: "regrooter::auth", error = %e, "passkey sign-in refused");
                self.fail(user, version, login).await?;
                return Err(Self::refused());
            }
        };
        // One challenge, one use.
        self.store
            .delete(&key, Condition::Version(item.version))
            .await?;
        // The signature counter and flags move on in the stored passkey that signed.
        let mut used = None;
        for (index, stored) in user.passkeys.iter().enumerate() {
            let mut opened = self.open_passkey(&user, stored).await?;
            if opened.passkey.cred_id() == result.cred_id() {
                if opened.passkey.update_credential(&result) == Some(true) {
                    used = Some((index, Some(opened)));
                } else {
                    used = Some((index, None));
                }
                break;
            }
        }
        let Some((index, changed)) = used else {
            return Err(Self::refused());
        };
        if let Some(opened) = changed {
            let id = user.passkeys[index].id;
            user.passkeys[index].credential = self.seal_passkey(&user, id, &opened).await?;
        }
        user.passkeys[index].last_used_at = Some(now);
        user.failed_attempts = 0;
        user.locked_until = None;
        user.updated_at = now;
        let user = self.save(&user, version, &login, None).await?;
        self.tokens(&user, &["pwd", "pop", "mfa"], None).await
    }

    /// Whether the user's tenant requires passkeys.
    pub(super) async fn passkeys_required(&self, user: &UserRecord) -> Result<bool, Error> {
        match &user.account {
            Account::Staff => Ok(false),
            Account::Customer { tenant } => Ok(kernel::tenants::get(self.store.as_ref(), tenant)
                .await?
                .is_some_and(|t| t.passkeys_required)),
        }
    }
}
