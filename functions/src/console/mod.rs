//! The staff console's pages (the `console` function): the security team's and the DPO's
//! reports inbox, incident files with their deadlines, the breach register and legal holds;
//! billing's claims queue and credits; the operators' customers and staff accounts. Every page
//! and action is the domain service's call with the viewer's own access: the console adds no
//! permission of its own, it only shows what the roles allow.

pub mod claims;
pub mod credits;
pub mod holds;
pub mod home;
pub mod incidents;
pub mod register;
pub mod reports;
pub mod sla;
pub mod staff;
pub mod tenant;
pub mod tenants;

use kernel::rbac::{Actor, Denied, Permission};
use maud::{Markup, html};

use crate::web::context::t;
use crate::web::layout::Nav;
use crate::web::{PageError, Text, Viewer};

pub const HOME: &str = web::paths::CONSOLE_HOME;

/// The console's areas, each with the permission that shows it.
const AREAS: &[(&str, Text, Option<Permission>)] = &[
    (HOME, Text::new("Übersicht", "Overview"), None),
    (
        reports::REPORTS,
        Text::new("Meldungen", "Reports"),
        Some(Permission::ReportsRead),
    ),
    (
        incidents::INCIDENTS,
        Text::new("Vorfälle", "Incidents"),
        Some(Permission::IncidentsRead),
    ),
    (
        register::REGISTER,
        Text::new("Verzeichnis", "Register"),
        Some(Permission::IncidentsRead),
    ),
    (
        claims::CLAIMS,
        Text::new("SLA-Anträge", "SLA claims"),
        Some(Permission::SlaClaimsRead),
    ),
    (
        credits::CREDITS,
        Text::new("Gutschriften", "Credits"),
        Some(Permission::BillingRead),
    ),
    (
        holds::HOLDS,
        Text::new("Aufbewahrung", "Legal holds"),
        Some(Permission::LegalHoldsManage),
    ),
    (
        tenants::TENANTS,
        Text::new("Kunden", "Customers"),
        Some(Permission::TenantsManage),
    ),
    (
        sla::SLA,
        Text::new("Verfügbarkeit", "Availability"),
        Some(Permission::SlaReportRead),
    ),
    (
        staff::STAFF,
        Text::new("Mitarbeitende", "Staff"),
        Some(Permission::StaffManage),
    ),
    // The own account (password, passkeys, sessions): the portal's account pages, which staff
    // see inside the console's navigation.
    (
        crate::portal::account::ACCOUNT,
        Text::new("Ihr Konto", "Your account"),
        None,
    ),
];

/// The console is for the platform's staff; a customer's account gets the no-access page.
pub fn staff_only(viewer: &Viewer) -> Result<(), PageError> {
    match viewer.access.principal().actor {
        Actor::Staff => Ok(()),
        _ => Err(PageError(kernel::Error::Forbidden(Denied::PlatformData))),
    }
}

pub fn nav(viewer: &Viewer) -> Nav {
    let permissions = viewer.access.permissions();
    Nav {
        home: HOME,
        product: Text::new("Konsole", "Staff console"),
        items: AREAS
            .iter()
            .filter(|(_, _, needs)| needs.is_none_or(|p| permissions.contains(p)))
            .map(|(href, label, _)| (href.to_string(), *label))
            .collect(),
        signed_in_as: viewer.access.principal().roles.join(", "),
        form_token: viewer.form_token.clone(),
    }
}

/// A form's errors from a service's validation: (field name, message) per failing field, the
/// field named by the last segment of its JSON pointer (the forms name fields that way).
pub fn field_errors(fields: Vec<kernel::error::FieldError>) -> Vec<(String, String)> {
    fields
        .into_iter()
        .map(|f| {
            let field = f
                .pointer
                .rsplit('/')
                .next()
                .filter(|s| !s.is_empty())
                .unwrap_or("form")
                .to_string();
            (field, f.detail)
        })
        .collect()
}

/// A short notice at the top of a page after an action succeeded.
pub fn done(text: &str) -> Markup {
    html! { div class="notice" role="status" { p { (text) } } }
}

/// The first `limit` characters of a free text, for lists.
pub fn excerpt(text: &str, limit: usize) -> String {
    let mut chars = text.chars();
    let head: String = chars.by_ref().take(limit).collect();
    if chars.next().is_some() {
        format!("{}…", head.trim_end())
    } else {
        head
    }
}

/// "Nothing here yet", in the page's language.
pub fn none_yet(de: &'static str, en: &'static str) -> Markup {
    html! { p class="muted" { (t(de, en)) } }
}
