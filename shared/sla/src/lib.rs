//! The SLA: "monthly uptime of at least 95.0 %; below that a credit of 5 % of the monthly fee for
//! that billing period, applied only to future invoices; claims filed through the customer portal
//! with date and time of every outage, verified before granting; late or incomplete claims lapse;
//! exclusions: force majeure, customer or third-party acts, their infrastructure, planned
//! maintenance; voluntary credits at the company's discretion."

pub mod measure;
pub mod records;
pub mod report;
pub mod service;

pub use measure::{DownWhen, MinuteState, Vantage};
pub use records::{Claim, ClaimStatus, Exclusion, ExclusionCategory, RecordedOutage};
pub use report::MonthReport;
pub use service::{ProbeTarget, Prober, SlaService, TargetState};
