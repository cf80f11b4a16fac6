//! Start-up of every Lambda binary: refuse to run outside the EU, build [`Services`] once per
//! container (clients created at init, never per request), then serve a router or run jobs.

use std::path::PathBuf;
use std::sync::Arc;

use zeroize::Zeroizing;

use incidents::NoticeSender;
use kernel::Clock;
use kernel::crypto::{KeyEncryption, Keyring};
use kernel::inventory::GuardedStore;
use kernel::store::Store;
use kernel::time::{SignedDuration, SystemClock, Timestamp};
use kernel::token::{Jwks, TokenVerifier};
use serde::Deserialize;

use crate::config::Config;
use crate::services::Services;

/// AWS regions in the EU. Customer data may only be processed in these (the page: Germany,
/// where not possible the EU).
/// AWS's `eu-*` regions in EU member states. `eu-central-2` (Zurich) and `eu-west-2` (London)
/// carry the prefix but lie outside the EU, so they are not here.
pub const EU_REGIONS: &[&str] = &[
    "eu-central-1", // Frankfurt, Germany — the default
    "eu-west-1",    // Ireland
    "eu-west-3",    // Paris, France
    "eu-north-1",   // Stockholm, Sweden
    "eu-south-1",   // Milan, Italy
    "eu-south-2",   // Aragón, Spain
];

pub const DEFAULT_ALLOWED_REGIONS: &str = "eu-central-1";

#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error(
        "refusing to start in AWS region '{region}': customer data stays in the EU; allowed here: {allowed} \
         (REGROOTER_ALLOWED_REGIONS)"
    )]
    RegionNotAllowed { region: String, allowed: String },
    #[error("refusing to start: AWS_REGION is not set, so the region cannot be checked")]
    RegionMissing,
    #[error("REGROOTER_ALLOWED_REGIONS names '{0}', which is not an EU region")]
    AllowedRegionNotEu(String),
    #[error("configuration: {0}")]
    Config(String),
    #[error("store: {0}")]
    Store(#[from] kernel::store::StoreError),
    #[error("{0}")]
    Registry(#[from] kernel::registry::RegistryError),
}

/// Checks `AWS_REGION` against the allowed list (itself restricted to EU regions).
pub fn check_region(get: &impl Fn(&str) -> Option<String>) -> Result<String, StartupError> {
    let allowed_text =
        get("REGROOTER_ALLOWED_REGIONS").unwrap_or_else(|| DEFAULT_ALLOWED_REGIONS.into());
    let allowed: Vec<String> = allowed_text
        .split(',')
        .map(|r| r.trim().to_string())
        .filter(|r| !r.is_empty())
        .collect();
    for region in &allowed {
        if !is_eu_region(region) {
            return Err(StartupError::AllowedRegionNotEu(region.clone()));
        }
    }
    let region = get("AWS_REGION").ok_or(StartupError::RegionMissing)?;
    if allowed.iter().any(|a| a == &region) {
        Ok(region)
    } else {
        Err(StartupError::RegionNotAllowed {
            region,
            allowed: allowed.join(", "),
        })
    }
}

pub fn is_eu_region(region: &str) -> bool {
    EU_REGIONS.contains(&region)
}

/// Where a function keeps its data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreChoice {
    /// DynamoDB table and KMS key (AWS; or moto's server through `AWS_ENDPOINT_URL`).
    Dynamo { table: String, kms_key_id: String },
    /// The embedded store in a data directory (the local default, e.g. under `cargo lambda watch`).
    Embedded { data: PathBuf },
}

impl StoreChoice {
    pub fn from_lookup(get: &impl Fn(&str) -> Option<String>) -> Result<Self, StartupError> {
        let missing = |name: &str| {
            StartupError::Config(format!("{name} is required with REGROOTER_STORE=dynamodb"))
        };
        match get("REGROOTER_STORE").as_deref() {
            Some("dynamodb") => Ok(StoreChoice::Dynamo {
                table: get("REGROOTER_TABLE").ok_or_else(|| missing("REGROOTER_TABLE"))?,
                kms_key_id: get("REGROOTER_KMS_KEY_ID")
                    .ok_or_else(|| missing("REGROOTER_KMS_KEY_ID"))?,
            }),
            None | Some("embedded") => Ok(StoreChoice::Embedded {
                data: get("REGROOTER_DATA")
                    .map_or_else(|| PathBuf::from("./.regrooter"), PathBuf::from),
            }),
            Some(other) => Err(StartupError::Config(format!(
                "REGROOTER_STORE is '{other}'; expected 'dynamodb' or 'embedded'"
            ))),
        }
    }
}

