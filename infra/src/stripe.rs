//! Stripe's API for the one call billing makes: customer balance transactions (credits on the
//! next invoice), through `async-stripe`.
//!
//! Requests are built with async-stripe's typed parameters; responses are read into the two
//! fields we use (`id`, `metadata`) rather than the full generated object graph, which keeps the
//! Lambda zips small and a changed API field from failing a credit that Stripe accepted.

use std::collections::HashMap;

use async_trait::async_trait;
use billing::credits::{
    BalanceCredit, BalanceGateway, CREDIT_METADATA_KEY, CreditId, GatewayError,
};
use stripe::{Client, ClientBuilder, IdempotencyKey, RequestStrategy, StripeError, StripeRequest};
use stripe_core::customer_balance_transaction::{
    CreateCustomerCustomerBalanceTransaction, ListCustomerCustomerBalanceTransaction,
};

/// The parts of a customer balance transaction we read.
#[derive(Debug, miniserde::Deserialize)]
struct TransactionRef {
    id: String,
    metadata: Option<HashMap<String, String>>,
}

#[derive(Debug, miniserde::Deserialize)]
struct TransactionPage {
    data: Vec<TransactionRef>,
    has_more: bool,
}

/// Each attempt gets this long; a timed-out attempt is retried later with the same key.
const TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

pub struct StripeGateway {
    client: Client,
}

impl std::fmt::Debug for StripeGateway {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("StripeGateway")
    }
}

impl StripeGateway {
    /// A client for Stripe's API, or for `api_base` (a test server) when given.
    pub fn new(secret_key: &str, api_base: Option<&str>) -> Result<Self, GatewayError> {
        let mut builder = ClientBuilder::new(secret_key).timeout(TIMEOUT).app_info(
            "regrooter",
            Some(env!("CARGO_PKG_VERSION").to_string()),
            None,
        );
        if let Some(base) = api_base {
            builder = builder.url(base);
        }
        let client = builder
            .build()
            .map_err(|e| GatewayError::Rejected(format!("Stripe client: {e}")))?;
        Ok(Self { client })
    }
}

fn classify(e: StripeError) -> GatewayError {
    match e {
        // Conflicts (a concurrent request with the same key) and rate limits pass; so do 5xx.
        StripeError::Stripe(api, status)
            if (400..500).contains(&status) && status != 409 && status != 429 =>
        {
            GatewayError::Rejected(format!(
                "{status} {}",
                api.message.as_deref().unwrap_or("(no message)")
            ))
        }
        StripeError::Stripe(api, status) => GatewayError::Unavailable(format!(
            "{status} {}",
            api.message.as_deref().unwrap_or("(no message)")
        )),
        StripeError::ConfigError(msg) => GatewayError::Rejected(msg),
        other => GatewayError::Unavailable(other.to_string()),
    }
}

#[async_trait]
impl BalanceGateway for StripeGateway {
    async fn credit(&self, request: &BalanceCredit) -> Result<String, GatewayError> {
        let key = IdempotencyKey::new(&request.idempotency_key)
            .map_err(|e| GatewayError::Rejected(format!("idempotency key: {e}")))?;
        let currency: stripe_types::Currency = request
            .currency
            .code()
            .parse()
            .unwrap_or_else(|never| match never {});
        let metadata: HashMap<String, String> = request.metadata.clone().into_iter().collect();
        let created: TransactionRef = CreateCustomerCustomerBalanceTransaction::new(
            request.customer.as_str(),
            request.amount,
            currency,
        )
        .description(request.description.clone())
        .metadata(metadata)
        .build()
        .customize()
        .request_strategy(RequestStrategy::Idempotent(key))
        .send(&self.client)
        .await
        .map_err(classify)?;
        Ok(created.id)
    }

    async fn find(
        &self,
        customer: &str,
        credit: &CreditId,
    ) -> Result<Option<String>, GatewayError> {
        let wanted = credit.to_string();
        let mut after: Option<String> = None;
        loop {
            let mut list = ListCustomerCustomerBalanceTransaction::new(customer).limit(100);
            if let Some(after) = &after {
                list = list.starting_after(after.clone());
            }
            let page: TransactionPage = list
                .build()
                .customize()
                .send(&self.client)
                .await
                .map_err(classify)?;
            if let Some(found) = page.data.iter().find(|t| {
                t.metadata
                    .as_ref()
                    .and_then(|m| m.get(CREDIT_METADATA_KEY))
                    .is_some_and(|v| v == &wanted)
            }) {
                return Ok(Some(found.id.clone()));
            }
            match (page.has_more, page.data.last()) {
                (true, Some(last)) => after = Some(last.id.clone()),
                _ => return Ok(None),
            }
        }
    }
}

/// Where no Stripe key is configured (local development): credits stay pending, and say why.
#[derive(Debug, Default)]
pub struct UnconfiguredGateway;

#[async_trait]
impl BalanceGateway for UnconfiguredGateway {
    async fn credit(&self, _: &BalanceCredit) -> Result<String, GatewayError> {
        Err(GatewayError::NotConfigured)
    }

    async fn find(&self, _: &str, _: &CreditId) -> Result<Option<String>, GatewayError> {
        Err(GatewayError::NotConfigured)
    }

    fn configured(&self) -> bool {
        false
    }
}
