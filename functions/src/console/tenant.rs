//! `/console/tenants/<id>`: one customer for operators — its name and breach contact (changed
//! here, each change audited), the contract's figures in force and changed (only in the
//! customer's favour; every refused figure named at once), and the service end: recorded
//! now or at a date, a date further back than the grace waiting for a second operator's
//! approval (the one who asked cannot approve it).

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use kernel::Error;
use kernel::ids::TenantId;
use kernel::policy::{BasisPoints, ContractTerms, DownWhen, EffectivePolicy, UnknownTreatment};
use kernel::rbac::Permission;
use kernel::tenants::{self, ServiceStatus, TenantInput};
use kernel::time::Period;
use maud::{Markup, html};
use retention::service::{ServiceEndInput, ServiceEndOutcome};
use serde::Deserialize;

use super::tenants::{TENANTS, contact_input, message};
use super::{done, field_errors, nav, staff_only};
use crate::http::Path;
use crate::services::Services;
use crate::web::context::{current_lang, t};
use crate::web::format::{date_time, local_input, local_time};
use crate::web::layout::{error_summary, field_error, form_token_field};
use crate::web::{Page, PageError, PageForm, PageResult, Viewer};

#[derive(Debug, Default, Deserialize)]
pub struct ProfileForm {
    name: Option<String>,
    contact_email: Option<String>,
}

/// The contract's figures; an empty field means the trust page's figure applies. Periods come
/// as an amount and a unit, percentages as typed ("99,5" or "99.5").
#[derive(Debug, Default, Deserialize)]
pub struct ContractForm {
    customer_notification: Option<String>,
    customer_notification_unit: Option<String>,
    deletion_after_service_end: Option<String>,
    deletion_after_service_end_unit: Option<String>,
    remaining_copies_retention: Option<String>,
    remaining_copies_retention_unit: Option<String>,
    sla_claim_window: Option<String>,
    sla_claim_window_unit: Option<String>,
    monthly_uptime_target: Option<String>,
    sla_credit: Option<String>,
    sla_unknown_treatment: Option<String>,
    sla_down_when: Option<String>,
}

/// Every field of the contract form (its errors open the form).
const CONTRACT_FIELDS: [&str; 6] = [
    "customer_notification",
    "deletion_after_service_end",
    "remaining_copies_retention",
    "sla_claim_window",
    "monthly_uptime_target",
    "sla_credit",
];

/// The contract's period fields: name, label.
const PERIOD_FIELDS: [(&str, (&str, &str)); 4] = [
    (
        "customer_notification",
        (
            "Benachrichtigung bei Verletzungen binnen",
            "Breach notice within",
        ),
    ),
    (
        "deletion_after_service_end",
        (
            "Löschung nach Leistungsende",
            "Deletion after the service ends",
        ),
    ),
    (
        "remaining_copies_retention",
        ("Verbleibende Kopien danach", "Remaining copies after that"),
    ),
    (
        "sla_claim_window",
        ("Frist für SLA-Anträge", "Window for SLA claims"),
    ),
];

const UNITS: [(&str, (&str, &str)); 4] = [
    ("hours", ("Stunden", "hours")),
    ("days", ("Tage", "days")),
    ("months", ("Monate", "months")),
    ("years", ("Jahre", "years")),
];

/// A period in words as contracts state it: hours stay hours ("48 Stunden", not "2 Tage").
fn period_words(period: Period) -> String {
    match period {
        Period::Hours(h) => format!("{h} {}", t("Stunden", "hours")),
        other => {
            let words = trust::evidence::period(other);
            current_lang().pick(words.de, words.en).to_string()
        }
    }
}

fn period_parts(period: Period) -> (u32, &'static str) {
    match period {
        Period::Hours(h) => (h, "hours"),
        Period::Days(d) => (d, "days"),
        Period::Months(m) => (u32::from(m), "months"),
        Period::Years(y) => (u32::from(y), "years"),
    }
}

