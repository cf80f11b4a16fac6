//! Everything a route or job needs, built once per process (per Lambda container, not per
//! request) and shared by reference.

use std::sync::Arc;

use auth::AuthService;
use billing::{BalanceGateway, BillingService, CreditService};
use incidents::{IncidentService, NoticeSender};
use kernel::Clock;
use kernel::crypto::Keyring;
use kernel::idempotency::Idempotency;
use kernel::inventory::GuardedStore;
use kernel::token::{SigningKey, TokenIssuer, TokenVerifier, VerificationKey};
use retention::RetentionService;
use sla::{Prober, SlaService};
use zeroize::Zeroizing;

use crate::config::Config;

/// The adapters a process hands the services (built by the Lambda start-up or the platform).
pub struct Adapters {
    /// The store behind the inventory's guard (the type allows no other).
    pub store: GuardedStore,
    pub keyring: Arc<Keyring>,
    pub tokens: TokenVerifier,
    pub sender: Arc<dyn NoticeSender>,
    pub gateway: Arc<dyn BalanceGateway>,
    /// Signs deletion certificates (the retention job, and the local platform).
    pub certificate_signer: Option<Arc<SigningKey>>,
    /// The published keys deletion certificates verify with.
    pub certificate_keys: Vec<VerificationKey>,
    /// How the `sla-probe` job checks its targets (none in a function that does not probe).
    pub prober: Option<Arc<dyn Prober>>,
    /// Signs access tokens (the `auth` function, and the local platform).
    pub token_signer: Option<SigningKey>,
    /// The sign-in blind index key (the `auth` function, and the local platform).
    pub index_key: Option<Zeroizing<[u8; 32]>>,
    /// Where Argon2id runs; none: tokio's blocking pool, one thread per core (tests pass one
    /// that counts or holds the work).
    pub hashing: Option<Arc<dyn auth::HashingPool>>,
}

pub struct Services {
    pub config: Config,
    pub clock: Arc<dyn Clock>,
    /// The store behind the inventory's guard (the type allows no other).
    pub store: GuardedStore,
    pub keyring: Arc<Keyring>,
    pub tokens: TokenVerifier,
    pub incidents: IncidentService,
    pub billing: Arc<BillingService>,
    pub credits: CreditService,
    /// Stripe's customer balance (or, unconfigured, a gateway that says so).
    pub gateway: Arc<dyn BalanceGateway>,
    pub retention: RetentionService,
    /// Signs deletion certificates and the trust statement (only where configured: the
    /// retention function and the local platform).
    pub certificate_signer: Option<Arc<SigningKey>>,
    pub certificate_keys: Vec<VerificationKey>,
    pub sla: SlaService,
    pub prober: Option<Arc<dyn Prober>>,
    pub auth: AuthService,
    /// Sub-processors: the list, announced changes, customers' objections.
    pub subprocessors: trust::subprocessors::SubprocessorService,
    /// Customers' documented instructions and the record of processing.
    pub instructions: trust::instructions::InstructionsService,
    /// The origin lock's memory of accepted signatures: per process, so per Lambda container
    /// (see `kernel::origin_lock` for what that leaves open).
    pub origin_replay: kernel::origin_lock::ReplayCache,
    /// `Idempotency-Key` records of creating requests.
    pub idempotency: Idempotency,
}

/// Who signs deletion certificates (the `iss` of each certificate).
pub fn certificate_issuer(config: &Config) -> String {
    format!("{}/deletion-certificates", config.token_issuer)
}

/// The HTTP prober; only `dev` may probe plain HTTP or this machine.
pub fn prober(config: &Config) -> Arc<dyn Prober> {
    Arc::new(infra::probe::HttpProber::for_dev(
        config.environment == crate::config::Environment::Dev,
    ))
}

/// The Stripe gateway the configuration asks for.
pub fn gateway(config: &Config) -> Result<Arc<dyn BalanceGateway>, crate::config::ConfigError> {
    match &config.stripe.secret_key {
        Some(key) => {
            infra::stripe::StripeGateway::new(key.expose(), config.stripe.api_base.as_deref())
                .map(|g| Arc::new(g) as Arc<dyn BalanceGateway>)
                .map_err(|e| crate::config::ConfigError::Invalid {
                    name: "STRIPE_SECRET_KEY",
                    reason: e.to_string(),
                })
        }
        None => Ok(Arc::new(infra::stripe::UnconfiguredGateway)),
    }
}

impl Services {
    pub fn new(config: Config, clock: Arc<dyn Clock>, adapters: Adapters) -> Self {
        let Adapters {
            store,
            keyring,
            tokens,
            sender,
            gateway,
            certificate_signer,
            mut certificate_keys,
            prober,
            token_signer,
            index_key,
            hashing,
        } = adapters;
        let auth = AuthService::new(
            store.clone(),
            keyring.clone(),
            clock.clone(),
            token_signer.map(|key| TokenIssuer::new(key, config.token_audience())),
            index_key,
            hashing.unwrap_or_else(|| Arc::new(infra::blocking::BlockingPool::per_core())),
        );
        // Passkeys belong to the public address; one without a domain name has none.
        let auth = match auth::service::RelyingParty::for_public_url(&config.public_url) {
            Ok(relying_party) => auth.with_relying_party(relying_party),
            Err(why) => {
                tracing::info!(target: "regrooter::auth", %why, "passkeys are off");
                auth
            }
        };
        if let Some(signer) = &certificate_signer
            && !certificate_keys.iter().any(|k| k.kid() == signer.kid())
        {
            certificate_keys.push(signer.verification_key());
        }
        let incidents = IncidentService::new(
            store.clone(),
            keyring.clone(),
            clock.clone(),
            sender,
            config.dpo_contact.clone(),
            config.public_url.clone(),
        )
        .with_alert_recipient(config.alert_email.clone());
        let billing = Arc::new(BillingService::new(
            store.clone(),
            clock.clone(),
            config.environment.is_production(),
        ));
        let credits = CreditService::new(store.clone(), clock.clone(), billing.clone())
            .with_second_approval_above(config.credit_second_approval_above);
        let sla = SlaService::new(
            store.clone(),
            clock.clone(),
            billing.clone(),
            config.sla_confirmations,
        );
        let retention = RetentionService::new(
            store.clone(),
            keyring.clone(),
            clock.clone(),
            certificate_signer.clone(),
            certificate_issuer(&config),
        );
        let idempotency = Idempotency::new(store.clone(), keyring.clone(), clock.clone());
        let subprocessors = trust::subprocessors::SubprocessorService::new(
            store.clone(),
            keyring.clone(),
            clock.clone(),
            config.subprocessor_notice,
            config.public_url.clone(),
        );
        let instructions =
            trust::instructions::InstructionsService::new(store.clone(), clock.clone());
        Self {
            idempotency,
            config,
            clock,
            store,
            keyring,
            tokens,
            incidents,
            billing,
            credits,
            gateway,
            retention,
            certificate_signer,
            certificate_keys,
            sla,
            prober,
            auth,
            subprocessors,
            instructions,
            origin_replay: kernel::origin_lock::ReplayCache::default(),
        }
    }
}

impl std::fmt::Debug for Services {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Services")
            .field("environment", &self.config.environment)
            .finish_non_exhaustive()
    }
}
