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

/// One stored record of each of this area's kinds, as a real run wrote it, still reads and
/// writes the same (tests/fixtures/records; the kernel checks them against the inventory).
#[cfg(test)]
mod golden {
    use kernel::inventory::RecordKind;

    #[test]
    fn stored_records_read_and_write_as_stored() {
        kernel::testkit::golden_record::<crate::records::CustomerRecord>(
            RecordKind::StripeCustomer,
        );
        kernel::testkit::golden_record::<crate::records::SubscriptionRecord>(
            RecordKind::StripeSubscription,
        );
        kernel::testkit::golden_record::<crate::records::InvoiceRecord>(RecordKind::StripeInvoice);
        kernel::testkit::golden_record::<crate::records::EventMarker>(RecordKind::StripeEvent);
        kernel::testkit::golden_record::<crate::records::EventCount>(RecordKind::StripeEventCount);
        kernel::testkit::golden_record::<crate::credits::CreditRecord>(RecordKind::Credit);
    }
}
