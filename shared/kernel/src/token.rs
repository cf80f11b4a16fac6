//! Access tokens: EdDSA (Ed25519) JWTs via `jwt-simple`, carrying subject, tenant, roles and
//! `amr`, checked for issuer, audience, expiry and not-before against the injected clock, with
//! several verification keys selected by `kid` so signing keys can rotate with overlap.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jwt_simple::prelude::{
    Claims, Duration as JwtDuration, Ed25519KeyPair, Ed25519PublicKey, EdDSAKeyPairLike,
    EdDSAPublicKeyLike, JWTClaims, Token, VerificationOptions,
};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use crate::ids::TenantId;
use crate::rbac::{Actor, Principal};
use crate::time::{SignedDuration, Timestamp};

/// Longest token we will even parse (a guard against resource exhaustion).
const MAX_TOKEN_LENGTH: usize = 8 * 1024;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum TokenError {
    #[error("the token is malformed")]
    Malformed,
    #[error("the token names no key id (kid)")]
    MissingKeyId,
    #[error("the token's key id is not one of ours")]
    UnknownKeyId,
    #[error("the token is invalid: {0}")]
    Invalid(String),
    #[error("the token carries no expiry")]
    NoExpiry,
    #[error("the token's claims are not ours: {0}")]
    BadClaims(String),
    #[error("staff tokens are only issued after a second factor")]
    SecondFactorRequired,
    #[error("key material is invalid: {0}")]
    BadKey(String),
}

/// Our private claims.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RegrooterClaims {
    /// `staff`, `customer` or `system`.
    kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    tid: Option<String>,
    roles: Vec<String>,
    amr: Vec<String>,
}

/// Where tokens come from and whom they are for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenAudience {
    pub issuer: String,
    pub audience: String,
}

/// An Ed25519 signing key with its key id.
pub struct SigningKey {
    kid: String,
    pair: Ed25519KeyPair,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKey")
            .field("kid", &self.kid)
            .finish_non_exhaustive()
    }
}

impl SigningKey {
    pub fn generate(kid: &str) -> Self {
        Self {
            kid: kid.to_string(),
            pair: Ed25519KeyPair::generate().with_key_id(kid),
        }
    }

    /// Restores a key from its 64-byte secret form.
    pub fn from_bytes(kid: &str, secret: &[u8]) -> Result<Self, TokenError> {
        let pair = Ed25519KeyPair::from_bytes(secret)
            .map_err(|e| TokenError::BadKey(e.to_string()))?
            .with_key_id(kid);
        Ok(Self {
            kid: kid.to_string(),
            pair,
        })
    }

    /// Restores a key from its 64-byte secret form with the key id `<prefix>-` and the first
    /// eight characters of its public key: the same secret always gets the same id, and a new
    /// key a new one (so a published JWKS can hold the current and earlier keys).
    pub fn from_bytes_with_derived_kid(prefix: &str, secret: &[u8]) -> Result<Self, TokenError> {
        let provisional = Self::from_bytes(prefix, secret)?;
        let x = provisional.verification_key().to_jwk().x;
        let kid = format!("{prefix}-{}", x.chars().take(8).collect::<String>());
        Self::from_bytes(&kid, secret)
    }

    /// The 64-byte secret form, wiped from memory when dropped.
    pub fn to_bytes(&self) -> Zeroizing<Vec<u8>> {
        Zeroizing::new(self.pair.to_bytes())
    }

    pub fn kid(&self) -> &str {
        &self.kid
    }

    pub fn verification_key(&self) -> VerificationKey {
        VerificationKey {
            kid: self.kid.clone(),
            key: self.pair.public_key(),
        }
    }
}

