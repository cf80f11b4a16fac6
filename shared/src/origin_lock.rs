//! The origin lock: the edge signs every request it forwards, and the functions refuse anything
//! unsigned, altered, or signed outside a five-minute window. The signature is an HMAC-SHA256
//! over method, path (with query), timestamp and the SHA-256 of the body, sent as
//! `X-Regrooter-Origin: t=<unix seconds>,v1=<hex>`. Several secrets may be valid at once, so the
//! secret can rotate without downtime.

use hmac::{KeyInit, Mac};
use sha2::{Digest, Sha256};

use crate::time::Timestamp;

pub const HEADER: &str = "x-regrooter-origin";
/// How far a signature's time may lie from ours, either way.
pub const TOLERANCE_SECONDS: i64 = 300;

type HmacSha256 = hmac::Hmac<Sha256>;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OriginLockError {
    #[error("the request is not signed by the edge")]
    Missing,
    #[error("the edge signature is malformed")]
    Malformed,
    #[error("the edge signature is outside the five-minute window")]
    Expired,
    #[error("the edge signature does not match the request")]
    Mismatch,
}

fn mac(secret: &[u8], method: &str, path: &str, timestamp: i64, body: &[u8]) -> HmacSha256 {
    let mut mac = HmacSha256::new_from_slice(secret)
        .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
    let body_digest = crate::hex::encode(&Sha256::digest(body));
    mac.update(
        format!(
            "{}\n{path}\n{timestamp}\n{body_digest}",
            method.to_ascii_uppercase()
        )
        .as_bytes(),
    );
    mac
}

/// The header value for a request.
pub fn sign(secret: &[u8], method: &str, path: &str, now: Timestamp, body: &[u8]) -> String {
    let timestamp = now.as_second();
    let tag = mac(secret, method, path, timestamp, body)
        .finalize()
        .into_bytes();
    format!("t={timestamp},v1={}", crate::hex::encode(&tag))
}

/// Checks a request's header against every valid secret, in constant time per secret.
pub fn verify(
    secrets: &[Vec<u8>],
    header: Option<&str>,
    method: &str,
    path: &str,
    body: &[u8],
    now: Timestamp,
) -> Result<(), OriginLockError> {
    let header = header.ok_or(OriginLockError::Missing)?;
    let mut timestamp = None;
    let mut signatures = Vec::new();
    for part in header.split(',') {
        match part.trim().split_once('=') {
            Some(("t", t)) => {
                timestamp = Some(t.parse::<i64>().map_err(|_| OriginLockError::Malformed)?)
            }
            Some(("v1", v)) => {
                signatures.push(crate::hex::decode(v).ok_or(OriginLockError::Malformed)?)
            }
            _ => return Err(OriginLockError::Malformed),
        }
    }
    let timestamp = timestamp.ok_or(OriginLockError::Malformed)?;
    if signatures.is_empty() {
        return Err(OriginLockError::Malformed);
    }
    if (now.as_second() - timestamp).abs() > TOLERANCE_SECONDS {
        return Err(OriginLockError::Expired);
    }
    for secret in secrets {
        for signature in &signatures {
            if mac(secret, method, path, timestamp, body)
                .verify_slice(signature)
                .is_ok()
            {
                return Ok(());
            }
        }
    }
    Err(OriginLockError::Mismatch)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> Timestamp {
        "2026-11-27T10:00:00Z".parse().expect("ts")
    }

    #[test]
    fn a_signed_request_verifies_and_any_change_fails() {
        let secret = b"edge-secret".to_vec();
        let header = sign(&secret, "POST", "/security/reports", now(), b"{\"a\":1}");
        let ok = verify(
            std::slice::from_ref(&secret),
            Some(&header),
            "POST",
            "/security/reports",
            b"{\"a\":1}",
            now(),
        );
        assert_eq!(ok, Ok(()));
        let secrets = [secret];
        assert_eq!(
            verify(
                &secrets,
                Some(&header),
                "POST",
                "/security/reports",
                b"{\"a\":2}",
                now()
            ),
            Err(OriginLockError::Mismatch)
        );
        assert_eq!(
            verify(
                &secrets,
                Some(&header),
                "PUT",
                "/security/reports",
                b"{\"a\":1}",
                now()
            ),
            Err(OriginLockError::Mismatch)
        );
        assert_eq!(
            verify(
                &secrets,
                Some(&header),
                "POST",
                "/security/reports?x",
                b"{\"a\":1}",
                now()
            ),
            Err(OriginLockError::Mismatch)
        );
        assert_eq!(
            verify(&secrets, None, "POST", "/", b"", now()),
            Err(OriginLockError::Missing)
        );
        assert_eq!(
            verify(&secrets, Some("garbage"), "POST", "/", b"", now()),
            Err(OriginLockError::Malformed)
        );
    }

    #[test]
    fn replays_outside_five_minutes_fail() {
        let secret = b"s".to_vec();
        let header = sign(&secret, "GET", "/healthz", now(), b"");
        let later = now()
            .checked_add(crate::time::SignedDuration::from_secs(301))
            .expect("ts");
        assert_eq!(
            verify(
                std::slice::from_ref(&secret),
                Some(&header),
                "GET",
                "/healthz",
                b"",
                later
            ),
            Err(OriginLockError::Expired)
        );
        let within = now()
            .checked_add(crate::time::SignedDuration::from_secs(299))
            .expect("ts");
        assert_eq!(
            verify(&[secret], Some(&header), "GET", "/healthz", b"", within),
            Ok(())
        );
    }

    #[test]
    fn rotation_accepts_old_and_new_secret() {
        let old = b"old".to_vec();
        let new = b"new".to_vec();
        let header = sign(&old, "GET", "/", now(), b"");
        assert_eq!(
            verify(&[new.clone(), old], Some(&header), "GET", "/", b"", now()),
            Ok(())
        );
        assert_eq!(
            verify(&[new], Some(&header), "GET", "/", b"", now()),
            Err(OriginLockError::Mismatch)
        );
    }
}
