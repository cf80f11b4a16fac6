//! The customer portal's pages (the `portal` function): the overview and the SLA with its chart,
//! outages and claims. Each page asks the domain services, as the JSON API does, with the
//! viewer's own access; pages only arrange what the services answer.

pub mod account;
pub mod billing;
pub mod chart;
pub mod incidents;
pub mod instructions;
pub mod overview;
pub mod retention;
pub mod sla;
pub mod subprocessors;
pub mod team;

use kernel::ids::TenantId;
use kernel::rbac::{Denied, Permission};

use crate::web::layout::Nav;
use crate::web::{PageError, Text, Viewer};

pub const OVERVIEW: &str = "/portal/";
pub const SLA: &str = "/portal/sla";

/// The portal's areas, each with the permission that shows it.
const AREAS: &[(&str, Text, Option<Permission>)] = &[
    (OVERVIEW, Text::new("Übersicht", "Overview"), None),
    (
        SLA,
        Text::new("Verfügbarkeit (SLA)", "Availability (SLA)"),
        Some(Permission::SlaReportRead),
    ),
    (
        incidents::INCIDENTS,
        Text::new("Vorfälle", "Incidents"),
        Some(Permission::TenantIncidentsRead),
    ),
    (
        retention::RETENTION,
        Text::new("Löschung", "Deletion"),
        Some(Permission::RetentionRead),
    ),
    (
        billing::BILLING,
        Text::new("Abrechnung", "Billing"),
        Some(Permission::BillingRead),
    ),
    (
        team::TEAM,
        Text::new("Team", "Team"),
        Some(Permission::TenantUsersManage),
    ),
    (
        instructions::INSTRUCTIONS,
        Text::new("Weisungen", "Instructions"),
        Some(Permission::InstructionsRead),
    ),
    (
        subprocessors::SUBPROCESSORS,
        Text::new("Unterauftragsverarbeiter", "Sub-processors"),
        None,
    ),
    (
        account::ACCOUNT,
        Text::new("Ihr Konto", "Your account"),
        None,
    ),
];

/// The customer behind a portal page (staff use the console, not the portal).
pub fn tenant_of(viewer: &Viewer) -> Result<TenantId, PageError> {
    viewer
        .access
        .principal()
        .tenant()
        .cloned()
        .ok_or(PageError(kernel::Error::Forbidden(Denied::PlatformData)))
}

pub fn nav(viewer: &Viewer, tenant: &TenantId) -> Nav {
    let permissions = viewer.access.permissions();
    Nav {
        home: OVERVIEW,
        product: Text::new("Kundenportal", "Customer portal"),
        items: AREAS
            .iter()
            .filter(|(_, _, needs)| needs.is_none_or(|p| permissions.contains(p)))
            .map(|(href, label, _)| (href.to_string(), *label))
            .collect(),
        signed_in_as: tenant.to_string(),
        form_token: viewer.form_token.clone(),
    }
}
