//! `/console/credits`: credits across customers — voluntary ones asked for with a reason, in
//! the customer's Stripe currency; those above the four-eyes amount wait for a second billing
//! approver (the one who asked sees that it waits, another one approves); a credit not yet on
//! the Stripe balance can be withdrawn with a reason.

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use billing::credits::{CreditId, CreditKind, CreditRecord, CreditStatus, VoluntaryCreditInput};
use kernel::Error;
use kernel::ids::TenantId;
use kernel::rbac::Permission;
use maud::{Markup, html};
use serde::Deserialize;

use super::{done, field_errors, nav, none_yet, staff_only};
use crate::http::Path;
use crate::services::Services;
use crate::web::context::{current_lang, t};
use crate::web::format::{date_time, money};
use crate::web::layout::{error_summary, field_error, form_token_field};
use crate::web::{Page, PageError, PageForm, PageResult, Viewer};

pub const CREDITS: &str = "/console/credits";

#[derive(Debug, Default, Deserialize)]
pub struct CreditForm {
    tenant: Option<String>,
    amount: Option<String>,
    currency: Option<String>,
    reason: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
pub struct ReasonForm {
    reason: Option<String>,
}

fn state(credit: &CreditRecord) -> Markup {
    let (class, text) = match credit.status {
        CreditStatus::AwaitingApproval => (
            "warn",
            t("wartet auf zweite Freigabe", "awaiting a second approver"),
        ),
        CreditStatus::Pending => (
            "warn",
            t("freigegeben, wird übertragen", "approved, being carried"),
        ),
        CreditStatus::Applied => (
            "good",
            t("auf dem Stripe-Guthaben", "on the Stripe balance"),
        ),
        CreditStatus::Cancelled => ("muted", t("zurückgezogen", "withdrawn")),
    };
    html! { span class={ "status " (class) } { (text) } }
}

/// "250,00" or "250.00" or "250" as minor units; None when it is not an amount.
fn minor_units(raw: &str) -> Option<i64> {
    let raw = raw.trim().replace(['€', ' ', '\u{a0}'], "");
    let (whole, cents) = match raw.rsplit_once([',', '.']) {
        Some((w, c)) if c.len() == 2 => (w.replace(['.', ','], ""), c.to_string()),
        Some(_) => return None,
        None => (raw.clone(), "00".into()),
    };
    let whole: i64 = whole.parse().ok()?;
    let cents: i64 = cents.parse().ok()?;
    whole.checked_mul(100)?.checked_add(cents)
}

pub async fn list(State(s): State<Arc<Services>>, viewer: Viewer) -> PageResult<Page> {
    render(&s, &viewer, &CreditForm::default(), &[], None).await
}

async fn render(
    s: &Services,
    viewer: &Viewer,
    form: &CreditForm,
    errors: &[(String, String)],
    notice: Option<Markup>,
) -> PageResult<Page> {
    staff_only(viewer)?;
    let lang = current_lang();
    let credits = s.credits.all(&viewer.access).await?;
    let may_grant = viewer
        .access
        .permissions()
        .contains(Permission::VoluntaryCreditsGrant);
    let me = &viewer.access.principal().subject;
    let limit = s.config.credit_second_approval_above;
    let field = |name: &'static str, label: &str, hint: &str, value: Option<&str>| {
        let error = field_error(errors, name);
        html! {
            label for=(name) { (label) }
            p class="hint" id={ (name) "-hint" } { (hint) }
            @if let Some(e) = error { p class="field-error" id={ (name) "-error" } { (e) } }
            input type="text" id=(name) name=(name) value=(value.unwrap_or_default()) autocomplete="off"
                aria-invalid=[error.map(|_| "true")]
                aria-describedby={ (name) "-hint" @if error.is_some() { " " (name) "-error" } };
        }
    };
    let reason_error = field_error(errors, "reason");
    let body = html! {
        h1 { (t("Gutschriften", "Credits")) }
        @if let Some(notice) = notice { (notice) }
        @if credits.is_empty() {
            (none_yet("Noch keine Gutschrift.", "No credit yet."))
        } @else {
            table id="credits" {
                thead { tr {
                    th scope="col" { (t("Kunde", "Customer")) }
                    th scope="col" class="num" { (t("Betrag", "Amount")) }
                    th scope="col" { (t("Art und Grund", "Kind and reason")) }
                    th scope="col" { (t("Stand", "State")) }
                    @if may_grant { th scope="col" { (t("Aktion", "Action")) } }
                } }
                tbody {
                    @for credit in &credits {
                        tr id={ "credit-" (credit.id) } {
                            td { (credit.tenant) }
                            td class="num" { (money(lang, &credit.money())) }
                            td {
                                @match &credit.kind {
                                    CreditKind::Sla { month, .. } => { (t("SLA ", "SLA ")) (month) }
                                    CreditKind::Voluntary => { (t("freiwillig", "voluntary")) }
                                }
                                ": " (credit.reason)
                                br; span class="muted" { (t("angelegt von ", "asked by ")) (who(&credit.decided_by, me)) ", " (date_time(lang, credit.decided_at))
                                    @if let Some(by) = &credit.approved_by { "; " (t("freigegeben von ", "approved by ")) (who(by, me)) } }
                            }
                            td { (state(credit)) }
                            @if may_grant {
                                td { (actions(viewer, credit, me)) }
                            }
                        }
                    }
                }
            }
        }
        @if may_grant {
            h2 { (t("Freiwillige Gutschrift", "Voluntary credit")) }
            p class="hint" { (t(
                "Nach Ermessen des Unternehmens, auf das Stripe-Guthaben des Kunden in seiner Stripe-Währung; über ",
                "At the company's discretion, onto the customer's Stripe balance in its Stripe currency; above ",
            )) (money(lang, &limit)) (t(
                " gibt eine zweite Person der Abrechnung sie frei.",
                " a second person in billing approves it.",
            )) }
            (error_summary(errors))
            form method="post" action=(CREDITS) novalidate {
                (form_token_field(&viewer.form_token))
                (field("tenant", t("Kunde (Kennung)", "Customer (id)"), t("Zum Beispiel acme.", "For example acme."), form.tenant.as_deref()))
                (field("amount", t("Betrag", "Amount"), t("Zum Beispiel 250,00.", "For example 250.00."), form.amount.as_deref()))
                (field("currency", t("Währung", "Currency"), t("Die Stripe-Währung des Kunden, z. B. eur.", "The customer's Stripe currency, e.g. eur."), Some(form.currency.as_deref().unwrap_or("eur"))))
                label for="reason" { (t("Grund", "Reason")) }
                @if let Some(e) = reason_error { p class="field-error" id="reason-error" { (e) } }
                textarea id="reason" name="reason" rows="2" aria-invalid=[reason_error.map(|_| "true")] { (form.reason.as_deref().unwrap_or_default()) }
                button type="submit" { (t("Gutschrift anlegen", "Ask for the credit")) }
            }
        }
    };
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::BAD_REQUEST
    };
    Ok(Page::new(t("Gutschriften", "Credits"), body)
        .nav(nav(viewer))
        .status(status))
}