/// Where the services are built: the region check depends on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Host {
    /// A Lambda container: nothing starts without an allowed region, whatever the store.
    Lambda,
    /// An operator's or developer's machine (a CLI command): on the embedded store no region is
    /// needed, but one that is set is checked all the same; DynamoDB always needs an allowed one.
    Machine,
}

/// Builds the services of a Lambda container (or a CLI command) from its environment, with the
/// adapters its registry entry links (`links`): a function without mail refuses to send, one
/// without Stripe refuses a Stripe key, one without probes has no prober.
pub async fn services_from_env(
    function: &str,
    links: crate::entry::Links,
    host: Host,
) -> Result<Arc<Services>, StartupError> {
    let get = |name: &str| std::env::var(name).ok();
    let choice = StoreChoice::from_lookup(&get)?;
    if host == Host::Lambda
        || matches!(choice, StoreChoice::Dynamo { .. })
        || get("AWS_REGION").is_some()
    {
        check_region(&get)?;
    }
    let config = Config::from_env().map_err(|e| StartupError::Config(e.to_string()))?;
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    #[allow(clippy::type_complexity)]
    let (raw, kek, local_verifier, data_dir, certificate_signer, local_auth): (
        Arc<dyn Store>,
        Arc<dyn KeyEncryption>,
        Option<TokenVerifier>,
        Option<PathBuf>,
        Option<Arc<kernel::token::SigningKey>>,
        Option<(kernel::token::SigningKey, Zeroizing<[u8; 32]>)>,
    ) = match choice {
        StoreChoice::Dynamo { table, kms_key_id } => {
            let aws = infra::aws::sdk_config(&check_region(&get)?).await;
            let store = infra::dynamodb::DynamoStore::new(
                aws_sdk_dynamodb::Client::new(&aws),
                table,
                clock.clone(),
            );
            let kek = infra::kms::KmsKeyEncryption::new(aws_sdk_kms::Client::new(&aws), kms_key_id);
            (Arc::new(store), Arc::new(kek), None, None, None, None)
        }
        #[cfg(not(feature = "embedded"))]
        StoreChoice::Embedded { .. } => {
            return Err(StartupError::Config(
                "this build has no embedded store (deployed zips run on DynamoDB): set REGROOTER_STORE=dynamodb"
                    .into(),
            ));
        }
        #[cfg(feature = "embedded")]
        StoreChoice::Embedded { data } => {
            let io = |e: infra::local_keys::KeyFileError| StartupError::Config(e.to_string());
            infra::local_keys::ensure_data_dir(&data).map_err(io)?;
            let store = infra::EmbeddedStore::open(&data.join("store.db"), clock.clone())?;
            let master = infra::local_keys::master_key(&data).map_err(io)?;
            let signing = infra::local_keys::dev_signing_key(&data).map_err(io)?;
            let certificates = infra::local_keys::certificate_signing_key(&data).map_err(io)?;
            let index = infra::local_keys::index_key(&data).map_err(io)?;
            let issuing = infra::local_keys::dev_signing_key(&data).map_err(io)?;
            let verifier = TokenVerifier::new(
                vec![signing.verification_key()],
                config.token_audience(),
                SignedDuration::from_secs(30),
            );
            (
                Arc::new(store),
                Arc::new(kernel::crypto::LocalKeyEncryption::new("master", &master)),
                Some(verifier),
                Some(data),
                Some(Arc::new(certificates)),
                Some((issuing, index)),
            )
        }
    };
    // Token issuing and the sign-in index: the auth function's secrets in AWS.
    let (token_signer, index_key) = match local_auth {
        Some((signer, index)) => (Some(signer), Some(index)),
        None => (
            match get("REGROOTER_SIGNING_KEY") {
                Some(secret) => Some(secret_signing_key(
                    "REGROOTER_SIGNING_KEY",
                    TOKEN_KEY_PREFIX,
                    &secret,
                )?),
                None => None,
            },
            match get("REGROOTER_INDEX_KEY") {
                Some(secret) => Some(index_key_from_env(&secret)?),
                None => None,
            },
        ),
    };
    let tokens = match (get("REGROOTER_JWKS"), local_verifier) {
        (Some(jwks), _) => {
            let jwks: Jwks = serde_json::from_str(&jwks)
                .map_err(|e| StartupError::Config(format!("REGROOTER_JWKS: {e}")))?;
            TokenVerifier::from_jwks(
                &jwks,
                config.token_audience(),
                SignedDuration::from_secs(30),
            )
            .map_err(|e| StartupError::Config(format!("REGROOTER_JWKS: {e}")))?
        }
        (None, Some(local)) => local,
        (None, None) => {
            return Err(StartupError::Config(
                "REGROOTER_JWKS is required with DynamoDB".into(),
            ));
        }
    };
    let store = GuardedStore::new(raw);
    let keyring = Arc::new(Keyring::new(kek, store.shared(), clock.clone()));
    let gateway = match links.stripe {
        Some(gateway) => gateway(&config).map_err(|e| StartupError::Config(e.to_string()))?,
        // Least privilege: a key this function cannot use must not be in its environment.
        None if config.stripe.secret_key.is_some() => {
            return Err(StartupError::Config(format!(
                "STRIPE_SECRET_KEY is set, but the registry does not let {function} use Stripe"
            )));
        }
        None => Arc::new(infra::stripe::UnconfiguredGateway),
    };
    let (certificate_signer, certificate_keys) =
        match (certificate_signer, get("REGROOTER_CERTIFICATE_KEY")) {
            (Some(local), _) => (Some(local), vec![]),
            (None, Some(secret)) => (
                Some(Arc::new(secret_signing_key(
                    "REGROOTER_CERTIFICATE_KEY",
                    CERTIFICATE_KEY_PREFIX,
                    &secret,
                )?)),
                vec![],
            ),
            (None, None) => (None, vec![]),
        };
    let certificate_keys = match get("REGROOTER_CERTIFICATE_JWKS") {
        Some(jwks) => {
            let jwks: Jwks = serde_json::from_str(&jwks)
                .map_err(|e| StartupError::Config(format!("REGROOTER_CERTIFICATE_JWKS: {e}")))?;
            jwks.keys
                .iter()
                .map(kernel::token::VerificationKey::from_jwk)
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| StartupError::Config(format!("REGROOTER_CERTIFICATE_JWKS: {e}")))?
        }
        None => certificate_keys,
    };
    let sender: Arc<dyn NoticeSender> = match links.mail {
        Some(factory) => {
            let aws = match config.mail.transport {
                crate::config::MailTransport::Ses { .. } => {
                    Some(infra::aws::sdk_config(&check_region(&get)?).await)
                }
                _ => None,
            };
            factory(&config.mail, aws.as_ref(), data_dir.as_deref())
                .map_err(|e| StartupError::Config(format!("mail: {e}")))?
        }
        None => Arc::new(incidents::NoTransport),
    };
    let prober = links.probes.map(|prober| prober(&config));
    Ok(Arc::new(Services::new(
        config,
        clock,
        crate::services::Adapters {
            store,
            keyring,
            tokens,
            sender,
            gateway,
            certificate_signer,
            certificate_keys,
            prober,
            token_signer,
            index_key,
            hashing: None,
        },
    )))
}