impl SigningKey {
    /// Signs a document as a compact JWS (EdDSA): the document's fields are the claims, with
    /// issuer, subject and issue time; no expiry — a signed statement stays true.
    pub fn sign_document<T: Serialize + serde::de::DeserializeOwned>(
        &self,
        issuer: &str,
        subject: &str,
        at: Timestamp,
        document: T,
    ) -> Result<String, TokenError> {
        let mut claims: JWTClaims<T> =
            Claims::with_custom_claims(document, JwtDuration::from_secs(0))
                .with_issuer(issuer)
                .with_subject(subject);
        claims.issued_at = Some(JwtDuration::from_secs(unix(at)?));
        claims.invalid_before = None;
        claims.expires_at = None;
        self.pair
            .sign(claims)
            .map_err(|e| TokenError::Invalid(e.to_string()))
    }
}

/// A public key that verifies tokens with a given `kid`.
#[derive(Clone)]
pub struct VerificationKey {
    kid: String,
    key: Ed25519PublicKey,
}

impl std::fmt::Debug for VerificationKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VerificationKey")
            .field("kid", &self.kid)
            .finish()
    }
}

impl VerificationKey {
    pub fn kid(&self) -> &str {
        &self.kid
    }

    pub fn to_jwk(&self) -> Jwk {
        Jwk {
            kty: "OKP".into(),
            crv: "Ed25519".into(),
            x: URL_SAFE_NO_PAD.encode(self.key.to_bytes()),
            kid: self.kid.clone(),
            alg: "EdDSA".into(),
            key_use: "sig".into(),
        }
    }

    /// Verifies a document signed with [`SigningKey::sign_document`] by this key's `kid` and
    /// `issuer`; returns the document and its subject.
    pub fn verify_document<T: Serialize + serde::de::DeserializeOwned>(
        &self,
        issuer: &str,
        jws: &str,
    ) -> Result<(T, String), TokenError> {
        if jws.len() > 64 * 1024 {
            return Err(TokenError::Malformed);
        }
        let metadata = Token::decode_metadata(jws).map_err(|_| TokenError::Malformed)?;
        if metadata.key_id() != Some(self.kid.as_str()) {
            return Err(TokenError::UnknownKeyId);
        }
        let options = VerificationOptions {
            required_key_id: Some(self.kid.clone()),
            allowed_issuers: Some(HashSet::from([issuer.to_string()])),
            time_tolerance: Some(JwtDuration::from_secs(0)),
            // A signed statement has no expiry, and may be dated in simulated time: judge it as
            // of the end of time, so only the signature and the issuer decide.
            artificial_time: Some(JwtDuration::from_secs(253_402_300_799)),
            max_token_length: Some(64 * 1024),
            ..VerificationOptions::default()
        };
        let claims = self
            .key
            .verify_token::<T>(jws, Some(options))
            .map_err(|e| TokenError::Invalid(e.to_string()))?;
        let subject = claims.subject.clone().unwrap_or_default();
        Ok((claims.custom, subject))
    }

    pub fn from_jwk(jwk: &Jwk) -> Result<Self, TokenError> {
        if jwk.kty != "OKP" || jwk.crv != "Ed25519" || jwk.alg != "EdDSA" {
            return Err(TokenError::BadKey(format!(
                "key '{}' is not an Ed25519 signing key",
                jwk.kid
            )));
        }
        let raw = URL_SAFE_NO_PAD
            .decode(&jwk.x)
            .map_err(|e| TokenError::BadKey(e.to_string()))?;
        let key =
            Ed25519PublicKey::from_bytes(&raw).map_err(|e| TokenError::BadKey(e.to_string()))?;
        Ok(Self {
            kid: jwk.kid.clone(),
            key,
        })
    }
}

/// One entry of a JWKS document (RFC 7517 / RFC 8037 OKP keys).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Jwk {
    pub kty: String,
    pub crv: String,
    pub x: String,
    pub kid: String,
    pub alg: String,
    #[serde(rename = "use")]
    pub key_use: String,
}

/// A JWKS document: the keys the edge and the functions accept.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Jwks {
    pub keys: Vec<Jwk>,
}

/// Issues access tokens.
#[derive(Debug)]
pub struct TokenIssuer {
    key: SigningKey,
    audience: TokenAudience,
}

