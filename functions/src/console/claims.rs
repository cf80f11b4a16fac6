//! `/console/claims`: billing's queue of SLA claims across customers, oldest first — each with
//! its verification against the measurements (the claimed time split into confirmed downtime,
//! excluded time and time the measurements do not show, laid over the month and in words) and, while it
//! waits, the decision with its reason.

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use kernel::Error;
use kernel::ids::TenantId;
use kernel::rbac::Permission;
use maud::{Markup, html};
use serde::Deserialize;
use sla::records::{ClaimId, ClaimStatus, Verification};
use sla::service::{ClaimView, DecisionInput};

use super::{done, nav, none_yet, staff_only};
use crate::http::Path;
use crate::services::Services;
use crate::web::context::{current_lang, t};
use crate::web::format::{date_time, duration, money, month_name};
use crate::web::layout::{error_summary, field_error, form_token_field};
use crate::web::{Page, PageError, PageForm, PageResult, Viewer};

pub const CLAIMS: &str = "/console/claims";

/// The queue shows this many waiting claims (oldest first) and recent decisions, so the page
/// stays small however long the queue.
const WAITING_SHOWN: usize = 50;
const DECIDED_SHOWN: usize = 20;

fn status(claim: &ClaimView) -> Markup {
    let (class, text) = match claim.claim.status {
        ClaimStatus::Lapsed => ("muted", t("verfallen", "lapsed")),
        ClaimStatus::Verified => (
            "warn",
            t(
                "geprüft, wartet auf Entscheidung",
                "verified, awaiting a decision",
            ),
        ),
        ClaimStatus::Approved => ("good", t("genehmigt", "approved")),
        ClaimStatus::Rejected => ("bad", t("abgelehnt", "rejected")),
    };
    html! { span class={ "status " (class) } { (text) } }
}

/// The claimed time laid over the claim's month: confirmed downtime (red), excluded time
/// (grey) and time the measurements do not show as down (amber), where each fell, with the
/// same figures in words beside it.
fn verification_timeline(month: kernel::time::Month, v: &Verification) -> Markup {
    let mut bands: Vec<(&str, kernel::time::TimeRange)> = Vec::new();
    bands.extend(v.unconfirmed.iter().map(|r| ("unconfirmed", *r)));
    bands.extend(v.excluded.iter().map(|p| ("excluded", p.range)));
    bands.extend(v.confirmed.iter().map(|r| ("down", *r)));
    let description = format!(
        "{} {}, {} {}, {} {}.",
        t("bestätigt", "confirmed"),
        duration(v.confirmed_seconds),
        t("ausgenommen", "excluded"),
        duration(v.excluded_seconds),
        t("nicht gemessen", "not measured"),
        duration(v.unconfirmed_seconds)
    );
    html! {
        figure class="chart" {
            @if let Ok(range) = month.range() {
                (crate::portal::chart::month_timeline(&range, &bands, t("Beanspruchte Zeit im Monat", "Claimed time in the month"), &description))
            }
            figcaption {
                (t("Der Monat als Zeitleiste (Tage Europa/Berlin); markiert, wo die genannten Ausfälle lagen.", "The month as a line of time (days in Europe/Berlin); marked where the outages named fell."))
                ul class="legend" {
                    li { span class="swatch down" {} (t("bestätigt ", "confirmed ")) (duration(v.confirmed_seconds)) }
                    li { span class="swatch excluded" {} (t("ausgenommen ", "excluded ")) (duration(v.excluded_seconds)) }
                    li { span class="swatch unconfirmed" {} (t("nicht als Ausfall gemessen ", "not measured as down ")) (duration(v.unconfirmed_seconds)) }
                }
            }
        }
    }
}

pub async fn queue(State(s): State<Arc<Services>>, viewer: Viewer) -> PageResult<Page> {
    render(&s, &viewer, None, &[]).await
}

