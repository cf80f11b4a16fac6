//! `/portal/sla/{month}`: the month's report with its chart, the outages with what was excluded
//! and why, the claims in plain words, and the claim form (pre-filled with the measured outages
//! when the month fell short, as the terms require every outage's start and end).

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use billing::credits::{CreditRecord, CreditStatus};
use kernel::Error;
use kernel::rbac::Permission;
use kernel::time::{Month, TimeRange};
use maud::{Markup, html};
use serde::Deserialize;
use sla::MonthReport;
use sla::records::ClaimStatus;
use sla::service::{ClaimInput, ClaimView, ClaimedOutage};

use super::{SLA, nav, tenant_of};
use crate::http::Path;
use crate::services::Services;
use crate::web::context::{current_lang, t};
use crate::web::format::{date_time, duration, local_input, local_time, money, month_name};
use crate::web::layout::{error_summary, field_error, form_token_field, see_other};
use crate::web::{Page, PageError, PageForm, PageResult, Viewer};

/// How many outage rows the claim form offers beyond the pre-filled ones.
const EMPTY_ROWS: usize = 2;
/// At most this many rows are read from a posted form (the domain allows fewer).
const MAX_ROWS: usize = 64;

fn month_path(month: Month) -> String {
    format!("{SLA}/{month}")
}

fn parse_month(raw: &str) -> PageResult<Month> {
    raw.parse()
        .map_err(|_| PageError(Error::NotFound("month".into())))
}

/// Links to the month before and (until the current one) the month after; `path` gives a
/// month's page.
pub fn month_nav(
    month: Month,
    now: kernel::time::Timestamp,
    path: impl Fn(Month) -> String,
) -> Markup {
    let lang = current_lang();
    html! {
        nav aria-label=(t("Monate", "Months")) {
            ul class="legend" {
                @if let Some(prev) = previous(month) {
                    li { a href=(path(prev)) { "← " (month_name(lang, prev.year(), prev.month())) } }
                }
                @if let Ok(next) = month.next() && next <= Month::containing(now) {
                    li { a href=(path(next)) { (month_name(lang, next.year(), next.month())) " →" } }
                }
            }
        }
    }
}

fn previous(month: Month) -> Option<Month> {
    if month.month() == 1 {
        Month::new(month.year() - 1, 12).ok()
    } else {
        Month::new(month.year(), month.month() - 1).ok()
    }
}

/// `/portal/sla`: the current month.
pub async fn current(State(s): State<Arc<Services>>) -> Response {
    see_other(&month_path(Month::containing(s.clock.now())), &[])
}

pub async fn month_page(
    State(s): State<Arc<Services>>,
    viewer: Viewer,
    Path(raw): Path<String>,
) -> PageResult<Page> {
    let month = parse_month(&raw)?;
    render(&s, &viewer, month, None, Vec::new()).await
}

/// A claim form's rows, as posted: `start_N` / `end_N` in local time (`datetime-local`).
#[derive(Debug, Default, Deserialize)]
pub struct ClaimForm {
    #[serde(flatten)]
    fields: std::collections::BTreeMap<String, String>,
}

type Rows = Vec<(String, String)>;

