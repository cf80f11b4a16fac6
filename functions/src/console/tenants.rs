//! `/console/tenants`: the operators' list of customers — name, state, contract terms, whether
//! a breach contact is set — a new customer, and its first customer admin invited by mail (the
//! activation link goes to that person only; the operator never sees it).

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use kernel::Error;
use kernel::crypto::Personal;
use kernel::ids::TenantId;
use kernel::tenants::{self, ServiceStatus, TenantInput};
use maud::{Markup, html};
use serde::Deserialize;

use super::{done, field_errors, nav, none_yet, staff_only};
use crate::http::Path;
use crate::services::Services;
use crate::web::context::{current_lang, t};
use crate::web::format::date_time;
use crate::web::layout::{error_summary, field_error, form_token_field};
use crate::web::{Page, PageError, PageForm, PageResult, Viewer};

pub const TENANTS: &str = "/console/tenants";

#[derive(Debug, Default, Deserialize)]
pub struct NewTenantForm {
    id: Option<String>,
    name: Option<String>,
    contact_email: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
pub struct AdminForm {
    email: Option<String>,
    name: Option<String>,
}

pub async fn list(State(s): State<Arc<Services>>, viewer: Viewer) -> PageResult<Page> {
    render(&s, &viewer, &NewTenantForm::default(), &[], None).await
}

fn input(
    name: &'static str,
    kind: &'static str,
    label: &str,
    hint: &str,
    value: Option<&str>,
    errors: &[(String, String)],
    autocomplete: &'static str,
) -> Markup {
    let error = field_error(errors, name);
    html! {
        label for=(name) { (label) }
        p class="hint" id={ (name) "-hint" } { (hint) }
        @if let Some(e) = error { p class="field-error" id={ (name) "-error" } { (e) } }
        input type=(kind) id=(name) name=(name) value=(value.unwrap_or_default()) autocomplete=(autocomplete)
            aria-invalid=[error.map(|_| "true")]
            aria-describedby={ (name) "-hint" @if error.is_some() { " " (name) "-error" } };
    }
}

async fn render(
    s: &Services,
    viewer: &Viewer,
    form: &NewTenantForm,
    errors: &[(String, String)],
    notice: Option<Markup>,
) -> PageResult<Page> {
    staff_only(viewer)?;
    let lang = current_lang();
    let list = tenants::list(s.store.as_ref(), &viewer.access).await?;
    let body = html! {
        h1 { (t("Kunden", "Customers")) }
        @if let Some(notice) = notice { (notice) }
        @if list.is_empty() {
            (none_yet("Noch kein Kunde.", "No customer yet."))
        } @else {
            table id="tenants" {
                thead { tr {
                    th scope="col" { (t("Kunde", "Customer")) }
                    th scope="col" { (t("Stand", "State")) }
                    th scope="col" { (t("Meldekontakt", "Breach contact")) }
                    th scope="col" { (t("Seit", "Since")) }
                    th scope="col" { (t("Erste Administration einladen", "Invite the first admin")) }
                } }
                tbody {
                    @for tenant in &list {
                        tr {
                            th scope="row" { a href={ (TENANTS) "/" (tenant.id) } { (tenant.name) } br; code { (tenant.id) } }
                            td { @match tenant.status {
                                ServiceStatus::Active => span class="status good" { (t("aktiv", "active")) },
                                _ => span class="status warn" { (t("Leistung beendet", "service ended")) },
                            } }
                            td { @if tenant.contact_email.is_some() { (t("hinterlegt", "set")) } @else { span class="bad" { (t("fehlt", "missing")) } } }
                            td { (date_time(lang, tenant.created_at)) }
                            td {
                                form method="post" action={ (TENANTS) "/" (tenant.id) "/admin" } {
                                    (form_token_field(&viewer.form_token))
                                    label for={ "admin-name-" (tenant.id) } { (t("Name", "Name")) }
                                    input type="text" id={ "admin-name-" (tenant.id) } name="name" autocomplete="off" required;
                                    label for={ "admin-email-" (tenant.id) } { (t("E-Mail", "E-mail")) }
                                    input type="email" id={ "admin-email-" (tenant.id) } name="email" autocomplete="off" required;
                                    button type="submit" class="secondary" { (t("Einladung senden", "Send the invitation")) }
                                }
                            }
                        }
                    }
                }
            }
        }
        h2 { (t("Neuer Kunde", "New customer")) }
        (error_summary(errors))
        form method="post" action=(TENANTS) novalidate {
            (form_token_field(&viewer.form_token))
            (input("id", "text", t("Kennung", "Id"), t(
                "Kleinbuchstaben, Ziffern und Bindestriche; bleibt für immer (z. B. in Stripe als tenant_id).",
                "Lower-case letters, digits and hyphens; kept for good (in Stripe as tenant_id, for example).",
            ), form.id.as_deref(), errors, "off"))
            (input("name", "text", t("Name", "Name"), t("Wie der Kunde firmiert.", "The company's name."), form.name.as_deref(), errors, "organization"))
            (input("contact_email", "email", t("Kontakt für Sicherheitsvorfälle", "Contact for security incidents"), t(
                "An diese Adresse gehen die Benachrichtigungen binnen 48 Stunden; verschlüsselt gespeichert.",
                "The notices within 48 hours go to this address; stored encrypted.",
            ), form.contact_email.as_deref(), errors, "off"))
            button type="submit" { (t("Kunden anlegen", "Create the customer")) }
        }
    };
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::BAD_REQUEST
    };
    Ok(Page::new(t("Kunden", "Customers"), body)
        .nav(nav(viewer))
        .status(status))
}

