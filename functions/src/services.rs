//! Everything a route or job needs, built once per process (per Lambda container, not per
//! request) and shared by reference.

use std::sync::Arc;

use shared::Clock;
use shared::billing::{BalanceGateway, BillingService, CreditService};
use shared::crypto::Keyring;
use shared::incidents::{IncidentService, NoticeSender};
use shared::store::Store;
use shared::token::TokenVerifier;

use crate::config::Config;

pub struct Services {
    pub config: Config,
    pub clock: Arc<dyn Clock>,
    /// Always the inventory-guarded store.
    pub store: Arc<dyn Store>,
    pub keyring: Arc<Keyring>,
    pub tokens: TokenVerifier,
    pub incidents: IncidentService,
    pub billing: Arc<BillingService>,
    pub credits: CreditService,
    /// Stripe's customer balance (or, unconfigured, a gateway that says so).
    pub gateway: Arc<dyn BalanceGateway>,
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
    pub fn new(
        config: Config,
        clock: Arc<dyn Clock>,
        store: Arc<dyn Store>,
        keyring: Arc<Keyring>,
        tokens: TokenVerifier,
        sender: Arc<dyn NoticeSender>,
        gateway: Arc<dyn BalanceGateway>,
    ) -> Self {
        let incidents = IncidentService::new(
            store.clone(),
            keyring.clone(),
            clock.clone(),
            sender,
            config.dpo_contact.clone(),
        );
        let billing = Arc::new(BillingService::new(
            store.clone(),
            clock.clone(),
            config.environment.is_production(),
        ));
        let credits = CreditService::new(store.clone(), clock.clone(), billing.clone());
        Self {
            config,
            clock,
            store,
            keyring,
            tokens,
            incidents,
            billing,
            credits,
            gateway,
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