pub async fn file_claim(
    State(s): State<Arc<Services>>,
    viewer: Viewer,
    Path(raw): Path<String>,
    PageForm(form): PageForm<ClaimForm>,
) -> PageResult<Response> {
    let month = parse_month(&raw)?;
    let tenant = tenant_of(&viewer)?;
    let mut rows: Rows = Vec::new();
    let mut outages = Vec::new();
    let mut errors = Vec::new();
    for i in 0..MAX_ROWS {
        let start = form
            .fields
            .get(&format!("start_{i}"))
            .map(String::as_str)
            .unwrap_or_default();
        let end = form
            .fields
            .get(&format!("end_{i}"))
            .map(String::as_str)
            .unwrap_or_default();
        if start.trim().is_empty() && end.trim().is_empty() {
            continue;
        }
        let row = rows.len();
        rows.push((start.to_string(), end.to_string()));
        let parsed = (local_time(start), local_time(end));
        if parsed.0.is_none() {
            errors.push((
                format!("start_{row}"),
                t(
                    "Bitte Datum und Uhrzeit des Beginns angeben.",
                    "Please give the start's date and time.",
                )
                .to_string(),
            ));
        }
        if parsed.1.is_none() {
            errors.push((
                format!("end_{row}"),
                t(
                    "Bitte Datum und Uhrzeit des Endes angeben.",
                    "Please give the end's date and time.",
                )
                .to_string(),
            ));
        }
        outages.push(ClaimedOutage {
            start: parsed.0,
            end: parsed.1,
        });
    }
    if rows.is_empty() {
        errors.push((
            "start_0".into(),
            t(
                "Nennen Sie jeden Ausfall mit Beginn und Ende.",
                "Name every outage with its start and end.",
            )
            .into(),
        ));
    }
    if !errors.is_empty() {
        let page = render(&s, &viewer, month, Some(rows), errors).await?;
        return Ok(page
            .status(StatusCode::UNPROCESSABLE_ENTITY)
            .into_response());
    }
    let input = ClaimInput {
        month: Some(month.to_string()),
        outages: Some(outages),
    };
    match s.sla.file_claim(&viewer.access, &tenant, input).await {
        Ok(_) => Ok(see_other(&format!("{}#claims", month_path(month)), &[])),
        Err(Error::Validation(fields)) => {
            // The domain's findings, under the row they concern (`/outages/2/end` → `end_2`).
            let errors = fields
                .into_iter()
                .map(|f| {
                    let mut parts = f.pointer.trim_start_matches('/').split('/');
                    let field = match (parts.next(), parts.next(), parts.next()) {
                        (Some("outages"), Some(i), Some(which)) => format!("{which}_{i}"),
                        _ => "start_0".to_string(),
                    };
                    (field, claim_error_text(&f.detail))
                })
                .collect();
            let page = render(&s, &viewer, month, Some(rows), errors).await?;
            Ok(page
                .status(StatusCode::UNPROCESSABLE_ENTITY)
                .into_response())
        }
        Err(e) => Err(PageError(e)),
    }
}

/// The domain's validation messages are English; the portal shows its own words for the ones a
/// customer can meet, and the domain's otherwise.
fn claim_error_text(message: &str) -> String {
    if message.contains("once the month is over") {
        t(
            "Anträge sind erst nach Ablauf des Monats möglich.",
            "Claims can be filed once the month is over.",
        )
        .into()
    } else if message.contains("already") {
        t(
            "Für diesen Monat liegt bereits ein Antrag vor.",
            "There already is a claim for this month.",
        )
        .into()
    } else {
        message.to_string()
    }
}

/// Where a credit stands, in words (never Stripe ids or errors).
pub fn credit_state(credit: &CreditRecord) -> &'static str {
    match credit.status {
        CreditStatus::Pending => t(
            "genehmigt, wird Ihrem Kundenkonto gutgeschrieben und mit Ihrer nächsten Rechnung verrechnet",
            "approved, being added to your account and taken off your next invoice",
        ),
        CreditStatus::Applied => t(
            "Ihrem Kundenkonto gutgeschrieben: wird mit Ihrer nächsten Rechnung verrechnet",
            "on your account: taken off your next invoice",
        ),
        CreditStatus::AwaitingApproval => t(
            "in Vorbereitung: wird noch freigegeben",
            "in preparation: awaiting release",
        ),
        CreditStatus::Cancelled => t("zurückgezogen", "withdrawn"),
    }
}

