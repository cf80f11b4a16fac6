//! The second uptime vantage: the Worker's cron trigger probes the product's endpoints from
//! Cloudflare's network each minute and reports what it saw to the `sla` function on this
//! internal route. The edge refuses every `/internal/` path from clients, so only the Worker
//! itself reaches it (signed, as every forwarded request, with the origin lock).

use serde::{Deserialize, Serialize};

use crate::time::Timestamp;

/// Paths under this prefix are the platform's own; the edge answers 404 to anyone asking.
pub const INTERNAL_PREFIX: &str = "/internal/";

/// Where the edge's probe results go (the `sla` function).
pub const EDGE_PROBE_RESULTS: &str = "/internal/sla/edge-minutes";

/// One minute's results from the edge.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct EdgeProbeReport {
    /// The minute probed (the cron's scheduled time).
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub minute: Timestamp,
    pub results: Vec<EdgeProbeResult>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct EdgeProbeResult {
    /// The target's name, as configured for both vantages.
    pub target: String,
    /// The endpoint answered in time with a success status.
    pub up: bool,
}

/// How long a check may take before the minute counts as down (both vantages).
pub const CHECK_TIMEOUT_SECS: u64 = 10;

/// Whether a check's answer means up: a success status. A redirect is not followed and not up.
pub fn answered_up(status: u16) -> bool {
    (200..300).contains(&status)
}

/// One endpoint probed, as configured for both vantages (`REGROOTER_SLA_TARGETS` for the
/// region, `PROBE_TARGETS` for the Worker — the same list from Terraform).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub name: String,
    pub url: String,
}

/// Parses `name=url,name=url`: names of 1 to 64 letters, digits, `-` or `_`, each once; URLs
/// http(s).
pub fn parse_targets(raw: &str) -> Result<Vec<Target>, String> {
    let mut targets: Vec<Target> = Vec::new();
    for pair in raw.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (name, url) = pair
            .split_once('=')
            .ok_or_else(|| format!("'{pair}' is not name=url"))?;
        let (name, url) = (name.trim(), url.trim());
        if name.is_empty()
            || name.len() > 64
            || !name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            return Err(format!(
                "target name '{name}': 1 to 64 letters, digits, '-' or '_'"
            ));
        }
        if !(url.starts_with("https://") || url.starts_with("http://")) {
            return Err(format!("'{url}' is not an http(s) URL"));
        }
        if targets.iter().any(|t| t.name == name) {
            return Err(format!("target '{name}' appears twice"));
        }
        targets.push(Target {
            name: name.to_string(),
            url: url.to_string(),
        });
    }
    Ok(targets)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_parse_once_each_and_only_http() {
        let targets = parse_targets(" app=https://app.example/healthz , api=https://api.example/ ")
            .expect("targets");
        assert_eq!(targets.len(), 2);
        assert_eq!(targets[0].name, "app");
        assert!(parse_targets("app=ftp://x").is_err());
        assert!(parse_targets("a pp=https://x").is_err());
        assert!(parse_targets("app=https://x,app=https://y").is_err());
        assert!(parse_targets("app").is_err());
        assert_eq!(parse_targets(""), Ok(Vec::new()));
        assert!(answered_up(204) && !answered_up(301) && !answered_up(503));
    }
}