/// The account behind a decision: "you" for the viewer, else its id (as the audit trail names it).
fn who<'a>(subject: &'a str, me: &str) -> &'a str {
    if subject == me {
        t("Ihnen", "you")
    } else {
        subject
    }
}

fn actions(viewer: &Viewer, credit: &CreditRecord, me: &str) -> Markup {
    let base = format!("{CREDITS}/{}/{}", credit.tenant, credit.id);
    let withdrawable = credit.kind == CreditKind::Voluntary
        && matches!(
            credit.status,
            CreditStatus::Pending | CreditStatus::AwaitingApproval
        );
    let reason_id = format!("cancel-reason-{}", credit.id);
    html! {
        @if credit.status == CreditStatus::AwaitingApproval {
            @if credit.decided_by == me {
                p class="hint" { (t("Wartet auf eine zweite Person.", "Waits for a second person.")) }
            } @else {
                form method="post" action={ (base) "/approval" } {
                    (form_token_field(&viewer.form_token))
                    button type="submit" { (t("Freigeben", "Approve")) }
                }
            }
        }
        @if withdrawable {
            form method="post" action={ (base) "/cancel" } {
                (form_token_field(&viewer.form_token))
                label for=(reason_id) { (t("Grund der Rücknahme", "Reason to withdraw")) }
                input type="text" id=(reason_id) name="reason" required;
                button type="submit" class="secondary" { (t("Zurückziehen", "Withdraw")) }
            }
        }
    }
}

fn message(field: &str) -> &'static str {
    match field {
        "tenant" => t(
            "Bitte einen bestehenden Kunden mit Stripe-Kundenkonto angeben.",
            "Please name an existing customer with a Stripe customer account.",
        ),
        "amount" => t(
            "Bitte einen positiven Betrag angeben, z. B. 250,00.",
            "Please give a positive amount, e.g. 250.00.",
        ),
        "currency" => t(
            "Bitte die Stripe-Währung des Kunden angeben.",
            "Please give the customer's Stripe currency.",
        ),
        _ => t(
            "Bitte einen Grund angeben (1 bis 2.000 Zeichen).",
            "Please give a reason (1 to 2,000 characters).",
        ),
    }
}

fn refusal(fields: &[&str]) -> Vec<(String, String)> {
    ["tenant", "amount", "currency", "reason"]
        .iter()
        .filter(|f| fields.contains(f))
        .map(|f| (f.to_string(), message(f).to_string()))
        .collect()
}

