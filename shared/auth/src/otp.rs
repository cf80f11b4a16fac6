//! The second factor: TOTP (RFC 6238: HMAC-SHA1, 6 digits, 30-second steps), one step of clock
//! skew either way, each step usable once; and recovery codes, stored only as hashes.

use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use totp_rs::{Algorithm, Secret, TOTP};

use kernel::time::Timestamp;

pub const DIGITS: usize = 6;
pub const STEP_SECONDS: u64 = 30;
pub const RECOVERY_CODES: usize = 10;

fn totp(secret: &[u8]) -> Option<TOTP> {
    TOTP::new(Algorithm::SHA1, DIGITS, 0, STEP_SECONDS, secret.to_vec()).ok()
}

/// A fresh 160-bit secret (RFC 4226's recommended length).
pub fn new_secret() -> Vec<u8> {
    kernel::random::bytes::<20>().to_vec()
}

/// The base32 form authenticator apps take.
pub fn encoded(secret: &[u8]) -> String {
    Secret::Raw(secret.to_vec()).to_encoded().to_string()
}

/// The secret back from its base32 form.
pub fn decode(encoded: &str) -> Option<Vec<u8>> {
    Secret::Encoded(encoded.trim().to_string()).to_bytes().ok()
}

/// The `otpauth://` URI an authenticator app scans.
pub fn provisioning_uri(secret: &[u8], account: &str) -> String {
    let label: String = account
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | '@') {
                c.to_string()
            } else {
                format!("%{:02X}", c as u32 & 0xFF)
            }
        })
        .collect();
    format!(
        "otpauth://totp/regrooter:{label}?secret={}&issuer=regrooter&algorithm=SHA1&digits={DIGITS}&period={STEP_SECONDS}",
        encoded(secret)
    )
}

fn step_of(at: Timestamp) -> u64 {
    u64::try_from(at.as_second()).unwrap_or(0) / STEP_SECONDS
}

/// The code for the step containing `at` (for tests and enrolment checks).
pub fn code_at(secret: &[u8], at: Timestamp) -> Option<String> {
    totp(secret).map(|t| t.generate(u64::try_from(at.as_second()).unwrap_or(0)))
}

/// The step `code` belongs to, if it is valid at `at` (±1 step) and newer than `last_used`.
pub fn verify(secret: &[u8], code: &str, at: Timestamp, last_used: Option<u64>) -> Option<u64> {
    let totp = totp(secret)?;
    let code = code.trim();
    if code.len() != DIGITS || !code.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let now = step_of(at);
    let mut matched = None;
    for step in [now.saturating_sub(1), now, now + 1] {
        let expected = totp.generate(step * STEP_SECONDS);
        if bool::from(expected.as_bytes().ct_eq(code.as_bytes())) {
            matched = Some(step);
        }
    }
    matched.filter(|step| last_used.is_none_or(|last| *step > last))
}

/// Ten one-time recovery codes (shown once) and their hashes (stored).
pub fn recovery_codes() -> (Vec<String>, Vec<String>) {
    let codes: Vec<String> = (0..RECOVERY_CODES)
        .map(|_| {
            let raw = kernel::random::bytes::<10>();
            let text = Secret::Raw(raw.to_vec()).to_encoded().to_string();
            format!("{}-{}", &text[..8], &text[8..16]).to_lowercase()
        })
        .collect();
    let hashes = codes.iter().map(|c| recovery_hash(c)).collect();
    (codes, hashes)
}

/// The stored form of a recovery code (they carry 80 random bits, so a plain hash suffices).
pub fn recovery_hash(code: &str) -> String {
    kernel::hex::encode(&Sha256::digest(code.trim().to_lowercase().as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(s: &str) -> Timestamp {
        s.parse().expect("ts")
    }

    #[test]
    fn rfc_6238_test_vector_and_one_use_per_step() {
        // RFC 6238 appendix B, SHA-1 secret "12345678901234567890", T = 59 s → 94287082 (8
        // digits); the 6-digit code is its last six digits.
        let secret = b"12345678901234567890";
        assert_eq!(
            code_at(secret, ts("1970-01-01T00:00:59Z")).as_deref(),
            Some("287082")
        );
        let now = ts("2026-03-01T10:00:10Z");
        let code = code_at(secret, now).expect("code");
        let step = verify(secret, &code, now, None).expect("valid");
        assert_eq!(verify(secret, &code, now, Some(step)), None, "replayed");
        // 30 s later the same code is still accepted once (skew, one step), 90 s later not.
        let next_step = ts("2026-03-01T10:00:40Z");
        assert!(verify(secret, &code, next_step, None).is_some());
        let later = ts("2026-03-01T10:01:40Z");
        assert_eq!(verify(secret, &code, later, None), None);
        assert!(verify(secret, "12345", now, None).is_none());
        assert!(verify(secret, "abcdef", now, None).is_none());
    }

    #[test]
    fn recovery_codes_are_stored_hashed() {
        let (codes, hashes) = recovery_codes();
        assert_eq!(codes.len(), RECOVERY_CODES);
        assert_eq!(recovery_hash(&codes[0].to_uppercase()), hashes[0]);
        assert!(!hashes.contains(&codes[0]));
    }
}
