//! `regrooter retention plan|run|verify-certificate` on the local platform's data directory.

use std::path::Path;

use kernel::time::{Clock, SystemClock};
use kernel::token::{Jwks, VerificationKey};

use crate::cli::{CliError, RetentionCommand};

fn print_json<T: serde::Serialize>(value: &T) -> Result<(), CliError> {
    let text = serde_json::to_string_pretty(value).map_err(|e| CliError::Usage(e.to_string()))?;
    println!("{text}");
    Ok(())
}

fn domain(e: kernel::Error) -> CliError {
    CliError::Refused(e.to_string())
}

/// A new Ed25519 key for a deployment: its secret (for the secret store) and the JWKS to publish,
/// with the keys of `add_to` kept so what the older keys signed still verifies.
pub fn new_signing_key(prefix: &str, add_to: Option<&Path>) -> Result<(), CliError> {
    use base64::Engine as _;
    let mut jwks = match add_to {
        Some(path) => serde_json::from_str::<Jwks>(&std::fs::read_to_string(path)?)
            .map_err(|e| CliError::Usage(format!("{}: {e}", path.display())))?,
        None => Jwks::default(),
    };
    let secret = kernel::token::SigningKey::generate("new").to_bytes();
    let key = kernel::token::SigningKey::from_bytes_with_derived_kid(prefix, &secret)?;
    jwks.keys.retain(|k| k.kid != key.kid());
    jwks.keys.insert(0, key.verification_key().to_jwk());
    let encoded =
        zeroize::Zeroizing::new(base64::engine::general_purpose::STANDARD.encode(&*secret));
    print_json(&serde_json::json!({
        "kid": key.kid(),
        "secret": encoded.as_str(),
        "jwks": jwks,
    }))
}

pub async fn run(command: RetentionCommand) -> Result<(), CliError> {
    match command {
        RetentionCommand::Plan { now, data } => {
            let plans = crate::local::existing(&data)
                .await?
                .retention
                .plan(now.unwrap_or_else(|| SystemClock.now()), None)
                .await
                .map_err(domain)?;
            print_json(&plans)
        }
        RetentionCommand::Run { now, data } => {
            if now.is_some() && functions::Environment::from_env()?.is_production() {
                return Err(CliError::Refused(
                    "--now is not available in production".into(),
                ));
            }
            // What the scheduled job does: the stages due, then the certificates to the breach
            // contacts (queued; the platform's outbox drain sends them).
            let services = crate::local::existing(&data).await?;
            let report = services
                .retention
                .run_due(now.unwrap_or_else(|| SystemClock.now()))
                .await
                .map_err(domain)?;
            services.send_certificates().await.map_err(domain)?;
            print_json(&report)?;
            if report.failed.is_empty() {
                Ok(())
            } else {
                Err(CliError::Refused(format!(
                    "{} tenant(s) failed; run again to resume",
                    report.failed.len()
                )))
            }
        }
        RetentionCommand::NewSigningKey { add_to } => {
            new_signing_key(functions::lambda::CERTIFICATE_KEY_PREFIX, add_to.as_deref())
        }
        RetentionCommand::VerifyCertificate { file, keys, data } => {
            let jws = std::fs::read_to_string(&file)?;
            let keys: Vec<VerificationKey> = match keys {
                Some(path) => {
                    let jwks: Jwks = serde_json::from_str(&std::fs::read_to_string(&path)?)
                        .map_err(|e| CliError::Usage(format!("{}: {e}", path.display())))?;
                    jwks.keys
                        .iter()
                        .map(VerificationKey::from_jwk)
                        .collect::<Result<_, _>>()?
                }
                None => vec![infra::local_keys::certificate_signing_key(&data)?.verification_key()],
            };
            let config = functions::Config::from_env()?;
            let certificate = retention::verify_certificate(
                &jws,
                &keys,
                &functions::services::certificate_issuer(&config),
            )
            .map_err(domain)?;
            eprintln!("certificate signature valid");
            print_json(&certificate)
        }
    }
}