pub async fn grant(
    State(s): State<Arc<Services>>,
    viewer: Viewer,
    PageForm(form): PageForm<CreditForm>,
) -> PageResult<Response> {
    staff_only(&viewer)?;
    let tenant = TenantId::new(form.tenant.as_deref().unwrap_or_default().trim()).ok();
    let amount = form.amount.as_deref().and_then(minor_units);
    let input = VoluntaryCreditInput {
        // An unreadable amount is named with the others: the service sees it as missing.
        amount,
        currency: form.currency.clone().map(|c| c.trim().to_lowercase()),
        reason: form.reason.clone(),
    };
    let Some(tenant) = tenant else {
        let mut failing = vec!["tenant"];
        if amount.is_none() {
            failing.push("amount");
        }
        if form.reason.as_deref().is_none_or(|r| r.trim().is_empty()) {
            failing.push("reason");
        }
        return refused(&s, &viewer, &form, refusal(&failing)).await;
    };
    match s
        .grant_voluntary_credit(&viewer.access, &tenant, input)
        .await
    {
        Ok(credit) => {
            let text = match credit.status {
                CreditStatus::AwaitingApproval => t(
                    "Angelegt; wartet auf die Freigabe durch eine zweite Person der Abrechnung.",
                    "Asked for; waits for a second person in billing to approve it.",
                ),
                _ => t(
                    "Angelegt; die Gutschrift geht auf das Stripe-Guthaben des Kunden.",
                    "Created; the credit goes onto the customer's Stripe balance.",
                ),
            };
            Ok(
                render(&s, &viewer, &CreditForm::default(), &[], Some(done(text)))
                    .await?
                    .into_response(),
            )
        }
        Err(Error::Validation(fields)) => {
            let failing: Vec<String> = field_errors(fields).into_iter().map(|(f, _)| f).collect();
            let failing: Vec<&str> = failing.iter().map(String::as_str).collect();
            refused(&s, &viewer, &form, refusal(&failing)).await
        }
        Err(Error::NotFound(_) | Error::Conflict(_)) => {
            refused(&s, &viewer, &form, refusal(&["tenant"])).await
        }
        Err(e) => Err(PageError(e)),
    }
}

async fn refused(
    s: &Services,
    viewer: &Viewer,
    form: &CreditForm,
    errors: Vec<(String, String)>,
) -> PageResult<Response> {
    Ok(render(s, viewer, form, &errors, None)
        .await?
        .into_response())
}

fn ids(tenant: String, credit: String) -> PageResult<(TenantId, CreditId)> {
    let not_found = || PageError(Error::NotFound("credit".into()));
    Ok((
        TenantId::new(tenant).map_err(|_| not_found())?,
        CreditId::parse(&credit).map_err(|_| not_found())?,
    ))
}

pub async fn approve(
    State(s): State<Arc<Services>>,
    viewer: Viewer,
    Path((tenant, credit)): Path<(String, String)>,
    PageForm(_): PageForm<ReasonForm>,
) -> PageResult<Response> {
    staff_only(&viewer)?;
    let (tenant, credit) = ids(tenant, credit)?;
    let notice = match s.approve_credit(&viewer.access, &tenant, &credit).await {
        Ok(_) => done(t(
            "Freigegeben; die Gutschrift geht auf das Stripe-Guthaben des Kunden.",
            "Approved; the credit goes onto the customer's Stripe balance.",
        )),
        Err(Error::Conflict(_)) => html! { div class="errors" role="alert" { p { (t(
            "Nicht freigegeben: eine zweite Person muss zustimmen, nicht die, die sie angelegt hat — oder die Gutschrift wartet nicht mehr auf Freigabe.",
            "Not approved: a second person must agree, not the one who asked — or the credit no longer waits for approval.",
        )) } } },
        Err(e) => return Err(PageError(e)),
    };
    Ok(
        render(&s, &viewer, &CreditForm::default(), &[], Some(notice))
            .await?
            .into_response(),
    )
}

pub async fn cancel(
    State(s): State<Arc<Services>>,
    viewer: Viewer,
    Path((tenant, credit)): Path<(String, String)>,
    PageForm(form): PageForm<ReasonForm>,
) -> PageResult<Response> {
    staff_only(&viewer)?;
    let (tenant, credit) = ids(tenant, credit)?;
    let notice = match s
        .credits
        .cancel(&viewer.access, &tenant, &credit, form.reason)
        .await
    {
        Ok(_) => done(t("Zurückgezogen.", "Withdrawn.")),
        Err(Error::Validation(_)) => {
            html! { div class="errors" role="alert" { p { (message("reason")) } } }
        }
        Err(Error::Conflict(_)) => html! { div class="errors" role="alert" { p { (t(
            "Nur eine freiwillige Gutschrift, die noch nicht auf dem Stripe-Guthaben ist, lässt sich zurückziehen.",
            "Only a voluntary credit not yet on the Stripe balance can be withdrawn.",
        )) } } },
        Err(e) => return Err(PageError(e)),
    };
    Ok(
        render(&s, &viewer, &CreditForm::default(), &[], Some(notice))
            .await?
            .into_response(),
    )
}

#[cfg(test)]
mod tests {
    use super::minor_units;

    #[test]
    fn amounts_read_in_either_language() {
        assert_eq!(minor_units("250,00"), Some(25_000));
        assert_eq!(minor_units("250.00"), Some(25_000));
        assert_eq!(minor_units("250"), Some(25_000));
        assert_eq!(minor_units("1.250,50 €"), Some(125_050));
        assert_eq!(minor_units("1,250.50"), Some(125_050));
        assert_eq!(minor_units("12,5"), None);
        assert_eq!(minor_units("viel"), None);
    }
}
