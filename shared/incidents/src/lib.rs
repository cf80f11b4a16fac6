//! Security reports and personal data breaches (GDPR Art. 33/34): intake, triage, the incident
//! file, the risk assessment, the 48 h / 72 h deadlines and their watch, customer notifications,
//! and the audit trail of every change.

pub mod assessment;
pub mod deadlines;
pub mod model;
pub mod notice;
pub mod service;

pub use assessment::{BreachType, Decision, Exfiltration, Facts, RiskLevel, assess};
pub use model::{
    IncidentId, IncidentRecord, IncidentStatus, ReportId, ReportRecord, ReportStatus, Triage,
};
pub use service::{IncidentService, NoticeSender, OutgoingMessage};
