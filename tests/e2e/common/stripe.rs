//! Stripe's own object shapes (tests/fixtures/stripe, from Stripe's OpenAPI fixtures), with the
//! fields a test sets: for the Stripe and SLA tests.

use serde_json::{Value, json};

// ----- Stripe's shapes ------------------------------------------------------------------------

pub fn fixtures() -> Value {
    let text = include_str!("../../fixtures/stripe/objects.json");
    serde_json::from_str::<Value>(text).expect("fixtures")["resources"].clone()
}

pub fn fixture(name: &str) -> Value {
    fixtures()[name].clone()
}

pub fn event(id: &str, kind: &str, created: i64, object: Value) -> Value {
    let mut e = fixture("event");
    e["id"] = json!(id);
    e["type"] = json!(kind);
    e["created"] = json!(created);
    e["livemode"] = json!(false);
    e["data"] = json!({ "object": object });
    e
}

pub fn customer(id: &str, tenant: Option<&str>) -> Value {
    let mut c = fixture("customer");
    c["id"] = json!(id);
    c["metadata"] = match tenant {
        Some(t) => json!({ "tenant_id": t }),
        None => json!({}),
    };
    c
}

pub fn subscription(id: &str, customer: &str, status: &str, ended_at: Option<i64>) -> Value {
    let mut s = fixture("subscription");
    s["id"] = json!(id);
    s["customer"] = json!(customer);
    s["status"] = json!(status);
    s["ended_at"] = json!(ended_at);
    s["canceled_at"] = json!(ended_at);
    s
}

/// A subscription invoice for one monthly period.
pub fn invoice(id: &str, customer: &str, status: &str, period: (i64, i64), net: i64) -> Value {
    let mut i = fixture("invoice");
    i["id"] = json!(id);
    i["customer"] = json!(customer);
    i["status"] = json!(status);
    i["currency"] = json!("eur");
    i["subtotal"] = json!(net);
    i["total_excluding_tax"] = json!(net);
    i["total"] = json!(net + net * 19 / 100);
    i["billing_reason"] = json!("subscription_cycle");
    i["parent"] = json!({"type": "subscription_details", "quote_details": null,
                         "subscription_details": {"metadata": null, "subscription": "sub_acme1"}});
    let line = &mut i["lines"]["data"][0];
    line["period"] = json!({ "start": period.0, "end": period.1 });
    line["parent"] = json!({"type": "subscription_item_details", "invoice_item_details": null,
                            "subscription_item_details": {"subscription": "sub_acme1", "subscription_item": "si_1",
                                                          "invoice_item": null, "proration": false, "proration_details": null}});
    i
}
