//! Security events: every edge decision (WAF verdicts, rate limits, lockouts) as one structured
//! record. The client's IP appears only as a keyed hash, so events can be correlated without
//! the logs holding the address.

use hmac::{KeyInit, Mac};
use kernel::time::Timestamp;
use serde::Serialize;
use sha2::Sha256;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    WafAllow,
    WafBlock,
    /// A WAF decision in report-only mode: it would have blocked; the request passed.
    WafLog,
    RateLimited,
    Lockout,
    CredentialStuffing,
    TokenRejected,
    OriginRefused,
}

#[derive(Debug, Clone, Serialize)]
pub struct SecurityEvent {
    pub event: EventKind,
    pub request_id: String,
    pub method: String,
    pub route: String,
    /// HMAC-SHA256 of the client IP under the edge's hash key, first 16 bytes, hex.
    pub client: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub rules: Vec<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub score: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    pub at: Timestamp,
}

/// The keyed hash of a client address (or any identifier: accounts are hashed the same way).
pub fn keyed_hash(key: &[u8], value: &str) -> String {
    let mut mac = hmac::Hmac::<Sha256>::new_from_slice(key)
        .unwrap_or_else(|_| unreachable!("HMAC takes any key length"));
    mac.update(value.as_bytes());
    mac.finalize().into_bytes()[..16]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_are_keyed_and_stable() {
        assert_eq!(
            keyed_hash(b"k", "203.0.113.9"),
            keyed_hash(b"k", "203.0.113.9")
        );
        assert_ne!(
            keyed_hash(b"k", "203.0.113.9"),
            keyed_hash(b"other", "203.0.113.9")
        );
        assert_eq!(keyed_hash(b"k", "x").len(), 32);
        assert!(!keyed_hash(b"k", "203.0.113.9").contains("203"));
    }
}