/// A period from the form: `Ok(None)` when left empty (the page's figure), `Err` when unreadable.
fn period_of(amount: Option<&str>, unit: Option<&str>) -> Result<Option<Period>, ()> {
    let amount = amount.map(str::trim).unwrap_or_default();
    if amount.is_empty() {
        return Ok(None);
    }
    let n: u32 = amount.parse().map_err(|_| ())?;
    let short = |n: u32| u16::try_from(n).map_err(|_| ());
    Ok(Some(match unit.unwrap_or("days") {
        "hours" => Period::Hours(n),
        "days" => Period::Days(n),
        "months" => Period::Months(short(n)?),
        "years" => Period::Years(short(n)?),
        _ => return Err(()),
    }))
}

/// A percentage as typed, to basis points ("99,5" → 9950); at most two decimals.
fn basis_points_of(raw: Option<&str>) -> Result<Option<BasisPoints>, ()> {
    let raw = raw.map(str::trim).unwrap_or_default();
    let raw = raw.trim_end_matches('%').trim();
    if raw.is_empty() {
        return Ok(None);
    }
    let (whole, fraction) = raw.split_once(['.', ',']).unwrap_or((raw, ""));
    if fraction.len() > 2 || !fraction.bytes().all(|b| b.is_ascii_digit()) {
        return Err(());
    }
    let whole: u32 = whole.parse().map_err(|_| ())?;
    let fraction: u32 = format!("{fraction:0<2}").parse().map_err(|_| ())?;
    whole
        .checked_mul(100)
        .and_then(|w| w.checked_add(fraction))
        .map(|bp| Some(BasisPoints(bp)))
        .ok_or(())
}

