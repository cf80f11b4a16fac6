//! The origin lock: the edge signs every request it forwards, and the functions refuse anything
//! unsigned, altered, replayed, or signed outside a five-minute window.
//!
//! The signature is an HMAC-SHA256 over method, path (with query), timestamp, a random nonce,
//! the SHA-256 of each header that decides who acts ([`COVERED_HEADERS`]: the bearer token, the
//! cookies, the request id) and the SHA-256 of the body, sent as
//! `X-Regrooter-Origin: t=<unix seconds>,n=<32 hex>,v1=<hex>`. Headers enter by digest only, so
//! a token's bytes never end up in a signed string someone might log. Several secrets may be
//! valid at once, so the secret can rotate without downtime.
//!
//! A signature is accepted once: the verifying side remembers each nonce in a [`ReplayCache`]
//! until the signature's window has passed. The cache lives in one process (one Lambda
//! container): a replay sent to another warm container within the window is the residual risk,
//! and since the signature covers the token, cookies and body, such a replay can only repeat
//! the same caller's same request (which the writes' idempotency and version checks absorb).

use std::collections::{BTreeSet, HashSet};
use std::sync::Mutex;

use hmac::{KeyInit, Mac};
use sha2::{Digest, Sha256};

use crate::time::Timestamp;

pub const HEADER: &str = "x-regrooter-origin";
/// How far a signature's time may lie from ours, either way.
pub const TOLERANCE_SECONDS: i64 = 300;
/// The headers the signature covers (lowercase), in the order they enter the signed string.
pub const COVERED_HEADERS: [&str; 3] = ["authorization", "cookie", "x-request-id"];
/// How many nonces one process remembers at most. Only requests with a valid signature are
/// remembered, so reaching this takes the edge forwarding more than ~330 requests a second to one
/// process for five minutes; past it, requests are refused rather than nonces forgotten.
pub const REPLAY_CACHE_CAPACITY: usize = 100_000;

const NONCE_BYTES: usize = 16;

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
    #[error("the edge signature was already used")]
    Replayed,
    #[error("too many signed requests in the window to remember them all")]
    ReplayCacheFull,
}

/// What the signature covers, as both sides see the request.
#[derive(Debug, Clone, Copy)]
pub struct SignedRequest<'a> {
    pub method: &'a str,
    /// Path with query, exactly as sent.
    pub path_and_query: &'a str,
    /// The values of each of [`COVERED_HEADERS`], in that order; an absent header has none.
    pub headers: [&'a [&'a [u8]]; 3],
    pub body: &'a [u8],
}

impl<'a> SignedRequest<'a> {
    /// `headers` as [`covered_values`] gives them.
    pub fn new(
        method: &'a str,
        path_and_query: &'a str,
        headers: &'a [Vec<&'a [u8]>; 3],
        body: &'a [u8],
    ) -> Self {
        Self {
            method,
            path_and_query,
            headers: [&headers[0], &headers[1], &headers[2]],
            body,
        }
    }
}

/// The covered headers' values from any header map: `values(name)` returns every value of the
/// header `name` in the order received.
pub fn covered_values<'a>(mut values: impl FnMut(&str) -> Vec<&'a [u8]>) -> [Vec<&'a [u8]>; 3] {
    COVERED_HEADERS.map(&mut values)
}

/// One covered header in the signed string: `-` when absent, else the SHA-256 of its canonical
/// form. Cookies are canonicalised (split at `;`, trimmed, joined with `; `) because proxies
/// split and re-join them (HTTP/2, Lambda function URLs' `cookies` array); other headers'
/// several values join with `, ` as RFC 9110 combines field lines.
fn header_digest(name: &str, values: &[&[u8]]) -> String {
    if values.is_empty() {
        return "-".into();
    }
    let mut canonical: Vec<u8> = Vec::new();
    if name == "cookie" {
        let pairs = values
            .iter()
            .flat_map(|v| v.split(|b| *b == b';'))
            .map(<[u8]>::trim_ascii)
            .filter(|p| !p.is_empty());
        for (i, pair) in pairs.enumerate() {
            if i > 0 {
                canonical.extend_from_slice(b"; ");
            }
            canonical.extend_from_slice(pair);
        }
    } else {
        for (i, value) in values.iter().enumerate() {
            if i > 0 {
                canonical.extend_from_slice(b", ");
            }
            canonical.extend_from_slice(value.trim_ascii());
        }
    }
    crate::hex::encode(&Sha256::digest(&canonical))
}