impl TokenIssuer {
    pub fn new(key: SigningKey, audience: TokenAudience) -> Self {
        Self { key, audience }
    }

    pub fn kid(&self) -> &str {
        self.key.kid()
    }

    /// Signs a token for `principal`, valid from `now` for `ttl`. Staff never get a token
    /// without a second factor.
    pub fn issue(
        &self,
        principal: &Principal,
        now: Timestamp,
        ttl: SignedDuration,
    ) -> Result<String, TokenError> {
        if matches!(principal.actor, Actor::Staff) && !principal.has_second_factor() {
            return Err(TokenError::SecondFactorRequired);
        }
        let (kind, tid) = match &principal.actor {
            Actor::Staff => ("staff", None),
            Actor::Customer { tenant } => ("customer", Some(tenant.to_string())),
            Actor::System => ("system", None),
        };
        let custom = RegrooterClaims {
            kind: kind.into(),
            tid,
            roles: principal.roles.clone(),
            amr: principal.amr.clone(),
        };
        let issued = unix(now)?;
        let ttl_secs = u64::try_from(ttl.as_secs())
            .map_err(|_| TokenError::BadClaims("negative lifetime".into()))?;
        let mut claims: JWTClaims<RegrooterClaims> =
            Claims::with_custom_claims(custom, JwtDuration::from_secs(ttl_secs))
                .with_issuer(&self.audience.issuer)
                .with_audience(&self.audience.audience)
                .with_subject(&principal.subject)
                .with_jwt_id(crate::hex::encode(&crate::random::bytes::<16>()));
        claims.issued_at = Some(JwtDuration::from_secs(issued));
        claims.invalid_before = Some(JwtDuration::from_secs(issued));
        claims.expires_at = Some(JwtDuration::from_secs(issued + ttl_secs));
        self.key
            .pair
            .sign(claims)
            .map_err(|e| TokenError::Invalid(e.to_string()))
    }
}

/// A token that passed every check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedToken {
    pub principal: Principal,
    pub token_id: Option<String>,
    pub kid: String,
    pub expires_at: Timestamp,
    /// When the token was issued (the later of `iat` and `nbf`): tokens issued before an
    /// account's revocation time are refused.
    pub issued_at: Timestamp,
}

/// Verifies access tokens against a set of keys.
///
/// A client presents the same access token on every request of its short life, and an Ed25519
/// signature check costs about 50 µs; so tokens that verified are remembered, keyed by the
/// SHA-256 of the exact token text, and a repeat only re-checks the time window. The cache
/// belongs to one key set: a verifier built for a new key set starts empty.
#[derive(Debug, Clone)]
pub struct TokenVerifier {
    keys: HashMap<String, VerificationKey>,
    audience: TokenAudience,
    leeway: SignedDuration,
    verified: Arc<Mutex<HashMap<[u8; 32], Remembered>>>,
}

#[derive(Debug, Clone)]
struct Remembered {
    token: VerifiedToken,
    valid_from: Timestamp,
}

/// Distinct tokens remembered at most; beyond it, expired entries go, then everything.
const VERIFIED_CACHE_CAPACITY: usize = 8_192;

impl TokenVerifier {
    /// `leeway` tolerates small clock differences between issuer and verifier.
    pub fn new(
        keys: Vec<VerificationKey>,
        audience: TokenAudience,
        leeway: SignedDuration,
    ) -> Self {
        Self {
            keys: keys.into_iter().map(|k| (k.kid.clone(), k)).collect(),
            audience,
            leeway,
            verified: Arc::new(Mutex::new(HashMap::new())),
        }
    }

    pub fn from_jwks(
        jwks: &Jwks,
        audience: TokenAudience,
        leeway: SignedDuration,
    ) -> Result<Self, TokenError> {
        let keys = jwks
            .keys
            .iter()
            .map(VerificationKey::from_jwk)
            .collect::<Result<_, _>>()?;
        Ok(Self::new(keys, audience, leeway))
    }