fn claim_state(view: &ClaimView) -> Markup {
    let lang = current_lang();
    let claim = &view.claim;
    html! {
        @match claim.status {
            ClaimStatus::Lapsed => {
                span class="status bad" { (t("Verfallen", "Lapsed")) }
                " " (t("Der Antrag kam nach Ablauf der Frist am ", "The claim came after its deadline of ")) (date_time(lang, claim.deadline)) "."
            }
            ClaimStatus::Verified => {
                @if let Some(v) = &claim.verification {
                    @if v.eligible {
                        span class="status good" { (t("Geprüft: berechtigt", "Verified: eligible")) }
                        " " (t("Die Messungen bestätigen den Ausfall; die Abrechnung entscheidet über die Gutschrift", "The measurements confirm the outage; billing decides on the credit"))
                        @if let Some(credit) = &v.credit { " (" (money(lang, credit)) ")" } "."
                    } @else {
                        span class="status warn" { (t("Geprüft: nicht berechtigt", "Verified: not eligible")) }
                        " "
                        @if v.meets_target {
                            (t("Die gemessene Verfügbarkeit erreicht das Ziel: ", "The measured uptime meets the target: ")) (v.uptime) "."
                        } @else if v.fee_basis.is_none() {
                            (t(
                                "Die Messungen bestätigen die Unterschreitung, doch für den Monat liegt keine Rechnung vor, aus deren Gebühr sich eine Gutschrift berechnet.",
                                "The measurements confirm the shortfall, but there is no invoice for the month whose fee a credit would be taken from.",
                            ))
                        } @else {
                            (t("Die Messungen stützen die genannten Ausfälle nicht.", "The measurements do not support the outages named."))
                        }
                    }
                }
            }
            ClaimStatus::Approved => {
                span class="status good" { (t("Genehmigt", "Approved")) }
                @if let Some(credit) = &view.credit_record {
                    " " (money(lang, &kernel::money::Money::new(credit.amount, credit.currency))) ": " (credit_state(credit)) "."
                }
            }
            ClaimStatus::Rejected => {
                span class="status bad" { (t("Abgelehnt", "Rejected")) }
                @if let Some(d) = &claim.decision { " " (d.reason) }
            }
        }
    }
}