async fn render(
    s: &Services,
    viewer: &Viewer,
    notice: Option<Markup>,
    errors: &[(String, String)],
) -> PageResult<Page> {
    staff_only(viewer)?;
    let lang = current_lang();
    let claims = s.sla.claims_queue(&viewer.access).await?;
    let may_decide = viewer
        .access
        .permissions()
        .contains(Permission::SlaClaimsDecide);
    let (waiting, decided): (Vec<_>, Vec<_>) = claims
        .iter()
        .partition(|c| c.claim.status == ClaimStatus::Verified);
    let body = html! {
        h1 { (t("SLA-Anträge", "SLA claims")) }
        @if let Some(notice) = notice { (notice) }
        (error_summary(errors))
        p class="lead" { (waiting.len()) " " (t("warten auf Entscheidung", "awaiting a decision")) }
        @if claims.is_empty() { (none_yet("Noch kein Antrag.", "No claim yet.")) }
        @if waiting.len() > WAITING_SHOWN || decided.len() > DECIDED_SHOWN {
            p class="hint" { (t(
                "Gezeigt: die ältesten wartenden Anträge zuerst und die jüngsten Entscheidungen; die übrigen folgen, sobald diese entschieden sind.",
                "Shown: the oldest waiting claims first and the latest decisions; the others follow once these are decided.",
            )) }
        }
        @for view in waiting.iter().take(WAITING_SHOWN).chain(decided.iter().rev().take(DECIDED_SHOWN)) {
            @let claim = &view.claim;
            @let id = format!("claim-{}", claim.id);
            section class="card" id=(id) aria-labelledby={ (id) "-h" } {
                h2 id={ (id) "-h" } { (claim.tenant) " · " (month_name(lang, claim.month.year(), claim.month.month())) }
                p { (status(view)) " · " (t("eingereicht ", "filed ")) (date_time(lang, claim.filed_at)) }
                @if let Some(v) = &claim.verification {
                    p { (t("Gemessene Verfügbarkeit: ", "Measured uptime: ")) strong { (v.uptime) }
                        @if let Some(credit) = &v.credit { " · " (t("Gutschrift: ", "Credit: ")) strong { (money(lang, credit)) } } }
                    (verification_timeline(claim.month, v))
                    ul { @for reason in crate::web::context::in_page_language(&v.reasons, &v.reasons_de) { li { (reason) } } }
                }
                @if let Some(reason) = &claim.lapse_reason { p { (reason) } }
                @if let Some(d) = &claim.decision { p { (t("Begründung: ", "Reason: ")) (d.reason) } }
                @if may_decide && claim.status == ClaimStatus::Verified {
                    @let reason_id = format!("reason-{}", claim.id);
                    @let error = field_error(errors, &reason_id);
                    form method="post" action={ (CLAIMS) "/" (claim.tenant) "/" (claim.id) "/decision" } {
                        (form_token_field(&viewer.form_token))
                        fieldset {
                            legend { (t("Entscheidung", "Decision")) }
                            div {
                                input type="radio" id={ "approve-" (claim.id) } name="approve" value="true" checked;
                                label class="inline-label" for={ "approve-" (claim.id) } { (t("genehmigen", "approve")) }
                            }
                            div {
                                input type="radio" id={ "reject-" (claim.id) } name="approve" value="false";
                                label class="inline-label" for={ "reject-" (claim.id) } { (t("ablehnen", "reject")) }
                            }
                        }
                        label for=(reason_id) { (t("Begründung", "Reason")) }
                        @if let Some(e) = error { p class="field-error" id={ (reason_id) "-error" } { (e) } }
                        textarea id=(reason_id) name="reason" rows="2" required aria-invalid=[error.map(|_| "true")] {}
                        button type="submit" { (t("Entscheiden", "Decide")) }
                    }
                }
            }
        }
    };
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::BAD_REQUEST
    };
    Ok(Page::new(t("SLA-Anträge", "SLA claims"), body)
        .nav(nav(viewer))
        .status(status))
}

#[derive(Debug, Deserialize)]
pub struct DecisionForm {
    approve: Option<String>,
    reason: Option<String>,
}

pub async fn decide(
    State(s): State<Arc<Services>>,
    viewer: Viewer,
    Path((tenant, claim)): Path<(String, String)>,
    PageForm(form): PageForm<DecisionForm>,
) -> PageResult<Response> {
    staff_only(&viewer)?;
    let not_found = || PageError(Error::NotFound("claim".into()));
    let tenant = TenantId::new(tenant).map_err(|_| not_found())?;
    let claim = ClaimId::parse(&claim).map_err(|_| not_found())?;
    let input = DecisionInput {
        approve: form.approve.as_deref().map(|v| v == "true"),
        reason: form.reason,
    };
    match s.sla.decide(&viewer.access, &tenant, &claim, input).await {
        Ok(view) => {
            let text = match view.claim.status {
                ClaimStatus::Approved => t(
                    "Genehmigt; die Gutschrift wird dem Kundenkonto bei Stripe gutgeschrieben.",
                    "Approved; the credit goes onto the customer's Stripe balance.",
                ),
                _ => t("Abgelehnt.", "Rejected."),
            };
            Ok(render(&s, &viewer, Some(done(text)), &[])
                .await?
                .into_response())
        }
        Err(Error::Validation(_)) => {
            let errors = vec![(
                format!("reason-{claim}"),
                t(
                    "Bitte eine Begründung angeben (1 bis 2.000 Zeichen).",
                    "Please give a reason (1 to 2,000 characters).",
                )
                .to_string(),
            )];
            Ok(render(&s, &viewer, None, &errors).await?.into_response())
        }
        Err(Error::Conflict(why)) => {
            let errors = vec![(format!("reason-{claim}"), why)];
            Ok(render(&s, &viewer, None, &errors).await?.into_response())
        }
        Err(e) => Err(PageError(e)),
    }
}