    pub fn jwks(&self) -> Jwks {
        let mut keys: Vec<Jwk> = self.keys.values().map(VerificationKey::to_jwk).collect();
        keys.sort_by(|a, b| a.kid.cmp(&b.kid));
        Jwks { keys }
    }

    pub fn verify(&self, token: &str, now: Timestamp) -> Result<VerifiedToken, TokenError> {
        if token.len() > MAX_TOKEN_LENGTH {
            return Err(TokenError::Malformed);
        }
        let digest: [u8; 32] = Sha256::digest(token.as_bytes()).into();
        let remembered = self
            .verified
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&digest)
            .cloned();
        if let Some(hit) = remembered {
            // Same window rules as the full check: not before nbf/iat, not after exp (± leeway).
            let too_early = now
                .checked_add(self.leeway)
                .is_ok_and(|t| t < hit.valid_from);
            let too_late = now
                .checked_sub(self.leeway)
                .is_ok_and(|t| t > hit.token.expires_at);
            if !too_early && !too_late {
                return Ok(hit.token);
            }
        }
        let verified = self.verify_signature_and_claims(token, now)?;
        self.remember(digest, &verified);
        Ok(verified.token)
    }

    /// The full check every time, neither reading nor filling the cache (for measuring the cost
    /// of a token seen for the first time).
    pub fn verify_uncached(
        &self,
        token: &str,
        now: Timestamp,
    ) -> Result<VerifiedToken, TokenError> {
        if token.len() > MAX_TOKEN_LENGTH {
            return Err(TokenError::Malformed);
        }
        self.verify_signature_and_claims(token, now)
            .map(|r| r.token)
    }

    fn remember(&self, digest: [u8; 32], verified: &Remembered) {
        let mut cache = self.verified.lock().unwrap_or_else(|p| p.into_inner());
        if cache.len() >= VERIFIED_CACHE_CAPACITY {
            let now = verified.valid_from;
            cache.retain(|_, r| r.token.expires_at > now);
            if cache.len() >= VERIFIED_CACHE_CAPACITY {
                cache.clear();
            }
        }
        cache.insert(digest, verified.clone());
    }

    /// The full check: signature, algorithm, key id, issuer, audience, time window, claims.
    fn verify_signature_and_claims(
        &self,
        token: &str,
        now: Timestamp,
    ) -> Result<Remembered, TokenError> {
        let metadata = Token::decode_metadata(token).map_err(|_| TokenError::Malformed)?;
        let kid = metadata.key_id().ok_or(TokenError::MissingKeyId)?;
        let key = self.keys.get(kid).ok_or(TokenError::UnknownKeyId)?;
        let leeway = u64::try_from(self.leeway.as_secs()).unwrap_or(0);
        let options = VerificationOptions {
            required_key_id: Some(kid.to_string()),
            allowed_issuers: Some(HashSet::from([self.audience.issuer.clone()])),
            allowed_audiences: Some(HashSet::from([self.audience.audience.clone()])),
            time_tolerance: Some(JwtDuration::from_secs(leeway)),
            max_token_length: Some(MAX_TOKEN_LENGTH),
            artificial_time: Some(JwtDuration::from_secs(unix(now)?)),
            ..Default::default()
        };
        // `verify_token` checks that the header says EdDSA: `alg: none` and HS256 tokens (even
        // ones keyed with our public key) fail here before any claim is looked at.
        let claims = key
            .key
            .verify_token::<RegrooterClaims>(token, Some(options))
            .map_err(|e| TokenError::Invalid(e.to_string()))?;
        let expires_at = claims.expires_at.ok_or(TokenError::NoExpiry)?;
        let subject = claims
            .subject
            .clone()
            .ok_or_else(|| TokenError::BadClaims("no subject".into()))?;
        let custom = claims.custom;
        let actor = match (custom.kind.as_str(), custom.tid) {
            ("staff", None) => Actor::Staff,
            ("system", None) => Actor::System,
            ("customer", Some(tid)) => Actor::Customer {
                tenant: TenantId::new(tid).map_err(|e| TokenError::BadClaims(e.to_string()))?,
            },
            (kind, _) => {
                return Err(TokenError::BadClaims(format!(
                    "actor kind '{kind}' with this tenant claim"
                )));
            }
        };
        let to_timestamp = |t: JwtDuration| {
            Timestamp::from_second(i64::try_from(t.as_secs()).unwrap_or(i64::MAX))
                .map_err(|_| TokenError::BadClaims("time out of range".into()))
        };
        let expires_at = to_timestamp(expires_at)?;
        // The later of iat and nbf: a cached token is never accepted before either.
        let valid_from = match (claims.issued_at, claims.invalid_before) {
            (Some(a), Some(b)) => to_timestamp(a.max(b))?,
            (Some(t), None) | (None, Some(t)) => to_timestamp(t)?,
            (None, None) => Timestamp::UNIX_EPOCH,
        };
        Ok(Remembered {
            token: VerifiedToken {
                principal: Principal {
                    subject,
                    actor,
                    roles: custom.roles,
                    amr: custom.amr,
                },
                token_id: claims.jwt_id,
                kid: kid.to_string(),
                expires_at,
                issued_at: valid_from,
            },
            valid_from,
        })
    }
}