/// Basis points as a form value ("99.5").
fn percent_value(bp: BasisPoints) -> String {
    let text = format!("{}.{:02}", bp.0 / 100, bp.0 % 100);
    text.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// What to fix in a contract field, named by its label (the summary lists them together).
fn contract_message(field: &str) -> String {
    let label = PERIOD_FIELDS
        .iter()
        .find(|(name, _)| *name == field)
        .map(|(_, (de, en))| t(de, en))
        .unwrap_or_else(|| match field {
            "monthly_uptime_target" => t("Verfügbarkeitsziel", "Uptime target"),
            _ => t("SLA-Gutschrift", "SLA credit"),
        });
    let page = EffectivePolicy::page();
    let rule = match field {
        "customer_notification" => format!(
            "{} {}.",
            t(
                "bitte eine Dauer größer null angeben, höchstens",
                "please give a period longer than zero and at most"
            ),
            period_words(page.customer_notification)
        ),
        "monthly_uptime_target" => format!(
            "{} {} {}",
            t(
                "bitte einen Prozentwert von",
                "please give a percentage from"
            ),
            page.monthly_uptime_target,
            t(
                "bis 100 % angeben (höchstens zwei Nachkommastellen).",
                "to 100 % (at most two decimals)."
            )
        ),
        "sla_credit" => format!(
            "{} {} {}",
            t(
                "bitte einen Prozentwert von",
                "please give a percentage from"
            ),
            page.sla_credit,
            t(
                "bis 100 % angeben (höchstens zwei Nachkommastellen).",
                "to 100 % (at most two decimals)."
            )
        ),
        _ => t(
            "bitte eine ganze Zahl größer null angeben, höchstens zehn Jahre.",
            "please give a whole number greater than zero, at most ten years.",
        )
        .to_string(),
    };
    format!("{label}: {rule}")
}

/// The form's figures as contract terms, and every field that could not be read or that the
/// contract rules refuse (all at once; an unreadable field is left out of the terms).
fn contract_terms(form: &ContractForm) -> (ContractTerms, Vec<(String, String)>) {
    let mut errors = Vec::new();
    let mut period = |name: &str, amount: &Option<String>, unit: &Option<String>| {
        period_of(amount.as_deref(), unit.as_deref()).unwrap_or_else(|()| {
            errors.push((name.to_string(), contract_message(name)));
            None
        })
    };
    let customer_notification = period(
        "customer_notification",
        &form.customer_notification,
        &form.customer_notification_unit,
    );
    let deletion_after_service_end = period(
        "deletion_after_service_end",
        &form.deletion_after_service_end,
        &form.deletion_after_service_end_unit,
    );
    let remaining_copies_retention = period(
        "remaining_copies_retention",
        &form.remaining_copies_retention,
        &form.remaining_copies_retention_unit,
    );
    let sla_claim_window = period(
        "sla_claim_window",
        &form.sla_claim_window,
        &form.sla_claim_window_unit,
    );
    let mut percent = |name: &str, raw: &Option<String>| {
        basis_points_of(raw.as_deref()).unwrap_or_else(|()| {
            errors.push((name.to_string(), contract_message(name)));
            None
        })
    };
    let monthly_uptime_target = percent("monthly_uptime_target", &form.monthly_uptime_target);
    let sla_credit = percent("sla_credit", &form.sla_credit);
    let sla_unknown_treatment = match form.sla_unknown_treatment.as_deref() {
        Some("downtime") => Some(UnknownTreatment::Downtime),
        Some("not_downtime") => Some(UnknownTreatment::NotDowntime),
        _ => None,
    };
    let sla_down_when = match form.sla_down_when.as_deref() {
        Some("either_vantage") => Some(DownWhen::EitherVantage),
        Some("both_vantages") => Some(DownWhen::BothVantages),
        _ => None,
    };
    let terms = ContractTerms {
        deletion_after_service_end,
        remaining_copies_retention,
        customer_notification,
        monthly_uptime_target,
        sla_credit,
        sla_claim_window,
        sla_unknown_treatment,
        sla_down_when,
    };
    if let Err(refused) = EffectivePolicy::for_contract_checked(&terms) {
        for kernel::policy::PolicyError::Override { field, .. } in refused {
            errors.push((field.to_string(), contract_message(field)));
        }
    }
    // In the form's order, so the summary reads top to bottom.
    errors.sort_by_key(|(field, _)| CONTRACT_FIELDS.iter().position(|f| f == field));
    (terms, errors)
}

/// The form's fields as the contract now reads.
fn form_of(terms: &ContractTerms) -> ContractForm {
    let period = |p: Option<Period>| match p.map(period_parts) {
        Some((n, unit)) => (Some(n.to_string()), Some(unit.to_string())),
        None => (None, None),
    };
    let (customer_notification, customer_notification_unit) = period(terms.customer_notification);
    let (deletion_after_service_end, deletion_after_service_end_unit) =
        period(terms.deletion_after_service_end);
    let (remaining_copies_retention, remaining_copies_retention_unit) =
        period(terms.remaining_copies_retention);
    let (sla_claim_window, sla_claim_window_unit) = period(terms.sla_claim_window);
    ContractForm {
        customer_notification,
        customer_notification_unit,
        deletion_after_service_end,
        deletion_after_service_end_unit,
        remaining_copies_retention,
        remaining_copies_retention_unit,
        sla_claim_window,
        sla_claim_window_unit,
        monthly_uptime_target: terms.monthly_uptime_target.map(percent_value),
        sla_credit: terms.sla_credit.map(percent_value),
        sla_unknown_treatment: terms.sla_unknown_treatment.map(|u| {
            match u {
                UnknownTreatment::Downtime => "downtime",
                UnknownTreatment::NotDowntime => "not_downtime",
            }
            .to_string()
        }),
        sla_down_when: terms.sla_down_when.map(|d| {
            match d {
                DownWhen::EitherVantage => "either_vantage",
                DownWhen::BothVantages => "both_vantages",
            }
            .to_string()
        }),
    }
}

/// The contract form: each figure with the page's own as its hint; empty keeps the page's.
fn contract_form(
    viewer: &Viewer,
    tenant: &TenantId,
    form: &ContractForm,
    errors: &[(String, String)],
) -> Markup {
    let page = EffectivePolicy::page();
    let current = |name: &str| match name {
        "customer_notification" => (
            &form.customer_notification,
            &form.customer_notification_unit,
        ),
        "deletion_after_service_end" => (
            &form.deletion_after_service_end,
            &form.deletion_after_service_end_unit,
        ),
        "remaining_copies_retention" => (
            &form.remaining_copies_retention,
            &form.remaining_copies_retention_unit,
        ),
        _ => (&form.sla_claim_window, &form.sla_claim_window_unit),
    };
    let page_figure = |name: &str| match name {
        "customer_notification" => page.customer_notification,
        "deletion_after_service_end" => page.deletion_after_service_end,
        "remaining_copies_retention" => page.remaining_copies_retention,
        _ => page.sla_claim_window,
    };
    let percent_field = |name: &str, label: &str, value: &Option<String>, page: BasisPoints| {
        let error = field_error(errors, name);
        html! {
            label for=(name) { (label) }
            p class="hint" id={ (name) "-hint" } { (t("Seite: ", "Page: ")) (page) (t("; leer lassen für den Wert der Seite.", "; leave empty for the page's figure.")) }
            @if let Some(e) = error { p class="field-error" id={ (name) "-error" } { (e) } }
            input type="text" inputmode="decimal" id=(name) name=(name) value=(value.as_deref().unwrap_or_default())
                aria-describedby={ (name) "-hint" } aria-invalid=[error.map(|_| "true")];
        }
    };
    html! {
        form method="post" action={ (path(tenant)) "/contract" } novalidate id="contract-form" {
            (form_token_field(&viewer.form_token))
            @for (name, label) in PERIOD_FIELDS {
                @let error = field_error(errors, name);
                @let (amount, unit) = current(name);
                @let unit = unit.as_deref().unwrap_or("days");
                fieldset {
                    legend { (t(label.0, label.1)) }
                    p class="hint" { (t("Seite: ", "Page: ")) (period_words(page_figure(name))) (t("; leer lassen für den Wert der Seite.", "; leave empty for the page's figure.")) }
                    @if let Some(e) = error { p class="field-error" id={ (name) "-error" } { (e) } }
                    div class="pair" {
                        div {
                            label for=(name) { (t("Anzahl", "Amount")) }
                            input type="text" inputmode="numeric" id=(name) name=(name) value=(amount.as_deref().unwrap_or_default()) aria-invalid=[error.map(|_| "true")];
                        }
                        div {
                            label for={ (name) "_unit" } { (t("Einheit", "Unit")) }
                            select id={ (name) "_unit" } name={ (name) "_unit" } {
                                @for (value, words) in UNITS {
                                    option value=(value) selected[value == unit] { (t(words.0, words.1)) }
                                }
                            }
                        }
                    }
                }
            }
            (percent_field("monthly_uptime_target", t("Verfügbarkeitsziel im Monat (%)", "Monthly uptime target (%)"), &form.monthly_uptime_target, page.monthly_uptime_target))
            (percent_field("sla_credit", t("SLA-Gutschrift vom Monatsentgelt (%)", "SLA credit of the monthly fee (%)"), &form.sla_credit, page.sla_credit))
            label for="sla_unknown_treatment" { (t("Minuten ohne Messung", "Minutes without a measurement")) }
            select id="sla_unknown_treatment" name="sla_unknown_treatment" {
                option value="" selected[form.sla_unknown_treatment.as_deref().unwrap_or_default().is_empty()] { (t("wie die Seite (keine Ausfallzeit)", "as the page (not downtime)")) }
                option value="not_downtime" selected[form.sla_unknown_treatment.as_deref() == Some("not_downtime")] { (t("keine Ausfallzeit", "not downtime")) }
                option value="downtime" selected[form.sla_unknown_treatment.as_deref() == Some("downtime")] { (t("Ausfallzeit (zugunsten des Kunden)", "downtime (in the customer's favour)")) }
            }
            label for="sla_down_when" { (t("Eine Minute gilt als ausgefallen, wenn", "A minute counts as down when")) }
            select id="sla_down_when" name="sla_down_when" {
                option value="" selected[form.sla_down_when.as_deref().unwrap_or_default().is_empty()] { (t("wie die Seite (beide Messpunkte)", "as the page (both vantage points)")) }
                option value="both_vantages" selected[form.sla_down_when.as_deref() == Some("both_vantages")] { (t("beide Messpunkte sie als ausgefallen sehen", "both vantage points see it down")) }
                option value="either_vantage" selected[form.sla_down_when.as_deref() == Some("either_vantage")] { (t("einer der Messpunkte sie als ausgefallen sieht (zugunsten des Kunden)", "either vantage point sees it down (in the customer's favour)")) }
            }
            p class="hint" { (t(
                "Ein Vertrag darf die Versprechen der Seite nur zugunsten des Kunden ändern; jede Änderung steht im Prüfpfad des Kunden.",
                "A contract may change the page's promises only in the customer's favour; every change is in the customer's audit trail.",
            )) }
            button type="submit" class="secondary" { (t("Vertrag speichern", "Save the contract")) }
        }
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct ServiceEndForm {
    ended_at: Option<String>,
}

fn tenant_id(raw: &str) -> PageResult<TenantId> {
    TenantId::new(raw).map_err(|_| PageError(Error::NotFound("tenant".into())))
}

fn path(tenant: &TenantId) -> String {
    format!("{TENANTS}/{tenant}")
}

pub async fn show(
    State(s): State<Arc<Services>>,
    viewer: Viewer,
    Path(raw): Path<String>,
) -> PageResult<Page> {
    render(&s, &viewer, &tenant_id(&raw)?, None, &[]).await
}

async fn render(
    s: &Services,
    viewer: &Viewer,
    tenant: &TenantId,
    notice: Option<Markup>,
    errors: &[(String, String)],
) -> PageResult<Page> {
    render_with(s, viewer, tenant, notice, errors, None).await
}

/// `draft`: the contract form as posted, shown again with its errors.
async fn render_with(
    s: &Services,
    viewer: &Viewer,
    tenant: &TenantId,
    notice: Option<Markup>,
    errors: &[(String, String)],
    draft: Option<&ContractForm>,
) -> PageResult<Page> {
    staff_only(viewer)?;
    let lang = current_lang();
    let now = s.clock.now();
    let record = tenants::get_for(&viewer.access, s.store.as_ref(), tenant).await?;
    let contact = tenants::contact(&s.keyring, &record).await?;
    let policy = EffectivePolicy::for_contract(&record.contract).map_err(Error::from)?;
    let may_end = viewer
        .access
        .permissions()
        .contains(Permission::ServiceEndRecord);
    let pending = if may_end {
        s.retention
            .pending_service_end(&viewer.access, tenant)
            .await?
    } else {
        None
    };
    let me = &viewer.access.principal().subject;
    let notice_within = period_words(policy.customer_notification);
    let name_error = field_error(errors, "name");
    let contact_error = field_error(errors, "contact_email");
    let ended_error = field_error(errors, "ended_at");
    let contract_errors = errors
        .iter()
        .any(|(f, _)| CONTRACT_FIELDS.contains(&f.as_str()));
    let body = html! {
        p { a href=(TENANTS) { "← " (t("Alle Kunden", "All customers")) } }
        h1 { (record.name) " " code { (record.id) } }
        @if let Some(notice) = notice { (notice) }
        (error_summary(errors))
        h2 { (t("Vertrag in Kraft", "Contract in force")) }
        dl id="contract" {
            dt { (t("Benachrichtigung bei Verletzungen", "Breach notice")) } dd { (t("binnen ", "within ")) (notice_within) }
            dt { (t("Löschung nach Leistungsende", "Deletion after the service ends")) } dd { (period_words(policy.deletion_after_service_end)) }
            dt { (t("Verbleibende Kopien", "Remaining copies")) } dd { (period_words(policy.remaining_copies_retention)) }
            dt { (t("Frist für SLA-Anträge", "Window for SLA claims")) } dd { (period_words(policy.sla_claim_window)) }
            dt { (t("Verfügbarkeitsziel", "Uptime target")) } dd { (policy.monthly_uptime_target) }
            dt { (t("SLA-Gutschrift", "SLA credit")) } dd { (policy.sla_credit) }
        }
        details id="contract-edit" open[contract_errors] {
            summary { (t("Vertragswerte ändern", "Change the contract's figures")) }
            (contract_form(viewer, tenant, draft.unwrap_or(&form_of(&record.contract)), errors))
        }
        h2 { (t("Name und Meldekontakt", "Name and breach contact")) }
        form method="post" action={ (path(tenant)) "/profile" } novalidate {
            (form_token_field(&viewer.form_token))
            label for="name" { (t("Name", "Name")) }
            @if let Some(e) = name_error { p class="field-error" id="name-error" { (e) } }
            input type="text" id="name" name="name" value=(record.name) aria-invalid=[name_error.map(|_| "true")];
            label for="contact_email" { (t("Kontakt für Sicherheitsvorfälle", "Contact for security incidents")) }
            p class="hint" id="contact_email-hint" {
                (t("An diese Adresse gehen die Benachrichtigungen binnen ", "The notices within "))
                (notice_within)
                (t("; verschlüsselt gespeichert.", " go to this address; stored encrypted."))
            }
            @if let Some(e) = contact_error { p class="field-error" id="contact_email-error" { (e) } }
            input type="email" id="contact_email" name="contact_email" value=(contact.as_ref().map(|c| c.expose().as_str()).unwrap_or_default())
                aria-describedby="contact_email-hint" aria-invalid=[contact_error.map(|_| "true")];
            button type="submit" class="secondary" { (t("Speichern", "Save")) }
        }
        h2 { (t("Leistungsende", "Service end")) }
        @match record.status {
            ServiceStatus::Active => p { span class="status good" { (t("aktiv", "active")) } },
            _ => p { span class="status warn" { (t("beendet", "ended")) }
                @if let Some(at) = record.service_ended_at { " " (date_time(lang, at)) } },
        }
        @if let Some(request) = &pending {
            div class="notice" role="status" id="pending-service-end" {
                p { (t("Rückdatiertes Leistungsende zum ", "Backdated service end as of ")) (date_time(lang, request.ended_at))
                    (t(" wartet auf die Freigabe durch eine zweite Person.", " waits for a second person's approval.")) }
                @if request.requested_by != *me {
                    form method="post" action={ (path(tenant)) "/service-end/approval" } {
                        (form_token_field(&viewer.form_token))
                        button type="submit" { (t("Freigeben", "Approve")) }
                    }
                }
            }
        }
        @if may_end && record.status == ServiceStatus::Active && pending.is_none() {
            form method="post" action={ (path(tenant)) "/service-end" } novalidate {
                (form_token_field(&viewer.form_token))
                label for="ended_at" { (t("Leistung endete am (Ortszeit Berlin)", "The service ended on (Berlin time)")) }
                p class="hint" id="ended_at-hint" { (t(
                    "Weiter als 24 Stunden zurück gilt das Datum erst, wenn eine zweite Person es freigibt. Danach laufen die Löschfristen.",
                    "More than 24 hours back, the date takes effect only once a second person approves it. The deletion periods run from it.",
                )) }
                @if let Some(e) = ended_error { p class="field-error" id="ended_at-error" { (e) } }
                input type="datetime-local" id="ended_at" name="ended_at" value=(local_input(now))
                    aria-describedby="ended_at-hint" aria-invalid=[ended_error.map(|_| "true")];
                button type="submit" class="secondary" { (t("Leistungsende festhalten", "Record the service end")) }
            }
        }
    };
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::BAD_REQUEST
    };
    Ok(Page::new(record.name.clone(), body)
        .nav(nav(viewer))
        .status(status))
}

/// The customer named in the path, for staff, if it exists.
async fn existing(s: &Services, viewer: &Viewer, raw: &str) -> PageResult<TenantId> {
    staff_only(viewer)?;
    let tenant = tenant_id(raw)?;
    if tenants::get(s.store.as_ref(), &tenant).await?.is_none() {
        return Err(PageError(Error::NotFound("tenant".into())));
    }
    Ok(tenant)
}

/// Saves a change through `tenants::put` (its one validation, each change audited) and shows
/// the page again: with `saved`, or with each refused field's `message` next to it (`draft`:
/// the contract form as posted, kept).
async fn save(
    s: &Services,
    viewer: &Viewer,
    tenant: &TenantId,
    input: TenantInput,
    saved: &str,
    message: fn(&str) -> String,
    draft: Option<&ContractForm>,
) -> PageResult<Response> {
    let result = tenants::put(
        s.store.as_ref(),
        &s.keyring,
        &viewer.access,
        tenant,
        input,
        s.clock.now(),
    )
    .await;
    match result {
        Ok(_) => Ok(render(s, viewer, tenant, Some(done(saved)), &[])
            .await?
            .into_response()),
        Err(Error::Validation(fields)) => {
            let errors: Vec<(String, String)> = field_errors(fields)
                .into_iter()
                .map(|(field, _)| {
                    let text = message(&field);
                    (field, text)
                })
                .collect();
            Ok(render_with(s, viewer, tenant, None, &errors, draft)
                .await?
                .into_response())
        }
        Err(e) => Err(PageError(e)),
    }
}

pub async fn profile(
    State(s): State<Arc<Services>>,
    viewer: Viewer,
    Path(raw): Path<String>,
    PageForm(form): PageForm<ProfileForm>,
) -> PageResult<Response> {
    let tenant = existing(&s, &viewer, &raw).await?;
    let input = TenantInput {
        name: form.name,
        contact_email: contact_input(form.contact_email.as_deref()),
        contract: None,
    };
    save(
        &s,
        &viewer,
        &tenant,
        input,
        t("Gespeichert.", "Saved."),
        message,
        None,
    )
    .await
}

pub async fn contract(
    State(s): State<Arc<Services>>,
    viewer: Viewer,
    Path(raw): Path<String>,
    PageForm(form): PageForm<ContractForm>,
) -> PageResult<Response> {
    let tenant = existing(&s, &viewer, &raw).await?;
    let (terms, errors) = contract_terms(&form);
    if !errors.is_empty() {
        return Ok(
            render_with(&s, &viewer, &tenant, None, &errors, Some(&form))
                .await?
                .into_response(),
        );
    }
    let input = TenantInput {
        name: None,
        contact_email: None,
        contract: Some(terms),
    };
    save(
        &s,
        &viewer,
        &tenant,
        input,
        t(
            "Vertrag gespeichert; die Werte gelten ab jetzt.",
            "Contract saved; its figures apply from now on.",
        ),
        contract_message,
        Some(&form),
    )
    .await
}

pub async fn service_end(
    State(s): State<Arc<Services>>,
    viewer: Viewer,
    Path(raw): Path<String>,
    PageForm(form): PageForm<ServiceEndForm>,
) -> PageResult<Response> {
    staff_only(&viewer)?;
    let tenant = tenant_id(&raw)?;
    let Some(ended_at) = form.ended_at.as_deref().and_then(local_time) else {
        return Ok(render(&s, &viewer, &tenant, None, &ended_at_refused())
            .await?
            .into_response());
    };
    let result = s
        .retention
        .record_service_end(
            &viewer.access,
            &tenant,
            ServiceEndInput {
                ended_at: Some(ended_at),
            },
        )
        .await;
    let notice = match result {
        Ok(ServiceEndOutcome::Ended(_)) => done(t(
            "Festgehalten; die Löschfristen laufen ab diesem Zeitpunkt.",
            "Recorded; the deletion periods run from this time.",
        )),
        Ok(ServiceEndOutcome::AwaitingApproval(_)) => done(t(
            "Rückdatiert: das Datum gilt erst, wenn eine zweite Person es freigibt.",
            "Backdated: the date takes effect only once a second person approves it.",
        )),
        Err(Error::Validation(_)) => {
            return Ok(render(&s, &viewer, &tenant, None, &ended_at_refused())
                .await?
                .into_response());
        }
        Err(e) => return Err(PageError(e)),
    };
    Ok(render(&s, &viewer, &tenant, Some(notice), &[])
        .await?
        .into_response())
}

fn ended_at_refused() -> Vec<(String, String)> {
    vec![(
        "ended_at".to_string(),
        t(
            "Bitte einen Zeitpunkt angeben, der nicht in der Zukunft liegt.",
            "Please give a time that does not lie in the future.",
        )
        .to_string(),
    )]
}

pub async fn approve_service_end(
    State(s): State<Arc<Services>>,
    viewer: Viewer,
    Path(raw): Path<String>,
    PageForm(_): PageForm<ServiceEndForm>,
) -> PageResult<Response> {
    staff_only(&viewer)?;
    let tenant = tenant_id(&raw)?;
    let notice = match s
        .retention
        .approve_service_end(&viewer.access, &tenant)
        .await
    {
        Ok(_) => done(t(
            "Freigegeben; das Leistungsende gilt, die Löschfristen laufen.",
            "Approved; the service end is in force and the deletion periods run.",
        )),
        Err(Error::Conflict(_) | Error::NotFound(_)) => {
            html! { div class="errors" role="alert" { p { (t(
                "Nicht freigegeben: eine zweite Person muss zustimmen, nicht die, die es festgehalten hat.",
                "Not approved: a second person must agree, not the one who recorded it.",
            )) } } }
        }
        Err(e) => return Err(PageError(e)),
    };
    Ok(render(&s, &viewer, &tenant, Some(notice), &[])
        .await?
        .into_response())
}