fn mac(secret: &[u8], request: &SignedRequest<'_>, timestamp: i64, nonce: &str) -> HmacSha256 {
    let mut mac = HmacSha256::new_from_slice(secret)
        .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
    let mut signed = format!(
        "{}\n{}\n{timestamp}\n{nonce}",
        request.method.to_ascii_uppercase(),
        request.path_and_query
    );
    for (name, values) in COVERED_HEADERS.iter().zip(request.headers) {
        signed.push('\n');
        signed.push_str(&header_digest(name, values));
    }
    signed.push('\n');
    signed.push_str(&crate::hex::encode(&Sha256::digest(request.body)));
    mac.update(signed.as_bytes());
    mac
}

/// The header value for a request, with a fresh random nonce.
pub fn sign(secret: &[u8], request: &SignedRequest<'_>, now: Timestamp) -> String {
    let nonce = crate::hex::encode(&crate::random::bytes::<NONCE_BYTES>());
    let timestamp = now.as_second();
    let tag = mac(secret, request, timestamp, &nonce)
        .finalize()
        .into_bytes();
    format!("t={timestamp},n={nonce},v1={}", crate::hex::encode(&tag))
}

/// Checks a request's header against every valid secret (in constant time per secret), then
/// that its nonce was not seen before. Only a request whose signature matches is remembered, so
/// forged requests cannot fill the cache.
pub fn verify(
    secrets: &[Vec<u8>],
    header: Option<&str>,
    request: &SignedRequest<'_>,
    now: Timestamp,
    seen: &ReplayCache,
) -> Result<(), OriginLockError> {
    let header = header.ok_or(OriginLockError::Missing)?;
    let mut timestamp = None;
    let mut nonce = None;
    let mut signatures = Vec::new();
    for part in header.split(',') {
        match part.trim().split_once('=') {
            Some(("t", t)) if timestamp.is_none() => {
                timestamp = Some(t.parse::<i64>().map_err(|_| OriginLockError::Malformed)?)
            }
            Some(("n", n)) if nonce.is_none() => {
                let bytes = crate::hex::decode(n).ok_or(OriginLockError::Malformed)?;
                let bytes: [u8; NONCE_BYTES] =
                    bytes.try_into().map_err(|_| OriginLockError::Malformed)?;
                nonce = Some((n, bytes));
            }
            Some(("v1", v)) => {
                signatures.push(crate::hex::decode(v).ok_or(OriginLockError::Malformed)?)
            }
            _ => return Err(OriginLockError::Malformed),
        }
    }
    let (timestamp, (nonce_text, nonce)) =
        timestamp.zip(nonce).ok_or(OriginLockError::Malformed)?;
    if signatures.is_empty() {
        return Err(OriginLockError::Malformed);
    }
    if (now.as_second() - timestamp).abs() > TOLERANCE_SECONDS {
        return Err(OriginLockError::Expired);
    }
    let matches = secrets.iter().any(|secret| {
        signatures.iter().any(|signature| {
            mac(secret, request, timestamp, nonce_text)
                .verify_slice(signature)
                .is_ok()
        })
    });
    if !matches {
        return Err(OriginLockError::Mismatch);
    }
    seen.remember(nonce, timestamp.saturating_add(TOLERANCE_SECONDS), now)
}

/// The nonces of accepted signatures, each kept until its signature's window has passed (then
/// the time check alone refuses it). Bounded: when full of unexpired nonces, new requests are
/// refused instead of an old nonce being forgotten (forgetting would reopen its replay).
#[derive(Debug)]
pub struct ReplayCache {
    capacity: usize,
    inner: Mutex<Remembered>,
}

#[derive(Debug, Default)]
struct Remembered {
    nonces: HashSet<[u8; NONCE_BYTES]>,
    /// The same nonces ordered by the second after which they may be forgotten.
    by_expiry: BTreeSet<(i64, [u8; NONCE_BYTES])>,
}

