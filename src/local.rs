//! The local process's one composition: the functions' `Services` over a data directory, as
//! `regrooter serve` and the CLI commands that act on the same data build them — the embedded
//! store behind the inventory's guard, the keyring under the directory's master key, the
//! development token keys, the mail transport the configuration names, Stripe's gateway (or
//! the unconfigured one), the certificate key. (Each Lambda builds its own in
//! `functions::lambda`, from AWS.)

use std::path::Path;
use std::sync::Arc;

use functions::Services;
use kernel::Clock;
use kernel::inventory::GuardedStore;
use kernel::time::SignedDuration;
use kernel::token::TokenVerifier;

use crate::cli::{CliError, local_keyring};

/// `config` as the process will run with it; `prober` for a process that probes (the platform).
pub async fn services(
    data: &Path,
    raw: Arc<infra::EmbeddedStore>,
    clock: Arc<dyn Clock>,
    config: functions::Config,
    prober: Option<Arc<dyn sla::Prober>>,
) -> Result<Arc<Services>, CliError> {
    let store = GuardedStore::new(raw);
    let keyring = local_keyring(data, &store, clock.clone())?;
    let signing = infra::local_keys::dev_signing_key(data)?;
    let tokens = TokenVerifier::new(
        vec![signing.verification_key()],
        config.token_audience(),
        SignedDuration::from_secs(30),
    );
    let aws = match config.mail.transport {
        // SES from a local platform (say, against moto): the region is checked as on Lambda.
        functions::config::MailTransport::Ses { .. } => {
            let get = |name: &str| std::env::var(name).ok();
            let region = functions::lambda::check_region(&get)
                .map_err(|e| CliError::Refused(e.to_string()))?;
            Some(infra::aws::sdk_config(&region).await)
        }
        _ => None,
    };
    let sender = functions::mail::transport(&config.mail, aws.as_ref(), Some(data))
        .map_err(|e| CliError::Refused(format!("mail: {e}")))?;
    let gateway = functions::services::gateway(&config)?;
    let certificate_signer = Arc::new(infra::local_keys::certificate_signing_key(data)?);
    Ok(Arc::new(Services::new(
        config,
        clock,
        functions::services::Adapters {
            store,
            keyring,
            tokens,
            sender,
            gateway,
            certificate_signer: Some(certificate_signer),
            certificate_keys: vec![],
            prober,
            token_signer: Some(signing),
            index_key: Some(infra::local_keys::index_key(data)?),
            hashing: None,
        },
    )))
}

/// The services over an existing data directory on the system clock, for a CLI command (the
/// store must exist: `serve` made it).
pub async fn existing(data: &Path) -> Result<Arc<Services>, CliError> {
    let config = functions::Config::from_env()?;
    let clock = Arc::new(kernel::time::SystemClock);
    let raw = crate::cli::existing_store(data, clock.clone())?;
    services(data, raw, clock, config, None).await
}