/// A month's report as figures, the day chart and the outages and exclusions in words: the
/// customer's month in the portal, the platform's in the console.
pub fn month_figures(report: &MonthReport, now: kernel::time::Timestamp, title: &str) -> Markup {
    let days = super::chart::days(report, now);
    let target: f64 = report
        .target
        .trim_end_matches('%')
        .trim()
        .parse()
        .unwrap_or(95.0);
    let short_days = days.iter().filter(|d| d.counted_seconds > 0).count();
    let description = format!(
        "{} {}, {} {}. {} {}.",
        t("Verfügbarkeit im Monat", "Uptime in the month"),
        report.uptime,
        t("Ziel", "target"),
        report.target,
        t(
            "Tage mit zählender Ausfallzeit:",
            "Days with downtime that counts:"
        ),
        short_days
    );
    html! {
    div class="cards" {
        div class="card" {
            h2 { (t("Verfügbarkeit", "Uptime")) }
            p class={ "figure " (if report.meets_target { "good" } else { "bad" }) } { (report.uptime) }
            p { (t("Ziel", "Target")) ": " (report.target)
                @if !report.complete { " · " (t("Monat läuft noch", "month still running")) } }
        }
        div class="card" {
            h2 { (t("Zählende Ausfallzeit", "Downtime that counts")) }
            p class="figure" { (duration(report.counted_downtime_seconds)) }
            p { (t("Ausgenommen", "Excluded")) ": " (duration(report.excluded_seconds)) }
        }
    }
    figure class="chart" {
        (super::chart::month_chart(&days, target, title, &description))
        figcaption {
            (t("Ein Balken je Kalendertag (Europa/Berlin), seine Höhe die Verfügbarkeit des Tages; eine Marke unter der Achse für jeden Tag mit Ausfall; die gestrichelte Linie ist das Ziel.", "One bar per calendar day (Europe/Berlin), its height the day's uptime; a mark under the axis for each day with an outage; the dashed line is the target."))
            ul class="legend" {
                li { span class="swatch up" {} (t("verfügbar", "available")) }
                li { span class="swatch down" {} (t("Ausfall, zählt", "outage, counts")) }
                li { span class="swatch excluded" {} (t("Ausfall, ausgenommen", "outage, excluded")) }
                li { span class="swatch future" {} (t("noch nicht erreicht", "still to come")) }
            }
        }
    }
    h2 id="outages" { (t("Ausfälle", "Outages")) }
    @if report.outages.is_empty() {
        p { (t("In diesem Monat wurde kein Ausfall gemessen.", "No outage was measured this month.")) }
    } @else {
        table {
            caption class="muted" { (t("Gemessene und erfasste Ausfälle", "Measured and recorded outages")) }
            thead { tr {
                th scope="col" { (t("Zeitraum", "Period")) }
                th scope="col" class="num" { (t("Dauer", "Length")) }
                th scope="col" class="num" { (t("Ausgenommen", "Excluded")) }
                th scope="col" class="num" { (t("Zählt", "Counts")) }
            } }
            tbody {
                @for outage in &report.outages {
                    tr {
                        td { (range_text(&outage.range)) }
                        td class="num" { (duration(outage.seconds)) }
                        td class="num" { (duration(outage.excluded_seconds)) }
                        td class="num" { (duration(outage.counted_seconds)) }
                    }
                }
            }
        }
    }
    @if !report.exclusions.is_empty() {
        h2 { (t("Ausnahmen", "Exclusions")) }
        table {
            thead { tr {
                th scope="col" { (t("Zeitraum", "Period")) }
                th scope="col" { (t("Art", "Kind")) }
                th scope="col" { (t("Grund", "Reason")) }
                th scope="col" class="num" { (t("Ausgenommen", "Excluded")) }
            } }
            tbody {
                @for exclusion in &report.exclusions {
                    tr {
                        td { (range_text(&exclusion.range)) }
                        td { (exclusion_category(exclusion.category)) }
                        td { (exclusion.reason) }
                        td class="num" { (duration(exclusion.excluded_seconds)) }
                    }
                }
            }
        }
    }
    }
}

/// An exclusion's kind in the page's words (the trust page's list of exclusions).
pub fn exclusion_category(category: sla::ExclusionCategory) -> &'static str {
    use sla::ExclusionCategory::*;
    match category {
        ForceMajeure => t(
            "höhere Gewalt oder Umstände außerhalb unseres Einflusses",
            "force majeure or circumstances outside our control",
        ),
        CustomerAct => t(
            "Handlungen oder Unterlassungen des Kunden",
            "acts or omissions of the customer",
        ),
        ThirdPartyAct => t(
            "Handlungen oder Unterlassungen Dritter",
            "acts or omissions of third parties",
        ),
        ExternalInfrastructure => t(
            "Störungen in Infrastruktur oder Software des Kunden oder Dritter",
            "faults in infrastructure or software of the customer or third parties",
        ),
        PlannedMaintenance => t(
            "geplante, vorher angekündigte Wartung",
            "planned maintenance, announced in advance",
        ),
    }
}

pub fn range_text(range: &TimeRange) -> String {
    let lang = current_lang();
    format!(
        "{} – {}",
        date_time(lang, range.start()),
        date_time(lang, range.end())
    )
}