impl Default for ReplayCache {
    fn default() -> Self {
        Self::with_capacity(REPLAY_CACHE_CAPACITY)
    }
}

impl ReplayCache {
    pub fn with_capacity(capacity: usize) -> Self {
        Self {
            capacity,
            inner: Mutex::new(Remembered::default()),
        }
    }

    /// How many nonces are remembered now.
    pub fn len(&self) -> usize {
        self.lock().nonces.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Remembered> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn remember(
        &self,
        nonce: [u8; NONCE_BYTES],
        expires: i64,
        now: Timestamp,
    ) -> Result<(), OriginLockError> {
        let mut inner = self.lock();
        let now = now.as_second();
        while let Some(&(expiry, old)) = inner.by_expiry.first() {
            if expiry >= now {
                break;
            }
            inner.by_expiry.pop_first();
            inner.nonces.remove(&old);
        }
        if inner.nonces.contains(&nonce) {
            return Err(OriginLockError::Replayed);
        }
        if inner.nonces.len() >= self.capacity {
            return Err(OriginLockError::ReplayCacheFull);
        }
        inner.nonces.insert(nonce);
        inner.by_expiry.insert((expires, nonce));
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> Timestamp {
        "2026-11-27T10:00:00Z".parse().expect("ts")
    }

    fn at(secs: i64) -> Timestamp {
        now()
            .checked_add(crate::time::SignedDuration::from_secs(secs))
            .expect("ts")
    }

    const NONE: &[&[u8]] = &[];

    fn request<'a>(method: &'a str, path: &'a str, body: &'a [u8]) -> SignedRequest<'a> {
        SignedRequest {
            method,
            path_and_query: path,
            headers: [NONE, NONE, NONE],
            body,
        }
    }

    fn check(
        secrets: &[Vec<u8>],
        header: Option<&str>,
        request: &SignedRequest<'_>,
        now: Timestamp,
    ) -> Result<(), OriginLockError> {
        verify(secrets, header, request, now, &ReplayCache::default())
    }

    #[test]
    fn a_signed_request_verifies_and_any_change_fails() {
        let secrets = [b"edge-secret".to_vec()];
        let body = b"{\"a\":1}";
        let header = sign(
            &secrets[0],
            &request("POST", "/security/reports", body),
            now(),
        );
        let ok = check(
            &secrets,
            Some(&header),
            &request("POST", "/security/reports", body),
            now(),
        );
        assert_eq!(ok, Ok(()));
        for changed in [
            request("POST", "/security/reports", b"{\"a\":2}"),
            request("PUT", "/security/reports", body),
            request("POST", "/security/reports?x", body),
        ] {
            assert_eq!(
                check(&secrets, Some(&header), &changed, now()),
                Err(OriginLockError::Mismatch)
            );
        }
        assert_eq!(
            check(&secrets, None, &request("POST", "/", b""), now()),
            Err(OriginLockError::Missing)
        );
        for garbage in [
            "garbage",
            "t=1,v1=00",
            "t=1,n=zz,v1=00",
            "t=1,n=00,v1=00",
            "t=1,t=2,n=000102030405060708090a0b0c0d0e0f,v1=00",
        ] {
            assert_eq!(
                check(&secrets, Some(garbage), &request("POST", "/", b""), now()),
                Err(OriginLockError::Malformed),
                "{garbage}"
            );
        }
    }

    #[test]
    fn the_signature_covers_who_acts_by_digest() {
        let secrets = [b"edge-secret".to_vec()];
        let token: &[&[u8]] = &[b"Bearer their.token"];
        let other: &[&[u8]] = &[b"Bearer my.token"];
        let cookie: &[&[u8]] = &[b"a=1; b=2"];
        let id: &[&[u8]] = &[b"req_1"];
        let signed = SignedRequest {
            headers: [token, cookie, id],
            ..request("GET", "/api/incidents", b"")
        };
        let header = sign(&secrets[0], &signed, now());
        assert_eq!(check(&secrets, Some(&header), &signed, now()), Ok(()));
        let swapped_token = SignedRequest {
            headers: [other, cookie, id],
            ..signed
        };
        let dropped_token = SignedRequest {
            headers: [NONE, cookie, id],
            ..signed
        };
        let other_cookie = SignedRequest {
            headers: [token, &[b"a=1"], id],
            ..signed
        };
        let other_id = SignedRequest {
            headers: [token, cookie, &[b"req_2"]],
            ..signed
        };
        for changed in [swapped_token, dropped_token, other_cookie, other_id] {
            assert_eq!(
                check(&secrets, Some(&header), &changed, now()),
                Err(OriginLockError::Mismatch),
                "{changed:?}"
            );
        }
        // Cookies re-joined by a proxy still verify.
        let rejoined = SignedRequest {
            headers: [token, &[b"a=1", b"b=2"], id],
            ..signed
        };
        assert_eq!(check(&secrets, Some(&header), &rejoined, now()), Ok(()));
        assert!(!header.contains("their.token"));
    }

