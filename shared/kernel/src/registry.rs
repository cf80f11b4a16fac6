//! The registry of the deployed functions (`functions/functions.json`), compiled in: which
//! function serves which path. The edge routes by it, the functions build their routers from
//! it, Terraform deploys one Lambda per entry.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use serde::Deserialize;

/// The registry file, as written.
pub const FUNCTIONS_JSON: &str = include_str!("../../../functions/functions.json");

/// How a function is invoked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// HTTP behind a function URL; the edge forwards to it.
    Http,
    /// Scheduled jobs only (`functions/schedules.json`).
    Job,
}

impl Kind {
    /// As written in the registry (and in Terraform's `local.functions`).
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Http => "http",
            Kind::Job => "job",
        }
    }
}

/// One deployed function.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FunctionEntry {
    pub kind: Kind,
    pub description: String,
    /// The routers it serves (names the functions crate resolves), besides the health check.
    #[serde(default)]
    pub routers: Vec<String>,
    /// The paths the edge sends it: each route and everything below it.
    #[serde(default)]
    pub routes: Vec<String>,
    /// Gets every path no function's route matches (exactly one http function).
    #[serde(default)]
    pub fallback: bool,
    /// Sends mail: gets the SES permission and the mail configuration, and its binary starts
    /// with a mail transport (every other function's refuses to send).
    #[serde(default)]
    pub mail: bool,
    /// Carries credits to Stripe: gets the Stripe key, and its binary links the Stripe client
    /// (every other function's has none and refuses a key).
    #[serde(default)]
    pub stripe: bool,
    /// Probes the uptime targets: its binary links the HTTP prober.
    #[serde(default)]
    pub probes: bool,
}

/// Every deployed function by name.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Registry {
    #[serde(default)]
    pub comment: String,
    pub functions: BTreeMap<String, FunctionEntry>,
}

/// Why the registry is unusable (a build with a broken registry file; its tests catch it).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("functions/functions.json: {0}")]
pub struct RegistryError(pub String);

static REGISTRY: LazyLock<Result<Registry, RegistryError>> =
    LazyLock::new(|| Registry::parse(FUNCTIONS_JSON));

impl Registry {
    /// The compiled-in registry.
    pub fn embedded() -> Result<&'static Registry, RegistryError> {
        REGISTRY.as_ref().map_err(Clone::clone)
    }

    /// Parses and checks a registry: http functions have routes, exactly one is the fallback,
    /// no route is claimed twice, job functions have neither routers nor routes.
    pub fn parse(json: &str) -> Result<Registry, RegistryError> {
        let registry: Registry =
            serde_json::from_str(json).map_err(|e| RegistryError(e.to_string()))?;
        let mut problems = Vec::new();
        let mut seen = BTreeMap::new();
        for (name, f) in &registry.functions {
            match f.kind {
                Kind::Http if f.routers.is_empty() || f.routes.is_empty() => {
                    problems.push(format!("http function {name} needs routers and routes"));
                }
                Kind::Job if !f.routers.is_empty() || !f.routes.is_empty() || f.fallback => {
                    problems.push(format!(
                        "job function {name} cannot have routers, routes or the fallback"
                    ));
                }
                _ => {}
            }
            for route in &f.routes {
                if !route.starts_with('/') || (route.len() > 1 && route.ends_with('/')) {
                    problems.push(format!(
                        "{name}: route {route:?} must start with / and not end with one"
                    ));
                }
                if let Some(other) = seen.insert(route.as_str(), name.as_str()) {
                    problems.push(format!("route {route:?} claimed by {other} and {name}"));
                }
            }
        }
        let fallbacks = registry.functions.values().filter(|f| f.fallback).count();
        if fallbacks != 1 {
            problems.push(format!(
                "exactly one function must be the fallback, {fallbacks} are"
            ));
        }
        if problems.is_empty() {
            Ok(registry)
        } else {
            Err(RegistryError(problems.join("; ")))
        }
    }

    /// The http function the edge sends `path` to: the one with the longest matching route, or
    /// the fallback.
    pub fn function_for(&self, path: &str) -> &str {
        let mut best: Option<(&str, usize)> = None;
        for (name, f) in &self.functions {
            for route in &f.routes {
                if covers(route, path) && best.is_none_or(|(_, len)| route.len() > len) {
                    best = Some((name, route.len()));
                }
            }
        }
        match best {
            Some((name, _)) => name,
            None => self
                .functions
                .iter()
                .find(|(_, f)| f.fallback)
                .map_or("", |(name, _)| name.as_str()),
        }
    }

    /// The functions of one kind, by name.
    pub fn of_kind(&self, kind: Kind) -> impl Iterator<Item = (&str, &FunctionEntry)> {
        self.functions
            .iter()
            .filter(move |(_, f)| f.kind == kind)
            .map(|(n, f)| (n.as_str(), f))
    }
}

/// A route covers itself and every path below it (`/api/sla` covers `/api/sla/outages`, not
/// `/api/slack`).
pub fn covers(route: &str, path: &str) -> bool {
    match path.strip_prefix(route) {
        Some(rest) => rest.is_empty() || rest.starts_with('/'),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_embedded_registry_parses_and_routes() {
        let registry = Registry::embedded().unwrap();
        assert_eq!(registry.function_for("/stripe/webhook"), "stripe-webhook");
        assert_eq!(registry.function_for("/auth/sign-in"), "auth");
        assert_eq!(registry.function_for("/api/tenants/acme"), "auth");
        assert_eq!(registry.function_for("/api/sla/claims"), "sla");
        assert_eq!(registry.function_for("/api/incidents"), "incidents");
        assert_eq!(registry.function_for("/security/reports"), "incidents");
        assert_eq!(registry.function_for("/"), "incidents");
        assert_eq!(registry.function_for("/api/slack"), "incidents");
    }

    #[test]
    fn a_broken_registry_names_every_problem() {
        let err = Registry::parse(
            r#"{"functions": {
                "a": {"kind": "http", "description": "", "routers": ["x"], "routes": ["/x/"]},
                "b": {"kind": "http", "description": "", "routers": ["y"], "routes": ["/x/"]},
                "c": {"kind": "job", "description": "", "routes": ["/c"]},
                "d": {"kind": "http", "description": ""}
            }}"#,
        )
        .unwrap_err();
        for part in [
            "must start with / and not end with one",
            "claimed by a and b",
            "job function c",
            "http function d needs routers and routes",
            "exactly one function must be the fallback, 0 are",
        ] {
            assert!(err.0.contains(part), "{part} missing from {err}");
        }
    }

    #[test]
    fn routes_cover_themselves_and_below() {
        assert!(covers("/api/sla", "/api/sla"));
        assert!(covers("/api/sla", "/api/sla/outages"));
        assert!(!covers("/api/sla", "/api/slack"));
        assert!(!covers("/api/sla", "/api"));
    }
}
