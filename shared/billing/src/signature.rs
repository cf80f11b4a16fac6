//! Stripe's webhook signature, verified as Stripe specifies it: the `Stripe-Signature` header
//! carries `t=<unix seconds>` and one or more `v1=<hex>` signatures; each `v1` is
//! HMAC-SHA256(endpoint secret, "<t>.<raw body>"). A delivery is genuine when any `v1` matches
//! any of our secrets (several during a rotation) and `t` lies within five minutes of our clock.
//! The comparison is the `hmac` crate's constant-time `verify_slice`.

use hmac::{KeyInit, Mac};
use sha2::Sha256;

use kernel::time::Timestamp;

/// Stripe's own default tolerance.
pub const TOLERANCE_SECONDS: i64 = 300;

type HmacSha256 = hmac::Hmac<Sha256>;

/// The endpoint secrets in force (`STRIPE_WEBHOOK_SECRET`, comma-separated for rotation).
#[derive(Clone, Default)]
pub struct WebhookSecrets(Vec<Vec<u8>>);

impl std::fmt::Debug for WebhookSecrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "WebhookSecrets({} secret(s))", self.0.len())
    }
}

impl WebhookSecrets {
    /// Parses the comma-separated list; blanks are ignored.
    pub fn parse(list: &str) -> Result<Self, SignatureError> {
        let secrets: Vec<Vec<u8>> = list
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|s| s.as_bytes().to_vec())
            .collect();
        if secrets.iter().any(|s| s.len() < 16) {
            return Err(SignatureError::WeakSecret);
        }
        Ok(Self(secrets))
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("no webhook secret is configured (STRIPE_WEBHOOK_SECRET)")]
    NotConfigured,
    #[error("a webhook secret is shorter than 16 characters")]
    WeakSecret,
    #[error("the Stripe-Signature header is missing")]
    Missing,
    #[error("the Stripe-Signature header is malformed")]
    Malformed,
    #[error("no signature matches the payload")]
    Mismatch,
    #[error("the signature's timestamp is more than five minutes from now")]
    OutsideTolerance,
}

/// The signature's timestamp, once verified.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SignedAt(pub i64);

fn mac(secret: &[u8], timestamp: &str, payload: &[u8]) -> HmacSha256 {
    let mut mac = HmacSha256::new_from_slice(secret)
        .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
    mac.update(timestamp.as_bytes());
    mac.update(b".");
    mac.update(payload);
    mac
}

/// Verifies a delivery. The timestamp is checked after the signature, so a forged header learns
/// nothing about our clock.
pub fn verify(
    secrets: &WebhookSecrets,
    header: Option<&str>,
    payload: &[u8],
    now: Timestamp,
) -> Result<SignedAt, SignatureError> {
    if secrets.is_empty() {
        return Err(SignatureError::NotConfigured);
    }
    let header = header.ok_or(SignatureError::Missing)?;
    let mut timestamp: Option<&str> = None;
    let mut candidates = Vec::new();
    for part in header.split(',') {
        let Some((key, value)) = part.trim().split_once('=') else {
            return Err(SignatureError::Malformed);
        };
        match key {
            "t" if timestamp.is_none() => timestamp = Some(value),
            "t" => return Err(SignatureError::Malformed),
            // A malformed candidate is skipped, as Stripe's libraries do: another may match.
            "v1" => candidates.extend(kernel::hex::decode(value)),
            // Other schemes (v0 is Stripe's test-mode legacy scheme) are never accepted.
            _ => {}
        }
    }
    let timestamp = timestamp.ok_or(SignatureError::Malformed)?;
    let seconds: i64 = timestamp.parse().map_err(|_| SignatureError::Malformed)?;
    if candidates.is_empty() {
        return Err(SignatureError::Mismatch);
    }
    let matches = secrets.0.iter().any(|secret| {
        let mac = mac(secret, timestamp, payload);
        candidates
            .iter()
            .any(|candidate| mac.clone().verify_slice(candidate).is_ok())
    });
    if !matches {
        return Err(SignatureError::Mismatch);
    }
    if (now.as_second() - seconds).abs() > TOLERANCE_SECONDS {
        return Err(SignatureError::OutsideTolerance);
    }
    Ok(SignedAt(seconds))
}

