//! The signed statement: made by the `trust-statement` job, kept as one record, served at
//! `/trust` (rendered) and `/trust/statement.json` (a JWS in the flattened JSON serialization,
//! RFC 7515 § 7.2.2). Signed with the deletion certificates' key (EdDSA), under an issuer of its
//! own, so a statement never passes for a certificate nor a certificate for a statement.

use serde::{Deserialize, Serialize};

use kernel::error::Error;
use kernel::inventory::RecordKind;
use kernel::store::{Condition, Item, ItemKey, Store};
use kernel::time::Timestamp;
use kernel::token::{SigningKey, VerificationKey};

use crate::gather::{self, Deployment, Sources};
use crate::sections;
use crate::statement::{FORMAT, TrustStatement};

const PARTITION: &str = "TRUST";
const LATEST: &str = "STATEMENT#latest";
/// The `sub` of every statement.
pub const SUBJECT: &str = "trust-statement";

/// Who signs statements: the platform's token issuer with `/trust`.
pub fn issuer(token_issuer: &str) -> String {
    format!("{token_issuer}/trust")
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StoredStatement {
    pub issued_at: Timestamp,
    /// The compact JWS.
    pub jws: String,
    pub kid: String,
}

impl StoredStatement {
    /// The flattened JSON serialization of the JWS: `protected`, `payload`, `signature`.
    pub fn flattened(&self) -> Result<serde_json::Value, Error> {
        let mut parts = self.jws.split('.');
        match (parts.next(), parts.next(), parts.next(), parts.next()) {
            (Some(protected), Some(payload), Some(signature), None) => Ok(serde_json::json!({
                "protected": protected,
                "payload": payload,
                "signature": signature,
            })),
            _ => Err(Error::Internal(
                "the stored statement is not a compact JWS".into(),
            )),
        }
    }
}

/// Makes, signs and keeps the statement as of `now`.
pub async fn issue(
    sources: &Sources<'_>,
    deployment: Deployment,
    signer: &SigningKey,
    issuer: &str,
    now: Timestamp,
) -> Result<(TrustStatement, StoredStatement), Error> {
    let statement = sections::statement(gather::figures(sources, deployment, now).await?);
    let jws = signer
        .sign_document(issuer, SUBJECT, now, statement.clone())
        .map_err(|e| Error::Internal(format!("signing the trust statement: {e}")))?;
    let stored = StoredStatement {
        issued_at: now,
        jws,
        kid: signer.kid().to_string(),
    };
    let key = ItemKey::new(PARTITION, LATEST)?;
    // A run that finishes late must not replace a newer statement with its older one.
    let condition = match sources.store.get(&key).await? {
        Some(current) if current.record::<StoredStatement>()?.issued_at > now => {
            return Ok((statement, stored));
        }
        Some(current) => Condition::Version(current.version),
        None => Condition::NotExists,
    };
    let item = Item::new(key, RecordKind::TrustStatement).with_record(&stored)?;
    sources.store.put(item, condition).await?;
    Ok((statement, stored))
}

/// The latest statement kept, if one was made.
pub async fn latest(store: &dyn Store) -> Result<Option<StoredStatement>, Error> {
    match store.get(&ItemKey::new(PARTITION, LATEST)?).await? {
        Some(item) => Ok(Some(item.record()?)),
        None => Ok(None),
    }
}

/// Why a statement does not verify.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Unverified {
    #[error("not a JWS: {0}")]
    Malformed(String),
    #[error("no published key verifies its signature")]
    Signature,
    #[error("it is not a trust statement of this issuer")]
    NotAStatement,
    #[error("format {0} is not one this reader knows")]
    Format(u32),
}

/// Reassembles a flattened JSON serialization into the compact form.
pub fn compact(flattened: &serde_json::Value) -> Result<String, Unverified> {
    let part = |name: &str| {
        flattened
            .get(name)
            .and_then(|v| v.as_str())
            .ok_or_else(|| Unverified::Malformed(format!("no \"{name}\"")))
    };
    Ok(format!(
        "{}.{}.{}",
        part("protected")?,
        part("payload")?,
        part("signature")?
    ))
}

