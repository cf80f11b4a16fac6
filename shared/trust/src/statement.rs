//! What the trust statement says: the page's sections, each promise in the page's words beside
//! the evidence for it. Every evidence item is held, failing or missing; a promise is shown as
//! held only when each of its items is.

use serde::{Deserialize, Serialize};

use kernel::time::Timestamp;

/// The same words in German and English.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Text {
    pub de: String,
    pub en: String,
}

impl Text {
    pub fn new(de: impl Into<String>, en: impl Into<String>) -> Self {
        Self {
            de: de.into(),
            en: en.into(),
        }
    }
}

/// What the evidence shows about its promise today.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// The evidence shows the promise holds.
    Held,
    /// The evidence shows the promise does not hold (or did not, in the period shown).
    Failing,
    /// There is no evidence to show: the promise is not shown as held.
    Missing,
}

/// One measurement or check beside a promise.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Evidence {
    /// Stable name, e.g. `sla.uptime`.
    pub id: String,
    pub title: Text,
    pub status: Status,
    /// When the evidence was taken: the statement's time, or the date of a figure published at
    /// build time.
    pub as_of: Option<Timestamp>,
    /// What was found, in a sentence or two.
    pub finding: Text,
    /// The figures behind the finding, one row each.
    pub facts: Vec<Fact>,
    /// Month by month uptime, for the SLA's chart.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub months: Vec<UptimeMonth>,
}

/// A labelled figure.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fact {
    pub label: Text,
    pub value: Text,
}

impl Fact {
    pub fn new(label: Text, value: Text) -> Self {
        Self { label, value }
    }

    /// A figure that reads the same in both languages (a count, a key id, an address).
    pub fn plain(label: Text, value: impl Into<String>) -> Self {
        let value = value.into();
        Self {
            label,
            value: Text::new(value.clone(), value),
        }
    }
}

/// One calendar month of the platform's uptime (Europe/Berlin).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UptimeMonth {
    /// `2026-11`.
    pub month: String,
    /// The month is over (otherwise: so far).
    pub complete: bool,
    /// Uptime in hundredths of a percent, rounded down; none without measurements.
    pub uptime_basis_points: Option<u32>,
    /// As the SLA report shows it, e.g. `99.512 %`.
    pub uptime: Option<String>,
    /// Whether the month keeps the target (none while it runs or without measurements).
    pub met: Option<bool>,
    /// Planned maintenance in the month (announced before it began), in seconds.
    pub planned_maintenance_seconds: i64,
    pub planned_maintenance_windows: u32,
}

/// One section of the page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Section {
    /// Stable name and page anchor, e.g. `sla`.
    pub id: String,
    pub title: Text,
    /// The promise in the page's words.
    pub promise: Text,
    pub evidence: Vec<Evidence>,
}

impl Section {
    /// Held only when it has evidence and every item is held; failing when any item fails;
    /// missing otherwise. A section without evidence is a statement, shown as such (`None`).
    pub fn status(&self) -> Option<Status> {
        self.evidence.iter().map(|e| e.status).max()
    }
}

/// The whole statement, as signed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrustStatement {
    /// The format's version; a reader refuses one it does not know.
    pub format: u32,
    pub issued_at: Timestamp,
    /// `production`, `staging`, … — a statement from anything but production says so.
    pub environment: String,
    /// The period the counts cover: the twelve months before `issued_at`.
    pub period_start: Timestamp,
    pub sections: Vec<Section>,
}

pub const FORMAT: u32 = 1;

impl TrustStatement {
    /// Every evidence item, with its section.
    pub fn evidence(&self) -> impl Iterator<Item = (&Section, &Evidence)> {
        self.sections
            .iter()
            .flat_map(|s| s.evidence.iter().map(move |e| (s, e)))
    }

    /// How many items are held, failing and missing.
    pub fn counts(&self) -> (usize, usize, usize) {
        let mut counts = (0, 0, 0);
        for (_, e) in self.evidence() {
            match e.status {
                Status::Held => counts.0 += 1,
                Status::Failing => counts.1 += 1,
                Status::Missing => counts.2 += 1,
            }
        }
        counts
    }
}