/// A header exactly as Stripe writes it, for tests and the local tooling that replays events.
pub fn sign(secret: &str, payload: &[u8], at: Timestamp) -> String {
    let timestamp = at.as_second().to_string();
    let tag = mac(secret.as_bytes(), &timestamp, payload)
        .finalize()
        .into_bytes();
    format!("t={timestamp},v1={}", kernel::hex::encode(&tag))
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "whsec_test_0123456789abcdef";
    const BODY: &[u8] = br#"{"id":"evt_1","object":"event"}"#;

    fn now() -> Timestamp {
        "2026-11-27T10:00:00Z".parse().expect("ts")
    }

    fn secrets(list: &str) -> WebhookSecrets {
        WebhookSecrets::parse(list).expect("secrets")
    }

    #[test]
    fn a_genuine_delivery_verifies() {
        let header = sign(SECRET, BODY, now());
        assert_eq!(
            verify(&secrets(SECRET), Some(&header), BODY, now()),
            Ok(SignedAt(now().as_second()))
        );
    }

    #[test]
    fn forged_tampered_and_expired_deliveries_fail() {
        let s = secrets(SECRET);
        let forged = sign("whsec_someone_else_000000", BODY, now());
        assert_eq!(
            verify(&s, Some(&forged), BODY, now()),
            Err(SignatureError::Mismatch)
        );
        let header = sign(SECRET, BODY, now());
        assert_eq!(
            verify(
                &s,
                Some(&header),
                br#"{"id":"evt_2","object":"event"}"#,
                now()
            ),
            Err(SignatureError::Mismatch)
        );
        let old = sign(SECRET, BODY, now() - jiff::SignedDuration::from_secs(301));
        assert_eq!(
            verify(&s, Some(&old), BODY, now()),
            Err(SignatureError::OutsideTolerance)
        );
        let edge = sign(SECRET, BODY, now() - jiff::SignedDuration::from_secs(300));
        assert!(verify(&s, Some(&edge), BODY, now()).is_ok());
        let future = sign(SECRET, BODY, now() + jiff::SignedDuration::from_secs(301));
        assert_eq!(
            verify(&s, Some(&future), BODY, now()),
            Err(SignatureError::OutsideTolerance)
        );
        // Moving the timestamp breaks the signature, which covers it.
        let moved = header.replacen(
            &format!("t={}", now().as_second()),
            &format!("t={}", now().as_second() + 1),
            1,
        );
        assert_eq!(
            verify(&s, Some(&moved), BODY, now()),
            Err(SignatureError::Mismatch)
        );
    }

    #[test]
    fn malformed_and_missing_headers_fail() {
        let s = secrets(SECRET);
        assert_eq!(verify(&s, None, BODY, now()), Err(SignatureError::Missing));
        for header in ["", "garbage", "t=abc,v1=00", "v1=00", "t=1,t=2,v1=00"] {
            assert_eq!(
                verify(&s, Some(header), BODY, now()),
                Err(SignatureError::Malformed),
                "{header}"
            );
        }
        let v0_only = sign(SECRET, BODY, now()).replace("v1=", "v0=");
        assert_eq!(
            verify(&s, Some(&v0_only), BODY, now()),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            verify(&WebhookSecrets::default(), Some("t=1,v1=00"), BODY, now()),
            Err(SignatureError::NotConfigured)
        );
    }

    #[test]
    fn any_secret_of_a_rotation_and_any_v1_candidate_is_accepted() {
        let old = "whsec_old_secret_000000000";
        let rotating = secrets(&format!("{SECRET}, {old}"));
        assert_eq!(rotating.len(), 2);
        let by_old = sign(old, BODY, now());
        assert!(verify(&rotating, Some(&by_old), BODY, now()).is_ok());
        // Stripe sends one v1 per active endpoint secret during its own rotation.
        let genuine = sign(SECRET, BODY, now());
        let tag = genuine
            .split_once("v1=")
            .map(|(_, t)| t)
            .unwrap_or_default();
        let two = format!("t={},v1=ffff,v1=nothex,v1={tag}", now().as_second());
        assert!(verify(&secrets(SECRET), Some(&two), BODY, now()).is_ok());
    }

    #[test]
    fn short_secrets_are_refused() {
        assert_eq!(
            WebhookSecrets::parse("short").map(|s| s.len()),
            Err(SignatureError::WeakSecret)
        );
        assert!(WebhookSecrets::parse(" , ").is_ok_and(|s| s.is_empty()));
    }
}