    #[test]
    fn a_signature_is_accepted_once() {
        let secrets = [b"s".to_vec()];
        let seen = ReplayCache::default();
        let healthz = request("GET", "/healthz", b"");
        let header = sign(&secrets[0], &healthz, now());
        assert_eq!(
            verify(&secrets, Some(&header), &healthz, now(), &seen),
            Ok(())
        );
        assert_eq!(
            verify(&secrets, Some(&header), &healthz, at(299), &seen),
            Err(OriginLockError::Replayed)
        );
        // Two signatures of the same request differ by their nonce.
        let again = sign(&secrets[0], &healthz, now());
        assert_ne!(again, header);
        assert_eq!(
            verify(&secrets, Some(&again), &healthz, now(), &seen),
            Ok(())
        );
        // A forged request is not remembered.
        let forged = sign(b"other", &healthz, now());
        assert_eq!(
            verify(&secrets, Some(&forged), &healthz, now(), &seen),
            Err(OriginLockError::Mismatch)
        );
        assert_eq!(seen.len(), 2);
    }

    #[test]
    fn the_replay_cache_forgets_only_expired_nonces_and_refuses_when_full() {
        let secrets = [b"s".to_vec()];
        let seen = ReplayCache::with_capacity(2);
        let healthz = request("GET", "/healthz", b"");
        let first = sign(&secrets[0], &healthz, now());
        let second = sign(&secrets[0], &healthz, at(100));
        assert_eq!(
            verify(&secrets, Some(&first), &healthz, now(), &seen),
            Ok(())
        );
        assert_eq!(
            verify(&secrets, Some(&second), &healthz, at(100), &seen),
            Ok(())
        );
        let third = sign(&secrets[0], &healthz, at(200));
        assert_eq!(
            verify(&secrets, Some(&third), &healthz, at(200), &seen),
            Err(OriginLockError::ReplayCacheFull)
        );
        assert_eq!(
            verify(&secrets, Some(&first), &healthz, at(200), &seen),
            Err(OriginLockError::Replayed),
            "a full cache forgets nothing"
        );
        // Once the first signature's window has passed, its nonce goes and makes room.
        let fourth = sign(&secrets[0], &healthz, at(301));
        assert_eq!(
            verify(&secrets, Some(&fourth), &healthz, at(301), &seen),
            Ok(())
        );
        assert_eq!(seen.len(), 2);
        assert_eq!(
            verify(&secrets, Some(&first), &healthz, at(301), &seen),
            Err(OriginLockError::Expired)
        );
    }

    #[test]
    fn replays_outside_five_minutes_fail() {
        let secret = b"s".to_vec();
        let healthz = request("GET", "/healthz", b"");
        let header = sign(&secret, &healthz, now());
        assert_eq!(
            check(
                std::slice::from_ref(&secret),
                Some(&header),
                &healthz,
                at(301)
            ),
            Err(OriginLockError::Expired)
        );
        assert_eq!(check(&[secret], Some(&header), &healthz, at(299)), Ok(()));
    }

    #[test]
    fn rotation_accepts_old_and_new_secret() {
        let old = b"old".to_vec();
        let new = b"new".to_vec();
        let root = request("GET", "/", b"");
        let header = sign(&old, &root, now());
        assert_eq!(
            check(&[new.clone(), old], Some(&header), &root, now()),
            Ok(())
        );
        assert_eq!(
            check(&[new], Some(&header), &root, now()),
            Err(OriginLockError::Mismatch)
        );
    }
}
