//! `/portal/`: this month's uptime so far against the target, the claims and their credits.

use std::sync::Arc;

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use kernel::rbac::Permission;
use kernel::time::Month;
use maud::html;

use super::{SLA, nav, tenant_of};
use crate::services::Services;
use crate::web::context::{current_lang, t};
use crate::web::{Page, PageResult, Viewer};

pub async fn overview(State(s): State<Arc<Services>>, viewer: Viewer) -> PageResult<Response> {
    // Staff sign in on the same pages and work in the console.
    if matches!(viewer.access.principal().actor, kernel::rbac::Actor::Staff) {
        return Ok(crate::web::layout::see_other(web::paths::CONSOLE_HOME, &[]));
    }
    let tenant = tenant_of(&viewer)?;
    let lang = current_lang();
    let now = s.clock.now();
    let permissions = viewer.access.permissions();
    let month = Month::containing(now);
    let report = if permissions.contains(Permission::SlaReportRead) {
        Some(s.sla.tenant_report(&viewer.access, &tenant, month).await?)
    } else {
        None
    };
    let claims = if permissions.contains(Permission::SlaClaimsRead) {
        Some(s.sla.claims(&viewer.access, &tenant).await?)
    } else {
        None
    };
    // Open incidents, and for the newest three shown whether the company was told within the
    // 48 hours (only those are read in full: the card stays cheap with many incidents).
    let incidents = if permissions.contains(Permission::TenantIncidentsRead) {
        let mut open: Vec<_> = s
            .incidents
            .list_incidents(&viewer.access)
            .await?
            .into_iter()
            .filter(|i| i.status != incidents::model::IncidentStatus::Closed)
            .collect();
        open.sort_by_key(|i| std::cmp::Reverse(i.aware_at));
        let mut newest = Vec::new();
        for summary in open.iter().take(3) {
            if let incidents::service::IncidentForCaller::Customer(view) = s
                .incidents
                .get_incident(&viewer.access, &summary.id)
                .await?
            {
                newest.push(view);
            }
        }
        Some((open.len(), newest))
    } else {
        None
    };
    let needs_passkey = s.auth.needs_passkey(&viewer.access).await?;
    let body = html! {
        h1 { (t("Übersicht", "Overview")) }
        @if needs_passkey { (super::account::passkey_required_notice()) }
        p class="lead" { (t("Ihr Unternehmen", "Your company")) ": " strong { (tenant) } }
        div class="cards" {
            @if let Some(report) = &report {
                section class="card" aria-labelledby="uptime-heading" {
                    h2 id="uptime-heading" {
                        (t("Verfügbarkeit", "Uptime")) " · " (crate::web::format::month_name(lang, month.year(), month.month()))
                    }
                    p class={ "figure " (if report.meets_target { "good" } else { "bad" }) } { (report.uptime) }
                    p {
                        @if report.meets_target {
                            (t("Bisher über dem Ziel von ", "So far above the target of ")) (report.target) "."
                        } @else {
                            (t("Bisher unter dem Ziel von ", "So far below the target of ")) (report.target) "."
                        }
                    }
                    p { a href=(SLA) { (t("Zum SLA-Bericht", "To the SLA report")) } }
                }
            }
            @if let Some(claims) = &claims {
                section class="card" aria-labelledby="claims-heading" {
                    h2 id="claims-heading" { (t("Gutschriftsanträge", "Credit claims")) }
                    @let open = claims.iter().filter(|c| c.claim.decision.is_none() && c.claim.lapse_reason.is_none()).count();
                    @let approved = claims.iter().filter(|c| c.claim.decision.as_ref().is_some_and(|d| d.approved)).count();
                    p class="figure" { (claims.len()) }
                    p { (open) " " (t("in Prüfung", "being decided")) ", " (approved) " " (t("genehmigt", "approved")) }
                    @for view in claims.iter().filter(|c| c.credit_record.is_some()).take(3) {
                        @if let Some(credit) = &view.credit_record {
                            p {
                                (crate::web::format::money(lang, &kernel::money::Money::new(credit.amount, credit.currency)))
                                " – " (super::sla::credit_state(credit))
                            }
                        }
                    }
                }
            }
            @if let Some((open_count, open)) = &incidents {
                section class="card" aria-labelledby="incidents-heading" {
                    h2 id="incidents-heading" { (t("Offene Sicherheitsvorfälle", "Open security incidents")) }
                    p class={ "figure " (if *open_count == 0 { "good" } else { "bad" }) } { (open_count) }
                    @for view in open {
                        p {
                            a href={ (super::incidents::INCIDENTS) "/" (view.id) } { (super::incidents::title_in(view.customer_title.as_deref(), view.english.customer_title.as_deref(), view.aware_at)) }
                            br;
                            @match view.notified_within_deadline {
                                Some(true) => span class="good" { (t("innerhalb von 48 Stunden informiert", "told within 48 hours")) },
                                Some(false) => span class="bad" { (t("nach 48 Stunden informiert", "told after 48 hours")) },
                                None => span class="warn" { (t("Benachrichtigung fällig bis ", "notice due by ")) (crate::web::format::date_time(lang, view.notification_due)) },
                            }
                        }
                    }
                    p { a href=(super::incidents::INCIDENTS) { (t("Alle Vorfälle", "All incidents")) } }
                }
            }
            @if report.is_none() && claims.is_none() && incidents.is_none() && !needs_passkey {
                section class="card" {
                    h2 { (t("Willkommen", "Welcome")) }
                    p { (t(
                        "Ihr Konto hat noch keine Berechtigungen für SLA-Berichte oder Anträge. Ihre Administratorin oder Ihr Administrator kann sie vergeben.",
                        "Your account has no permissions for SLA reports or claims yet. Your administrator can grant them.",
                    )) }
                }
            }
        }
    };
    Ok(Page::new(t("Übersicht", "Overview"), body)
        .nav(nav(&viewer, &tenant))
        .into_response())
}