/// Key ids of access-token keys start with this.
pub const TOKEN_KEY_PREFIX: &str = "tok";

/// The sign-in index key from `REGROOTER_INDEX_KEY`: 32 bytes, base64.
fn index_key_from_env(secret: &str) -> Result<Zeroizing<[u8; 32]>, StartupError> {
    use base64::Engine as _;
    let bytes = Zeroizing::new(
        base64::engine::general_purpose::STANDARD
            .decode(secret.trim())
            .map_err(|e| StartupError::Config(format!("REGROOTER_INDEX_KEY: {e}")))?,
    );
    let mut key = Zeroizing::new([0u8; 32]);
    if bytes.len() != 32 {
        return Err(StartupError::Config(format!(
            "REGROOTER_INDEX_KEY: expected 32 bytes, found {}",
            bytes.len()
        )));
    }
    key.copy_from_slice(&bytes);
    Ok(key)
}

/// Key ids of deletion-certificate keys start with this (`regrooter retention new-signing-key`
/// makes such keys; the local platform's key file gets the same kind of id).
pub const CERTIFICATE_KEY_PREFIX: &str = "cert";

/// An Ed25519 signing key from a secret environment variable: the 64-byte secret, base64 (the
/// function's secret, encrypted with the KMS key). Its key id is `<prefix>-` and the start of its
/// public key.
fn secret_signing_key(
    name: &str,
    prefix: &str,
    secret: &str,
) -> Result<kernel::token::SigningKey, StartupError> {
    use base64::Engine as _;
    let bad = |reason: String| StartupError::Config(format!("{name}: {reason}"));
    let bytes = Zeroizing::new(
        base64::engine::general_purpose::STANDARD
            .decode(secret.trim())
            .map_err(|e| bad(e.to_string()))?,
    );
    kernel::token::SigningKey::from_bytes_with_derived_kid(prefix, &bytes)
        .map_err(|e| bad(e.to_string()))
}