/// The breach contact as the form sent it (an empty field: no change).
pub(super) fn contact_input(raw: Option<&str>) -> Option<Personal<String>> {
    raw.map(str::trim)
        .filter(|e| !e.is_empty())
        .map(|e| Personal::new(e.to_string()))
}

/// What to fix in a customer's field, in the page's language.
pub(super) fn message(field: &str) -> String {
    match field {
        "id" => t(
            "Bitte eine Kennung aus Kleinbuchstaben, Ziffern und Bindestrichen angeben, die noch nicht vergeben ist.",
            "Please give an id of lower-case letters, digits and hyphens that is not taken yet.",
        ),
        "name" => t(
            "Bitte einen Namen angeben (1 bis 200 Zeichen).",
            "Please give a name (1 to 200 characters).",
        ),
        "contact_email" => t(
            "Bitte eine gültige E-Mail-Adresse angeben.",
            "Please give a valid e-mail address.",
        ),
        _ => t("Bitte prüfen.", "Please check."),
    }
    .to_string()
}

pub async fn create(
    State(s): State<Arc<Services>>,
    viewer: Viewer,
    PageForm(form): PageForm<NewTenantForm>,
) -> PageResult<Response> {
    staff_only(&viewer)?;
    let id = TenantId::new(form.id.as_deref().unwrap_or_default().trim()).ok();
    let taken = match &id {
        Some(id) => tenants::get(s.store.as_ref(), id).await?.is_some(),
        None => false,
    };
    let input = TenantInput {
        name: Some(form.name.clone().unwrap_or_default()),
        contact_email: contact_input(form.contact_email.as_deref()),
        contract: None,
    };
    // Every failing field at once: the id here, the rest as the service checks them.
    let mut failing: Vec<String> = field_errors(tenants::check_input(&input, true))
        .into_iter()
        .map(|(f, _)| f)
        .collect();
    let id = match id {
        Some(id) if !taken && failing.is_empty() => id,
        _ => {
            if id.is_none() || taken {
                failing.push("id".into());
            }
            return refused(&s, &viewer, &form, failing).await;
        }
    };
    match tenants::put(
        s.store.as_ref(),
        &s.keyring,
        &viewer.access,
        &id,
        input,
        s.clock.now(),
    )
    .await
    {
        Ok(record) => {
            let text = format!("{} {}", record.name, t("ist angelegt.", "is created."));
            Ok(render(
                &s,
                &viewer,
                &NewTenantForm::default(),
                &[],
                Some(done(&text)),
            )
            .await?
            .into_response())
        }
        Err(Error::Validation(fields)) => {
            let failing = field_errors(fields).into_iter().map(|(f, _)| f).collect();
            refused(&s, &viewer, &form, failing).await
        }
        Err(e) => Err(PageError(e)),
    }
}

async fn refused(
    s: &Services,
    viewer: &Viewer,
    form: &NewTenantForm,
    failing: Vec<String>,
) -> PageResult<Response> {
    let errors: Vec<(String, String)> = ["id", "name", "contact_email"]
        .iter()
        .filter(|f| failing.iter().any(|x| x == *f))
        .map(|f| (f.to_string(), message(f)))
        .collect();
    Ok(render(s, viewer, form, &errors, None)
        .await?
        .into_response())
}

pub async fn invite_admin(
    State(s): State<Arc<Services>>,
    viewer: Viewer,
    Path(tenant): Path<String>,
    PageForm(form): PageForm<AdminForm>,
) -> PageResult<Response> {
    staff_only(&viewer)?;
    let tenant = TenantId::new(tenant).map_err(|_| PageError(Error::NotFound("tenant".into())))?;
    let result = s
        .invite_first_admin(&viewer.access, &tenant, form.email, form.name)
        .await;
    let (text, ok) = match result {
        Ok(created) => (
            format!(
                "{} {} {}",
                created.user.name,
                t(
                    "ist eingeladen; der Aktivierungslink ging per E-Mail an",
                    "is invited; the activation link went by e-mail to"
                ),
                created.user.email
            ),
            true,
        ),
        Err(Error::Validation(_)) => (
            t(
                "Bitte Name und eine gültige E-Mail-Adresse angeben.",
                "Please give a name and a valid e-mail address.",
            )
            .to_string(),
            false,
        ),
        Err(Error::Conflict(_)) => (
            t(
                "Dieser Kunde hat schon eine Administration; weitere Benutzer lädt sie selbst im Kundenportal ein.",
                "This customer has an admin already; further users are invited by them in the customer portal.",
            )
            .to_string(),
            false,
        ),
        Err(e) => return Err(PageError(e)),
    };
    let notice = if ok {
        done(&text)
    } else {
        html! { div class="errors" role="alert" { p { (text) } } }
    };
    let page = render(&s, &viewer, &NewTenantForm::default(), &[], Some(notice)).await?;
    Ok(if ok {
        page.into_response()
    } else {
        page.status(StatusCode::BAD_REQUEST).into_response()
    })
}
