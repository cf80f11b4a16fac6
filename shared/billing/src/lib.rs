//! Billing through Stripe: the company never collects, stores or processes card data.
//!
//! Stripe events drive billing state ([`service`]): verified webhooks ([`signature`]) processed
//! exactly once and in order per object, reading only the fields billing needs
//! ([`objects`]) into records of ids, statuses, amounts, currencies and periods ([`records`]).
//! Credits go the other way, as customer balance transactions ([`credits`]).

pub mod credits;
pub mod objects;
pub mod records;
pub mod service;
pub mod signature;

pub use credits::{
    BalanceCredit, BalanceGateway, CreditId, CreditRecord, CreditService, GatewayError,
};
pub use service::{BillingService, Outcome, Processed};
pub use signature::WebhookSecrets;