fn unix(t: Timestamp) -> Result<u64, TokenError> {
    u64::try_from(t.as_second()).map_err(|_| TokenError::BadClaims("time before 1970".into()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use hmac::{KeyInit, Mac};

    fn ts(s: &str) -> Timestamp {
        s.parse().expect("ts")
    }

    fn aud() -> TokenAudience {
        TokenAudience {
            issuer: "https://auth.regrooter.test".into(),
            audience: "regrooter-api".into(),
        }
    }

    fn admin() -> Principal {
        Principal {
            subject: "user-7".into(),
            actor: Actor::Customer {
                tenant: TenantId::new("acme").expect("tenant"),
            },
            roles: vec!["customer_admin".into()],
            amr: vec!["pwd".into(), "otp".into()],
        }
    }

    fn setup() -> (TokenIssuer, TokenVerifier) {
        let key = SigningKey::generate("k1");
        let verifier = TokenVerifier::new(
            vec![key.verification_key()],
            aud(),
            SignedDuration::from_secs(30),
        );
        (TokenIssuer::new(key, aud()), verifier)
    }

    fn b64(v: &serde_json::Value) -> String {
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(v).expect("json"))
    }

    fn claims_at(now: Timestamp) -> serde_json::Value {
        serde_json::json!({
            "iss": "https://auth.regrooter.test", "aud": "regrooter-api", "sub": "attacker",
            "iat": now.as_second(), "nbf": now.as_second(), "exp": now.as_second() + 600,
            "kind": "staff", "roles": ["operator"], "amr": ["pwd", "otp"]
        })
    }

    #[test]
    fn a_valid_token_round_trips_the_principal() {
        let (issuer, verifier) = setup();
        let now = ts("2026-05-01T10:00:00Z");
        let token = issuer
            .issue(&admin(), now, SignedDuration::from_mins(15))
            .expect("issued");
        let verified = verifier.verify(&token, now).expect("valid");
        assert_eq!(verified.principal, admin());
        assert_eq!(verified.kid, "k1");
        assert_eq!(verified.expires_at, ts("2026-05-01T10:15:00Z"));
    }

    #[test]
    fn expired_and_not_yet_valid_tokens_are_rejected() {
        let (issuer, verifier) = setup();
        let now = ts("2026-05-01T10:00:00Z");
        let token = issuer
            .issue(&admin(), now, SignedDuration::from_mins(15))
            .expect("issued");
        assert!(
            verifier.verify(&token, ts("2026-05-01T10:15:29Z")).is_ok(),
            "inside leeway"
        );
        let refused = verifier.verify(&token, ts("2026-05-01T10:16:00Z"));
        assert!(
            matches!(&refused, Err(TokenError::Invalid(why)) if why == "Token has expired"),
            "expired: {refused:?}"
        );
        let refused = verifier.verify(&token, ts("2026-05-01T09:58:00Z"));
        assert!(
            matches!(&refused, Err(TokenError::Invalid(why)) if why == "Clock drift detected"),
            "not yet valid: {refused:?}"
        );
    }

    #[test]
    fn a_remembered_token_still_expires_and_is_not_valid_early() {
        let (issuer, verifier) = setup();
        let now = ts("2026-05-01T10:00:00Z");
        let token = issuer
            .issue(&admin(), now, SignedDuration::from_mins(15))
            .expect("issued");
        assert!(
            verifier.verify(&token, now).is_ok(),
            "first check verifies and remembers"
        );
        assert!(
            verifier.verify(&token, ts("2026-05-01T10:10:00Z")).is_ok(),
            "repeat inside the window"
        );
        let refused = verifier.verify(&token, ts("2026-05-01T10:16:00Z"));
        assert!(
            matches!(&refused, Err(TokenError::Invalid(why)) if why == "Token has expired"),
            "expired despite the cache: {refused:?}"
        );
        let refused = verifier.verify(&token, ts("2026-05-01T09:58:00Z"));
        assert!(
            matches!(&refused, Err(TokenError::Invalid(why)) if why == "Clock drift detected"),
            "early despite the cache: {refused:?}"
        );
        // A token that differs in one character is a different cache key and fails verification.
        let mut tampered = token.clone();
        let last = tampered.pop().expect("char");
        tampered.push(if last == 'A' { 'B' } else { 'A' });
        let refused = verifier.verify(&tampered, ts("2026-05-01T10:01:00Z"));
        assert!(
            matches!(&refused, Err(TokenError::Invalid(_))),
            "{refused:?}"
        );
    }

    #[test]
    fn wrong_audience_or_issuer_is_rejected() {
        let key = SigningKey::generate("k1");
        let verifier =
            TokenVerifier::new(vec![key.verification_key()], aud(), SignedDuration::ZERO);
        let now = ts("2026-05-01T10:00:00Z");
        // A token signed with our key for `issuer` and `audience`, checked by our verifier.
        let verify_as = |issuer: String, audience: String| {
            let signer = SigningKey::from_bytes("k1", &key.to_bytes()).expect("same key");
            let token = TokenIssuer::new(signer, TokenAudience { issuer, audience })
                .issue(&admin(), now, SignedDuration::from_mins(5))
                .expect("issued");
            verifier.verify(&token, now)
        };
        assert!(matches!(
            verify_as(aud().issuer, "someone-else".into()),
            Err(TokenError::Invalid(_))
        ));
        assert!(matches!(
            verify_as("https://elsewhere.example".into(), aud().audience),
            Err(TokenError::Invalid(_))
        ));
        // The control: our issuer and audience with the same key pass.
        assert!(verify_as(aud().issuer, aud().audience).is_ok());
    }

    #[test]
    fn unknown_or_missing_kid_is_rejected() {
        let (_, verifier) = setup();
        let stranger = TokenIssuer::new(SigningKey::generate("k9"), aud());
        let now = ts("2026-05-01T10:00:00Z");
        let token = stranger
            .issue(&admin(), now, SignedDuration::from_mins(5))
            .expect("issued");
        assert_eq!(verifier.verify(&token, now), Err(TokenError::UnknownKeyId));
        // Same kid, different key: the signature fails.
        let impostor = TokenIssuer::new(SigningKey::generate("k1"), aud());
        let token = impostor
            .issue(&admin(), now, SignedDuration::from_mins(5))
            .expect("issued");
        assert!(matches!(
            verifier.verify(&token, now),
            Err(TokenError::Invalid(_))
        ));
        let no_kid = format!(
            "{}.{}.",
            b64(&serde_json::json!({"alg": "EdDSA", "typ": "JWT"})),
            b64(&claims_at(now))
        );
        assert_eq!(verifier.verify(&no_kid, now), Err(TokenError::MissingKeyId));
    }

    #[test]
    fn alg_none_is_rejected() {
        let (_, verifier) = setup();
        let now = ts("2026-05-01T10:00:00Z");
        let header = b64(&serde_json::json!({"alg": "none", "typ": "JWT", "kid": "k1"}));
        let token = format!("{header}.{}.", b64(&claims_at(now)));
        assert!(matches!(
            verifier.verify(&token, now),
            Err(TokenError::Invalid(_))
        ));
        let token = format!("{header}.{}", b64(&claims_at(now)));
        assert!(matches!(
            verifier.verify(&token, now),
            Err(TokenError::Invalid(_))
        ));
    }

    #[test]
    fn hs256_signed_with_the_public_key_is_rejected() {
        let key = SigningKey::generate("k1");
        let verifier =
            TokenVerifier::new(vec![key.verification_key()], aud(), SignedDuration::ZERO);
        let now = ts("2026-05-01T10:00:00Z");
        let public = key.verification_key().key.to_bytes();
        let signing_input = format!(
            "{}.{}",
            b64(&serde_json::json!({"alg": "HS256", "typ": "JWT", "kid": "k1"})),
            b64(&claims_at(now))
        );
        for secret in [public.clone(), URL_SAFE_NO_PAD.encode(&public).into_bytes()] {
            let mut mac =
                hmac::Hmac::<sha2::Sha256>::new_from_slice(&secret).expect("any key length");
            mac.update(signing_input.as_bytes());
            let sig = URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes());
            let token = format!("{signing_input}.{sig}");
            assert!(matches!(
                verifier.verify(&token, now),
                Err(TokenError::Invalid(_))
            ));
        }
    }

    #[test]
    fn staff_tokens_need_a_second_factor() {
        let (issuer, _) = setup();
        let staff = Principal {
            subject: "s".into(),
            actor: Actor::Staff,
            roles: vec!["operator".into()],
            amr: vec!["pwd".into()],
        };
        assert_eq!(
            issuer.issue(
                &staff,
                ts("2026-05-01T10:00:00Z"),
                SignedDuration::from_mins(5)
            ),
            Err(TokenError::SecondFactorRequired)
        );
    }

    #[test]
    fn rotation_keeps_old_tokens_valid_until_expiry() {
        let old = SigningKey::generate("2026-05");
        let new = SigningKey::generate("2026-06");
        let verifier = TokenVerifier::new(
            vec![old.verification_key(), new.verification_key()],
            aud(),
            SignedDuration::ZERO,
        );
        let now = ts("2026-05-31T23:55:00Z");
        let old_token = TokenIssuer::new(old, aud())
            .issue(&admin(), now, SignedDuration::from_mins(15))
            .expect("issued");
        let new_token = TokenIssuer::new(new, aud())
            .issue(&admin(), now, SignedDuration::from_mins(15))
            .expect("issued");
        assert!(verifier.verify(&old_token, now).is_ok());
        assert!(verifier.verify(&new_token, now).is_ok());
        // The JWKS round-trips into an equivalent verifier.
        let again =
            TokenVerifier::from_jwks(&verifier.jwks(), aud(), SignedDuration::ZERO).expect("jwks");
        assert!(again.verify(&old_token, now).is_ok());
    }

    #[test]
    fn garbage_is_malformed() {
        let (_, verifier) = setup();
        let now = ts("2026-05-01T10:00:00Z");
        for junk in ["", "a.b", "a.b.c.d", "!!!.???.###", &"x".repeat(10_000)] {
            assert_eq!(
                verifier.verify(junk, now),
                Err(TokenError::Malformed),
                "{junk:.20}"
            );
        }
    }
}