/// JSON logs to stderr (CloudWatch), without ANSI colours.
pub fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .json()
        .with_env_filter(filter)
        .with_ansi(false)
        .with_writer(std::io::stderr)
        .try_init();
}

/// Runs an HTTP function: its routers from the registry (`functions/functions.json`) for
/// function URL events, and — for the function subscribed to the mail events topic — the SES
/// delivery events SNS invokes it with.
pub async fn serve_http(function: crate::entry::HttpFunction) -> Result<(), lambda_http::Error> {
    init_logging();
    let services = match services_from_env(function.name, function.links, Host::Lambda).await {
        Ok(s) => s,
        Err(e) => exit_on_startup_error(&e),
    };
    let router = crate::routes::for_function(&function, services.clone());
    lambda_runtime::run(lambda_runtime::service_fn(
        move |event: lambda_runtime::LambdaEvent<serde_json::Value>| {
            let services = services.clone();
            let router = router.clone();
            async move { handle_http_or_mail_event(services, router, event).await }
        },
    ))
    .await
}

/// One invocation of an HTTP function: an SNS delivery of mail events, or a function URL
/// request handed to the router exactly as `lambda_http::run` would.
async fn handle_http_or_mail_event(
    services: Arc<Services>,
    router: axum::Router,
    event: lambda_runtime::LambdaEvent<serde_json::Value>,
) -> Result<serde_json::Value, lambda_runtime::Error> {
    use lambda_runtime::Service as _;
    let lambda_runtime::LambdaEvent { payload, context } = event;
    if crate::mail::is_sns_event(&payload) {
        let outcome = crate::mail::handle_events(&services, payload)
            .await
            .map_err(|e| lambda_runtime::Error::from(e.to_string()))?;
        return Ok(serde_json::to_value(outcome)?);
    }
    let request: lambda_http::request::LambdaRequest = serde_json::from_value(payload)?;
    // axum's router is always ready, so no poll_ready before the call.
    let response = lambda_http::Adapter::from(router)
        .call(lambda_runtime::LambdaEvent::new(request, context))
        .await?;
    Ok(serde_json::to_value(response)?)
}

/// The event EventBridge Scheduler sends (its input template in Terraform fills the time).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScheduledEvent {
    pub job: String,
    pub scheduled_time: Timestamp,
}

#[derive(Debug, serde::Serialize)]
pub struct JobOutcome {
    pub job: String,
    pub scheduled_time: Timestamp,
}

/// Runs a job function: each scheduled event names the job and its scheduled time. Only the
/// jobs `schedules.json` assigns to `function` are accepted.
pub async fn run_jobs(function: crate::entry::JobFunction) -> Result<(), lambda_runtime::Error> {
    init_logging();
    let services = match services_from_env(function.name, function.links, Host::Lambda).await {
        Ok(s) => s,
        Err(e) => exit_on_startup_error(&e),
    };
    lambda_runtime::run(lambda_runtime::service_fn(
        move |event: lambda_runtime::LambdaEvent<ScheduledEvent>| {
            let services = services.clone();
            async move {
                let ScheduledEvent {
                    job,
                    scheduled_time,
                } = event.payload;
                let run = function
                    .jobs
                    .iter()
                    .find(|(name, _)| *name == job)
                    .map(|(_, run)| *run)
                    .ok_or_else(|| {
                        lambda_runtime::Error::from(format!("no job '{job}' in this function"))
                    })?;
                run(services, scheduled_time)
                    .await
                    .map_err(|e| lambda_runtime::Error::from(e.to_string()))?;
                Ok::<_, lambda_runtime::Error>(JobOutcome {
                    job,
                    scheduled_time,
                })
            }
        },
    ))
    .await
}

