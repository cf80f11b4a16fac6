//! Evidence published at build time (see `build.rs`): the WAF's latest side-by-side measurement
//! and the latest clean dependency audit. Each is judged by its age when the statement is made.

use serde::Deserialize;

use kernel::time::{Period, Timestamp};

mod embedded {
    include!(concat!(env!("OUT_DIR"), "/published.rs"));
}

/// A WAF measurement older than this no longer speaks for the WAF deployed.
pub const WAF_EVAL_MAX_AGE: Period = Period::Days(90);
/// A clean audit older than this says nothing about advisories published since.
pub const ADVISORY_AUDIT_MAX_AGE: Period = Period::Days(30);

/// `evidence/waf-eval.json`, written by `scripts/waf-eval --publish`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct WafEval {
    pub measured_at: Timestamp,
    pub paranoia: u8,
    /// What it was measured against, e.g. "ModSecurity v3 + OWASP CRS 3.3.4".
    pub compared_with: String,
    pub rows: Vec<WafRow>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct WafRow {
    pub corpus: String,
    pub corpus_de: String,
    /// `attack` (share blocked: higher is better) or `legitimate` (share blocked: false
    /// positives, lower is better).
    pub kind: String,
    pub requests: u32,
    pub ours_blocked: u32,
    pub theirs_blocked: Option<u32>,
}

/// `evidence/advisory-audit.json`, written by `scripts/audit --publish` when the audit is clean.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct AdvisoryAudit {
    pub audited_at: Timestamp,
    pub tool: String,
    /// When the advisory database was last updated: an audit against an old database knows
    /// nothing of the advisories since.
    pub database_updated: Timestamp,
    pub crates: u32,
    pub vulnerabilities: u32,
    /// Advisories ignored with a written, dated exception.
    #[serde(default)]
    pub exceptions: Vec<String>,
}

/// A published figure: absent, unreadable, or read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Published<T> {
    Absent,
    Unreadable(String),
    Read(T),
}

fn parse<T: serde::de::DeserializeOwned>(text: Option<&str>) -> Published<T> {
    match text {
        None => Published::Absent,
        Some(text) => match serde_json::from_str(text) {
            Ok(value) => Published::Read(value),
            Err(e) => Published::Unreadable(e.to_string()),
        },
    }
}

/// The WAF figures this build carries.
pub fn waf_eval() -> Published<WafEval> {
    parse(embedded::WAF_EVAL)
}

/// The audit this build carries.
pub fn advisory_audit() -> Published<AdvisoryAudit> {
    parse(embedded::ADVISORY_AUDIT)
}