async fn render(
    s: &Services,
    viewer: &Viewer,
    month: Month,
    rows: Option<Rows>,
    errors: Vec<(String, String)>,
) -> PageResult<Page> {
    let tenant = tenant_of(viewer)?;
    let lang = current_lang();
    let now = s.clock.now();
    let report: MonthReport = s.sla.tenant_report(&viewer.access, &tenant, month).await?;
    let permissions = viewer.access.permissions();
    let claims: Vec<ClaimView> = if permissions.contains(Permission::SlaClaimsRead) {
        s.sla
            .claims(&viewer.access, &tenant)
            .await?
            .into_iter()
            .filter(|c| c.claim.month == month)
            .collect()
    } else {
        Vec::new()
    };
    let month_over = month.range().is_ok_and(|r| r.end() <= now);
    let can_file =
        permissions.contains(Permission::SlaClaimsFile) && month_over && claims.is_empty();
    let title = format!(
        "{} · {}",
        t("Verfügbarkeit", "Availability"),
        month_name(lang, month.year(), month.month())
    );
    let rows = rows.unwrap_or_else(|| {
        let measured: Rows = if report.meets_target {
            Vec::new()
        } else {
            report
                .counted
                .iter()
                .map(|r| (local_input(r.start()), local_input(r.end())))
                .collect()
        };
        measured
    });
    let row_count = rows.len() + EMPTY_ROWS;
    let body = html! {
        h1 { (title) }
        (month_nav(month, now, month_path))
        (month_figures(&report, now, &title))
        h2 id="claims" { (t("Gutschrift beantragen", "Claim a credit")) }
        @for view in &claims {
            div class="card" {
                p { strong { (t("Antrag vom ", "Claim of ")) (date_time(lang, view.claim.filed_at)) } }
                p { (claim_state(view)) }
                p class="muted" { (t("Genannte Ausfälle", "Outages named")) ": " (view.claim.outages.len()) }
            }
        }
        @if claims.is_empty() && !month_over {
            p { (t("Ein Antrag ist möglich, sobald der Monat vorüber ist.", "A claim can be filed once the month is over.")) }
        }
        @if can_file {
            p { (t(
                "Liegt die Verfügbarkeit unter dem Ziel, erhalten Sie 5 % der Monatsgebühr als Gutschrift auf künftige Rechnungen. Nennen Sie jeden Ausfall mit Datum und Uhrzeit (Europa/Berlin); wir prüfen ihn gegen unsere Messungen.",
                "Below the target you receive 5 % of the monthly fee as a credit on future invoices. Name every outage with its date and time (Europe/Berlin); we check each against our measurements.",
            )) }
            @if !report.meets_target {
                p class="notice" { (t("Die gemessenen Ausfälle sind bereits eingetragen.", "The measured outages are already filled in.")) }
            }
            (error_summary(&errors))
            form method="post" action={ (month_path(month)) "/claims" } novalidate {
                (form_token_field(&viewer.form_token))
                @for i in 0..row_count {
                    @let (start, end) = rows.get(i).cloned().unwrap_or_default();
                    @let start_id = format!("start_{i}");
                    @let end_id = format!("end_{i}");
                    @let start_error = field_error(&errors, &start_id);
                    @let end_error = field_error(&errors, &end_id);
                    fieldset {
                        legend { (t("Ausfall", "Outage")) " " (i + 1) }
                        label for=(start_id) { (t("Beginn", "Start")) }
                        @if let Some(e) = start_error { p class="field-error" id={ (start_id) "-error" } { (e) } }
                        input type="datetime-local" id=(start_id) name=(start_id) value=(start)
                            aria-invalid=[start_error.map(|_| "true")] aria-describedby=[start_error.map(|_| format!("{start_id}-error"))];
                        label for=(end_id) { (t("Ende", "End")) }
                        @if let Some(e) = end_error { p class="field-error" id={ (end_id) "-error" } { (e) } }
                        input type="datetime-local" id=(end_id) name=(end_id) value=(end)
                            aria-invalid=[end_error.map(|_| "true")] aria-describedby=[end_error.map(|_| format!("{end_id}-error"))];
                    }
                }
                button type="submit" { (t("Antrag einreichen", "File the claim")) }
            }
        }
    };
    Ok(Page::new(title, body).nav(nav(viewer, &tenant)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_times_are_berlin_times() {
        let winter = local_time("2026-11-03T10:15").expect("time");
        assert_eq!(winter.to_string(), "2026-11-03T09:15:00Z");
        assert_eq!(local_input(winter), "2026-11-03T10:15");
        assert!(local_time("yesterday").is_none());
        assert!(local_time("").is_none());
    }
}
