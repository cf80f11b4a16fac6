//! `/console/`: what waits for the signed-in staff member, by what their roles allow — reports
//! not yet triaged, open incidents with the deadline due first, claims awaiting a decision,
//! the number of customers.

use std::sync::Arc;

use axum::extract::State;
use kernel::rbac::Permission;
use maud::html;
use sla::records::ClaimStatus;

use super::{claims, incidents as incident_pages, nav, reports, staff_only, tenants};
use crate::services::Services;
use crate::web::context::{current_lang, t};
use crate::web::format::date_time;
use crate::web::{Page, PageResult, Viewer};

pub async fn home(State(s): State<Arc<Services>>, viewer: Viewer) -> PageResult<Page> {
    staff_only(&viewer)?;
    let lang = current_lang();
    let now = s.clock.now();
    let permissions = viewer.access.permissions();
    let untriaged = if permissions.contains(Permission::ReportsRead) {
        let reports = s.incidents.list_reports(&viewer.access).await?;
        Some(reports.iter().filter(|r| r.triage.is_none()).count())
    } else {
        None
    };
    // Open incidents and, of their open deadlines, the one due first.
    let incidents = if permissions.contains(Permission::IncidentsRead) {
        Some(s.incidents.open_at_a_glance(&viewer.access).await?)
    } else {
        None
    };
    let waiting_claims = if permissions.contains(Permission::SlaClaimsRead) {
        let queue = s.sla.claims_queue(&viewer.access).await?;
        Some(
            queue
                .iter()
                .filter(|c| c.claim.status == ClaimStatus::Verified)
                .count(),
        )
    } else {
        None
    };
    let customers = if permissions.contains(Permission::TenantsManage) {
        Some(
            kernel::tenants::list(s.store.as_ref(), &viewer.access)
                .await?
                .len(),
        )
    } else {
        None
    };
    let body = html! {
        h1 { (t("Konsole", "Staff console")) }
        p class="lead" { (t("Stand ", "As of ")) (date_time(lang, now)) }
        div class="cards" {
            @if let Some(n) = untriaged {
                section class="card" aria-labelledby="card-reports" {
                    h2 id="card-reports" { (t("Meldungen", "Reports")) }
                    p class={ "figure" @if n > 0 { " bad" } } { (n) }
                    p { (t("warten auf Sichtung", "waiting for triage")) }
                    p { a href=(reports::REPORTS) { (t("Zum Eingang", "To the inbox")) } }
                }
            }
            @if let Some((open, first_due)) = &incidents {
                section class="card" aria-labelledby="card-incidents" {
                    h2 id="card-incidents" { (t("Offene Vorfälle", "Open incidents")) }
                    p class="figure" { (open) }
                    @if let Some((id, title, deadline)) = first_due {
                        p { (t("Nächste Frist: ", "Next deadline: ")) a href={ (incident_pages::INCIDENTS) "/" (id) } { (title) } }
                        p { (incident_pages::countdown(deadline, now)) }
                        (crate::web::layout::countdown_control())
                    } @else {
                        p { (t("keine offene Frist", "no open deadline")) }
                    }
                    p { a href=(incident_pages::INCIDENTS) { (t("Zu den Vorfällen", "To the incidents")) } }
                }
            }
            @if let Some(n) = waiting_claims {
                section class="card" aria-labelledby="card-claims" {
                    h2 id="card-claims" { (t("SLA-Anträge", "SLA claims")) }
                    p class="figure" { (n) }
                    p { (t("warten auf Entscheidung", "awaiting a decision")) }
                    p { a href=(claims::CLAIMS) { (t("Zur Warteschlange", "To the queue")) } }
                }
            }
            @if let Some(n) = customers {
                section class="card" aria-labelledby="card-customers" {
                    h2 id="card-customers" { (t("Kunden", "Customers")) }
                    p class="figure" { (n) }
                    p { a href=(tenants::TENANTS) { (t("Zu den Kunden", "To the customers")) } }
                }
            }
        }
    };
    Ok(Page::new(t("Konsole", "Staff console"), body)
        .nav(nav(&viewer))
        .countdown_script())
}
