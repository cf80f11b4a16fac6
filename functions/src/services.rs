//! Everything a route or job needs, built once per process (per Lambda container, not per
//! request) and shared by reference.

use std::sync::Arc;

use shared::Clock;
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
}

impl Services {
    pub fn new(
        config: Config,
        clock: Arc<dyn Clock>,
        store: Arc<dyn Store>,
        keyring: Arc<Keyring>,
        tokens: TokenVerifier,
        sender: Arc<dyn NoticeSender>,
    ) -> Self {
        let incidents = IncidentService::new(
            store.clone(),
            keyring.clone(),
            clock.clone(),
            sender,
            config.dpo_contact.clone(),
        );
        Self {
            config,
            clock,
            store,
            keyring,
            tokens,
            incidents,
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