fn exit_on_startup_error(e: &StartupError) -> ! {
    // Lambda reports a failed init with this message; the process must not serve anything.
    eprintln!("error: {e}");
    tracing::error!(error = %e, "startup refused");
    std::process::exit(2)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn lookup(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |k| map.get(k).cloned()
    }

    #[test]
    fn only_allowed_eu_regions_start() {
        assert_eq!(
            check_region(&lookup(&[("AWS_REGION", "eu-central-1")])).expect("frankfurt"),
            "eu-central-1"
        );
        let err = check_region(&lookup(&[("AWS_REGION", "us-east-1")])).expect_err("us");
        assert!(err.to_string().contains("'us-east-1'"), "{err}");
        assert!(matches!(
            check_region(&lookup(&[("AWS_REGION", "eu-west-1")])),
            Err(StartupError::RegionNotAllowed { .. })
        ));
        assert!(
            check_region(&lookup(&[
                ("AWS_REGION", "eu-west-1"),
                ("REGROOTER_ALLOWED_REGIONS", "eu-central-1, eu-west-1")
            ]))
            .is_ok()
        );
        assert!(matches!(
            check_region(&lookup(&[])),
            Err(StartupError::RegionMissing)
        ));
        for not_eu in ["us-east-1", "eu-west-2", "eu-central-2", "il-central-1"] {
            assert!(matches!(
                check_region(&lookup(&[
                    ("AWS_REGION", "eu-central-1"),
                    ("REGROOTER_ALLOWED_REGIONS", not_eu)
                ])),
                Err(StartupError::AllowedRegionNotEu(_))
            ));
        }
    }

    #[test]
    fn store_choice() {
        assert!(matches!(
            StoreChoice::from_lookup(&lookup(&[])),
            Ok(StoreChoice::Embedded { .. })
        ));
        let incomplete = StoreChoice::from_lookup(&lookup(&[("REGROOTER_STORE", "dynamodb")]));
        assert!(
            matches!(&incomplete, Err(StartupError::Config(m))
                if m == "REGROOTER_TABLE is required with REGROOTER_STORE=dynamodb"),
            "{incomplete:?}"
        );
        assert_eq!(
            StoreChoice::from_lookup(&lookup(&[
                ("REGROOTER_STORE", "dynamodb"),
                ("REGROOTER_TABLE", "t"),
                ("REGROOTER_KMS_KEY_ID", "k")
            ]))
            .expect("dynamo"),
            StoreChoice::Dynamo {
                table: "t".into(),
                kms_key_id: "k".into()
            }
        );
        let unknown = StoreChoice::from_lookup(&lookup(&[("REGROOTER_STORE", "postgres")]));
        assert!(
            matches!(&unknown, Err(StartupError::Config(m))
                if m.starts_with("REGROOTER_STORE is 'postgres'")),
            "{unknown:?}"
        );
    }

    #[test]
    fn the_certificate_key_comes_from_its_base64_secret_with_a_derived_id() {
        use base64::Engine as _;
        let made = kernel::token::SigningKey::generate("x");
        let secret = base64::engine::general_purpose::STANDARD.encode(&*made.to_bytes());
        let first =
            secret_signing_key("REGROOTER_CERTIFICATE_KEY", CERTIFICATE_KEY_PREFIX, &secret)
                .expect("key");
        let again = secret_signing_key(
            "REGROOTER_CERTIFICATE_KEY",
            CERTIFICATE_KEY_PREFIX,
            &format!(" {secret}\n"),
        )
        .expect("trimmed");
        assert!(first.kid().starts_with("cert-"), "{}", first.kid());
        assert_eq!(first.kid(), again.kid());
        assert_eq!(
            first.verification_key().to_jwk().x,
            made.verification_key().to_jwk().x
        );
        for bad in ["not base64!", "c2hvcnQ="] {
            let err = secret_signing_key("REGROOTER_CERTIFICATE_KEY", CERTIFICATE_KEY_PREFIX, bad)
                .expect_err("bad key");
            assert!(
                err.to_string().contains("REGROOTER_CERTIFICATE_KEY"),
                "{err}"
            );
        }
    }
}
