//! Incident drafts for tests: the facts every incident file needs, each set by name, so a test
//! spells out only what it is about and which tenants' data the incident affects.

use serde_json::{Map, Value, json};

/// A draft of an incident file, as `POST /api/incidents` and triage take it.
#[derive(Debug, Clone)]
pub struct IncidentDraft(Map<String, Value>);

impl IncidentDraft {
    /// A confidentiality breach titled `title`, discovered and known at `aware_at` (RFC 3339),
    /// affecting no data set yet.
    pub fn new(title: &str, aware_at: &str) -> Self {
        let mut fields = Map::new();
        fields.insert("title".into(), json!(title));
        fields.insert("discovered_at".into(), json!(aware_at));
        fields.insert("aware_at".into(), json!(aware_at));
        fields.insert("breach_types".into(), json!(["confidentiality"]));
        fields.insert("data_sets".into(), json!([]));
        Self(fields)
    }

    /// What happened and how far it reached.
    pub fn nature(self, nature_and_scope: &str) -> Self {
        self.set("nature_and_scope", json!(nature_and_scope))
    }

    /// What the people concerned may suffer.
    pub fn consequences(self, likely_consequences: &str) -> Self {
        self.set("likely_consequences", json!(likely_consequences))
    }

    /// About `min`..=`max` people.
    pub fn people(self, min: u64, max: u64) -> Self {
        self.set("approx_data_subjects", json!({ "min": min, "max": max }))
    }

    /// About `min`..=`max` records.
    pub fn records(self, min: u64, max: u64) -> Self {
        self.set("approx_records", json!({ "min": min, "max": max }))
    }

    pub fn categories(self, categories: &[&str]) -> Self {
        self.set("data_categories", json!(categories))
    }

    pub fn breach_types(self, types: &[&str]) -> Self {
        self.set("breach_types", json!(types))
    }

    /// Our own data set (we are its controller).
    pub fn ours(self, name: &str) -> Self {
        self.data_set(json!({ "name": name, "role": "controller" }))
    }

    /// A customer's data set we process for `tenant`: the incident affects that tenant.
    pub fn affecting(self, tenant: &str, name: &str) -> Self {
        self.data_set(json!({ "tenant": tenant, "name": name, "role": "processor" }))
    }

    /// Any other field, as the API takes it.
    pub fn set(mut self, field: &str, value: Value) -> Self {
        self.0.insert(field.into(), value);
        self
    }

    fn data_set(mut self, set: Value) -> Self {
        if let Some(Value::Array(sets)) = self.0.get_mut("data_sets") {
            sets.push(set);
        }
        self
    }

    /// The draft as the API's JSON.
    pub fn json(&self) -> Value {
        Value::Object(self.0.clone())
    }

    /// A triage that opens an incident from this draft.
    pub fn triage(&self) -> Value {
        json!({ "outcome": "incident", "incident": self.json() })
    }

    /// The draft as the service's input type.
    pub fn input<T: serde::de::DeserializeOwned>(&self) -> T {
        serde_json::from_value(self.json()).expect("incident draft")
    }
}