/// Verifies a compact JWS with the published keys; returns the statement it signs.
pub fn verify(
    jws: &str,
    keys: &[VerificationKey],
    issuer: &str,
) -> Result<TrustStatement, Unverified> {
    let mut outcome = Err(Unverified::Signature);
    for key in keys {
        match key.verify_document::<TrustStatement>(issuer, jws.trim()) {
            Ok((statement, subject)) => {
                outcome = if subject != SUBJECT {
                    Err(Unverified::NotAStatement)
                } else if statement.format != FORMAT {
                    Err(Unverified::Format(statement.format))
                } else {
                    Ok(statement)
                };
                break;
            }
            Err(kernel::token::TokenError::UnknownKeyId) => continue,
            Err(kernel::token::TokenError::Malformed) => {
                return Err(Unverified::Malformed("not a compact JWS".into()));
            }
            Err(_) => {
                // Right key id, but the signature, the issuer or the claims do not match.
                outcome = Err(Unverified::Signature);
            }
        }
    }
    outcome
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::statement::{Section, Status};

    fn statement() -> TrustStatement {
        TrustStatement {
            format: FORMAT,
            issued_at: "2026-12-06T08:00:00Z".parse().expect("time"),
            environment: "test".into(),
            period_start: "2025-12-06T08:00:00Z".parse().expect("time"),
            sections: vec![Section {
                id: "backups".into(),
                title: crate::Text::new("Datensicherung", "Backups"),
                promise: crate::Text::new("7 Tage", "7 days"),
                evidence: vec![crate::evidence::backups(
                    Some(7),
                    "2026-12-06T08:00:00Z".parse().expect("time"),
                )],
            }],
        }
    }

    #[test]
    fn a_signed_statement_verifies_and_a_tampered_one_does_not() {
        let key = SigningKey::generate("cert-1");
        let issuer = issuer("https://trust.example");
        let at = statement().issued_at;
        let jws = key
            .sign_document(&issuer, SUBJECT, at, statement())
            .expect("sign");
        let stored = StoredStatement {
            issued_at: at,
            jws: jws.clone(),
            kid: "cert-1".into(),
        };
        let keys = vec![
            SigningKey::generate("other").verification_key(),
            key.verification_key(),
        ];
        // Through the flattened JSON and back.
        let compact_again = compact(&stored.flattened().expect("flattened")).expect("compact");
        let read = verify(&compact_again, &keys, &issuer).expect("verifies");
        assert_eq!(read, statement());
        assert_eq!(read.sections[0].status(), Some(Status::Held));

        // One changed status in the payload: the signature no longer matches.
        let mut parts: Vec<String> = jws.split('.').map(str::to_string).collect();
        use base64::Engine as _;
        let engine = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let payload = String::from_utf8(engine.decode(&parts[1]).expect("b64")).expect("utf8");
        assert!(payload.contains("\"held\""));
        parts[1] = engine.encode(payload.replacen("\"held\"", "\"failing\"", 1));
        assert_eq!(
            verify(&parts.join("."), &keys, &issuer),
            Err(Unverified::Signature)
        );

        // Another key with the same id, another issuer, no key: all refused.
        let impostor = SigningKey::generate("cert-1");
        let forged = impostor
            .sign_document(&issuer, SUBJECT, at, statement())
            .expect("sign");
        assert_eq!(verify(&forged, &keys, &issuer), Err(Unverified::Signature));
        let certificate_issuer = "https://trust.example/deletion-certificates";
        let other = key
            .sign_document(certificate_issuer, SUBJECT, at, statement())
            .expect("sign");
        assert_eq!(verify(&other, &keys, &issuer), Err(Unverified::Signature));
        assert_eq!(verify(&jws, &[], &issuer), Err(Unverified::Signature));
        assert!(matches!(
            verify("not a jws", &keys, &issuer),
            Err(Unverified::Malformed(_))
        ));
        // A document of the right issuer under another subject is not a statement.
        let other_subject = key
            .sign_document(&issuer, "acme", at, statement())
            .expect("sign");
        assert_eq!(
            verify(&other_subject, &keys, &issuer),
            Err(Unverified::NotAStatement)
        );
    }
}
